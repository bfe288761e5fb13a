"""Major event days by the IEEE 1366 2.5 beta method.

alpha and beta are the mean and sample standard deviation (n-1) of ln(daily SAIDI) over the
history days with a non-zero SAIDI; T_MED = exp(alpha + 2.5 beta); a day whose SAIDI is
greater than T_MED is a major event day.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Threshold:
    alpha: float
    beta: float
    t_med: float
    days_used: int


def threshold(daily_saidi: FloatArray) -> Threshold | None:
    """T_MED from daily SAIDI values; zero days are left out. None with fewer than two
    non-zero days (no standard deviation)."""
    positive = daily_saidi[daily_saidi > 0]
    if len(positive) < 2:
        return None
    logs = np.log(positive)
    alpha = float(logs.mean())
    beta = float(logs.std(ddof=1))
    return Threshold(alpha, beta, math.exp(alpha + 2.5 * beta), len(positive))


def daily_saidi(
    day_index: IntArray, minutes: FloatArray, served: IntArray
) -> FloatArray:
    """Customer minutes of the interruptions that began on each day over the customers
    served that day. `day_index` outside 0..len(served)-1 is ignored."""
    days = len(served)
    inside = (day_index >= 0) & (day_index < days)
    cmi = np.bincount(day_index[inside], weights=minutes[inside], minlength=days)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(served > 0, cmi / np.maximum(served, 1), 0.0)
