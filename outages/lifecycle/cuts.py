"""Planned cuts: create, reschedule, resize, cancel, start and restore.

Each function is one transaction: the outage row, its revision, the affected set with its
interruption placeholders, the audit entry and the event for the notifier commit together.
Times are aware datetimes (front ends parse local input with lifecycle.parse_time).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, insert

from geo import Area
from outages import text
from outages.access import audit
from outages.db import write_transaction
from outages.enums import CutStatus, OutageKind
from outages.errors import Conflict, ValidationError
from outages.lifecycle import core as lc
from outages.lifecycle import cut_rules, restoration
from outages.lifecycle.results import Change, OutageView
from outages.lifecycle.views import describe
from outages.registry.matching import Affected, customers_in_area
from outages.settings import Settings
from outages.timeutil import iso_local, show_local, to_local, utcnow

PLANNED_CAUSE = "planned"


def _affected(conn: Connection, settings: Settings, area: Area, feeders: Sequence[str] | None,
                  start: datetime, *, allow_empty: bool) -> Affected:
    affected = customers_in_area(conn, area, feeders=feeders,
                                 on=to_local(start, settings.tz).date())
    if affected.count == 0 and not allow_empty:
        scope = f" on feeders {', '.join(feeders)}" if feeders else ""
        raise ValidationError(f"the area matches no customer{scope}: check the area (lon/lat "
                              "order)", field="area", hint="allow_empty")
    return affected


def create(
    engine: Engine,
    settings: Settings,
    *,
    area: Area,
    start: datetime,
    end: datetime,
    reason: str,
    actor: str,
    source: str,
    reason_en: str | None = None,
    work: str | None = None,
    feeders: Sequence[str] | None = None,
    urgent: bool = False,
    urgent_reason: str | None = None,
    allow_empty: bool = False,
) -> OutageView:
    cut_rules.check_reason(reason)
    lc.free_text(reason, field="reason", limit=text.REASON_MAX)
    lc.free_text(reason_en, field="reason_en", limit=text.REASON_MAX)
    lc.free_text(work, field="work", limit=text.NOTE_MAX)
    lc.check_area_name(area)
    lc.check_feeders(feeders)
    urgent_reason = cut_rules.check_urgent(urgent, urgent_reason)
    cut_rules.check_window(settings, start, end)
    cut_rules.check_notice(settings, start, urgent=urgent)
    earliest = cut_rules.earliest_start(settings)
    with write_transaction(engine) as conn:
        affected = _affected(conn, settings, area, feeders, start, allow_empty=allow_empty)
        ids = affected.ids
        row = _insert(conn, area=area, name=area.name or affected.place_name(), start=start,
                      end=end, reason=reason.strip(), reason_en=lc.optional_text(reason_en),
                      work=work, feeders=feeders, urgent=urgent,
                      urgent_reason=urgent_reason, actor=actor)
        lc.set_members(conn, row, ids, revision=1, cause=PLANNED_CAUSE)
        details = {"added": int(ids.size), "dropped": 0}
        lc.write_revision(conn, row, action="created", actor=actor, details=details)
        priority = cut_rules.check_priority_notice(conn, settings, row, urgent=urgent)
        audit.record(conn, actor=actor, source=source, action="planned.created",
                     entity="outage", entity_id=row.id, after=lc.snapshot(row))
        warnings = [*cut_rules.priority_warning(priority),
                    *cut_rules.conflicts(conn, settings, row)]
        lc.publish(conn, settings, row, "cut_created", actor=actor)
        view = describe(conn, settings, row, warnings=warnings, members=affected)
    view.earliest_legal_start = iso_local(earliest, settings.tz)
    view.repairs = area.repairs
    return view


def _insert(conn: Connection, *, area: Area, name: str | None, start: datetime, end: datetime,
            reason: str, reason_en: str | None,
            work: str | None, feeders: Sequence[str] | None, urgent: bool,
            urgent_reason: str | None, actor: str) -> Row[Any]:
    now = utcnow()
    outage_id = conn.execute(insert(lc.OUTAGES).values(
        kind=OutageKind.PLANNED, status=CutStatus.SCHEDULED, area_name=name,
        area_geojson=area.to_geojson(),
        feeders=list(feeders) if feeders else None, reason=reason, reason_en=reason_en,
        work=work, cause=PLANNED_CAUSE, planned_start=start, planned_end=end, urgent=urgent,
        urgent_reason=urgent_reason, revision=1, created_by=actor, created_at=now,
        updated_at=now,
    ).returning(lc.OUTAGES.c.id)).scalar_one()
    return lc.load(conn, outage_id)


def _scheduled(conn: Connection, cut_id: int, doing: str,
               started_hint: str | None = None, seen: int | None = None) -> Row[Any]:
    row = lc.load(conn, cut_id, kind=OutageKind.PLANNED, lock=True, seen=seen)
    if row.status != CutStatus.SCHEDULED:
        hint = started_hint if row.status == CutStatus.IN_PROGRESS else None
        raise Conflict(f"cut {cut_id} is {row.status}; only a scheduled cut can be {doing}",
                       hint=hint)
    return row


def reschedule(
    engine: Engine,
    settings: Settings,
    *,
    cut_id: int,
    start: datetime,
    end: datetime,
    actor: str,
    source: str,
    note: str | None = None,
    urgent: bool = False,
    urgent_reason: str | None = None,
    seen: int | None = None,
) -> OutageView:
    """Move the window. Earlier starts must keep the notice period; later ones always may."""
    urgent_reason = cut_rules.check_urgent(urgent, urgent_reason)
    cut_rules.check_window(settings, start, end)
    with write_transaction(engine) as conn:
        row = _scheduled(conn, cut_id, "rescheduled", started_hint="extend_cut", seen=seen)
        if (start, end) == (row.planned_start, row.planned_end):
            return _unchanged(conn, settings, row)
        if start < row.planned_start:
            cut_rules.check_notice(settings, start, urgent=urgent)
        values: dict[str, Any] = {"planned_start": start, "planned_end": end}
        area = lc.stored_area(row, settings)
        ids = (_affected(conn, settings, area, row.feeders, start, allow_empty=True).ids
               if area else lc.member_ids(conn, cut_id))
        moved, counts = change_with_set(conn, settings, row, ids, action="rescheduled", actor=actor,
                                source=source, values=values, note=note,
                                extra={"from": iso_local(row.planned_start, settings.tz),
                                       "earlier": start < row.planned_start},
                                urgency=(urgent, urgent_reason))
        if counts["added"] and start >= row.planned_start:
            # The new date takes in customers who have not been told (connected since):
            # they too must have the notice period.
            try:
                cut_rules.check_notice(settings, start, urgent=urgent or bool(row.urgent))
            except ValidationError as exc:
                raise ValidationError(
                    f"on the new date the area takes in {counts['added']} customers who have "
                    f"not been told: {exc.message}", field="start", hint="urgent") from None
        # An earlier start, or priority customers joining, must keep their longer notice;
        # a later one waives it for those joining when the cut is urgent, as it waives
        # the notice period for the others (and as a resize does).
        priority = cut_rules.check_priority_notice(
            conn, settings, moved, urgent=urgent or (start >= row.planned_start and (
                bool(row.urgent) or not _priority_joined(conn, moved))))
        lc.publish(conn, settings, moved, "cut_rescheduled", actor=actor)
        view = describe(conn, settings, moved, warnings=[
            *cut_rules.priority_warning(priority), *cut_rules.conflicts(conn, settings, moved)])
    view.change = Change.model_validate(counts)
    view.note = _urgency_note(row, moved, declared=urgent)
    return view


def _priority_joined(conn: Connection, row: Row[Any]) -> bool:
    """Whether priority customers joined the set in this revision (they have had no
    notice yet)."""
    m = lc.MEMBERS.c
    joined = cut_rules.priority_members(row.id).where(m.added_revision == row.revision)
    return conn.execute(joined.limit(1)).first() is not None


def _unchanged(conn: Connection, settings: Settings, row: Row[Any]) -> OutageView:
    """A reschedule to the window the cut already has: no revision, nobody told."""
    view = describe(conn, settings, row)
    view.change = Change(added=0, dropped=0)
    tz = settings.tz
    view.note = (f"the cut already runs from {show_local(row.planned_start, tz)} to "
                 f"{show_local(row.planned_end, tz)}: nothing changed and nobody was told")
    return view


def change_with_set(conn: Connection, settings: Settings, row: Row[Any], ids: Any, *,
                    action: str, actor: str, source: str, values: dict[str, Any],
                    note: str | None = None, extra: dict[str, Any] | None = None,
                    urgency: tuple[bool, str | None] = (False, None)
                    ) -> tuple[Row[Any], dict[str, int]]:
    """A new revision whose affected set becomes `ids`, with the counts in its details;
    `urgency` is the (urgent, urgent_reason) the dispatcher gave with the change."""
    diff = lc.set_members(conn, row, ids, revision=row.revision + 1, cause=PLANNED_CAUSE)
    counts = {"added": diff.added, "dropped": diff.dropped}
    details: dict[str, Any] = {**counts, **(extra or {})}
    start = values.get("planned_start", row.planned_start)
    urgent = _short_notice(conn, settings, row.id, start) and (urgency[0] or bool(row.urgent))
    if urgent != bool(row.urgent) or urgency[0]:
        values = {**values, "urgent": urgent,
                  "urgent_reason": (urgency[1] or row.urgent_reason) if urgent else None}
    if urgent != bool(row.urgent):
        details["urgent"] = urgent
    after = lc.change(conn, row, action=action, actor=actor, source=source, values=values,
                      note=note, details=details)
    return after, counts


def _short_notice(conn: Connection, settings: Settings, cut_id: int, start: datetime) -> bool:
    """Whether a cut starting `start`, told now, waives a notice period: everyone's, or its
    priority customers' (its set as just stored). Only then may it stay urgent: the flag
    lets it skip those periods and sends its notices first whatever the hour, so a cut
    that keeps them is shown, notified and reported as an ordinary one."""
    now = utcnow()
    if start - now < settings.planned.min_notice:
        return True
    count = cut_rules.priority_count(conn, cut_id)
    return cut_rules.priority_refusal(settings, start, count, now=now, waived=False,
                                      urgent=False) is not None


def _urgency_note(before: Row[Any], after: Row[Any], *, declared: bool) -> str | None:
    if after.urgent:
        return None
    if before.urgent:
        return "the new window keeps the notice period: the cut is no longer urgent"
    if declared:
        return "the new window keeps the notice period: the cut is not marked urgent"
    return None


def resize(
    engine: Engine,
    settings: Settings,
    *,
    cut_id: int,
    area: Area,
    actor: str,
    source: str,
    note: str | None = None,
    allow_empty: bool = False,
    urgent: bool = False,
    urgent_reason: str | None = None,
    seen: int | None = None,
) -> OutageView:
    """Redraw the area. Customers it adds hear of the cut now, so they too must have the
    notice period, unless the cut is (or is now declared) urgent."""
    urgent_reason = cut_rules.check_urgent(urgent, urgent_reason)
    lc.check_area_name(area)
    with write_transaction(engine) as conn:
        row = _scheduled(conn, cut_id, "resized", seen=seen)
        affected = _affected(conn, settings, area, row.feeders, row.planned_start,
                             allow_empty=allow_empty)
        ids = affected.ids
        values: dict[str, Any] = {"area_geojson": area.to_geojson(),
                                  "area_name": area.name or affected.place_name() or row.area_name}
        renamed = {"renamed_from": row.area_name} \
            if values["area_name"] != row.area_name else None
        resized, counts = change_with_set(conn, settings, row, ids, action="resized", actor=actor,
                                  source=source, values=values, note=note, extra=renamed,
                                  urgency=(urgent, urgent_reason))
        if counts["added"]:
            try:
                cut_rules.check_notice(settings, row.planned_start, urgent=resized.urgent)
            except ValidationError as exc:  # rolled back with the transaction
                raise ValidationError(
                    f"the new area adds {counts['added']} customers who have not been told: "
                    f"{exc}", field="area", hint="urgent") from None
        priority = cut_rules.check_priority_notice(
            conn, settings, resized, urgent=resized.urgent or not _priority_joined(conn, resized))
        lc.publish(conn, settings, resized, "cut_resized", actor=actor)
        view = describe(conn, settings, resized, warnings=[
            *cut_rules.priority_warning(priority),
            *cut_rules.conflicts(conn, settings, resized)], members=affected)
    view.change = Change.model_validate(counts)
    view.note = _urgency_note(row, resized, declared=urgent)
    return view


def cancel(
    engine: Engine, settings: Settings, *, cut_id: int, reason: str, actor: str, source: str,
    seen: int | None = None
) -> OutageView:
    if not reason.strip():
        raise ValidationError("say why the cut is cancelled (customers are told)",
                              field="reason")
    lc.free_text(reason, field="reason", limit=text.REASON_MAX)
    with write_transaction(engine) as conn:
        row = _scheduled(conn, cut_id, "cancelled (a started cut is restored instead)",
                         seen=seen)
        dropped = lc.drop_all(conn, cut_id, row.revision + 1)
        cancelled = lc.change(conn, row, action="cancelled", actor=actor, source=source,
                              values={"status": CutStatus.CANCELLED,
                                      "cancel_reason": reason.strip()},
                              note=reason.strip(), details={"added": 0, "dropped": dropped})
        lc.publish(conn, settings, cancelled, "cut_cancelled", actor=actor)
        view = describe(conn, settings, cancelled)
    view.dropped_now = dropped
    return view


def start(
    engine: Engine, settings: Settings, *, cut_id: int, at: datetime | None, actor: str,
    source: str, seen: int | None = None
) -> OutageView:
    """Record the actual start; a start before the planned one is allowed and reported."""
    at = lc.not_future(at, field="at", what="start time", settings=settings)
    with write_transaction(engine) as conn:
        row = _scheduled(conn, cut_id, "started", seen=seen)
        started = lc.start_interruptions(conn, cut_id, at)
        early = row.planned_start - at if at < row.planned_start else None
        details = {"started": started, "early_minutes": lc.minutes(early) if early else 0}
        after = lc.change(conn, row, action="started", actor=actor, source=source,
                          values={"status": CutStatus.IN_PROGRESS, "actual_start": at},
                          details=details)
        lc.publish(conn, settings, after, "cut_started", actor=actor)
        view = describe(conn, settings, after, breakdown=False)
    if early:
        planned = show_local(row.planned_start, settings.tz)
        view.note = f"started before the planned start {planned}"
    return view


def extend(
    engine: Engine, settings: Settings, *, cut_id: int, end: datetime, actor: str, source: str,
    note: str | None = None, seen: int | None = None
) -> OutageView:
    """A new expected end for a started cut; its customers still out are told."""
    lc.require_aware(end, field="end")
    if end <= utcnow():
        raise ValidationError(f"end {show_local(end, settings.tz)} is not in the future: give "
                              "when power is now expected back", field="end")
    lc.check_ahead(settings, end, field="end", what="end")
    with write_transaction(engine) as conn:
        row = lc.load(conn, cut_id, kind=OutageKind.PLANNED, lock=True, seen=seen)
        if row.status != CutStatus.IN_PROGRESS:
            raise Conflict(f"cut {cut_id} is {row.status}; only a started cut can be extended "
                           "(a scheduled one is rescheduled)")
        previous = row.etr or row.planned_end
        if previous is not None and end < previous:
            # Customers would be told the work takes longer; an early end is told by the
            # restoration, when power is back.
            raise ValidationError(
                f"end {show_local(end, settings.tz)} is before the expected end "
                f"{show_local(previous, settings.tz)}: an extension moves the end later; when "
                f"power is back early, record the restoration (outages cuts restore {cut_id})",
                field="end")
        if end == previous:
            view = describe(conn, settings, row, breakdown=False)
            view.note = (f"the cut is already expected to end at "
                         f"{show_local(end, settings.tz)}: nothing changed and nobody was told")
            return view
        after = lc.change(conn, row, action="extended", actor=actor, source=source,
                          values={"etr": end}, note=note,
                          details={"previous": iso_local(previous, settings.tz)})
        lc.publish(conn, settings, after, "cut_extended", actor=actor)
        return describe(conn, settings, after, breakdown=False)


def restore(
    engine: Engine, settings: Settings, *, cut_id: int, at: datetime | None,
    area: Area | None = None, codes: Sequence[str] | None = None, actor: str, source: str,
    seen: int | None = None
) -> OutageView:
    return restoration.restore_outage(engine, settings, outage_id=cut_id, kind=OutageKind.PLANNED,
                                      at=at, area=area, codes=codes, actor=actor, source=source,
                                      seen=seen)
