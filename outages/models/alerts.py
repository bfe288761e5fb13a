"""Customers still out after a restoration, and the dispatch desk's alerts about them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from notifier.sqltypes import UTCDateTime
from outages.models.base import Base


class Alert(Base):
    """A 'partial restoration' alert: customers of one outage replied that they still have
    no power after being told it was back. Replies close together share one alert; it stays
    open while any of its customers is still out."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    outage_id: Mapped[int] = mapped_column(ForeignKey("outages.id", ondelete="CASCADE"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_alerts_outage", "outage_id", "last_at"),)


class Reopening(Base):
    """A customer who replied 'still no power' after a restoration: their interruption's end
    (`restored_at`) was cleared at `replied_at`."""

    __tablename__ = "reopenings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outage_id: Mapped[int] = mapped_column(ForeignKey("outages.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"),
                                          index=True)
    restored_at: Mapped[datetime] = mapped_column(UTCDateTime)
    replied_at: Mapped[datetime] = mapped_column(UTCDateTime)
    via: Mapped[str] = mapped_column(String(8))

    __table_args__ = (UniqueConstraint("outage_id", "customer_id", "restored_at"),)
