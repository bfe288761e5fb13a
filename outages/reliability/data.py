"""Loading the interruption log and the customer registry as numpy columns.

Rows never become Python objects. On PostgreSQL each chunk of rows arrives as one array per
column in the binary format (`registry.pgcolumns`), times as the stored microseconds; on
SQLite the database packs each chunk into one text of integers (see `sqlfuncs.packed`) that
numpy parses in C. Customers arrive as one id list per group.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import (
    BigInteger,
    Connection,
    Integer,
    String,
    case,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
)

from notifier.sqltypes import UTCDateTime
from outages.models import Customer, Interruption
from outages.registry import pgcolumns
from outages.reliability.sqlfuncs import epoch_ms, packed
from outages.timeutil import utcnow

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

CUSTOMER_GROUPS = ("region", "district", "feeder")
UNKNOWN = "-"
_CHUNK_IDS = 500_000  # interruption ids per packed query: texts of some 20 MB
_WORKERS = 2
_i = Interruption.__table__.c
_NEVER = literal_column("'-infinity'::timestamptz", UTCDateTime)  # an end not yet recorded
_PG_EPOCH_MS = 946_684_800_000  # 2000-01-01 UTC, where PostgreSQL counts time from
_c = Customer.__table__.c

# Every time column here is integer milliseconds since 1970-01-01 UTC (see `epoch_ms`).
MS_PER_SECOND = 1000
MS_PER_MINUTE = 60 * MS_PER_SECOND
MS_PER_HOUR = 60 * MS_PER_MINUTE


def to_ms(at: datetime) -> int:
    return round(at.timestamp() * MS_PER_SECOND)


def from_ms(ms: float | np.integer) -> datetime:
    return datetime.fromtimestamp(int(ms) / MS_PER_SECOND, UTC)


@dataclass(frozen=True)
class Interruptions:
    """Started interruptions as parallel columns; times in epoch milliseconds."""

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
    """Interruptions that began in [since, until) and by `cap`; one still open counts up to
    `cap`."""
    binary = conn.dialect.name == "postgresql"
    columns: list[Any] = [
        _i.customer_id, _i.outage_id,
        *((_i.start_at, func.coalesce(_i.end_at, _NEVER)) if binary
          else (epoch_ms(_i.start_at), func.coalesce(epoch_ms(_i.end_at), -1))),
        cast(_i.planned, Integer)]
    causes = _causes(conn, since, until) if with_cause else [UNKNOWN]
    if with_cause:
        columns.append(case({name: code for code, name in enumerate(causes)},
                            value=func.coalesce(_i.cause, UNKNOWN), else_=0))
    # Begun by `cap` (now, within the period): a start still ahead is not an interruption yet.
    where = [_i.start_at.is_not(None), _i.start_at >= since, _i.start_at < until,
             _i.start_at <= cap]
    values = _arrays(conn, columns, where) if binary else _packed_rows(conn, columns, where)
    if binary:  # stored microseconds since 2000 to milliseconds since 1970, rounded down
        ended = values[3] != np.iinfo(np.int64).min
        values[2] = _ms_from_pg(values[2])
        values[3] = np.where(ended, _ms_from_pg(values[3]), -1)
    customer, outage, start, end, planned = values[:5]
    cause = values[5] if with_cause else np.zeros(len(start), dtype=np.int64)
    is_open = end < 0
    end = np.where(is_open, np.maximum(to_ms(cap), start), end)
    return Interruptions(customer, outage, start, end, planned.astype(bool), cause, causes,
                         is_open)


def with_continuations(conn: Connection, log: Interruptions, *, until: datetime,
                       cap: datetime) -> Interruptions:
    """`log` (begun before `until`) and the interruptions begun from `until` on that may
    continue a loss of supply of one of its customers begun before it: a customer's
    interruptions overlapping from one outage into another are one loss of supply, counted
    whole in the period where it began. Few rows: those of the customers whose interruptions
    run past `until`, begun before the latest such end (and again from there, while a
    continuation runs further)."""
    limit = to_ms(until)
    parts: list[IntArray] = []
    crossing = log.end > limit
    customers, reach, frontier = np.unique(log.customer[crossing]), 0, limit
    if len(customers):
        reach = int(log.end[crossing].max())
    while reach > frontier:
        more = _begun_between(conn, frontier, reach, cap, log.causes)
        more = more[:, np.isin(more[0], customers)]
        parts.append(more)
        frontier, reach = reach, int(more[3].max(initial=reach))
    if not parts:
        return log
    extra = np.concatenate(parts, axis=1)
    return Interruptions(np.r_[log.customer, extra[0]], np.r_[log.outage, extra[1]],
                         np.r_[log.start, extra[2]], np.r_[log.end, extra[3]],
                         np.r_[log.planned, extra[4].astype(bool)], np.r_[log.cause, extra[5]],
                         log.causes, np.r_[log.open, extra[6].astype(bool)])


def _begun_between(conn: Connection, first_ms: int, until_ms: int, cap: datetime,
                   causes: list[str]) -> IntArray:
    """Rows (customer, outage, start, end, planned, cause index, open) of interruptions begun
    in [first_ms, until_ms) and by now, as one int64 array per column; one still open counts
    up to `cap` (the period's end or now, as an open one in the period does). A cause
    outside `causes` reads as the first: such a row never leads a loss of supply the report
    counts (those begin before the period ends)."""
    now = utcnow()
    query = select(_i.customer_id, _i.outage_id, epoch_ms(_i.start_at), epoch_ms(_i.end_at),
                   cast(_i.planned, Integer), func.coalesce(_i.cause, UNKNOWN)).where(
        _i.start_at >= from_ms(first_ms), _i.start_at < from_ms(until_ms), _i.start_at <= now)
    rows = conn.execute(query).all()
    found = np.zeros((7, len(rows)), dtype=np.int64)
    index = {name: code for code, name in enumerate(causes)}
    for k, (customer, outage, start, end, planned, cause) in enumerate(rows):
        ended = end is not None
        found[:, k] = (customer, outage, start, end if ended else max(to_ms(cap), start),
                       planned, index.get(cause, 0), not ended)
    return found


def load_customers(conn: Connection, *, by: str | None) -> Customers:
    """Every customer with its group under `by` (region, district or feeder)."""
    group: Any = func.coalesce(getattr(_c, by), UNKNOWN) if by in CUSTOMER_GROUPS else None
    binary = conn.dialect.name == "postgresql"
    ids_of = func.array_agg(cast(_c.id, BigInteger)) if binary else packed(_c.id)
    query = (select(group, ids_of).group_by(group).order_by(group) if group is not None
             else select(literal(UNKNOWN), ids_of))
    names, members = [], []
    for name, ids in (pgcolumns.fetch(conn, query) if binary else conn.execute(query)):
        if ids is not None and len(ids):
            names.append(str(name))
            members.append(ids.astype(np.int64, copy=False) if binary
                           else np.fromstring(ids, dtype=np.int64, sep=","))
    if not names:
        return Customers(_empty(), _empty(), [UNKNOWN], _empty(), _empty())
    ids = np.concatenate(members)
    codes = np.repeat(np.arange(len(names), dtype=np.int64), [len(m) for m in members])
    order = np.argsort(ids, kind="stable")
    ids, codes = ids[order], codes[order]
    connected, disconnected = _connection_days(conn, ids)
    return Customers(ids, codes, names, connected, disconnected)


def day_number(day: date) -> int:
    return (day - date(1970, 1, 1)).days


def _causes(conn: Connection, since: datetime, until: datetime) -> list[str]:
    cause = func.coalesce(_i.cause, UNKNOWN)
    query = select(cause).where(_i.start_at >= since, _i.start_at < until).distinct()
    return sorted(str(name) for name in conn.execute(query).scalars()) or [UNKNOWN]


def _ms_from_pg(microseconds: IntArray) -> IntArray:
    return microseconds // 1000 + _PG_EPOCH_MS  # floor division, as epoch_ms floors


def _id_ranges(conn: Connection) -> list[int]:
    low, high = conn.execute(select(func.min(_i.id), func.max(_i.id))).one()
    return list(range(int(low or 0), int(high or -1) + 1, _CHUNK_IDS))


def _in_turn(conn: Connection, fetch: Callable[[int, Connection], list[IntArray]],
             starts: list[int]) -> list[list[IntArray]]:
    """fetch(first id, connection) for each range, two at a time on their own connections
    (the drivers release the GIL while the database works)."""
    def fetch_apart(first: int) -> list[IntArray]:
        with conn.engine.connect() as own:
            return fetch(first, own)

    if len(starts) > 1 and conn.engine.url.database not in (None, "", ":memory:"):
        with ThreadPoolExecutor(_WORKERS) as pool:
            return list(pool.map(fetch_apart, starts))
    return [fetch(first, conn) for first in starts]


def _joined(parts: list[list[IntArray]], width: int) -> list[IntArray]:
    result = []
    for k in range(width):
        result.append(np.concatenate([part[k] for part in parts]) if parts else _empty())
        for part in parts:
            part[k] = _empty()  # this column's pieces go as the whole is made
    return result


def _arrays(conn: Connection, columns: list[Any], where: list[Any]) -> list[IntArray]:
    """PostgreSQL: one int64 array per column, each id range's rows aggregated into one
    binary array per column. Integers are widened to bigint, timestamptz arrive as their
    stored microseconds: no text is written or parsed, and nothing is rounded."""
    aggregated = [func.array_agg(c if _is_time(c) else cast(c, BigInteger)) for c in columns]

    def fetch(first: int, own: Connection) -> list[IntArray]:
        query = select(*aggregated).where(*where, _i.id >= first, _i.id < first + _CHUNK_IDS)
        (row,) = pgcolumns.fetch(own, query)
        return [_empty() if a is None else a.astype(np.int64, copy=False) for a in row]

    return _joined(_in_turn(conn, fetch, _id_ranges(conn)), len(columns))


def _is_time(column: Any) -> bool:
    return isinstance(column.type, UTCDateTime)


def _packed_rows(conn: Connection, columns: list[Any], where: list[Any]) -> list[IntArray]:
    """One int64 array per column of a query, fetched as packed text by id ranges, two
    ranges at a time on their own connections (the drivers release the GIL while the
    database works).

    Each range's text is parsed as soon as it arrives and split into its columns, so memory
    holds one text at a time and never the rows twice: 20 million interruptions stay near
    the size of their columns."""
    width = len(columns)

    def fetch(first: int, own: Connection) -> list[IntArray]:
        query = select(packed(*columns)).where(*where, _i.id >= first,
                                                _i.id < first + _CHUNK_IDS)
        text = own.execute(query).scalar()
        values = np.fromstring(text, dtype=np.int64, sep=",") if text else _empty()
        rows = values.reshape(-1, width)
        return [rows[:, k].copy() for k in range(width)]

    return _joined(_in_turn(conn, fetch, _id_ranges(conn)), width)


def _connection_days(conn: Connection, ids: IntArray) -> tuple[IntArray, IntArray]:
    """Connection and disconnection day numbers per customer, far past/future if unknown;
    only the customers with a date cross the driver."""
    connected = np.full(len(ids), np.iinfo(np.int32).min, dtype=np.int64)
    disconnected = np.full(len(ids), np.iinfo(np.int32).max, dtype=np.int64)
    query = select(_c.id, cast(_c.connected_on, String), cast(_c.disconnected_on, String)).where(
        or_(_c.connected_on.is_not(None), _c.disconnected_on.is_not(None)))
    rows = conn.execute(query).all()
    if rows:
        dated, on, off = zip(*rows, strict=True)
        at = np.searchsorted(ids, np.asarray(dated, dtype=np.int64))
        on_days, off_days = (np.asarray(v, dtype="datetime64[D]") for v in (on, off))
        connected[at] = np.where(np.isnat(on_days), connected[at], on_days.astype(np.int64))
        disconnected[at] = np.where(np.isnat(off_days), disconnected[at],
                                    off_days.astype(np.int64))
    return connected, disconnected


def _empty() -> IntArray:
    return np.zeros(0, dtype=np.int64)
