"""The interruption log read back: the export rows and the per-outage duration table.

An interruption belongs to the local day it began. Customer-minutes are summed from groups
of identical (start, end) pairs, which step restoration keeps few, so millions of rows never
become Python objects one by one.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, String, cast, func, select

from outages.enums import INCIDENT_VOID, CutStatus, OutageKind
from outages.lifecycle import core as lc
from outages.lifecycle.results import OutageDuration
from outages.lifecycle.views import day_filter
from outages.settings import Settings
from outages.timeutil import iso_local

EXPORT_COLUMNS = ("outage_id", "customer_code", "start", "end", "cause", "planned",
                  "duration_minutes", "momentary")
# The CSV columns of the per-outage duration table, in order.
DURATION_COLUMNS = ("id", "external_id", "area_name", "type", "status", "cause", "urgent",
                    "planned_start", "planned_end", "actual_start", "actual_end", "customers",
                    "customer_minutes", "still_out", "notice_lead_hours")


def export_rows(conn: Connection, settings: Settings, *, first: date | None = None,
                last: date | None = None) -> Iterator[dict[str, Any]]:
    """Interruptions that began on local days first..last, oldest first, streamed."""
    i, o, c = lc.INTERRUPTIONS, lc.OUTAGES, lc.CUSTOMERS
    outage_key = func.coalesce(o.c.external_id, cast(o.c.id, String))
    query = (select(outage_key, c.c.code, i.c.start_at, i.c.end_at, i.c.cause, i.c.planned)
             .select_from(i.join(o, o.c.id == i.c.outage_id).join(c, c.c.id == i.c.customer_id))
             .where(i.c.start_at.is_not(None), *day_filter(i.c.start_at, first, last, settings))
             .order_by(i.c.start_at, i.c.outage_id, c.c.code))
    tz = settings.tz
    for key, code, start, end, cause, planned in conn.execution_options(
            yield_per=5000).execute(query):
        length = None if end is None else end - start
        yield {"outage_id": key, "customer_code": code, "start": iso_local(start, tz, exact=True),
               "end": iso_local(end, tz, exact=True), "cause": cause, "planned": bool(planned),
               "duration_minutes": None if length is None else lc.minutes(length),
               "momentary": None if length is None else lc.is_momentary(length, settings)}


def outage_durations(conn: Connection, settings: Settings, *, first: date | None = None,
                     last: date | None = None) -> list[OutageDuration]:
    """One row per outage (cancelled cuts and dismissed or merged incidents, which cut
    nobody, left out) that began on local days first..last."""
    o = lc.OUTAGES
    began = func.coalesce(o.c.actual_start, o.c.planned_start, o.c.created_at)
    never = (CutStatus.CANCELLED, *INCIDENT_VOID)
    rows = conn.execute(select(o).where(o.c.status.not_in(never),
                                        *day_filter(began, first, last, settings))
                        .order_by(began, o.c.id)).all()
    totals = _totals(conn, [r.id for r in rows])
    return [_row(r, totals.get(r.id, {}), settings) for r in rows]


def _totals(conn: Connection, ids: list[int]) -> dict[int, dict[str, Any]]:
    i = lc.INTERRUPTIONS
    totals: dict[int, dict[str, Any]] = {}
    for part in lc.chunks(ids):
        people = select(i.c.outage_id, func.count(i.c.customer_id.distinct())).where(
            i.c.outage_id.in_(part)).group_by(i.c.outage_id)
        for outage_id, count in conn.execute(people):
            totals[outage_id] = {"customers": int(count), "minutes": 0.0, "out": 0}
        spans = select(i.c.outage_id, i.c.start_at, i.c.end_at, func.count()).where(
            i.c.outage_id.in_(part), i.c.start_at.is_not(None)).group_by(
            i.c.outage_id, i.c.start_at, i.c.end_at)
        for outage_id, start, end, count in conn.execute(spans):
            entry = totals[outage_id]
            if end is None:
                entry["out"] += int(count)
            else:
                entry["minutes"] += (end - start).total_seconds() / 60 * int(count)
    return totals


def _row(r: Any, total: dict[str, Any], settings: Settings) -> OutageDuration:
    tz = settings.tz
    lead = (r.planned_start - r.created_at if r.kind == OutageKind.PLANNED and r.planned_start
            and r.external_id is None else None)
    return OutageDuration.model_validate({
        "id": r.id, "external_id": r.external_id, "area_name": r.area_name,
        "type": "planned" if r.kind == OutageKind.PLANNED else "unplanned", "status": r.status,
        "cause": r.cause, "urgent": bool(r.urgent),
        "planned_start": iso_local(r.planned_start, tz),
        "planned_end": iso_local(r.planned_end, tz),
        "actual_start": iso_local(r.actual_start, tz), "actual_end": iso_local(r.actual_end, tz),
        "customers": total.get("customers", 0),
        "customer_minutes": round(total.get("minutes", 0.0), 2),
        "still_out": total.get("out", 0),
        "notice_lead_hours": None if lead is None else round(_hours(lead), 2),
    })


def _hours(value: timedelta) -> float:
    return value.total_seconds() / 3600
