"""Outages (planned cuts and fault incidents), their history, affected sets and interruptions."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from notifier.sqltypes import UTCDateTime
from outages.models.base import Base, BigId

# Letters and digits nobody misreads on a phone screen (no 0/O, 1/I/L, U).
REF_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
REF_LENGTH = 8


def new_public_ref() -> str:
    """A random reference for an outage in public answers: unlike the id, it tells nothing
    about how many outages there are and cannot be counted through."""
    return "".join(secrets.choice(REF_ALPHABET) for _ in range(REF_LENGTH))


class Outage(Base):
    """A planned cut (kind 'planned') or a fault incident (kind 'fault').

    Cut statuses: scheduled -> in_progress -> completed, or cancelled.
    Fault statuses: reported -> confirmed -> restored, or reported -> dismissed
    (`dismiss_reason`: why the crew found no fault), or reported -> merged (a duplicate;
    `merged_into`: the incident its reports went to). Both kinds: `outages.enums`.
    Imported history has status 'completed' and its source system's id in `external_id`.
    `reason` is the dispatcher's reason in the default language, `reason_en` in English;
    customers read a missing one as the cause's wording. `area_points` is the number of
    located fault reports an automatic area was drawn around (empty for a drawn area).
    """

    __tablename__ = "outages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_ref: Mapped[str | None] = mapped_column(String(12), default=new_public_ref)
    kind: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    area_name: Mapped[str | None] = mapped_column(String(200))
    area_geojson: Mapped[str | None] = mapped_column(Text)
    area_points: Mapped[int | None] = mapped_column(Integer)
    feeders: Mapped[list[str] | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
    reason_en: Mapped[str | None] = mapped_column(Text)
    work: Mapped[str | None] = mapped_column(Text)
    cause: Mapped[str | None] = mapped_column(String(40))
    planned_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    planned_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    actual_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    actual_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    etr: Mapped[datetime | None] = mapped_column(UTCDateTime)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    urgent_reason: Mapped[str | None] = mapped_column(Text)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    dismiss_reason: Mapped[str | None] = mapped_column(Text)
    merged_into: Mapped[int | None] = mapped_column(Integer)
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=func.current_timestamp()
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=func.current_timestamp()
    )

    __table_args__ = (
        Index("ix_outages_kind_status", "kind", "status"),
        Index("ix_outages_planned_start", "planned_start"),
        Index("ix_outages_public_ref", "public_ref", unique=True),
    )


class Revision(Base):
    """One change to an outage: who did what, when, and the state after it."""

    __tablename__ = "outage_revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outage_id: Mapped[int] = mapped_column(ForeignKey("outages.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str | None] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    planned_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    planned_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    etr: Mapped[datetime | None] = mapped_column(UTCDateTime)
    area_geojson: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (UniqueConstraint("outage_id", "revision"),)


class OutageCustomer(Base):
    """Membership of a customer in an outage's affected set, across revisions.

    `dropped_revision` is set when a resize or cancellation removes the customer, so the
    notifier can tell them they are no longer affected.
    """

    __tablename__ = "outage_customers"

    outage_id: Mapped[int] = mapped_column(
        ForeignKey("outages.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    added_revision: Mapped[int] = mapped_column(Integer)
    dropped_revision: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (Index("ix_outage_customers_customer", "customer_id"),)


class Interruption(Base):
    """One customer's loss of supply in one outage. `start_at` is empty until the outage
    starts (a placeholder); `end_at` is empty while the customer is still out."""

    __tablename__ = "interruptions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    outage_id: Mapped[int] = mapped_column(ForeignKey("outages.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    planned: Mapped[bool] = mapped_column(Boolean)
    cause: Mapped[str | None] = mapped_column(String(40))
    start_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_interruptions_outage_customer", "outage_id", "customer_id"),
        Index("ix_interruptions_customer_start", "customer_id", "start_at"),
        Index("ix_interruptions_start", "start_at"),
    )


class FaultReport(Base):
    """A customer's report of a fault. Repeats from one customer for one incident add to
    `reports` instead of adding rows."""

    __tablename__ = "fault_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outage_id: Mapped[int] = mapped_column(ForeignKey("outages.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    phone: Mapped[str | None] = mapped_column(String(20))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    text: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(8))
    reports: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    first_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("outage_id", "customer_id"),)


class PriorityCall(Base):
    """One call to a priority customer about an outage, and what came of it. The call list
    itself is the outage's priority members; these rows are its outcomes, latest last."""

    __tablename__ = "priority_calls"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    outage_id: Mapped[int] = mapped_column(ForeignKey("outages.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    outcome: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    called_by: Mapped[str] = mapped_column(String(100))
    called_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_priority_calls_outage_customer", "outage_id", "customer_id"),)
