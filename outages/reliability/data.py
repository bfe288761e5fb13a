"""Loading the interruption log and the customer registry as numpy columns, one query each.

Rows are fetched in partitions and turned into arrays straight away, so even millions of
interruptions never exist as Python objects all at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, Select, String, cast, func, literal, select

from outages.models import Customer, Interruption
from outages.reliability.sqlfuncs import epoch

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

CUSTOMER_GROUPS = ("region", "district", "feeder")
UNKNOWN = "-"
_PARTITION = 250_000
_i = Interruption.__table__.c
_c = Customer.__table__.c


@dataclass(frozen=True)
class Interruptions:
    """Started interruptions as parallel columns; times are UTC epoch seconds."""

    customer: IntArray  # customer id
    outage: IntArray
    start: IntArray
    end: IntArray
    planned: BoolArray
    cause: IntArray  # index into `causes`
    causes: list[str]
    open: BoolArray  # no restoration recorded yet: `end` is the cap the report chose

    def __len__(self) -> int:
        return len(self.start)


@dataclass(frozen=True)
class Customers:
    """The registry: ids, a group per customer and connection dates as day numbers
    (days since 1970-01-01; far past/future when not recorded)."""

    ids: IntArray
    group: IntArray  # index into `names`
    names: list[str]
    connected: IntArray
    disconnected: IntArray

    def index_of(self, customer_ids: IntArray) -> IntArray:
        """Row index in this registry of each customer id."""
        if len(self.ids) == 0:
            return np.zeros(len(customer_ids), dtype=np.int64)
        lookup = np.full(int(self.ids.max()) + 1, -1, dtype=np.int64)
        lookup[self.ids] = np.arange(len(self.ids), dtype=np.int64)
        return lookup[customer_ids]

    def served_on(self, day_numbers: IntArray) -> IntArray:
        """How many customers were connected on each day (all groups together)."""
        connected = np.sort(self.connected)
        disconnected = np.sort(self.disconnected)
        on = np.searchsorted(connected, day_numbers, side="right")
        off = np.searchsorted(disconnected, day_numbers, side="right")
        return (on - off).astype(np.int64)


def load_interruptions(
    conn: Connection, *, since: datetime, until: datetime, cap: datetime, with_cause: bool
) -> Interruptions:
    """Interruptions that began in [since, until); one still open counts up to `cap`."""
    columns: list[Any] = [_i.customer_id, _i.outage_id, epoch(_i.start_at),
                          func.coalesce(epoch(_i.end_at), -1), _i.planned]
    if with_cause:
        columns.append(func.coalesce(_i.cause, UNKNOWN))
    query = select(*columns).where(_i.start_at.is_not(None), _i.start_at >= since,
                                   _i.start_at < until)
    parts = _fetch_columns(conn, query, len(columns))
    customer, outage, start, end, planned = (np.concatenate(p) if p else _empty()
                                             for p in parts[:5])
    planned = planned.astype(bool)
    is_open = end < 0
    end = np.where(is_open, np.maximum(int(cap.timestamp()), start), end)
    causes, cause = _codes(parts[5]) if with_cause else ([UNKNOWN], np.zeros(len(start), np.int64))
    return Interruptions(customer.astype(np.int64), outage.astype(np.int64), start.astype(np.int64),
                         end.astype(np.int64), planned, cause, causes, is_open)


def load_customers(conn: Connection, *, by: str | None) -> Customers:
    """Every customer with its group under `by` (region, district or feeder)."""
    group = getattr(_c, by) if by in CUSTOMER_GROUPS else literal(UNKNOWN)
    query = select(_c.id, func.coalesce(group, UNKNOWN), cast(_c.connected_on, String),
                   cast(_c.disconnected_on, String)).order_by(_c.id)
    ids, groups, connected, disconnected = _fetch_columns(conn, query, 4, numeric=False)
    names, codes = _codes(groups)
    return Customers(
        ids=np.concatenate(ids).astype(np.int64) if ids else _empty(),
        group=codes,
        names=names,
        connected=_day_numbers(connected, missing=np.iinfo(np.int32).min),
        disconnected=_day_numbers(disconnected, missing=np.iinfo(np.int32).max),
    )


def day_number(day: date) -> int:
    return (day - date(1970, 1, 1)).days


def _fetch_columns(
    conn: Connection, query: Select[Any], width: int, *, numeric: bool = True
) -> list[list[Any]]:
    """Column-wise partitions of a query result: numeric columns become int64 arrays."""
    columns: list[list[Any]] = [[] for _ in range(width)]
    result = conn.execution_options(yield_per=_PARTITION).execute(query)
    for partition in result.partitions():
        for index, values in enumerate(zip(*partition, strict=True)):
            if numeric and not isinstance(values[0], str):
                columns[index].append(np.fromiter(values, dtype=np.int64, count=len(values)))
            else:
                columns[index].append(values)
    return columns


def _codes(parts: list[Any]) -> tuple[list[str], IntArray]:
    """Strings to (sorted distinct names, index of each value)."""
    values = [value for part in parts for value in part]
    if not values:
        return [UNKNOWN], np.zeros(0, dtype=np.int64)
    names, codes = np.unique(np.asarray(values, dtype=str), return_inverse=True)
    return [str(name) for name in names], codes.astype(np.int64)


def _day_numbers(parts: list[Any], *, missing: int) -> IntArray:
    values = [value for part in parts for value in part]
    days = np.asarray(values, dtype="datetime64[D]")
    numbers = days.astype(np.int64)
    numbers[np.isnat(days)] = missing
    return numbers


def _empty() -> IntArray:
    return np.zeros(0, dtype=np.int64)
