"""Vectorised point-in-area tests."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry


def covered_mask(
    area: BaseGeometry, lons: npt.ArrayLike, lats: npt.ArrayLike
) -> npt.NDArray[np.bool_]:
    """True for each point inside the area or on its boundary (holes excluded, their edges
    included). Covers semantics: a customer on the edge of a cut area loses power too."""
    shapely.prepare(area)
    x = np.asarray(lons, dtype=np.float64)
    y = np.asarray(lats, dtype=np.float64)
    return np.asarray(shapely.intersects_xy(area, x, y), dtype=bool)
