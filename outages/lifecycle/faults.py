"""Fault incidents after the reports: confirm (fix the affected set), ETR, restore, or
dismiss one the crew found no fault on the network for.

Statuses: reported -> confirmed -> restored, or reported -> dismissed. Reports themselves
are in fault_reports.py.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import MultiPoint
from sqlalchemy import ColumnElement, Connection, Engine, Row, func, select

from geo import Area
from notifier import outbox
from outages import text
from outages.db import write_transaction
from outages.enums import ETR_STATED, INCIDENT_OPEN, IncidentStatus, NoticeKind, OutageKind
from outages.errors import Conflict, ValidationError
from outages.lifecycle import core as lc
from outages.lifecycle import restoration
from outages.lifecycle.fault_grouping import REPORTS
from outages.lifecycle.results import Change, CutWarning, OutageView, Report
from outages.lifecycle.views import describe
from outages.registry.matching import Affected, connected_filter, customers_in_area
from outages.settings import Settings
from outages.timeutil import format_duration, iso_local, show_local, to_local, utcnow

MIN_AUTO_BUFFER_M = 200.0
M_PER_DEG = 111_320.0


def _located_reports(conn: Connection, fault_id: int) -> list[tuple[float, float]]:
    return [(lon, lat) for lon, lat in conn.execute(select(REPORTS.c.lon, REPORTS.c.lat).where(
        REPORTS.c.outage_id == fault_id, REPORTS.c.lon.is_not(None)))]


def proposal(conn: Connection, settings: Settings, fault_id: int) -> Area:
    """The convex hull of the report points, buffered by max(200 m, faults.group_radius_m)."""
    points = _located_reports(conn, fault_id)
    if not points:
        raise ValidationError(f"incident {fault_id} has no located report to draw an area "
                              "from: give an area or feeders", field="auto")
    lat0 = sum(p[1] for p in points) / len(points)
    scale = math.cos(math.radians(lat0))
    # Buffer in metres on a local equirectangular plane, then back to degrees.
    local = MultiPoint([(lon * scale * M_PER_DEG, lat * M_PER_DEG) for lon, lat in points])
    radius = max(MIN_AUTO_BUFFER_M, settings.faults.group_radius_m)
    hull = local.convex_hull.buffer(radius, quad_segs=8)
    back = shapely.transform(hull, lambda xy: xy / np.array([scale * M_PER_DEG, M_PER_DEG]))
    return Area(geometry=back)


def proposed(conn: Connection, settings: Settings, fault_id: int,
             started_at: datetime | None = None) -> tuple[Area, int]:
    """The automatic area of an incident still to be confirmed, and how many customers
    confirming it would take out: those connected on the day it started, as `confirm`
    counts them."""
    _open(conn, fault_id, allowed=(IncidentStatus.REPORTED,), doing="confirmed again",
          lock=False)
    area = proposal(conn, settings, fault_id)
    day = to_local(started_at or _first_report(conn, fault_id), settings.tz).date()
    return area, customers_in_area(conn, area, on=day).count


def _feeder_ids(conn: Connection, feeders: Sequence[str], on: date) -> npt.NDArray[np.int64]:
    c = lc.CUSTOMERS.c
    connected = cast(ColumnElement[bool], connected_filter(on))
    query = select(c.id).where(c.feeder.in_(list(feeders)), connected).order_by(c.id)
    return np.fromiter(conn.execute(query).scalars(), dtype=np.int64)


def _check_cause(settings: Settings, cause: str | None) -> str:
    cause = (cause or "unknown").strip()
    if cause not in settings.faults.causes:
        raise ValidationError(f"unknown cause {cause!r}: use one of "
                              f"{', '.join(settings.faults.causes)}", field="cause")
    return cause


def _open(conn: Connection, fault_id: int, *, allowed: tuple[str, ...], doing: str,
          lock: bool = True, seen: int | None = None) -> Row[Any]:
    row = lc.load(conn, fault_id, kind=OutageKind.FAULT, lock=lock, seen=seen)
    if row.status not in allowed:
        raise Conflict(f"incident {fault_id} is {row.status}; it cannot be {doing}")
    return row


def confirm(
    engine: Engine,
    settings: Settings,
    *,
    fault_id: int,
    actor: str,
    source: str,
    area: Area | None = None,
    feeders: Sequence[str] | None = None,
    auto: bool = False,
    started_at: datetime | None = None,
    cause: str | None = None,
    reason: str | None = None,
    reason_en: str | None = None,
    seen: int | None = None,
) -> OutageView:
    """Fix the affected set from an area, feeders or the reports, and start everyone's
    interruption at `started_at` (default: the earliest report). With `auto`, `area` may
    be the proposal as shown to the dispatcher, saved as shown.

    Customers read `reason` (and `reason_en` in English) when the dispatcher types one,
    otherwise the cause's wording: never what a caller said."""
    if sum((area is not None and not auto, bool(feeders), auto)) != 1:
        raise ValidationError("give exactly one of an area, feeders or auto", field="area",
                              hint="one_scope")
    cause = _check_cause(settings, cause)
    lc.check_feeders(feeders)
    if area is not None:
        lc.check_area_name(area)
    lc.free_text(reason, field="reason", limit=text.REASON_MAX)
    lc.free_text(reason_en, field="reason_en", limit=text.REASON_MAX)
    if started_at is not None:
        lc.not_future(started_at, field="started_at", what="start time", settings=settings)
    with write_transaction(engine) as conn:
        row = _open(conn, fault_id, allowed=(IncidentStatus.REPORTED,), doing="confirmed again",
                    seen=seen)
        # An automatic area is drawn around callers' homes: how many is what decides
        # whether it may be published as it is.
        points = len(_located_reports(conn, fault_id)) if auto else None
        if auto and area is None:
            area = proposal(conn, settings, fault_id)
        elif area is not None:
            points = _drawn_automatically(conn, settings, fault_id, area)
        # The earliest report was checked when it was filed; only a typed time is checked.
        started = started_at or _first_report(conn, fault_id)
        day = to_local(started, settings.tz).date()
        affected = customers_in_area(conn, area, on=day) if area is not None else None
        ids = affected.ids if affected is not None else _feeder_ids(conn, feeders or (), day)
        if not ids.size:
            raise ValidationError("that selection matches no customer: check the area or "
                                  "feeder names", field="feeders" if feeders else "area")
        diff = lc.set_members(conn, row, ids, revision=row.revision + 1, cause=cause,
                              start_at=started)
        outside = _reporters_outside(conn, fault_id, ids)
        values = {"status": IncidentStatus.CONFIRMED, "actual_start": started, "cause": cause,
                  "reason": lc.optional_text(reason), "reason_en": lc.optional_text(reason_en),
                  "feeders": list(feeders) if feeders else None,
                  "area_geojson": area.to_geojson() if area is not None else None,
                  "area_points": points,
                  "area_name": _place(area, affected, feeders)}
        after = lc.change(conn, row, action="confirmed", actor=actor, source=source,
                          values=values, details={"added": diff.added, "dropped": 0,
                                                  "reporters_outside": outside})
        lc.publish(conn, settings, after, "fault_confirmed", actor=actor)
        return describe(conn, settings, after, warnings=_outside_warning(outside),
                        members=affected)


def _place(area: Area | None, affected: Affected | None, feeders: Sequence[str] | None) -> str:
    """The name customers read: the area's own, else its districts, else the feeders."""
    if area is not None and area.name:
        return area.name
    return (affected.place_name() if affected is not None else None) or ", ".join(feeders or ())


def _drawn_automatically(conn: Connection, settings: Settings, fault_id: int,
                         area: Area) -> int | None:
    """The callers the area was drawn around, when it is the automatic proposal sent back
    as a drawn area (the console's "confirm" of the proposal it shows, an API client that
    asked for one); None for an area of the dispatcher's own. What decides whether it may
    be published as it is (privacy.current_area)."""
    try:
        proposed = proposal(conn, settings, fault_id)
    except ValidationError:  # no located report: nothing was drawn around anyone
        return None
    # GeoJSON rounds the coordinates it carries; an edit moves far more than that.
    differ = shapely.symmetric_difference(area.geometry, proposed.geometry).area
    if differ > 0.01 * proposed.geometry.area:
        return None
    return len(_located_reports(conn, fault_id))


def _first_report(conn: Connection, fault_id: int) -> datetime:
    first = conn.execute(select(func.min(REPORTS.c.first_at)).where(
        REPORTS.c.outage_id == fault_id)).scalar_one()
    return first or utcnow()


def _reporters_outside(conn: Connection, fault_id: int, ids: npt.NDArray[np.int64]) -> int:
    reporters = conn.execute(select(REPORTS.c.customer_id).where(
        REPORTS.c.outage_id == fault_id, REPORTS.c.customer_id.is_not(None))).scalars()
    return int(np.setdiff1d(np.fromiter(reporters, dtype=np.int64), ids).size)


def resize(
    engine: Engine,
    settings: Settings,
    *,
    fault_id: int,
    area: Area,
    actor: str,
    source: str,
    note: str | None = None,
    seen: int | None = None,
) -> OutageView:
    """Redraw a confirmed incident's area: customers it now covers join from the incident's
    start, those it no longer covers leave it (their open interruption goes)."""
    lc.check_area_name(area)
    with write_transaction(engine) as conn:
        row = _open(conn, fault_id, allowed=(IncidentStatus.CONFIRMED,),
                    doing="resized (only a confirmed incident has an area to change)",
                    seen=seen)
        affected = customers_in_area(conn, area, on=to_local(row.actual_start,
                                                             settings.tz).date())
        if not affected.count:
            raise ValidationError("the area matches no customer: check the area (lon/lat "
                                  "order)", field="area")
        diff = lc.set_members(conn, row, affected.ids, revision=row.revision + 1,
                              cause=row.cause, start_at=row.actual_start)
        if not lc.count_open(conn, fault_id):  # rolled back with the transaction
            raise Conflict(f"every customer the new area covers has power back already, so "
                           f"incident {fault_id} would be left open with nobody out: record "
                           f"its restoration instead (outages faults restore {fault_id})",
                           field="area")
        outside = _reporters_outside(conn, fault_id, affected.ids)
        # A redraw to the automatic proposal is drawn around callers' homes, as at confirm.
        values = {"area_geojson": area.to_geojson(), "feeders": None,
                  "area_points": _drawn_automatically(conn, settings, fault_id, area),
                  "area_name": _place(area, affected, None)}
        after = lc.change(conn, row, action="resized", actor=actor, source=source,
                          values=values, note=note,
                          details={"added": diff.added, "dropped": diff.dropped,
                                   "reporters_outside": outside})
        lc.publish(conn, settings, after, "fault_resized", actor=actor)
        view = describe(conn, settings, after, warnings=_outside_warning(outside),
                        members=affected)
    view.change = Change(added=diff.added, dropped=diff.dropped)
    return view


def _outside_warning(outside: int) -> list[CutWarning]:
    return [] if not outside else [CutWarning(
        code="reporters_outside", count=outside, cut_ids=[],
        message=f"{outside} reporting customers are not in the affected set")]


def set_etr(
    engine: Engine, settings: Settings, *, fault_id: int, at: datetime, actor: str, source: str,
    note: str | None = None, seen: int | None = None
) -> OutageView:
    lc.require_aware(at, field="at")
    if at <= utcnow():
        raise ValidationError(f"ETR {show_local(at, settings.tz)} is not in the future: give "
                              "when power is expected back", field="at")
    lc.check_ahead(settings, at, field="at", what="ETR")
    with write_transaction(engine) as conn:
        row = _open(conn, fault_id, allowed=INCIDENT_OPEN, doing="given an ETR", seen=seen)
        previous = row.etr
        details = {"previous": previous.isoformat() if previous else None}
        after = lc.change(conn, row, action="etr", actor=actor, source=source,
                          values={"etr": at}, note=note, details=details)
        lc.publish(conn, settings, after, "etr_changed", actor=actor)
        view = describe(conn, settings, after, breakdown=False)
        view.warnings = _etr_told(conn, settings, after)
        return view


def _still_out_among(conn: Connection, fault_id: int, customer_ids: Any) -> int:
    i = lc.INTERRUPTIONS.c
    query = select(func.count(func.distinct(i.customer_id))).where(
        i.outage_id == fault_id, i.end_at.is_(None), i.customer_id.in_(customer_ids))
    return int(conn.execute(query).scalar_one())


def _etr_told(conn: Connection, settings: Settings, row: Row[Any]) -> list[CutWarning]:
    """Who the new ETR reaches, and when, where the notice rules hold it back: a move smaller
    than notices.etr_change_min is recorded but not sent, and an ETR notice waits
    notices.etr_min_interval after the last one."""
    if row.status != IncidentStatus.CONFIRMED:
        return []  # the acknowledgement will carry it
    notices = settings.notices
    later, first = outbox.queued_later(conn, outage_id=row.id, revision=row.revision,
                                       kind=NoticeKind.ETR_UPDATE, now=utcnow())
    unsent = _still_out_among(conn, row.id, outbox.told_near(
        outage_id=row.id, kinds=ETR_STATED, at=row.etr, within=notices.etr_change_min,
        revision_below=row.revision))
    warnings = []
    if unsent > 0:
        warnings.append(CutWarning(
            code="etr_not_sent", count=unsent, cut_ids=[],
            message=f"{unsent} customers still out are not sent this ETR: it is less than "
                    f"{format_duration(notices.etr_change_min)} from the one they were told"))
    if later and first is not None:
        warnings.append(CutWarning(
            code="etr_sent_later", count=later, cut_ids=[],
            message=f"{later} customers heard an ETR notice less than "
                    f"{format_duration(notices.etr_min_interval)} ago: they get this one "
                    f"from {show_local(first, settings.tz)}"))
    return warnings


def restore(
    engine: Engine, settings: Settings, *, fault_id: int, at: datetime | None,
    area: Area | None = None, codes: Sequence[str] | None = None, actor: str, source: str,
    seen: int | None = None
) -> OutageView:
    return restoration.restore_outage(engine, settings, outage_id=fault_id, kind=OutageKind.FAULT,
                                      at=at, area=area, codes=codes, actor=actor, source=source,
                                      seen=seen)


def dismiss(
    engine: Engine, settings: Settings, *, fault_id: int, reason: str, actor: str, source: str,
    seen: int | None = None
) -> OutageView:
    """Close a reported incident the crew found no fault on the network for (the customer's
    own installation, a prank): nobody was out in it, so it records no interruption, and its
    reporters are told the network has no fault instead of "power is back". Not for a fault
    already handled in another incident: its reporters would be told there is none.

    A confirmed incident is refused: customers were told of an outage and its interruptions
    are recorded, so it ends with its restoration."""
    if not reason.strip():
        raise ValidationError("say why the incident is dismissed (what the crew found)",
                              field="reason")
    lc.free_text(reason, field="reason", limit=text.REASON_MAX)
    with write_transaction(engine) as conn:
        row = lc.load(conn, fault_id, kind=OutageKind.FAULT, lock=True, seen=seen)
        if row.status == IncidentStatus.CONFIRMED:
            raise Conflict(f"incident {fault_id} is confirmed: its customers were told of an "
                           "outage and their interruptions are recorded, so it cannot be "
                           "dismissed; record its restoration instead", hint="restore_fault")
        if row.status != IncidentStatus.REPORTED:
            raise Conflict(f"incident {fault_id} is {row.status}; only a reported incident "
                           "can be dismissed")
        reporters = conn.execute(select(func.count()).select_from(REPORTS).where(
            REPORTS.c.outage_id == fault_id)).scalar_one()
        after = lc.change(conn, row, action="dismissed", actor=actor, source=source,
                          values={"status": IncidentStatus.DISMISSED,
                                  "dismiss_reason": reason.strip()},
                          note=reason.strip(), details={"reports": reporters})
        lc.publish(conn, settings, after, "fault_dismissed", actor=actor)
        return describe(conn, settings, after)


def reports(conn: Connection, settings: Settings, fault_id: int) -> list[Report]:
    c = lc.CUSTOMERS.c
    query = (select(REPORTS, c.code).select_from(
        REPORTS.outerjoin(lc.CUSTOMERS, c.id == REPORTS.c.customer_id))
        .where(REPORTS.c.outage_id == fault_id).order_by(REPORTS.c.first_at))
    tz = settings.tz
    return [Report(id=r.id, customer=r.code, phone=r.phone, lon=r.lon, lat=r.lat, text=r.text,
                   source=r.source, reports=r.reports, first_at=iso_local(r.first_at, tz),
                   last_at=iso_local(r.last_at, tz)) for r in conn.execute(query)]
