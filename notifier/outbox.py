"""Outbox operations: bulk enqueue, claim, record outcomes, recover after a crash, and the
reads the domain makes (it never touches the table itself).

Every function takes the caller's connection so it joins the caller's transaction. Claiming
is atomic: PostgreSQL locks the chosen rows with FOR UPDATE SKIP LOCKED; SQLite (where that
clause is dropped) relies on the BEGIN IMMEDIATE write lock plus `status='pending'` in the
UPDATE itself, so a row changes hands at most once.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    Row,
    RowMapping,
    Select,
    Subquery,
    and_,
    bindparam,
    case,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from notifier.enums import ACCEPTED, ACTIVE, OutboxStatus
from notifier.store import outbox

PENDING, SENDING = OutboxStatus.PENDING, OutboxStatus.SENDING
KEY_INDEX = "uq_outbox_key"  # the unique index that keeps a notice from being queued twice


def worker_id() -> str:
    """host:pid:random, so a restarted process can tell its dead predecessor's claims."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


# psycopg forgets an INSERT's row count when its cursor closes, before SQLAlchemy asks for it
# (-1: a typhoon's queue reported -6 notices); this keeps it.
_COUNTED = {"preserve_rowcount": True}


def _insert(conn: Connection) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(outbox)


def enqueue(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert rows, ignoring keys already queued (a replayed event queues nothing twice)."""
    if not rows:
        return 0
    stmt = _insert(conn).on_conflict_do_nothing(index_elements=["key"])
    return conn.execute(stmt, list(rows), execution_options=_COUNTED).rowcount or 0


def enqueue_from(conn: Connection, columns: Sequence[str], query: Select[Any], *,
                 fresh: bool = False) -> int:
    """INSERT ... SELECT ... ON CONFLICT (key) DO NOTHING: rows built inside the database.

    `fresh`: the rows are expected to be new (a new revision's notices to many customers).
    On PostgreSQL they are then first inserted plainly, in a savepoint: ON CONFLICT inserts
    each row speculatively (a look into the key index, then a confirmation), 1.9 s of the
    10 s that queueing a typhoon's 900,000 SMS took. If a key is queued already (a replayed
    event, or another process queueing the same notices), the plain insert fails on it,
    the savepoint is rolled back and the statement runs again with ON CONFLICT DO NOTHING."""
    stmt = _insert(conn).from_select(list(columns), query)
    if fresh and conn.dialect.name == "postgresql":
        savepoint = conn.begin_nested()
        try:
            count = conn.execute(stmt, execution_options=_COUNTED).rowcount or 0
        except IntegrityError as exc:
            savepoint.rollback()
            if getattr(getattr(exc.orig, "diag", None), "constraint_name", None) != KEY_INDEX:
                raise
        else:
            savepoint.commit()
            return count
    return conn.execute(stmt.on_conflict_do_nothing(index_elements=["key"]),
                        execution_options=_COUNTED).rowcount or 0


def skip_pending(conn: Connection, *, outage_id: int, kinds: Sequence[str], now: datetime,
                 revision_below: int | None = None, customer_ids: Any = None,
                 phones: Sequence[str] | None = None, reason: str | None = None) -> int:
    """Mark the outage's pending notices of `kinds` skipped: those of a revision before
    `revision_below`, or to the customers in `customer_ids` (a select or id list), or to
    the numbers in `phones` on no account nor subscription (callers), if given.
    `reason` is kept in last_error_code, where a skip at send time keeps its own."""
    o = outbox.c
    conditions = [o.status == PENDING, o.outage_id == outage_id, o.kind.in_(list(kinds))]
    if revision_below is not None:
        conditions.append(o.revision < revision_below)
    if customer_ids is not None:
        conditions.append(o.customer_id.in_(customer_ids))
    if phones is not None:
        conditions += [o.recipient.in_(list(phones)), o.customer_id.is_(None),
                       o.subscription_id.is_(None)]
    stmt = update(outbox).where(*conditions).values(status=OutboxStatus.SKIPPED, updated_at=now,
                                                    last_error_code=reason)
    return conn.execute(stmt).rowcount or 0


def claim(conn: Connection, *, now: datetime, limit: int, worker: str) -> list[Row[Any]]:
    """Take up to `limit` due rows for this worker; call inside a write transaction.

    The rows are chosen once, in a materialized CTE. As `id IN (subquery)`, PostgreSQL may
    run the subquery again for each row it updates: rows updated already no longer match, the
    next run skips to others, and one claim of 4 took all 12 rows due."""
    chosen = (
        select(outbox.c.id)
        .where(outbox.c.status == PENDING, outbox.c.due_at <= now)
        .order_by(outbox.c.due_at, outbox.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("chosen")
        .prefix_with("MATERIALIZED")
    )
    stmt = (
        update(outbox)
        .where(outbox.c.id == chosen.c.id, outbox.c.status == PENDING)
        .values(status=SENDING, claimed_at=now, claimed_by=worker,
                attempts=outbox.c.attempts + 1, updated_at=now)
        .returning(*outbox.c)
    )
    return sorted(conn.execute(stmt).all(), key=lambda row: (row.due_at, row.id))


def next_due(conn: Connection) -> datetime | None:
    query = select(func.min(outbox.c.due_at)).where(outbox.c.status == PENDING)
    value: datetime | None = conn.execute(query).scalar()
    return value


def record(conn: Connection, outcomes: Iterable[Mapping[str, Any]]) -> None:
    """Write send outcomes: on PostgreSQL in one statement over arrays, on SQLite in one
    executemany. Each mapping has id, status, sent_at, provider_id, last_error_code,
    last_error, due_at, updated_at."""
    items = list(outcomes)
    if not items:
        return
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(_RECORD_FROM_JSON, (json.dumps(items, default=_json_time),))
        return
    rows = [{"b_" + k: v for k, v in item.items()} for item in items]
    stmt = (
        update(outbox)
        .where(outbox.c.id == bindparam("b_id"), outbox.c.status == SENDING)
        .values(
            status=bindparam("b_status"),
            sent_at=bindparam("b_sent_at"),
            provider_id=bindparam("b_provider_id"),
            last_error_code=bindparam("b_last_error_code"),
            last_error=bindparam("b_last_error"),
            due_at=bindparam("b_due_at"),
            first_due_at=_FIRST_DUE,
            updated_at=bindparam("b_updated_at"),
        )
    )
    conn.execute(stmt, rows)


# When a row first fell due, before a retry moves due_at (SET reads the row as it was).
_FIRST_DUE = func.coalesce(outbox.c.first_due_at, outbox.c.due_at)


_RECORDED = {"id": "bigint", "status": "text", "sent_at": "timestamptz", "provider_id": "text",
             "last_error_code": "text", "last_error": "text", "due_at": "timestamptz",
             "updated_at": "timestamptz"}
# A worker records its sends in groups. As an executemany, SQLAlchemy's per-row parameter
# work and one UPDATE per row cost a sending worker a tenth of its CPU; as arrays, psycopg's
# dumping of each element in Python took twice the time of one JSON text, made in C.
_RECORD_FROM_JSON = (
    "UPDATE outbox SET " + ", ".join(f"{name} = v.{name}" for name in list(_RECORDED)[1:])
    + ", first_due_at = COALESCE(outbox.first_due_at, outbox.due_at)"
    + " FROM json_to_recordset(%s::json) AS v("
    + ", ".join(f"{name} {type_}" for name, type_ in _RECORDED.items())
    + f") WHERE outbox.id = v.id AND outbox.status = '{SENDING.value}'"
)


def _json_time(value: object) -> str:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.isoformat()
    raise TypeError(f"{value!r} cannot be recorded (a naive or unknown value)")


def by_keys(conn: Connection, keys: Iterable[str]) -> list[Row[Any]]:
    """The id, key, status and last error code of the rows queued under `keys`."""
    o = outbox.c
    query: Select[Any] = select(o.id, o.key, o.status, o.last_error_code).where(
        o.key.in_(sorted(keys)))
    return list(conn.execute(query).all())


def revive(conn: Connection, keys: Iterable[str], *, skipped_as: str,
           now: datetime) -> int:
    """Make the rows under `keys` that were skipped as `skipped_as` pending again, due at
    once: the reason they were skipped for no longer holds. They were skipped when claimed,
    a claim not counted as an attempt."""
    o = outbox.c
    stmt = (
        update(outbox)
        .where(o.key.in_(sorted(keys)), o.status == OutboxStatus.SKIPPED,
               o.last_error_code == skipped_as)
        .values(status=PENDING, due_at=now, first_due_at=_FIRST_DUE, claimed_by=None,
                last_error_code=None, attempts=o.attempts - 1, updated_at=now)
    )
    return conn.execute(stmt).rowcount or 0


def rewrite(conn: Connection, changes: Mapping[int, Mapping[str, Any]], *,
            now: datetime) -> list[Row[Any]]:
    """Give claimed rows a new recipient, language or text (the customer's contact changed
    after they were queued); return the rows as they now are."""
    for columns, ids in _grouped(changes).items():
        params = [{"b_id": row_id, **{"b_" + c: changes[row_id][c] for c in columns}}
                  for row_id in ids]
        values: dict[str, Any] = {c: bindparam("b_" + c) for c in columns}
        conn.execute(update(outbox).where(outbox.c.id == bindparam("b_id"),
                                          outbox.c.status == SENDING)
                     .values(**values, updated_at=now), params)
    query = select(outbox).where(outbox.c.id.in_(list(changes)))
    return list(conn.execute(query).all())


def _grouped(changes: Mapping[int, Mapping[str, Any]]) -> dict[tuple[str, ...], list[int]]:
    """Row ids by the columns their change sets, one executemany per shape."""
    groups: dict[tuple[str, ...], list[int]] = {}
    for row_id, values in changes.items():
        groups.setdefault(tuple(sorted(values)), []).append(row_id)
    return groups


def stale_claimers(conn: Connection) -> list[tuple[str, datetime]]:
    """Workers holding rows in 'sending', with their latest claim time."""
    query = (select(outbox.c.claimed_by, func.max(outbox.c.claimed_at))
             .where(outbox.c.status == SENDING).group_by(outbox.c.claimed_by))
    return [(who, at) for who, at in conn.execute(query).all() if who]


def claimed_by(conn: Connection, claimers: Sequence[str]) -> list[Row[Any]]:
    query = select(outbox).where(outbox.c.status == SENDING,
                                 outbox.c.claimed_by.in_(list(claimers)))
    return list(conn.execute(query).all())


def hold(conn: Connection, ids: Sequence[int], *, until: datetime, worker: str,
         now: datetime) -> int:
    """Give claimed rows back, due at `until`, their claim not counted as an attempt (quiet
    hours). first_due_at keeps the day their text was worded for."""
    stmt = (
        update(outbox)
        .where(outbox.c.id.in_(list(ids)), outbox.c.status == SENDING,
               outbox.c.claimed_by == worker)
        .values(status=PENDING, due_at=until, first_due_at=_FIRST_DUE, claimed_by=None,
                attempts=outbox.c.attempts - 1, updated_at=now)
    )
    return conn.execute(stmt).rowcount or 0


def give_back(conn: Connection, worker: str, *, now: datetime) -> int:
    """A stopping worker's claims it never sent: pending again, due at once, the claim not
    counted as an attempt."""
    stmt = (
        update(outbox)
        .where(outbox.c.status == SENDING, outbox.c.claimed_by == worker)
        .values(status=PENDING, due_at=now, first_due_at=_FIRST_DUE, claimed_by=None,
                attempts=outbox.c.attempts - 1, updated_at=now)
    )
    return conn.execute(stmt).rowcount or 0


def release(conn: Connection, claimers: Sequence[str], *, now: datetime) -> int:
    """Put rows left in 'sending' by dead workers back to pending, due at once.

    Their fate at the provider is unknown (the process died between send and record); the
    SMS API cannot be asked by our key, so they are sent again: at most the in-flight rows
    can be duplicated, never lost."""
    if not claimers:
        return 0
    stmt = (
        update(outbox)
        .where(and_(outbox.c.status == SENDING, outbox.c.claimed_by.in_(list(claimers))))
        .values(status=PENDING, due_at=now, first_due_at=_FIRST_DUE, claimed_by=None,
                updated_at=now, last_error="worker stopped while sending; retried")
    )
    return conn.execute(stmt).rowcount or 0


def count_active(conn: Connection) -> int:
    """Rows pending or in flight."""
    query = select(func.count()).select_from(outbox).where(outbox.c.status.in_(ACTIVE))
    return int(conn.execute(query).scalar_one())


TOLD = (*ACTIVE, *ACCEPTED)  # sent, or on its way: what the customer has (or will have) read


def last_ref_per_customer(*, outage_id: int, kinds: Sequence[str],
                          revision_below: int | None = None) -> Select[Any]:
    """(customer_id, ref_at) of each customer's latest notice of `kinds` about the outage
    (of a revision before `revision_below`, if given) that was sent or is on its way: the
    moment they were last told of."""
    o = outbox.c
    conditions = [o.outage_id == outage_id, o.kind.in_(list(kinds)), o.status.in_(TOLD),
                  o.customer_id.is_not(None)]
    if revision_below is not None:
        conditions.append(o.revision < revision_below)
    latest = select(func.max(o.id)).where(*conditions).group_by(o.customer_id)
    return select(o.customer_id, o.ref_at).where(o.id.in_(latest.scalar_subquery()))


def told_near(*, outage_id: int, kinds: Sequence[str], at: datetime, within: timedelta,
              revision_below: int | None = None, after: datetime | None = None) -> Select[Any]:
    """The customers whose latest notice of `kinds` about the outage (before `revision_below`)
    spoke of a moment less than `within` from `at` (and later than `after`, if given): a
    select of customer ids."""
    heard = last_ref_per_customer(outage_id=outage_id, kinds=kinds,
                                  revision_below=revision_below).subquery()
    return select(heard.c.customer_id).where(
        heard.c.ref_at > at - within, heard.c.ref_at < at + within,
        *([heard.c.ref_at > after] if after is not None else []))


def told_between(*, outage_id: int, kinds: Sequence[str], since: datetime,
                 until: datetime | None = None, timed_kinds: Sequence[str] = (),
                 revision_below: int | None = None) -> Select[Any]:
    """The customers a notice of `kinds` (or of `timed_kinds`, when it stated a time) about
    the outage (before `revision_below`) went to, or is due to go to, after `since` and by
    `until` (if given): a select of (customer_id, at) with the latest such moment."""
    o = outbox.c
    at = func.coalesce(o.sent_at, o.due_at)
    counted = or_(o.kind.in_(list(kinds)),
                  and_(o.kind.in_(list(timed_kinds)), o.ref_at.is_not(None)))
    return (select(o.customer_id, func.max(at).label("at"))
            .where(o.outage_id == outage_id, counted, o.status.in_(TOLD), at > since,
                   *([at <= until] if until is not None else []), o.customer_id.is_not(None),
                   *([o.revision < revision_below] if revision_below is not None else []))
            .group_by(o.customer_id))


def reached(*, outage_id: int, kinds: Sequence[str]) -> Select[Any]:
    """The customers a notice of `kinds` about the outage reached, or is reaching: accepted
    by the provider or in flight. A select of customer ids, for the caller's IN (...)."""
    o = outbox.c
    return (select(o.customer_id).distinct()
            .where(o.outage_id == outage_id, o.kind.in_(list(kinds)),
                   o.status.in_((SENDING, *ACCEPTED)), o.customer_id.is_not(None)))


def queued_later(conn: Connection, *, outage_id: int, revision: int, kind: str,
                 now: datetime) -> tuple[int, datetime | None]:
    """Customers a notice of `kind` in this revision of the outage waits for, due after
    `now`, and when the first of them is due."""
    o = outbox.c
    query = select(func.count(func.distinct(o.customer_id)), func.min(o.due_at)).where(
        o.outage_id == outage_id, o.revision == revision, o.kind == kind,
        o.status == PENDING, o.due_at > now)
    later, first = conn.execute(query).one()
    return int(later), first


def listing(conn: Connection, *, outage_id: int | None = None, status: str | None = None,
            limit: int = 100) -> list[RowMapping]:
    """Rows without their text: those still to send, soonest due first, then the others,
    latest first (what is about to go out, then what just went)."""
    o = outbox.c
    waiting = o.status.in_(ACTIVE)
    query = select(o.id, o.outage_id, o.kind, o.channel, o.recipient, o.language, o.status,
                   o.due_at, o.sent_at, o.attempts, o.segments, o.last_error_code,
                   o.provider_id).order_by(
        case((waiting, 0), else_=1), case((waiting, o.due_at)).asc(), o.due_at.desc(),
        o.id.desc()).limit(limit)
    if outage_id is not None:
        query = query.where(o.outage_id == outage_id)
    if status is not None:
        query = query.where(o.status == status)
    return list(conn.execute(query).mappings())


def counts(conn: Connection, *, due_from: datetime | None = None,
           due_before: datetime | None = None) -> list[tuple[str, str, int]]:
    """(channel, status, rows) for rows due in [due_from, due_before), either bound open."""
    o = outbox.c
    query = select(o.channel, o.status, func.count())
    if due_from is not None:
        query = query.where(o.due_at >= due_from)
    if due_before is not None:
        query = query.where(o.due_at < due_before)
    rows = conn.execute(query.group_by(o.channel, o.status).order_by(o.channel, o.status))
    return [(channel, status, int(count)) for channel, status, count in rows]


def send_delays(conn: Connection) -> list[float]:
    """Seconds from due to sent, for every row sent."""
    o = outbox.c
    rows = conn.execute(select(o.due_at, o.sent_at).where(o.sent_at.is_not(None)))
    return [(sent - due).total_seconds() for due, sent in rows]


def accepted_totals(conn: Connection) -> dict[str, tuple[int, float]]:
    """Per channel, the segments and cost of the rows the provider accepted."""
    o = outbox.c
    query = (select(o.channel, func.coalesce(func.sum(o.segments), 0),
                    func.coalesce(func.sum(o.cost), 0.0))
             .where(o.status.in_(ACCEPTED)).group_by(o.channel))
    return {channel: (int(segments), float(cost))
            for channel, segments, cost in conn.execute(query)}


def first_sent(*, kind: str | None = None) -> Subquery:
    """A subquery of (outage_id, sent_at): when each outage's first notice (of `kind`) was
    sent, to join in the caller's own query."""
    o = outbox.c
    query = select(o.outage_id, func.min(o.sent_at).label("sent_at")).where(
        o.sent_at.is_not(None))
    if kind is not None:
        query = query.where(o.kind == kind)
    return query.group_by(o.outage_id).subquery()
