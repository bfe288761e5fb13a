"""What a Zalo delivery receipt (the `user_received_message` event) changes: the outbox row
of that message, forward only, so a repeated or replayed receipt changes nothing."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import Connection, update

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
        # in flight, found by its key (sent as tracking_id), and is not sent again.
        conn.execute(update(outbox).where(outbox.c.key == tracking_id,
                                          outbox.c.channel == ChannelName.ZALO,
                                          outbox.c.status.in_(ACTIVE))
                     .values(provider_id=msg_id))
        change = apply_status(conn, provider_id=msg_id, status=OutboxStatus.DELIVERED, at=at)
    if change is None:
        log.warning("Zalo receipt for unknown message %s (tracking id %s) ignored", msg_id,
                    tracking_id)
    return change
