"""The outbox as the dispatch desk watches it: one outage's notices funnel, and the whole
outbox at a glance (pending by channel, oldest pending, failures by provider error, today's
delivery rate)."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from notifier.enums import ACCEPTED, ACTIVE, OutboxStatus
from notifier.store import outbox
from outages.logs import mask
from outages.results import Result
from outages.settings import Settings
from outages.timeutil import local_day_bounds, to_local, utcnow

FAILED = (OutboxStatus.FAILED, OutboxStatus.UNDELIVERED)
# Contacts listed per provider error; the count says how many there are in all.
CONTACTS_SHOWN = 20


class FailureGroup(Result):
    code: str | None
    error: str | None
    count: int
    contacts: list[str] | None = None


class Funnel(Result):
    """One outage's notices: queued (pending or being sent), sent, delivered, failed (with
    the providers' reasons), and dropped as stale."""

    queued: int
    sent: int
    delivered: int
    failed: int
    skipped: int
    failures: list[FailureGroup]


class Overview(Result):
    pending_by_channel: dict[str, int]
    oldest_pending_minutes: int | None
    failures: list[FailureGroup]
    delivered_today: int
    failed_today: int
    delivery_rate_today: float | None


def _failures(conn: Connection, *, outage_id: int | None,
              contacts: bool) -> list[FailureGroup]:
    o = outbox.c
    query = (select(o.last_error_code, func.min(o.last_error), func.count())
             .where(o.status.in_(FAILED)).group_by(o.last_error_code)
             .order_by(func.count().desc()))
    if outage_id is not None:
        query = query.where(o.outage_id == outage_id)
    # A provider's error may quote the address it refused: shown only as the logs show it
    # to readers who may not see contacts.
    groups = [FailureGroup(code=code, error=error if contacts or error is None else mask(error),
                           count=int(count))
              for code, error, count in conn.execute(query)]
    if contacts:
        for group in groups:
            found = (select(o.recipient).distinct()
                     .where(o.status.in_(FAILED), o.last_error_code.is_(None)
                            if group.code is None else o.last_error_code == group.code)
                     .order_by(o.recipient).limit(CONTACTS_SHOWN))
            if outage_id is not None:
                found = found.where(o.outage_id == outage_id)
            group.contacts = list(conn.execute(found).scalars())
    return groups


def funnel(conn: Connection, outage_id: int) -> Funnel:
    o = outbox.c
    counts: dict[str, int] = dict(conn.execute(
        select(o.status, func.count()).where(o.outage_id == outage_id)
        .group_by(o.status)).all())
    return Funnel(queued=sum(counts.get(s, 0) for s in ACTIVE),
                  sent=counts.get(OutboxStatus.SENT, 0),
                  delivered=counts.get(OutboxStatus.DELIVERED, 0),
                  failed=sum(counts.get(s, 0) for s in FAILED),
                  skipped=sum(counts.get(s, 0) for s in (OutboxStatus.SKIPPED,
                                                         OutboxStatus.SUPERSEDED)),
                  failures=_failures(conn, outage_id=outage_id, contacts=False))


def overview(conn: Connection, settings: Settings, *, contacts: bool) -> Overview:
    """The outbox now; `contacts` lists the failed recipients (personal data)."""
    o = outbox.c
    now = utcnow()
    pending: dict[str, int] = dict(conn.execute(select(o.channel, func.count())
                                .where(o.status.in_(ACTIVE)).group_by(o.channel)).all())
    oldest = conn.execute(select(func.min(o.due_at))
                          .where(o.status.in_(ACTIVE), o.due_at <= now)).scalar()
    local_today = to_local(now, settings.tz).date()
    today, tomorrow = local_day_bounds(local_today, local_today, settings.tz)  # 23 to 25 h
    done: dict[str, int] = dict(conn.execute(
        select(o.status, func.count())
        .where(o.due_at >= today, o.due_at < tomorrow,
               o.status.in_((*ACCEPTED, *FAILED))).group_by(o.status)).all())
    ok = sum(done.get(s, 0) for s in ACCEPTED)
    failed = sum(done.get(s, 0) for s in FAILED)
    return Overview(
        pending_by_channel={channel: int(n) for channel, n in pending.items()},
        oldest_pending_minutes=None if oldest is None else int((now - oldest).total_seconds()
                                                              // 60),
        failures=_failures(conn, outage_id=None, contacts=contacts),
        delivered_today=ok, failed_today=failed,
        delivery_rate_today=round(ok / (ok + failed), 4) if ok + failed else None)
