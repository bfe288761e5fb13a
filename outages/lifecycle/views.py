"""Read side of the lifecycle: an outage as a typed view (what `--json` prints and the HTTP
API returns), its history, its customers, and listings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, Row, case, func, select

from outages.enums import STATUSES, IncidentStatus, OutageKind
from outages.errors import ValidationError
from outages.lifecycle import alerts, etr, fault_grouping
from outages.lifecycle import core as lc
from outages.lifecycle.results import (
    CutWarning,
    OutageCustomer,
    OutageView,
    OutsideReport,
    Revision,
)
from outages.registry.matching import Affected
from outages.settings import Settings
from outages.timeutil import day_start, format_duration, iso_local, utcnow

TIME_FIELDS = ("planned_start", "planned_end", "actual_start", "actual_end", "etr",
               "created_at", "updated_at")


def describe(
    conn: Connection,
    settings: Settings,
    row: Row[Any],
    *,
    warnings: list[CutWarning] | None = None,
    breakdown: bool = True,
    counts: dict[str, int] | None = None,
    members: Affected | None = None,
) -> OutageView:
    """`row` of the outages table as a view; `counts` when the caller has them (from
    `counts_by_outage`), otherwise they are counted here. `members`: the customers the
    caller has just made the outage's set, whose breakdowns need not be read back (at a
    typhoon's million customers that read took seconds)."""
    tz = settings.tz
    view: dict[str, Any] = {
        "id": row.id, "public_ref": row.public_ref, "kind": row.kind, "status": row.status,
        "revision": row.revision, "area_name": row.area_name, "feeders": row.feeders,
        "reason": row.reason, "reason_en": row.reason_en, "work": row.work, "cause": row.cause,
        "external_id": row.external_id,
        "start": iso_local(row.planned_start, tz), "end": iso_local(row.planned_end, tz),
        "urgent": bool(row.urgent), "urgent_reason": row.urgent_reason,
        "cancel_reason": row.cancel_reason, "dismiss_reason": row.dismiss_reason,
        "merged_into": row.merged_into,
        "created_by": row.created_by,
    }
    view.update({name: iso_local(getattr(row, name), tz) for name in TIME_FIELDS})
    view.update(counts if counts is not None else counts_by_outage(conn, [row.id])[row.id])
    if row.actual_start is None:  # not started: nobody is out yet
        view["remaining"] = 0
    view["etr_state"], view["etr_minutes_left"] = etr.state(settings, row, utcnow())
    if row.kind == OutageKind.PLANNED and row.planned_start is not None:
        lead = row.planned_start - row.created_at
        view["notice_lead"] = format_duration(timedelta(minutes=lead // timedelta(minutes=1)))
    if breakdown:
        for name, column in (("by_district", "district"), ("by_feeder", "feeder")):
            view[name] = (members.breakdown(column) if members is not None
                          else _breakdown(conn, row.id, lc.CUSTOMERS.c[column]))
        if row.kind == OutageKind.FAULT and row.status != IncidentStatus.REPORTED:
            view["reporters_outside"] = reporters_outside(conn, settings, row)
            view["suggested_etr"] = etr.suggest(conn, settings, row)
        replies = alerts.reopened(conn, settings, row.id)
        if replies:
            view["reopened"] = replies
            view["still_out_after_restoration"] = len(
                {r.customer for r in replies if r.still_out})
    if warnings is not None:
        view["warnings"] = warnings
    return OutageView.model_validate(view)


def reporters_outside(conn: Connection, settings: Settings, row: Row[Any]
                      ) -> list[OutsideReport]:
    """Reports on the incident from outside its area: a dispatcher checks them."""
    reports = fault_grouping.outside(conn, row)
    codes = dict(conn.execute(select(lc.CUSTOMERS.c.id, lc.CUSTOMERS.c.code).where(
        lc.CUSTOMERS.c.id.in_([r.customer_id for r in reports if r.customer_id]))).all())
    return [OutsideReport(report_id=r.id, customer=codes.get(r.customer_id), reports=r.reports,
                          first_at=iso_local(r.first_at, settings.tz)) for r in reports]


def counts_by_outage(conn: Connection, ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Per outage: customers affected (members of the set now), dropped from it, with power
    back, still out. Two grouped queries for any number of outages. Imported history has no
    affected set; its affected customers are those its interruptions name."""
    m, i = lc.MEMBERS, lc.INTERRUPTIONS
    members: dict[int, tuple[int, int]] = {}
    interrupted: dict[int, tuple[int, int]] = {}
    for part in lc.chunks(list(ids)):
        for outage_id, current, dropped in conn.execute(
            select(m.c.outage_id,
                   func.sum(case((m.c.dropped_revision.is_(None), 1), else_=0)),
                   func.sum(case((m.c.dropped_revision.is_not(None), 1), else_=0)))
            .where(m.c.outage_id.in_(part)).group_by(m.c.outage_id)
        ):
            members[outage_id] = (int(current or 0), int(dropped or 0))
        for outage_id, people, restored in conn.execute(
            select(i.c.outage_id, func.count(func.distinct(i.c.customer_id)),
                   func.count(func.distinct(case((i.c.end_at.is_not(None), i.c.customer_id)))))
            .where(i.c.outage_id.in_(part)).group_by(i.c.outage_id)
        ):
            interrupted[outage_id] = (int(people), int(restored))
    result = {}
    for outage_id in ids:
        current, dropped = members.get(outage_id, (0, 0))
        people, restored = interrupted.get(outage_id, (0, 0))
        affected = current if outage_id in members else people
        result[outage_id] = {"affected": affected, "dropped": dropped, "restored": restored,
                             "remaining": max(affected - restored, 0)}
    return result


def _breakdown(conn: Connection, outage_id: int, column: Any) -> dict[str, int]:
    query = (select(column, func.count()).select_from(
        lc.MEMBERS.join(lc.CUSTOMERS, lc.CUSTOMERS.c.id == lc.MEMBERS.c.customer_id))
        .where(lc.MEMBERS.c.outage_id == outage_id, lc.MEMBERS.c.dropped_revision.is_(None))
        .group_by(column).order_by(func.count().desc()))
    return {name or "-": int(count) for name, count in conn.execute(query)}


def history(conn: Connection, settings: Settings, outage_id: int) -> list[Revision]:
    tz = settings.tz
    query = select(lc.REVISIONS).where(lc.REVISIONS.c.outage_id == outage_id).order_by(
        lc.REVISIONS.c.revision)
    return [Revision.model_validate({
        "revision": r.revision, "action": r.action, "actor": r.actor, "at": iso_local(r.at, tz),
        "start": iso_local(r.planned_start, tz), "end": iso_local(r.planned_end, tz),
        "etr": iso_local(r.etr, tz), "note": r.note, "details": r.details,
    }) for r in conn.execute(query)]


def customers(conn: Connection, settings: Settings, outage_id: int) -> list[OutageCustomer]:
    """Everyone who was ever in the set, with their interruption (if still a member)."""
    m, c, i = lc.MEMBERS, lc.CUSTOMERS, lc.INTERRUPTIONS
    joined = m.join(c, c.c.id == m.c.customer_id).outerjoin(
        i, (i.c.outage_id == m.c.outage_id) & (i.c.customer_id == m.c.customer_id))
    query = (select(c.c.code, c.c.district, c.c.feeder, m.c.added_revision,
                    m.c.dropped_revision, i.c.start_at, i.c.end_at)
             .select_from(joined).where(m.c.outage_id == outage_id).order_by(c.c.code))
    tz = settings.tz
    return [OutageCustomer(code=r.code, district=r.district, feeder=r.feeder,
                           added_revision=r.added_revision, dropped_revision=r.dropped_revision,
                           start=iso_local(r.start_at, tz), end=iso_local(r.end_at, tz))
            for r in conn.execute(query)]


def day_filter(
    column: Any, first: date | None, last: date | None, settings: Settings
) -> list[Any]:
    """Conditions for 'began on local days first..last' (both inclusive, either open)."""
    if first and last and last < first:
        raise ValidationError(f"the last day {last} is before the first day {first}",
                              field="to")
    conditions = []
    if first:
        conditions.append(column >= day_start(first, settings.tz))
    if last:
        conditions.append(column < day_start(last + timedelta(days=1), settings.tz))
    return conditions


def listing(
    conn: Connection,
    settings: Settings,
    *,
    kind: str,
    status: str | None = None,
    first: date | None = None,
    last: date | None = None,
    overdue: bool = False,
) -> list[OutageView]:
    """Outages of `kind` that began on the given local days; with `overdue`, only the open
    incidents whose ETR has passed."""
    o = lc.OUTAGES
    # Imported history has no planned window: it is listed by when it happened.
    when = (func.coalesce(o.c.planned_start, o.c.actual_start) if kind == OutageKind.PLANNED
            else func.coalesce(o.c.actual_start, o.c.created_at))
    query = select(o).where(o.c.kind == kind, *day_filter(when, first, last, settings))
    if status:
        if status not in STATUSES[kind]:
            raise ValidationError(f"unknown status {status!r}: use one of "
                                  f"{', '.join(STATUSES[kind])}", field="status")
        query = query.where(o.c.status == status)
    if overdue:
        query = query.where(etr.overdue(utcnow()))
    rows = conn.execute(query.order_by(when, o.c.id)).all()
    counts = counts_by_outage(conn, [row.id for row in rows])
    return [describe(conn, settings, row, breakdown=False, counts=counts[row.id])
            for row in rows]
