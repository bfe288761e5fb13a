"""Outbox operations: bulk enqueue, claim, record outcomes, recover after a crash.

Every function takes the caller's connection so it joins the caller's transaction. Claiming
is atomic: PostgreSQL locks the chosen rows with FOR UPDATE SKIP LOCKED; SQLite (where that
clause is dropped) relies on the BEGIN IMMEDIATE write lock plus `status='pending'` in the
UPDATE itself, so a row changes hands at most once.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, Select, and_, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from notifier.store import outbox

ACTIVE = ("pending", "sending")
DONE = ("sent", "delivered", "failed", "undelivered", "skipped", "superseded")


def worker_id() -> str:
    """host:pid:random, so a restarted process can tell its dead predecessor's claims."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _insert(conn: Connection) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(outbox)


def enqueue(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert rows, ignoring keys already queued (a replayed event queues nothing twice)."""
    if not rows:
        return 0
    stmt = _insert(conn).on_conflict_do_nothing(index_elements=["key"])
    return conn.execute(stmt, list(rows)).rowcount or 0


def enqueue_from(conn: Connection, columns: Sequence[str], query: Select[Any]) -> int:
    """INSERT ... SELECT ... ON CONFLICT (key) DO NOTHING: rows built inside the database."""
    stmt = _insert(conn).from_select(list(columns), query)
    return conn.execute(stmt.on_conflict_do_nothing(index_elements=["key"])).rowcount or 0


def mark_pending(conn: Connection, status: str, *conditions: Any, now: datetime) -> int:
    """Move pending rows matching `conditions` to `status` ('skipped' or 'superseded')."""
    stmt = (update(outbox).where(outbox.c.status == "pending", *conditions)
            .values(status=status, updated_at=now))
    return conn.execute(stmt).rowcount or 0


def claim(conn: Connection, *, now: datetime, limit: int, worker: str) -> list[Row[Any]]:
    """Take up to `limit` due rows for this worker; call inside a write transaction."""
    chosen = (
        select(outbox.c.id)
        .where(outbox.c.status == "pending", outbox.c.due_at <= now)
        .order_by(outbox.c.due_at, outbox.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    stmt = (
        update(outbox)
        .where(outbox.c.id.in_(chosen.scalar_subquery()), outbox.c.status == "pending")
        .values(status="sending", claimed_at=now, claimed_by=worker,
                attempts=outbox.c.attempts + 1, updated_at=now)
        .returning(*outbox.c)
    )
    return sorted(conn.execute(stmt).all(), key=lambda row: (row.due_at, row.id))


def next_due(conn: Connection) -> datetime | None:
    query = select(func.min(outbox.c.due_at)).where(outbox.c.status == "pending")
    value: datetime | None = conn.execute(query).scalar()
    return value


def record(conn: Connection, outcomes: Iterable[Mapping[str, Any]]) -> None:
    """Write send outcomes in one executemany. Each mapping has id, status, sent_at,
    provider_id, last_error_code, last_error, due_at, updated_at."""
    rows = [{"b_" + k: v for k, v in item.items()} for item in outcomes]
    if not rows:
        return
    stmt = (
        update(outbox)
        .where(outbox.c.id == bindparam("b_id"), outbox.c.status == "sending")
        .values(
            status=bindparam("b_status"),
            sent_at=bindparam("b_sent_at"),
            provider_id=bindparam("b_provider_id"),
            last_error_code=bindparam("b_last_error_code"),
            last_error=bindparam("b_last_error"),
            due_at=bindparam("b_due_at"),
            updated_at=bindparam("b_updated_at"),
        )
    )
    conn.execute(stmt, rows)


def stale_claimers(conn: Connection) -> list[tuple[str, datetime]]:
    """Workers holding rows in 'sending', with their latest claim time."""
    query = (select(outbox.c.claimed_by, func.max(outbox.c.claimed_at))
             .where(outbox.c.status == "sending").group_by(outbox.c.claimed_by))
    return [(who, at) for who, at in conn.execute(query).all() if who]


def claimed_by(conn: Connection, claimers: Sequence[str]) -> list[Row[Any]]:
    query = select(outbox).where(outbox.c.status == "sending",
                                 outbox.c.claimed_by.in_(list(claimers)))
    return list(conn.execute(query).all())


def release(conn: Connection, claimers: Sequence[str], *, now: datetime) -> int:
    """Put rows left in 'sending' by dead workers back to pending, due at once.

    Their fate at the provider is unknown (the process died between send and record); the
    SMS API cannot be asked by our key, so they are sent again: at most the in-flight rows
    can be duplicated, never lost."""
    if not claimers:
        return 0
    stmt = (
        update(outbox)
        .where(and_(outbox.c.status == "sending", outbox.c.claimed_by.in_(list(claimers))))
        .values(status="pending", due_at=now, claimed_by=None, updated_at=now,
                last_error="worker stopped while sending; retried")
    )
    return conn.execute(stmt).rowcount or 0
