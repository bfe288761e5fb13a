"""Local calendar days and months as UTC epoch-millisecond boundaries, for vectorised bucketing.

Boundaries are computed per day (a few thousand at most), never per interruption; an
interruption's day is then one `searchsorted` over all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from outages.reliability.data import MS_PER_HOUR, to_ms
from outages.timeutil import day_start

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Days:
    """Local days first..last; `edges[i]` is the epoch millisecond at which day i begins, and
    `edges[-1]` the end of the last day."""

    first: date
    edges: IntArray

    @property
    def count(self) -> int:
        return len(self.edges) - 1

    def date(self, index: int) -> date:
        return self.first + timedelta(days=index)

    def index_of(self, epochs: IntArray) -> IntArray:
        """Day index of each instant; -1 before the first day, `count` after the last."""
        return np.searchsorted(self.edges, epochs, side="right").astype(np.int64) - 1

    def hours(self) -> npt.NDArray[np.float64]:
        """Real length of each day in hours (23 or 25 on DST change days)."""
        return np.diff(self.edges).astype(np.float64) / MS_PER_HOUR


def local_days(first: date, last: date, tz: ZoneInfo) -> Days:
    count = (last - first).days + 1
    edges = [to_ms(day_start(first + timedelta(days=i), tz)) for i in range(count + 1)]
    return Days(first, np.asarray(edges, dtype=np.int64))


def month_starts(first: date, last: date) -> list[date]:
    """First day of every calendar month touching first..last, plus the month after last."""
    months = []
    current = first.replace(day=1)
    while current <= last:
        months.append(current)
        current = (current + timedelta(days=32)).replace(day=1)
    months.append(current)
    return months


def day_numbers(days: list[date]) -> IntArray:
    return np.asarray([d.toordinal() for d in days], dtype=np.int64)
