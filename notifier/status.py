"""Delivery status reports from the SMS provider, applied to the outbox.

Statuses only move forward: queued/accepted/sending < sent < delivered | undelivered | failed.
A late or repeated callback (say "sent" after "delivered") changes nothing, and a final status
is never replaced by another.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select, update

from notifier.enums import OutboxStatus as S
from notifier.store import outbox

# Twilio's MessageStatus values, as outbox statuses.
PROVIDER_STATUSES = {
    "queued": S.SENDING,
    "accepted": S.SENDING,
    "scheduled": S.SENDING,
    "sending": S.SENDING,
    "sent": S.SENT,
    "delivered": S.DELIVERED,
    "read": S.DELIVERED,
    "undelivered": S.UNDELIVERED,
    "failed": S.FAILED,
    "canceled": S.FAILED,
}
RANK = {S.PENDING: 0, S.SENDING: 1, S.SENT: 2, S.DELIVERED: 3, S.UNDELIVERED: 3, S.FAILED: 3}
FAILED = (S.UNDELIVERED, S.FAILED)


@dataclass(frozen=True)
class StatusChange:
    outbox_id: int
    customer_id: int | None
    channel: str
    status: str
    changed: bool


def apply_status(
    conn: Connection,
    *,
    provider_id: str,
    status: S,
    at: datetime,
    error_code: str | None = None,
    error: str | None = None,
) -> StatusChange | None:
    """Move the row sent as `provider_id` to outbox status `status` if that is forward.
    None when no row has that provider id."""
    earlier = [name for name, rank in RANK.items() if rank < RANK[status]]
    values: dict[str, object] = {"status": status, "updated_at": at}
    if status == S.DELIVERED:
        values["delivered_at"] = at
    if status in FAILED:
        values |= {"last_error_code": error_code, "last_error": error}
    # One conditional UPDATE: two callbacks racing cannot move a row backwards.
    row = conn.execute(
        update(outbox).where(outbox.c.provider_id == provider_id, outbox.c.status.in_(earlier))
        .values(**values)
        .returning(outbox.c.id, outbox.c.customer_id, outbox.c.channel, outbox.c.status)
    ).first()
    if row is not None:
        return StatusChange(row.id, row.customer_id, row.channel, row.status, changed=True)
    current = conn.execute(
        select(outbox.c.id, outbox.c.customer_id, outbox.c.channel, outbox.c.status)
        .where(outbox.c.provider_id == provider_id).limit(1)
    ).first()
    if current is None:
        return None
    return StatusChange(current.id, current.customer_id, current.channel, current.status,
                        changed=False)
