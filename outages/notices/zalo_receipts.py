"""What a Zalo delivery receipt (the `user_received_message` event) changes: the outbox row
of that message, forward only, so a repeated or replayed receipt changes nothing."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import Connection, or_, select, update

from notifier.channels.zalo import tracked_row
from notifier.channels.zalo import tracking_id as tracking_id_of
from notifier.enums import ACTIVE, ChannelName, OutboxStatus
from notifier.status import StatusChange, apply_status
from notifier.store import outbox

log = logging.getLogger(__name__)
RECEIVED = "user_received_message"


def record_receipt(conn: Connection, *, msg_id: str, tracking_id: str | None,
                   at: datetime) -> StatusChange | None:
    """Mark the message delivered; None when no row is known by `msg_id` or `tracking_id`."""
    change = apply_status(conn, provider_id=msg_id, status=OutboxStatus.DELIVERED, at=at)
    if change is None and tracking_id:
        # Zalo took the message but the worker died before recording it: the row is still
        # in flight, found by its tracking id, and is not sent again.
        row_id = _in_flight(conn, tracking_id)
        if row_id is not None:
            conn.execute(update(outbox).where(outbox.c.id == row_id).values(provider_id=msg_id))
            change = apply_status(conn, provider_id=msg_id, status=OutboxStatus.DELIVERED,
                                  at=at)
    if change is None:
        log.warning("Zalo receipt for unknown message %s (tracking id %s) ignored", msg_id,
                    tracking_id)
    return change


def _in_flight(conn: Connection, tracking_id: str) -> int | None:
    """The Zalo row in flight that `tracking_id` names (notifier.channels.zalo.tracking_id);
    a message sent before those were derived carried its outbox key instead."""
    number = tracked_row(tracking_id)
    named = outbox.c.key == tracking_id if number is None else \
        or_(outbox.c.id == number, outbox.c.key == tracking_id)
    rows = conn.execute(select(outbox.c.id, outbox.c.key)
                        .where(named, outbox.c.channel == ChannelName.ZALO,
                               outbox.c.status.in_(ACTIVE))).all()
    for row in rows:
        if tracking_id in (row.key, tracking_id_of(row.id, row.key)):
            return int(row.id)
    return None
