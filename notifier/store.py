"""The outbox table: one row per notice, written before anything is sent.

Its own metadata keeps `notifier` free of the domain's models; Alembic migrates both.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    false,
    func,
    text,
)

from notifier.enums import OutboxStatus
from notifier.sqltypes import UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "pk": "pk_%(table_name)s",
    }
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    # customer x outage revision x notice kind x channel, spelled out; never sent twice.
    # Byte order on PostgreSQL: an identifier, and the locale's rules cost 40% of queueing.
    Column("key", String(200).with_variant(String(200, collation="C"), "postgresql"),
           nullable=False, unique=True),
    Column("outage_id", Integer, index=True),
    Column("revision", Integer),
    Column("customer_id", Integer),  # looked up by ix_outbox_customer_channel_due
    # A notice to someone who subscribed to a customer code or a district (no customer).
    Column("subscription_id", Integer),
    Column("kind", String(32), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("recipient", String(254), nullable=False),
    Column("language", String(2), nullable=False),
    Column("urgent", Boolean, nullable=False, default=False, server_default=false()),
    Column("due_at", UTCDateTime, nullable=False),
    # When it first fell due, kept once a retry or a restart moved due_at: retrying ends
    # retry.max_age after it (None: due_at never moved).
    Column("first_due_at", UTCDateTime),
    # The moment the notice speaks about (the ETR announced, the start a reminder is for).
    Column("ref_at", UTCDateTime),
    # Quiet hours hold a non-urgent notice only while it can still go before this (the start
    # of the cut it speaks of); None: no limit.
    Column("deadline", UTCDateTime),
    Column("status", String(16), nullable=False, default=OutboxStatus.PENDING,
           server_default=OutboxStatus.PENDING.value),
    Column("attempts", Integer, nullable=False, default=0, server_default="0"),
    Column("claimed_at", UTCDateTime),
    Column("claimed_by", String(64)),
    Column("sent_at", UTCDateTime),
    Column("delivered_at", UTCDateTime),
    Column("last_error_code", String(32)),
    Column("last_error", Text),
    Column("provider_id", String(64)),
    Column("subject", Text),
    Column("body", Text),
    Column("html", Text),
    Column("encoding", String(8)),
    Column("segments", Integer),
    Column("cost", Float),
    Column("created_at", UTCDateTime, nullable=False, server_default=func.current_timestamp()),
    Column("updated_at", UTCDateTime, nullable=False, server_default=func.current_timestamp()),
    # With id, a claim reads the next rows in order: a typhoon queues a million rows due at
    # the same instant, and sorting them all at every claim of 500 took most of a second.
    Index("ix_outbox_status_due", "status", "due_at", "id"),
    Index("ix_outbox_customer_channel_due", "customer_id", "channel", "due_at"),
    # Queued rows have no provider id yet: only rows handed to a provider are indexed.
    Index("ix_outbox_provider_id", "provider_id",
          postgresql_where=text("provider_id IS NOT NULL"),
          sqlite_where=text("provider_id IS NOT NULL")),
)
