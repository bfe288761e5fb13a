"""Read side of the outbox for people: previews before sending, listings and delivery stats."""

from __future__ import annotations

import statistics
from typing import Any

from sqlalchemy import Connection, case, func, select

from notifier.render import KINDS, LANGUAGES
from notifier.store import outbox
from outages.errors import NotFound, ValidationError
from outages.models import Customer, Outage, OutageCustomer
from outages.notices.queue import CHANNELS, contact_ok, context, cost, customers, render_all
from outages.settings import Settings
from outages.timeutil import iso_local

DEFAULT_KIND = {"planned": "announcement", "fault": "fault_ack"}


def preview(conn: Connection, settings: Settings, *, outage_id: int, expect: str,
            kind: str | None = None, language: str | None = None) -> dict[str, Any]:
    """Each rendered message with encoding and segments, and totals for all recipients."""
    outage = conn.execute(select(Outage.__table__).where(Outage.id == outage_id)).one_or_none()
    if outage is None or outage.kind != expect:
        raise NotFound(f"no {'cut' if expect == 'planned' else 'fault'} with id {outage_id}",
                       field="cut" if expect == "planned" else "fault")
    kind = kind or DEFAULT_KIND[outage.kind]
    if kind not in KINDS:
        raise ValidationError(f"unknown notice kind {kind!r}: use one of {', '.join(KINDS)}",
                              field="kind")
    texts = render_all(settings, kind, context(settings, outage))
    counts = recipients(conn, settings, outage_id)
    languages = [language] if language else list(LANGUAGES)
    messages, total = [], {"messages": 0, "segments": 0, "cost": 0.0}
    for channel in CHANNELS:
        for lang in languages:
            text, count = texts[(channel, lang)], counts.get((channel, lang), 0)
            messages.append({"channel": channel, "language": lang, "recipients": count,
                             "encoding": text.encoding, "segments": text.segments,
                             "subject": text.subject, "body": text.body,
                             "cost_each": cost(settings, channel, text)})
            total["messages"] += count
            total["segments"] += count * text.segments if channel == "sms" else 0
            total["cost"] += count * cost(settings, channel, text)
    return {"outage_id": outage_id, "kind": kind, "messages": messages, "totals": total}


def recipients(conn: Connection, settings: Settings, outage_id: int) -> dict[tuple[str, str], int]:
    """How many current members each (channel, language) reaches."""
    m = OutageCustomer.__table__.c
    lang = case((customers.c.language.in_(LANGUAGES), customers.c.language),
                else_=settings.locale.default_language)
    result: dict[tuple[str, str], int] = {}
    for channel in CHANNELS:
        query = (select(lang, func.count())
                 .select_from(customers.join(OutageCustomer.__table__,
                                             m.customer_id == Customer.id))
                 .where(m.outage_id == outage_id, m.dropped_revision.is_(None),
                        contact_ok(channel))
                 .group_by(lang))
        for language, count in conn.execute(query).all():
            result[(channel, language)] = count
    return result


def listing(conn: Connection, settings: Settings, *, outage_id: int | None = None,
            status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    o = outbox.c
    query = select(o.id, o.outage_id, o.kind, o.channel, o.recipient, o.language, o.status,
                   o.due_at, o.sent_at, o.attempts, o.segments, o.last_error_code,
                   o.provider_id).order_by(o.due_at, o.id).limit(limit)
    if outage_id is not None:
        query = query.where(o.outage_id == outage_id)
    if status is not None:
        query = query.where(o.status == status)
    rows = []
    for row in conn.execute(query).mappings():
        item = dict(row)
        item["due_at"] = iso_local(row["due_at"], settings.tz)
        item["sent_at"] = iso_local(row["sent_at"], settings.tz)
        rows.append(item)
    return rows


def stats(conn: Connection) -> dict[str, Any]:
    o = outbox.c
    counts = conn.execute(select(o.status, o.channel, func.count())
                          .group_by(o.status, o.channel)).all()
    by_status: dict[str, int] = {}
    by_channel: dict[str, dict[str, int]] = {}
    for status, channel, count in counts:
        by_status[status] = by_status.get(status, 0) + count
        by_channel.setdefault(channel, {})[status] = count
    ok = by_status.get("sent", 0) + by_status.get("delivered", 0)
    tried = ok + by_status.get("failed", 0) + by_status.get("undelivered", 0)
    delays = [(sent - due).total_seconds() for due, sent in conn.execute(
        select(o.due_at, o.sent_at).where(o.sent_at.is_not(None))).all()]
    return {
        "by_status": by_status,
        "by_channel": by_channel,
        "delivery_rate": round(ok / tried, 4) if tried else None,
        "median_delay_seconds": round(statistics.median(delays), 3) if delays else None,
        "sms_segments": int(conn.execute(
            select(func.coalesce(func.sum(o.segments), 0))
            .where(o.status.in_(("sent", "delivered")), o.channel == "sms")).scalar_one()),
        "cost": float(conn.execute(select(func.coalesce(func.sum(o.cost), 0.0))
                                   .where(o.status.in_(("sent", "delivered")))).scalar_one()),
    }
