"""Twilio webhooks already acted on, so a replayed request changes nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column

from notifier.sqltypes import UTCDateTime
from outages.models.base import Base


class TwilioEvent(Base):
    """One inbound SMS (event 'inbound') or one status callback ('status:<status>')."""

    __tablename__ = "twilio_events"

    message_sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    event: Mapped[str] = mapped_column(String(40), primary_key=True)
    phone: Mapped[str | None] = mapped_column(String(32))
    replied: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_twilio_events_phone_received", "phone", "received_at"),
        Index("ix_twilio_events_received_at", "received_at"),
    )


class EarlyStatus(Base):
    """A delivery report for a message id no outbox row carries yet: the provider answered
    the send and called back before the worker committed the id. Applied when it does."""

    __tablename__ = "early_statuses"

    message_sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    error_code: Mapped[str | None] = mapped_column(String(20))
    error: Mapped[str | None] = mapped_column(String(500))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_early_statuses_received_at", "received_at"),)
