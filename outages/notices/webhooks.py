"""The Twilio webhooks already acted on, and how many came from a number lately.

A signed request can be replayed: each inbound MessageSid, and each status callback's
MessageSid + status, is recorded with insert-or-ignore in the transaction that acts on it,
so of two copies (even concurrent ones) exactly one acts. Entries older than
`twilio.remember_webhooks` are dropped as new ones arrive.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Connection, Table, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from outages.models import TwilioEvent

_t = cast(Table, TwilioEvent.__table__)
INBOUND = "inbound"
# The one "no more replies this hour" a number got, keyed by the message it answered.
REPLY_LIMIT = "reply_limit"
HOUR = timedelta(hours=1)


def status_event(status: str) -> str:
    return f"status:{status}"


def first_time(conn: Connection, *, message_sid: str, event: str, at: datetime,
               phone: str | None = None) -> bool:
    """Record the webhook; False when it was recorded before (a replay or a retry)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    inserted = conn.execute(
        dialect.insert(_t)
        .values(message_sid=message_sid, event=event, phone=phone, received_at=at)
        .on_conflict_do_nothing()
        .returning(_t.c.message_sid)
    ).first()
    return inserted is not None


def inbound_last_hour(conn: Connection, *, phone: str, at: datetime,
                      replied: bool = False) -> int:
    """Inbound SMS (or, with `replied`, those answered) from `phone` in the hour to `at`."""
    query = select(func.count()).select_from(_t).where(
        _t.c.phone == phone, _t.c.event == INBOUND, _t.c.received_at > at - HOUR)
    if replied:
        query = query.where(_t.c.replied.is_(True))
    return int(conn.execute(query).scalar_one())


def told_limit(conn: Connection, *, phone: str, at: datetime) -> bool:
    """Whether `phone` was told, in the hour to `at`, that it gets no more replies."""
    query = select(_t.c.message_sid).where(_t.c.phone == phone, _t.c.event == REPLY_LIMIT,
                                           _t.c.received_at > at - HOUR).limit(1)
    return conn.execute(query).first() is not None


def mark_replied(conn: Connection, *, message_sid: str) -> None:
    conn.execute(update(_t).where(_t.c.message_sid == message_sid, _t.c.event == INBOUND)
                 .values(replied=True))


def forget_before(conn: Connection, before: datetime) -> int:
    """Drop entries received before `before`; how many."""
    return conn.execute(delete(_t).where(_t.c.received_at < before)).rowcount
