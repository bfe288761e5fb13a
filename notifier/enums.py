"""The names `notifier` stores: channels and outbox statuses. StrEnums, so the database keeps
the plain strings and a member compares equal to the string read back."""

from __future__ import annotations

from enum import StrEnum


class ChannelName(StrEnum):
    SMS = "sms"
    EMAIL = "email"
    WEBHOOK = "webhook"  # the dispatch desk's alerts, never a customer's notices
    ZALO = "zalo"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a worker, or accepted by the provider and not sent yet
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    UNDELIVERED = "undelivered"
    SKIPPED = "skipped"  # made stale by a later change before it was sent
    SUPERSEDED = "superseded"  # a more relevant notice went to the same customer at once


ACTIVE = (OutboxStatus.PENDING, OutboxStatus.SENDING)
ACCEPTED = (OutboxStatus.SENT, OutboxStatus.DELIVERED)
# Given to the provider, whatever came of it.
ATTEMPTED = (*ACCEPTED, OutboxStatus.FAILED, OutboxStatus.UNDELIVERED)
RETIRED = (OutboxStatus.SKIPPED, OutboxStatus.SUPERSEDED)


class Outcome(StrEnum):
    """What a permanent delivery failure says about the recipient's address."""

    INVALID = "invalid"  # it cannot receive: no such number, not a mobile, mailbox refused
    OPTED_OUT = "opted_out"  # the recipient told the provider to stop
    # The address has no account on this channel (a number not on Zalo): another channel
    # reaching the same address still can.
    ABSENT = "absent"

# The outcomes that bar the address itself, on every channel reaching it.
BARS_ADDRESS = (Outcome.INVALID, Outcome.OPTED_OUT)
