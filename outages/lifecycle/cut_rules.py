"""The rules a planned cut's window must follow, and the warnings about other cuts on the
same customers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, select

from notifier import quiet
from outages import text
from outages.enums import CUT_PENDING, CutStatus, NoticeKind, OutageKind
from outages.errors import ValidationError
from outages.lifecycle import core as lc
from outages.lifecycle.results import CutWarning
from outages.settings import Settings, parse_quiet_hours
from outages.timeutil import format_duration, show_local, utcnow


def earliest_start(settings: Settings, now: datetime | None = None) -> datetime:
    """The earliest start a cut created `now` may have. Its announcement then goes out at
    once, quiet hours or not (see legal_deadline): the notice period is the law's."""
    return lc.ceil_minute((now or utcnow()) + settings.planned.min_notice)


def legal_deadline(settings: Settings, start: datetime, *, urgent: bool,
                   now: datetime) -> datetime:
    """The latest an announcement of a cut starting `start`, queued `now`, may go out:
    planned.min_notice before the start, so quiet hours never hold it into the legal notice
    period. An urgent cut has waived the period, and one queued inside it cannot keep it
    any more: theirs is the start."""
    legal = start - settings.planned.min_notice
    return legal if not urgent and legal >= now else start


def announced_at(settings: Settings, now: datetime, start: datetime, *,
                 urgent: bool) -> datetime:
    """When the announcement of a cut starting `start`, queued `now` for customers without a
    priority, goes out: now, or at the end of quiet hours if that keeps the legal deadline.
    A priority customer's longer notice counts from then."""
    notices = settings.notices
    if NoticeKind.ANNOUNCEMENT in notices.urgent_kinds or not notices.quiet_hours:
        return now
    return quiet.defer(now, settings.tz, parse_quiet_hours(notices.quiet_hours),
                       legal_deadline(settings, start, urgent=urgent, now=now))


def _notice_left(settings: Settings, start: datetime, now: datetime, told: datetime) -> str:
    """'2 days, 3:00 of notice', with when the announcement goes out if not now."""
    held = "" if told == now else \
        f" (the announcement goes out at {show_local(told, settings.tz)}, after quiet hours)"
    return f"{format_duration(start - told)} of notice{held}"


def check_window(settings: Settings, start: datetime, end: datetime) -> None:
    lc.require_aware(start, field="start")
    lc.require_aware(end, field="end")
    tz = settings.tz
    if end <= start:
        raise ValidationError(f"end {show_local(end, tz)} is not after start "
                              f"{show_local(start, tz)}: give an end later than the start",
                              field="end")
    if start < utcnow():
        raise ValidationError(f"start {show_local(start, tz)} is in the past: a planned cut "
                              "must start in the future", field="start")
    lc.check_ahead(settings, start, field="start", what="start")
    longest = settings.planned.max_duration
    if end - start > longest:
        raise ValidationError(
            f"the window lasts {format_duration(end - start)}, longer than the maximum "
            f"{format_duration(longest)} (planned.max_duration): split the work into "
            "several cuts", field="end")


def check_reason(reason: str) -> None:
    if not reason.strip():
        raise ValidationError("give the reason customers will read", field="reason")


def check_urgent(urgent: bool, urgent_reason: str | None) -> str | None:
    lc.free_text(urgent_reason, field="urgent_reason", limit=text.REASON_MAX)
    reason = (urgent_reason or "").strip() or None
    if urgent and reason is None:
        raise ValidationError("an urgent cut needs an urgent reason saying why the notice "
                              "period cannot be kept", field="urgent_reason")
    if reason and not urgent:
        raise ValidationError("an urgent reason is only used for an urgent cut",
                              field="urgent_reason")
    return reason


def check_notice(settings: Settings, start: datetime, *, urgent: bool) -> None:
    """The legal notice period (planned.min_notice) unless the dispatcher declares urgency."""
    now = utcnow()
    if urgent or start - now >= settings.planned.min_notice:
        return
    tz = settings.tz
    raise ValidationError(
        f"start {show_local(start, tz)} leaves only {format_duration(start - now)} of notice; "
        f"planned cuts need {format_duration(settings.planned.min_notice)} "
        f"(planned.min_notice): the earliest allowed start is "
        f"{show_local(earliest_start(settings, now), tz)}", field="start", hint="urgent")


def priority_members(outage_id: int) -> Any:
    """The outage's current members with a priority (life support, medical, critical
    facility), as a select of customer ids."""
    m, c = lc.MEMBERS.c, lc.CUSTOMERS.c
    return (select(m.customer_id).join(lc.CUSTOMERS, c.id == m.customer_id)
            .where(m.outage_id == outage_id, m.dropped_revision.is_(None),
                   c.priority.is_not(None)))


def priority_count(conn: Connection, outage_id: int) -> int:
    query = select(func.count()).select_from(priority_members(outage_id).subquery())
    return int(conn.execute(query).scalar_one())


def check_priority_notice(conn: Connection, settings: Settings, row: Row[Any], *,
                          urgent: bool) -> int:
    """Priority customers need planned.priority_min_notice unless the cut is urgent. Runs
    after the set is stored, in the change's transaction; their count."""
    count = priority_count(conn, row.id)
    refusal = priority_refusal(settings, row.planned_start, count, now=utcnow(),
                               waived=urgent, urgent=bool(row.urgent))
    if refusal is not None:
        raise ValidationError(refusal, field="start", hint="urgent")
    return count


def priority_refusal(settings: Settings, start: datetime, count: int, *, now: datetime,
                     waived: bool, urgent: bool) -> str | None:
    """Why `count` priority customers cannot have a cut starting `start` announced from
    `now` (the announcement of an `urgent` cut is not held by quiet hours), unless the
    period is `waived`; None when they can."""
    needed = settings.planned.priority_min_notice
    told = announced_at(settings, now, start, urgent=urgent)
    if waived or count == 0 or start - told >= needed:
        return None
    tz = settings.tz
    return (f"the area has {count} priority customer(s) (life support, medical, critical "
            f"facility) and start {show_local(start, tz)} leaves only "
            f"{_notice_left(settings, start, now, told)}; they need "
            f"{format_duration(needed)} (planned.priority_min_notice): the earliest allowed "
            f"start is {show_local(lc.ceil_minute(told + needed), tz)}")


def priority_warning(count: int) -> list[CutWarning]:
    if count == 0:
        return []
    return [CutWarning(code="priority", count=count, cut_ids=[],
                       message=f"{count} affected customers are priority customers (life "
                       "support, medical, critical facility): call them (the cut's call list)")]


def conflicts(conn: Connection, settings: Settings, row: Row[Any]) -> list[CutWarning]:
    """Other cuts on this cut's customers: pending ones whose window overlaps this one, and
    any (a completed one too) within planned.repeat_window of it. Runs after the set is
    stored, as one join. A completed cut is over, whatever its planned window said."""
    window = settings.planned.repeat_window
    per_cut = _sharing(conn, row, row.planned_start - window, row.planned_end + window)
    overlapping = [o for o in per_cut if o.status in CUT_PENDING
                   and o.planned_start < row.planned_end and o.planned_end > row.planned_start]
    nearby = [o for o in per_cut if o not in overlapping]
    warnings = []
    if overlapping:
        ids = [o.id for o in overlapping]
        count = _distinct_shared(conn, row.id, ids)
        warnings.append(_warning("overlap", count, ids, f"{count} affected customers are also "
                                 f"in cuts whose window overlaps this one"))
    if nearby:
        ids = [o.id for o in nearby]
        count = _distinct_shared(conn, row.id, ids)
        warnings.append(_warning("repeat_window", count, ids, f"{count} affected customers "
                                 f"already have another cut within {format_duration(window)}"))
    return warnings


def _warning(code: str, count: int, ids: list[int], message: str) -> CutWarning:
    listed = ", ".join(f"#{i}" for i in ids)
    return CutWarning(code=code, message=f"{message}: {listed}", count=count, cut_ids=ids)


def _pairs(outage_id: int) -> tuple[Any, Any, Any]:
    mine, theirs = lc.MEMBERS.alias("mine"), lc.MEMBERS.alias("theirs")
    joined = mine.join(theirs, (theirs.c.customer_id == mine.c.customer_id)
                       & (theirs.c.outage_id != mine.c.outage_id)
                       & theirs.c.dropped_revision.is_(None)
                       ).join(lc.OUTAGES, lc.OUTAGES.c.id == theirs.c.outage_id)
    return joined, mine, theirs


def _sharing(conn: Connection, row: Row[Any], low: datetime, high: datetime) -> list[Row[Any]]:
    joined, mine, _theirs = _pairs(row.id)
    o = lc.OUTAGES
    query = (select(o.c.id, o.c.status, o.c.planned_start, o.c.planned_end).select_from(joined)
             .where(mine.c.outage_id == row.id, mine.c.dropped_revision.is_(None),
                    o.c.kind == OutageKind.PLANNED,
                    o.c.status.in_((*CUT_PENDING, CutStatus.COMPLETED)),
                    o.c.planned_start < high, o.c.planned_end > low)
             .group_by(o.c.id, o.c.status, o.c.planned_start, o.c.planned_end)
             .order_by(o.c.id))
    return list(conn.execute(query))


def _distinct_shared(conn: Connection, outage_id: int, others: list[int]) -> int:
    joined, mine, theirs = _pairs(outage_id)
    query = (select(func.count(mine.c.customer_id.distinct())).select_from(joined)
             .where(mine.c.outage_id == outage_id, mine.c.dropped_revision.is_(None),
                    theirs.c.outage_id.in_(others)))
    return int(conn.execute(query).scalar_one())
