"""Which group each counted row falls in, and each group's customers served and hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

from outages.reliability.calendar import month_starts
from outages.reliability.data import CUSTOMER_GROUPS, MS_PER_HOUR, Customers, day_number
from outages.reliability.dataset import Dataset

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BY = ("region", "district", "feeder", "cause", "month")
SERVED = ("end", "average")


@dataclass(frozen=True)
class Grouping:
    names: list[str]
    s_group: IntArray  # per sustained row of the dataset
    m_group: IntArray
    served: FloatArray  # per group
    hours: FloatArray


def grouping(data: Dataset, by: str | None, served: str) -> Grouping:
    if by in CUSTOMER_GROUPS:
        return _by_customer(data, served)
    if by == "cause":
        return _by_cause(data, served)
    if by == "month":
        return _by_month(data, served)
    total = _served(data.customers, data.first, data.last, served, 1)
    return Grouping(["all"], np.zeros(len(data.sustained), np.int64),
                    np.zeros(len(data.momentary), np.int64), total, np.array([data.hours]))


def _by_customer(data: Dataset, served: str) -> Grouping:
    registry = data.customers
    count = len(registry.names)
    return Grouping(registry.names, registry.group[data.s_customer],
                    registry.group[data.m_customer],
                    _served(registry, data.first, data.last, served, count, registry.group),
                    np.full(count, data.hours))


def _by_cause(data: Dataset, served: str) -> Grouping:
    count = len(data.causes)
    total = _served(data.customers, data.first, data.last, served, 1)
    return Grouping(data.causes, data.sustained.cause, data.momentary.cause,
                    np.full(count, total[0]), np.full(count, data.hours))


def _by_month(data: Dataset, served: str) -> Grouping:
    starts = month_starts(data.first, data.last)
    firsts = [max(start, data.first) for start in starts[:-1]]
    lasts = [min(start - timedelta(days=1), data.last) for start in starts[1:]]
    offsets = [(day - data.first).days for day in firsts] + [(data.last - data.first).days + 1]
    edges = data.days.edges[data.period_from + np.asarray(offsets, dtype=np.int64)]
    served_per = np.concatenate([_served(data.customers, first, last, served, 1)
                                 for first, last in zip(firsts, lasts, strict=True)])
    return Grouping(
        [f"{day:%Y-%m}" for day in firsts],
        np.searchsorted(edges, data.sustained.start, side="right").astype(np.int64) - 1,
        np.searchsorted(edges, data.momentary.start, side="right").astype(np.int64) - 1,
        served_per, np.diff(edges).astype(np.float64) / MS_PER_HOUR)


def _served(
    registry: Customers, first: date, last: date, mode: str, groups: int,
    group: IntArray | None = None,
) -> FloatArray:
    """Customers served per group: connected on the last day, or the daily average."""
    group = np.zeros(len(registry.ids), np.int64) if group is None else group
    start, end = day_number(first), day_number(last)
    if mode == "average":
        begin = np.maximum(registry.connected, start)
        stop = np.minimum(registry.disconnected, end + 1)
        days = np.clip(stop - begin, 0, None).astype(np.float64)
        return np.bincount(group, weights=days, minlength=groups) / (end - start + 1)
    connected = (registry.connected <= end) & (registry.disconnected > end)
    return np.bincount(group, weights=connected, minlength=groups).astype(np.float64)
