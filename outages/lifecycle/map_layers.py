"""GeoJSON layers for the console's map: scheduled and active cuts and open incidents
(coloured by status on the page), and fault reports as points. Staff only: reports carry
no name or phone, but their points are callers' homes."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, or_, select

from outages.enums import CUT_PENDING, INCIDENT_OPEN, OutageKind
from outages.errors import ValidationError
from outages.lifecycle import core as lc
from outages.lifecycle import faults, privacy
from outages.lifecycle.fault_grouping import REPORTS
from outages.lifecycle.views import counts_by_outage
from outages.settings import Settings
from outages.timeutil import iso_local, utcnow

Feature = dict[str, Any]


def outages_layer(conn: Connection, settings: Settings, *,
                  personal: bool = True) -> dict[str, Any]:
    """Cuts scheduled or in progress and incidents reported or confirmed. A reported
    incident has no area yet: it is drawn as its proposed area (the reports' buffered hull,
    as `faults confirm --auto` would propose), marked `proposed`. Without `personal`, an
    incident drawn around fewer callers' homes than public.min_count is left out (its
    area would place them)."""
    o = lc.OUTAGES.c
    rows = conn.execute(
        select(lc.OUTAGES).where(or_(
            (o.kind == OutageKind.PLANNED) & o.status.in_(CUT_PENDING),
            (o.kind == OutageKind.FAULT) & o.status.in_(INCIDENT_OPEN)))
        .order_by(o.id)).all()
    counts = counts_by_outage(conn, [row.id for row in rows])
    features = [feature for row in rows
                if (feature := _outage_feature(conn, settings, row, counts[row.id], personal))]
    return {"type": "FeatureCollection", "features": features}


def _outage_feature(conn: Connection, settings: Settings, row: Any,
                    counts: dict[str, int], personal: bool) -> Feature | None:
    geometry, proposed = area(conn, settings, row, personal=personal)
    if geometry is None:
        return None
    tz = settings.tz
    return {"type": "Feature", "id": row.id, "geometry": geometry, "properties": {
        "id": row.id, "kind": row.kind, "status": row.status, "name": row.area_name,
        "proposed": proposed, "feeders": row.feeders, "start": iso_local(
            row.actual_start or row.planned_start, tz),
        "end": iso_local(row.planned_end, tz), "etr": iso_local(row.etr, tz),
        "urgent": bool(row.urgent), **counts}}


def area(conn: Connection, settings: Settings, row: Any, *,
         personal: bool = True) -> tuple[Any, bool]:
    """The outage's area as GeoJSON (None: none to draw), and whether it is only proposed
    (a reported incident's, drawn around its reports)."""
    proposed = not row.area_geojson and row.kind == OutageKind.FAULT
    if not personal and row.kind == OutageKind.FAULT and _around_few(conn, settings, row):
        return None, proposed
    if row.area_geojson:
        return json.loads(row.area_geojson), False
    if proposed:
        try:
            return json.loads(faults.proposal(conn, settings, row.id).to_geojson()), True
        except ValidationError:  # no located report: nothing to draw
            return None, True
    return None, False


def _around_few(conn: Connection, settings: Settings, row: Any) -> bool:
    """Whether the incident's area is drawn around fewer callers' homes than
    public.min_count: its proposal, or an automatic area confirmed as it was."""
    if row.area_geojson:
        return privacy.around_few(row.area_points, settings)
    located = conn.execute(select(func.count()).select_from(REPORTS).where(
        REPORTS.c.outage_id == row.id, REPORTS.c.lon.is_not(None))).scalar_one()
    return privacy.around_few(int(located), settings)


def reports_layer(conn: Connection, settings: Settings, *, now: datetime | None = None,
                  decimals: int | None = None) -> dict[str, Any]:
    """Located fault reports of open incidents, newest first, with their age in minutes;
    the callers' homes rounded to `decimals` (for readers who may not see them)."""
    now = now or utcnow()
    r, o = REPORTS.c, lc.OUTAGES.c
    query = (select(r.id, r.outage_id, r.lon, r.lat, r.source, r.reports, r.first_at,
                    r.last_at, o.status)
             .select_from(REPORTS.join(lc.OUTAGES, o.id == r.outage_id))
             .where(o.status.in_(INCIDENT_OPEN), o.kind == OutageKind.FAULT,
                    r.lon.is_not(None))
             .order_by(r.last_at.desc(), r.id.desc()))
    features = [{
        "type": "Feature", "id": row.id,
        "geometry": {"type": "Point", "coordinates": [
            row.lon if decimals is None else round(row.lon, decimals),
            row.lat if decimals is None else round(row.lat, decimals)]},
        "properties": {"id": row.id, "incident": row.outage_id, "status": row.status,
                       "source": row.source, "reports": row.reports,
                       "first_at": iso_local(row.first_at, settings.tz),
                       "last_at": iso_local(row.last_at, settings.tz),
                       "age_minutes": int((now - row.first_at).total_seconds() // 60)}}
        for row in conn.execute(query)]
    return {"type": "FeatureCollection", "features": features}
