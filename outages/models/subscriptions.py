"""Self-service subscriptions: a phone or an email that hears of a customer code's or a
district's outages, and the requests counted by the limits that keep them from being abused."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from notifier.sqltypes import UTCDateTime
from outages.models.base import Base


class Subscription(Base):
    """pending (waiting for its confirmation) -> active -> ended; a pending one that is never
    confirmed stays pending and is ignored once its code expired."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))  # sms | email
    contact: Mapped[str] = mapped_column(String(254))  # E.164 phone or lower-case email
    target_kind: Mapped[str] = mapped_column(String(8))  # customer | district
    # The code as given (upper case) or the registry's spelling of the district.
    target: Mapped[str] = mapped_column(String(100))
    # The customer the code names, if it names one: a code that names none is accepted all
    # the same (the answer must not tell which codes exist) and simply hears nothing.
    # The target as an SMS names it ("HUY <keyword>"): upper case, without diacritics.
    keyword: Mapped[str] = mapped_column(String(100))
    customer_id: Mapped[int | None] = mapped_column(Integer, index=True)
    district: Mapped[str | None] = mapped_column(String(100), index=True)
    language: Mapped[str] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(8))
    via: Mapped[str] = mapped_column(String(8))  # web | sms
    # The page's request token and its 6-digit code, as SHA-256 hashes (the code's keyed
    # with the token, which is stored nowhere in clear).
    request_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    code_hash: Mapped[str | None] = mapped_column(String(64))
    code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    codes_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    code_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Ids are never reused (SQLite would, after unconfirmed requests are dropped): outbox rows
    # point at them.
    __table_args__ = (Index("ix_subscriptions_contact", "contact", "status"),
                      {"sqlite_autoincrement": True})


class SubscriptionRequest(Base):
    """One request counted by the limits: `scope` is what is limited (a contact, a client
    address, or 'all'), `key` its SHA-256 hash (no address kept in clear)."""

    __tablename__ = "subscription_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_subscription_requests_scope_key_at", "scope", "key", "at"),)
