"""What an SMS delivery report changes: the outbox row (forward only) and, when the provider
reports a permanent problem with the number, the customer's contact flags."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import Connection

from notifier.channels import sms
from notifier.status import FAILED, PROVIDER_STATUSES, StatusChange, apply_status
from outages.enums import Source
from outages.errors import ValidationError
from outages.notices import webhooks
from outages.notices.queue import contact_flag
from outages.registry import optout
from outages.timeutil import utcnow

log = logging.getLogger(__name__)
ACTOR = "twilio"


def record_status(conn: Connection, *, message_sid: str, provider_status: str,
                  keep: timedelta, error_code: str | None = None,
                  error: str | None = None) -> StatusChange | None:
    """Apply one status callback once; None when it came before or the message id is
    unknown (logged). Callbacks are remembered for `keep`."""
    name = provider_status.strip().lower()
    status = PROVIDER_STATUSES.get(name)
    if status is None:
        raise ValidationError(f"unknown message status {provider_status!r}",
                              field="MessageStatus")
    now = utcnow()
    webhooks.forget_before(conn, now - keep)
    if not webhooks.first_time(conn, message_sid=message_sid,
                               event=webhooks.status_event(name), at=now):
        log.info("status %s for message %s was already recorded", name, message_sid,
                 extra={"provider_message_id": message_sid})
        return None
    change = apply_status(conn, provider_id=message_sid, status=status, at=now,
                          error_code=error_code or None, error=error or None)
    if change is None:
        log.warning("status %s for unknown message %s ignored", provider_status, message_sid,
                    extra={"provider_message_id": message_sid})
        return None
    if change.changed and status in FAILED and change.customer_id is not None:
        _flag_contact(conn, change.customer_id, change.channel, error_code)
    return change


def _flag_contact(conn: Connection, customer_id: int, channel: str,
                  error_code: str | None) -> None:
    outcome = sms.outcome(error_code)
    flag = None if outcome is None else contact_flag(channel, outcome)
    if flag is not None:
        optout.flag_customer(conn, customer_id=customer_id, flag=flag,
                             reason=f"Twilio error {error_code}", actor=ACTOR,
                             source=Source.WEBHOOK)
