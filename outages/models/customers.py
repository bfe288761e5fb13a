from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Float, Index, Integer, String, false, func
from sqlalchemy.orm import Mapped, mapped_column

from notifier.sqltypes import UTCDateTime
from outages.models.base import Base


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Identifiers in byte order on PostgreSQL (migration 0017): faster to index and compare.
    code: Mapped[str] = mapped_column(String(64).with_variant(String(64, collation="C"),
                                                              "postgresql"), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(  # E.164
        String(20).with_variant(String(20, collation="C"), "postgresql"), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(500))
    region: Mapped[str | None] = mapped_column(String(100), index=True)
    district: Mapped[str | None] = mapped_column(String(100), index=True)
    feeder: Mapped[str | None] = mapped_column(String(100), index=True)
    language: Mapped[str] = mapped_column(String(2), default="vi", server_default="vi")
    sms_opt_out: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    email_opt_out: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Set when the SMS provider says the number cannot receive (Twilio 21211/21614).
    phone_invalid: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Set when the mail server refuses the address for good (a hard bounce): not the
    # customer's choice, so not an opt-out; a corrected address clears it.
    email_invalid: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # When Zalo last said this number has no account it can reach: Zalo notices go by SMS
    # until zalo.retry_absent_after has passed (not a flag on the number: SMS still works).
    zalo_absent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A Priority value (life support, medical, critical facility) or empty: personal data.
    priority: Mapped[str | None] = mapped_column(String(20))
    # The channels this customer gets notices on, in order ("zalo,sms,email"); None: the
    # notices.channels setting.
    channels: Mapped[str | None] = mapped_column(String(64))
    connected_on: Mapped[date | None] = mapped_column(Date)
    disconnected_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=func.current_timestamp()
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=func.current_timestamp()
    )

    # Area matching starts with a bounding-box range scan on this index.
    __table_args__ = (Index("ix_customers_lon_lat", "lon", "lat"),)


class SmsOptOut(Base):
    """Numbers that texted STOP, whether or not an account has them: a caller without an
    account or a subscriber who says STOP must not be texted either. START, YES or UNSTOP
    from the number removes it (as the provider's own opt-out list does)."""

    __tablename__ = "sms_opt_outs"

    phone: Mapped[str] = mapped_column(  # E.164, as customers.phone
        String(20).with_variant(String(20, collation="C"), "postgresql"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
