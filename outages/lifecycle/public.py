"""What the public may know about cuts and outages: when, where, why, how many customers.

Pure reads of the outage tables. Nothing here selects a customer's name, phone, email or
address, so nothing personal can leak into a public answer. Outages are named by their
public reference, not their sequential id; a customer code answers the same whether it
exists or not. Counts and areas follow the privacy rule in `privacy`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, bindparam, exists, func, or_, select

from geo import BBox, point_problem
from notifier import gsm
from outages.enums import (
    CUT_PENDING,
    FINISHED,
    INCIDENT_OPEN,
    CutStatus,
    IncidentStatus,
    OutageKind,
)
from outages.errors import ValidationError
from outages.lifecycle import core as lc
from outages.lifecycle import privacy
from outages.lifecycle.results import CurrentOutage, PublicCut
from outages.models import Customer, FaultReport, Interruption, Outage, OutageCustomer
from outages.settings import Settings
from outages.timeutil import iso_local, local_day_bounds, utcnow

_o = Outage.__table__.c
_oc = OutageCustomer.__table__.c
_c = Customer.__table__.c
_i = Interruption.__table__.c

POWER_OFF = (CutStatus.IN_PROGRESS, *INCIDENT_OPEN)  # power is out now

_active = _oc.dropped_revision.is_(None)


def _restored(customer: Any) -> Any:
    """SQL: this customer got power back in this outage."""
    return exists().where(_i.outage_id == _o.id, _i.customer_id == customer,
                          _i.end_at.is_not(None))


def cuts_on_day(conn: Connection, settings: Settings, *, district: str,
                day: date) -> list[PublicCut]:
    """Planned cuts scheduled or in progress on local day `day` that touch `district`."""
    start, end = local_day_bounds(day, day, settings.tz)
    rows = conn.execute(_ON_DAY, {"start": start, "end": end}).all()
    # Which districts a cut touches comes from the per-revision cache its description uses:
    # after the first request no customer row is read again.
    counts = district_counts(conn, rows)
    wanted = set(district_names(conn, district))
    return _describe(conn, settings, [row for row in rows if wanted & counts[row.id].keys()])


# What a public description of a cut is made of; the lookups select these columns in the same
# query that finds the cuts, so one lookup is one round trip to the database.
_CUT_COLUMNS = (_o.id, _o.public_ref, _o.revision, _o.created_at, _o.area_name, _o.reason,
                _o.reason_en, _o.status, _o.planned_start, _o.planned_end)
_SOONEST_FIRST = (_o.planned_start, _o.id)


def _upcoming(now: Any) -> tuple[Any, ...]:
    return (_o.kind == OutageKind.PLANNED, _o.status.in_(CUT_PENDING),
            or_(_o.planned_end > now, _o.status == CutStatus.IN_PROGRESS))


def _customer_cuts_query() -> Any:
    """customers LEFT JOIN the upcoming cuts holding them (not yet restored), by id."""
    now: Any = bindparam("now")
    cuts = (
        select(*_CUT_COLUMNS, _oc.customer_id)
        .join(OutageCustomer.__table__, _oc.outage_id == _o.id)
        .where(_active, *_upcoming(now), ~_restored(_oc.customer_id))
        .subquery()
    )
    return (select(_c.id.label("customer"), *(cuts.c[col.name] for col in _CUT_COLUMNS))
            .select_from(Customer.__table__.outerjoin(cuts, cuts.c.customer_id == _c.id))
            .where(_c.id == bindparam("customer"))
            .order_by(cuts.c.planned_start, cuts.c.id))


# Built once: composing this statement cost a quarter of a lookup's time in the server.
_CUSTOMER_CUTS = _customer_cuts_query()

_ON_DAY = (select(*_CUT_COLUMNS)
           .where(_o.kind == OutageKind.PLANNED, _o.status.in_(CUT_PENDING),
                  _o.planned_start < bindparam("end"), _o.planned_end > bindparam("start"))
           .order_by(*_SOONEST_FIRST))

_UPCOMING_AREAS = (select(*_CUT_COLUMNS).where(*_upcoming(bindparam("now")),
                                              _o.area_geojson.is_not(None))
                   .order_by(*_SOONEST_FIRST))


def lookup_customer(conn: Connection, settings: Settings, *, code: str,
                    now: datetime) -> list[PublicCut]:
    """Upcoming or running cuts whose affected set holds customer `code` (not yet restored).
    An unknown code has none: telling it apart would let anyone list the valid codes."""
    customer = lc.customer_by_code(conn, code)
    if customer is None:
        return []
    rows = conn.execute(_CUSTOMER_CUTS, {"customer": customer, "now": now}).all()
    return _describe(conn, settings, [row for row in rows if row.id is not None])


def lookup_point(conn: Connection, settings: Settings, *, lon: float, lat: float,
                 now: datetime) -> list[PublicCut]:
    """Upcoming or running cuts whose area covers (lon, lat), edge included."""
    t = settings.territory
    problem = point_problem(lon, lat, BBox(t.min_lon, t.min_lat, t.max_lon, t.max_lat))
    if problem:
        raise ValidationError(problem, field="lon")
    rows = conn.execute(_UPCOMING_AREAS, {"now": now}).all()
    if not rows:
        return []
    geometries = np.array(_geometries(conn, rows), dtype=object)
    hits = shapely.intersects_xy(geometries, lon, lat)
    return _describe(conn, settings, [row for row, hit in zip(rows, hits, strict=True) if hit])


# Per-process caches keyed by (database, outage id, creation time, revision). A new revision
# is written whenever an outage's area or affected set changes, so an entry never goes stale;
# the creation time tells apart an outage that reuses an id (a database restored or emptied
# while the server runs). A cache is cleared when it grows past the limit.
CacheKey = tuple[str, int, Any, int]
_AREAS: dict[CacheKey, BaseGeometry] = {}
_COUNTS: dict[CacheKey, dict[str, int]] = {}
_CACHE_LIMIT = 4096


def _key(conn: Connection, row: Any) -> CacheKey:
    return (str(conn.engine.url), int(row.id), row.created_at, int(row.revision))


def _geometries(conn: Connection, rows: Sequence[Any]) -> list[BaseGeometry]:
    missing = [row.id for row in rows if _key(conn, row) not in _AREAS]
    if missing:
        if len(_AREAS) + len(missing) > _CACHE_LIMIT:
            _AREAS.clear()
        loaded = conn.execute(
            select(_o.id, _o.revision, _o.created_at, _o.area_geojson)
            .where(_o.id.in_(missing))).all()
        for row in loaded:
            geometry = shapely.from_geojson(row.area_geojson)
            shapely.prepare(geometry)
            _AREAS[_key(conn, row)] = geometry
    return [_AREAS.get(_key(conn, row)) or shapely.Polygon() for row in rows]


def _describe(conn: Connection, settings: Settings,
              rows: Sequence[Any]) -> list[PublicCut]:
    """Public description of cuts from rows of _CUT_COLUMNS, in the rows' order."""
    if not rows:
        return []
    tz = settings.tz
    districts = district_counts(conn, rows)
    return [
        PublicCut(ref=row.public_ref, area_name=row.area_name, districts=sorted(districts[row.id]),
                  start=iso_local(row.planned_start, tz), end=iso_local(row.planned_end, tz),
                  reason=row.reason, reason_en=row.reason_en, status=row.status,
                  customers_affected=privacy.total_count(districts[row.id], settings))
        for row in rows
    ]


def district_counts(conn: Connection, outages: Sequence[Any]) -> dict[int, dict[str, int]]:
    """Per outage (rows with id, created_at and revision): affected customers per
    district."""
    missing = [row.id for row in outages if _key(conn, row) not in _COUNTS]
    if missing:
        if len(_COUNTS) + len(missing) > _CACHE_LIMIT:
            _COUNTS.clear()
        loaded: dict[int, dict[str, int]] = {outage_id: {} for outage_id in missing}
        for outage_id, district, count in conn.execute(
            select(_oc.outage_id, _c.district, func.count())
            .join(Customer.__table__, _c.id == _oc.customer_id)
            .where(_oc.outage_id.in_(missing), _active)
            .group_by(_oc.outage_id, _c.district)
        ):
            loaded[outage_id][district or "-"] = int(count)
        for row in outages:
            if row.id in loaded:
                _COUNTS[_key(conn, row)] = loaded[row.id]
    return defaultdict(dict, {row.id: _COUNTS.get(_key(conn, row), {}) for row in outages})


def expected_back(expected: datetime | None, now: datetime) -> datetime | None:
    """When power is expected back, as the public may read it: a time already passed is
    expected no more (not yet known), as the notices and the TINH TRANG reply say."""
    return expected if expected is not None and expected > now else None


def current_outages(conn: Connection, settings: Settings) -> list[CurrentOutage]:
    """Outages with power off now: running cuts and open faults, with area and ETR."""
    tz, now = settings.tz, utcnow()
    rows = conn.execute(
        select(_o.id, _o.public_ref, _o.revision, _o.created_at, _o.kind, _o.status,
               _o.area_name, _o.area_geojson, _o.area_points, _o.reason, _o.cause,
               _o.actual_start, _o.planned_start, _o.planned_end, _o.etr)
        .where(_o.status.in_(POWER_OFF)).order_by(_o.id)
    ).all()
    counts = district_counts(conn, rows)
    return [
        CurrentOutage(ref=row.public_ref, kind=row.kind, status=row.status,
                      area_name=row.area_name,
                      area=privacy.current_area(row.area_geojson, row.area_points, settings),
                      districts=sorted(counts[row.id]),
                      customers_affected=privacy.total_count(counts[row.id], settings),
                      district_counts=privacy.district_counts(counts[row.id], settings),
                      reason=row.reason if row.kind == OutageKind.PLANNED else row.cause,
                      started=iso_local(row.actual_start or row.planned_start, tz),
                      etr=iso_local(expected_back(row.etr or row.planned_end, now), tz))
        for row in rows
    ]


def current_for_customer(conn: Connection, settings: Settings, *,
                         code: str) -> list[CurrentOutage]:
    """The current outages (power off now) customer `code` is in and not yet restored from.
    An unknown code has none, like a code in no outage."""
    customer = lc.customer_by_code(conn, code)
    refs = set() if customer is None else set(conn.execute(
        select(_o.public_ref)
        .join(OutageCustomer.__table__, _oc.outage_id == _o.id)
        .where(_oc.customer_id == customer, _active, _o.status.in_(POWER_OFF),
               ~_restored(_oc.customer_id))).scalars())
    if not refs:
        return []
    return [outage for outage in current_outages(conn, settings) if outage.ref in refs]


def outages_for_customers(conn: Connection, customer_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Open outages affecting any of `customer_ids` where that customer is not yet restored,
    and incidents they reported that are not confirmed yet (for a customer asking 'what is
    my status'), soonest first."""
    if not customer_ids:
        return []
    columns = (_o.id, _o.kind, _o.status, _o.area_name, _o.planned_start, _o.planned_end,
               _o.etr, _o.actual_start, _c.code)
    rows = conn.execute(
        select(*columns)
        .join(OutageCustomer.__table__, _oc.outage_id == _o.id)
        .join(Customer.__table__, _c.id == _oc.customer_id)
        .where(_oc.customer_id.in_(list(customer_ids)), _active,
               _o.status.not_in(FINISHED), ~_restored(_oc.customer_id))
        .order_by(func.coalesce(_o.actual_start, _o.planned_start), _o.id)
    ).all()
    r = FaultReport.__table__.c
    reported = conn.execute(
        select(*columns).distinct()
        .join(FaultReport.__table__, r.outage_id == _o.id)
        .join(Customer.__table__, _c.id == r.customer_id)
        .where(r.customer_id.in_(list(customer_ids)), _o.status == IncidentStatus.REPORTED)
        .order_by(_o.id)
    ).all()
    return [dict(row._mapping) for row in (*rows, *reported)]


def district_names(conn: Connection, typed: str) -> list[str]:
    """The registry's spelling of the district a person typed. Case, spacing and diacritics
    do not matter ('dong da' finds 'Đống Đa'); SQL lower() would not do: SQLite folds only
    ASCII letters."""
    key = _plain(typed)
    return [name for name in districts(conn) if _plain(name) == key]


def _plain(text: str) -> str:
    return " ".join(gsm.fold(text).casefold().split())


def _districts_query() -> Any:
    # A loose index scan: each step asks the district index for the next name after the
    # last one, so the cost follows the number of districts, not of customers. GROUP BY
    # would read every customer, and this runs for each public request by district.
    names = select(func.min(_c.district).label("name")).cte("names", recursive=True)
    following = select(func.min(_c.district)).where(_c.district > names.c.name)
    names = names.union_all(select(following.scalar_subquery())
                            .where(names.c.name.is_not(None)))
    return select(names.c.name).where(names.c.name.is_not(None)).order_by(names.c.name)


_DISTRICTS = _districts_query()


def districts(conn: Connection) -> list[str]:
    """District names known from the customer registry, in order (for the public form)."""
    return [str(name) for name in conn.execute(_DISTRICTS).scalars()]


