"""Read side of the outbox for people: previews before sending, listings and delivery stats."""

from __future__ import annotations

import statistics
from datetime import datetime

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, case, func, select

from notifier import outbox
from notifier.channels import REGISTRY
from notifier.channels.email import UNSUBSCRIBE_URL
from notifier.enums import ChannelName, OutboxStatus, Outcome
from notifier.store import outbox as outbox_t
from outages.enums import NoticeKind, OutageKind
from outages.errors import NotFound, ValidationError
from outages.lifecycle import core as lc
from outages.models import Customer, OutageCustomer
from outages.notices import subscriber_preview, subscribers
from outages.notices.queue import (
    CHANNELS,
    KINDS,
    LANGUAGES,
    contact_flag,
    contact_ok,
    context,
    cost,
    customers,
    prefers,
    render_all,
)
from outages.notices.results import Notice, NoticePreview, NoticeStats
from outages.settings import Settings
from outages.timeutil import iso_local, utcnow

DEFAULT_KIND = {OutageKind.PLANNED: NoticeKind.ANNOUNCEMENT, OutageKind.FAULT: NoticeKind.FAULT_ACK}


def preview(conn: Connection, settings: Settings, *, outage_id: int, expect: str,
            kind: str | None = None, language: str | None = None) -> NoticePreview:
    """Each rendered message with encoding and segments, and totals for all recipients."""
    outage = lc.find(conn, outage_id)
    if outage is None or outage.kind != expect:
        raise NotFound(f"no {'cut' if expect == 'planned' else 'fault'} with id {outage_id}",
                       field="cut" if expect == "planned" else "fault")
    kind = kind or DEFAULT_KIND[outage.kind]
    if kind not in KINDS:
        raise ValidationError(f"unknown notice kind {kind!r}: use one of {', '.join(KINDS)}",
                              field="kind")
    texts = render_all(settings, kind, context(settings, outage),
                       now=_worded_at(conn, outage_id, kind))
    counts = recipients(conn, settings, outage_id)
    languages = [language] if language else list(LANGUAGES)
    messages, total = [], {"messages": 0, "segments": 0, "cost": 0.0}
    for channel in CHANNELS:
        for lang in languages:
            text, count = texts[(channel, lang)], counts.get((channel, lang), 0)
            messages.append({"channel": channel, "language": lang, "recipients": count,
                             "encoding": text.encoding, "segments": text.segments,
                             "subject": text.subject,
                             "body": text.body.replace(UNSUBSCRIBE_URL, "<unsubscribe link>"),
                             "cost_each": cost(settings, channel, text)})
            total["messages"] += count
            total["segments"] += (count * text.segments
                                  if REGISTRY[channel].priced_per_segment else 0)
            total["cost"] += count * cost(settings, channel, text)
    if subscribers.any_active(conn):  # most deployments have none: no member is read
        member_ids, districts = _members(conn, outage_id)
        for line in subscriber_preview.messages(conn, settings, kind, texts, member_ids,
                                                districts, now=utcnow(), languages=languages):
            messages.append(line.message.as_json())
            total["messages"] += line.message.recipients
            total["segments"] += line.segments
            total["cost"] += line.cost
    return NoticePreview.model_validate({"outage_id": outage_id, "kind": kind,
                                         "messages": messages, "totals": total})


def _worded_at(conn: Connection, outage_id: int, kind: str) -> datetime:
    """When the notice previewed is worded for: the first one of its kind still waiting to
    go (a reminder days ahead says "08:00 today", not "on 7 Dec"), else now."""
    o = outbox_t.c
    due = conn.execute(select(func.min(o.due_at)).where(
        o.outage_id == outage_id, o.kind == kind, o.status == OutboxStatus.PENDING)).scalar()
    now = utcnow()
    return max(due, now) if due is not None else now


def _members(conn: Connection, outage_id: int) -> tuple[npt.NDArray[np.int64], dict[str, int]]:
    """The outage's current members' ids, and how many of them live in each district."""
    m = OutageCustomer.__table__.c
    current = (m.outage_id == outage_id, m.dropped_revision.is_(None))
    ids = np.fromiter(conn.execute(select(m.customer_id).where(*current)).scalars(),
                      dtype=np.int64)
    districts = {str(name): int(count) for name, count in conn.execute(
        select(customers.c.district, func.count())
        .join_from(OutageCustomer.__table__, customers, m.customer_id == customers.c.id)
        .where(*current, customers.c.district.is_not(None)).group_by(customers.c.district))}
    return ids, districts


def recipients(conn: Connection, settings: Settings, outage_id: int) -> dict[tuple[str, str], int]:
    """How many current members each (channel, language) reaches, on the channels each
    prefers."""
    m = OutageCustomer.__table__.c
    lang = case((customers.c.language.in_(LANGUAGES), customers.c.language),
                else_=settings.locale.default_language)
    result: dict[tuple[str, str], int] = {}
    for channel in CHANNELS:
        query = (select(lang, func.count())
                 .select_from(customers.join(OutageCustomer.__table__,
                                             m.customer_id == Customer.id))
                 .where(m.outage_id == outage_id, m.dropped_revision.is_(None),
                        contact_ok(channel), prefers(settings, channel))
                 .group_by(lang))
        for language, count in conn.execute(query).all():
            result[(channel, language)] = count
    return result


def listing(conn: Connection, settings: Settings, *, outage_id: int | None = None,
            status: str | None = None, limit: int = 100) -> list[Notice]:
    known = [s.value for s in OutboxStatus]
    if status is not None and status not in known:  # a typo would read as "none such"
        raise ValidationError(f"unknown status {status!r}: use one of {', '.join(known)}",
                              field="status")
    rows = []
    for row in outbox.listing(conn, outage_id=outage_id, status=status, limit=limit):
        item = dict(row)
        item["due_at"] = iso_local(row["due_at"], settings.tz)
        item["sent_at"] = iso_local(row["sent_at"], settings.tz)
        rows.append(Notice.model_validate(item))
    return rows


def stats(conn: Connection) -> NoticeStats:
    by_status: dict[str, int] = {}
    by_channel: dict[str, dict[str, int]] = {}
    for channel, status, count in outbox.counts(conn):
        by_status[status] = by_status.get(status, 0) + count
        by_channel.setdefault(channel, {})[status] = count
    ok = by_status.get(OutboxStatus.SENT, 0) + by_status.get(OutboxStatus.DELIVERED, 0)
    tried = ok + by_status.get(OutboxStatus.FAILED, 0) + by_status.get(OutboxStatus.UNDELIVERED, 0)
    delays = outbox.send_delays(conn)
    totals = outbox.accepted_totals(conn)
    return NoticeStats.model_validate({
        "by_status": by_status,
        "by_channel": by_channel,
        "delivery_rate": round(ok / tried, 4) if tried else None,
        "median_delay_seconds": round(statistics.median(delays), 3) if delays else None,
        "sms_segments": totals.get(ChannelName.SMS, (0, 0.0))[0],
        "cost": float(sum(cost for _, cost in totals.values())),
        "unreachable": unreachable(conn),
    })


UNREACHABLE = {Outcome.OPTED_OUT: "opted_out", Outcome.INVALID: "invalid_address"}


def unreachable(conn: Connection) -> dict[str, dict[str, int]]:
    """Per channel, customers it does not reach: those who opted out apart from those whose
    address the provider refused (a bounced email, a number that cannot receive)."""
    columns = {(channel, label): func.coalesce(func.sum(case((customers.c[flag], 1), else_=0)), 0)
               for channel in CHANNELS for outcome, label in UNREACHABLE.items()
               if (flag := contact_flag(channel, outcome)) is not None}
    counts = conn.execute(select(*columns.values())).one()
    result: dict[str, dict[str, int]] = {}
    for (channel, label), count in zip(columns, counts, strict=True):
        result.setdefault(channel, {})[label] = int(count)
    return result
