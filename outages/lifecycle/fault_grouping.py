"""Which open incident a new fault report belongs to: the nearest one whose reports or area
lie within faults.group_radius_m of the report and whose latest report is at most
faults.group_window old; and which of an incident's reports lie outside its affected set."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import numpy as np
from shapely.geometry import Point, shape
from shapely.ops import nearest_points
from sqlalchemy import Connection, Row, Table, and_, func, or_, select

from outages.enums import INCIDENT_OPEN, CutStatus, OutageKind
from outages.lifecycle import core as lc
from outages.models import FaultReport
from outages.settings import Settings

REPORTS = cast(Table, FaultReport.__table__)
EARTH_RADIUS_M = 6_371_008.8


def haversine_m(lon: float, lat: float, lons: Sequence[float], lats: Sequence[float]
                ) -> np.ndarray:
    """Great-circle distances in metres from one point to many."""
    lon1, lat1 = math.radians(lon), math.radians(lat)
    lon2, lat2 = np.radians(np.asarray(lons, float)), np.radians(np.asarray(lats, float))
    a = (np.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


@dataclass(frozen=True)
class Match:
    outage_id: int
    distance_m: float


def nearest_open(conn: Connection, settings: Settings, lon: float, lat: float,
                 at: datetime, customer_id: int | None = None) -> Match | None:
    """The open outage a report at (lon, lat) belongs to: the one that has the caller's
    account out now (an incident confirmed by area or by feeder, or a planned cut under
    way), or for a caller without an account a cut under way over their place; else the
    nearest incident within faults.group_radius_m of its reports, or of its area, among
    those reported on within faults.group_window or confirmed over an area (a confirmed
    incident covers its area for as long as it is open, however long ago its last
    call was)."""
    o = lc.OUTAGES
    out_in = (_out_in(conn, customer_id, at) if customer_id is not None
              else _cut_covering(conn, lon, lat, at))
    if out_in is not None:
        return Match(out_in, 0.0)
    window_start = at - settings.faults.group_window
    latest = (select(REPORTS.c.outage_id).group_by(REPORTS.c.outage_id)
              .having(func.max(REPORTS.c.last_at) >= window_start))
    recent = o.c.id.in_(latest).label("recent")
    candidates = conn.execute(select(o.c.id, o.c.area_geojson, recent).where(
        o.c.kind == OutageKind.FAULT, o.c.status.in_(INCIDENT_OPEN),
        or_(o.c.id.in_(latest), o.c.area_geojson.is_not(None)))).all()
    best: Match | None = None
    for outage_id, area_geojson, reported_lately in candidates:
        if reported_lately:
            distance = _distance(conn, outage_id, area_geojson, lon, lat)
        else:  # quiet for a while: only a caller inside its area is part of it
            distance = _area_distance(area_geojson, lon, lat) if area_geojson else math.inf
            distance = 0.0 if distance == 0.0 else math.inf
        if distance <= settings.faults.group_radius_m and (
                best is None or distance < best.distance_m):
            best = Match(outage_id, distance)
    return best


def _out_in(conn: Connection, customer_id: int, at: datetime) -> int | None:
    """The open outage the customer is out in at `at`: a fault incident first, else a
    planned cut under way (their call is about the cut, not a new fault)."""
    o, i = lc.OUTAGES.c, lc.INTERRUPTIONS.c
    open_now = or_(and_(o.kind == OutageKind.FAULT, o.status.in_(INCIDENT_OPEN)),
                   and_(o.kind == OutageKind.PLANNED, o.status == CutStatus.IN_PROGRESS,
                        i.start_at <= at))
    return cast("int | None", conn.execute(
        select(o.id).join(lc.INTERRUPTIONS, i.outage_id == o.id)
        .where(i.customer_id == customer_id, i.end_at.is_(None), open_now)
        .order_by((o.kind == OutageKind.FAULT).desc(), o.id.desc()).limit(1)).scalar())


def _cut_covering(conn: Connection, lon: float, lat: float, at: datetime) -> int | None:
    """A planned cut under way whose area covers a caller without an account: their call is
    about the cut, as an account's would be."""
    o = lc.OUTAGES.c
    cuts = conn.execute(select(o.id, o.area_geojson).where(
        o.kind == OutageKind.PLANNED, o.status == CutStatus.IN_PROGRESS,
        o.area_geojson.is_not(None), o.actual_start <= at).order_by(o.id.desc())).all()
    point = Point(lon, lat)
    return next((cut.id for cut in cuts if shape(json.loads(cut.area_geojson)).covers(point)),
                None)


def _distance(conn: Connection, outage_id: int, area_geojson: str | None, lon: float,
              lat: float) -> float:
    points = conn.execute(select(REPORTS.c.lon, REPORTS.c.lat).where(
        REPORTS.c.outage_id == outage_id, REPORTS.c.lon.is_not(None))).all()
    best = math.inf
    if points:
        lons, lats = zip(*points, strict=True)
        best = float(haversine_m(lon, lat, lons, lats).min())
    if area_geojson:
        best = min(best, _area_distance(area_geojson, lon, lat))
    return best


def _area_distance(area_geojson: str, lon: float, lat: float) -> float:
    geometry = shape(json.loads(area_geojson))
    point = Point(lon, lat)
    if geometry.covers(point):
        return 0.0
    nearest = nearest_points(geometry, point)[0]
    return float(haversine_m(lon, lat, [nearest.x], [nearest.y])[0])


def outside(conn: Connection, row: Row[Any]) -> list[Any]:
    """The incident's reports from outside its affected set: customers not in it, and callers
    without an account whose place is outside the area (or cannot be placed: no area)."""
    r, m = REPORTS.c, lc.MEMBERS.c
    members = select(m.customer_id).where(m.outage_id == row.id, m.dropped_revision.is_(None))
    reports = conn.execute(
        select(r.id, r.customer_id, r.phone, r.lon, r.lat, r.reports, r.first_at)
        .where(r.outage_id == row.id,
               or_(r.customer_id.is_(None), r.customer_id.not_in(members)))
        .order_by(r.first_at, r.id)).all()
    area = shape(json.loads(row.area_geojson)) if row.area_geojson else None
    return [report for report in reports
            if report.customer_id is not None or area is None or report.lon is None
            or not area.covers(Point(report.lon, report.lat))]
