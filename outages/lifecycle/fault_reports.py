"""Recording a customer's fault report: who (code, phone or a point), which incident it
joins, and counting repeats instead of duplicating them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Engine, Row, and_, exists, insert, select, update

from geo import point_problem
from outages.access import audit
from outages.db import write_transaction
from outages.enums import IncidentStatus, OutageKind, ReplyVia, ReportSource, Source
from outages.errors import NotFound, ValidationError
from outages.lifecycle import core as lc
from outages.lifecycle import fault_grouping
from outages.lifecycle.results import FaultReport
from outages.models import Reopening
from outages.registry.contacts import PhoneNormalizer
from outages.settings import Settings
from outages.text import REPORT_MAX
from outages.timeutil import iso_local, utcnow

REPORTS = fault_grouping.REPORTS


@dataclass(frozen=True)
class Reporter:
    customer_id: int | None
    code: str | None
    phone: str | None
    lon: float
    lat: float


def normalise_phone(number: str, settings: Settings) -> str:
    """E.164 as the registry stores it, so a caller's number finds their account."""
    e164, problem = PhoneNormalizer(settings.locale.phone_region).normalize(number)
    if e164 is None:
        raise ValidationError(problem or f"phone {number!r} is not valid", field="phone")
    return e164


def resolve(conn: Connection, settings: Settings, *, customer: str | None, phone: str | None,
            point: tuple[float, float] | None) -> Reporter:
    """Exactly one of customer / phone / point; a phone may come with a point when it
    belongs to no customer."""
    given = sum(x is not None for x in (customer, phone, point))
    if not (given == 1 or (given == 2 and phone is not None and point is not None)):
        raise ValidationError("give one of a customer code, a phone number or a place",
                              field="customer", hint="one_caller")
    if customer is not None:
        found = lc.customer_by_code(conn, customer)
        row = None if found is None else _customer(conn, lc.CUSTOMERS.c.id == found)
        if row is None:
            raise NotFound(f"no customer with code {customer!r}", field="customer")
        return Reporter(row.id, row.code, row.phone, row.lon, row.lat)
    if phone is not None:
        return _by_phone(conn, settings, normalise_phone(phone, settings), point)
    assert point is not None
    return Reporter(None, None, None, *_checked(point, settings))


def _customer(conn: Connection, condition: Any) -> Any:
    c = lc.CUSTOMERS.c
    return conn.execute(select(c.id, c.code, c.phone, c.lon, c.lat).where(condition)).first()


def _by_phone(conn: Connection, settings: Settings, phone: str,
              point: tuple[float, float] | None) -> Reporter:
    c = lc.CUSTOMERS.c
    rows = conn.execute(select(c.id, c.code, c.lon, c.lat).where(c.phone == phone)
                        .order_by(c.code)).all()
    if len(rows) > 1:
        codes = ", ".join(r.code for r in rows[:10])
        raise ValidationError(f"{phone} belongs to {len(rows)} customers ({codes}): say which "
                              "one", field="phone", hint="which_customer")
    if rows:
        return Reporter(rows[0].id, rows[0].code, phone, rows[0].lon, rows[0].lat)
    if point is None:
        raise NotFound(f"no customer has phone {phone}", field="phone",
                       hint="place_or_account")
    return Reporter(None, None, phone, *_checked(point, settings))


def _checked(point: tuple[float, float], settings: Settings) -> tuple[float, float]:
    problem = point_problem(point[0], point[1], lc.territory(settings))
    if problem:
        raise ValidationError(problem, field="point")
    return point


def report(
    engine: Engine,
    settings: Settings,
    *,
    actor: str,
    source: str,
    customer: str | None = None,
    phone: str | None = None,
    point: tuple[float, float] | None = None,
    text: str | None = None,
    channel: str = ReportSource.CALL,
    at: datetime | None = None,
) -> FaultReport:
    """Record a report at `at` (default now), joining the planned cut or incident the caller
    is out in, else the nearest open incident, else opening a new one; returns the report
    and its outage."""
    lc.free_text(text, field="text", limit=REPORT_MAX)
    with write_transaction(engine) as conn:
        return record(conn, settings, actor=actor, source=source, customer=customer,
                      phone=phone, point=point, text=text, channel=channel, at=at)


def record(
    conn: Connection,
    settings: Settings,
    *,
    actor: str,
    source: str,
    customer: str | None = None,
    phone: str | None = None,
    point: tuple[float, float] | None = None,
    text: str | None = None,
    channel: str = ReportSource.CALL,
    at: datetime | None = None,
) -> FaultReport:
    """`report` inside the caller's write transaction (an inbound SMS already holds one)."""
    if channel not in tuple(ReportSource):
        raise ValidationError(f"unknown source {channel!r}: use one of {', '.join(ReportSource)}",
                              field="channel")
    at = lc.not_future(at, field="at", what="report time", settings=settings)
    who = resolve(conn, settings, customer=customer, phone=phone, point=point)
    if who.customer_id is not None:
        # Told power is back a little while ago, they call to say it is not: that is a
        # "still out" reply, whatever words they used. They are out again in the outage
        # that restored them (the desk is alerted), and the report joins it.
        from outages.lifecycle import reopen  # reopen files its own replies through here

        via = {ReportSource.SMS: ReplyVia.SMS, ReportSource.WEB: ReplyVia.WEB}.get(
            ReportSource(channel), ReplyVia.API if source == Source.HTTP else ReplyVia.CLI)
        reopen.still_out(conn, settings, customer_id=who.customer_id, at=at, via=via,
                         actor=actor, source=source, acknowledge=False)
    match = fault_grouping.nearest_open(conn, settings, who.lon, who.lat, at, who.customer_id)
    row = lc.load(conn, match.outage_id) if match else _open_incident(
        conn, actor=actor, source=source, at=at)
    report_id, count = _store(conn, row.id, who, text=text, channel=channel, at=at)
    lc.publish(conn, settings, row, "fault_reported", actor=actor, report_id=report_id)
    audit.record(conn, actor=actor, source=source, action="fault.reported",
                 entity="fault_report", entity_id=report_id,
                 after={"outage_id": row.id, "customer": who.code, "reports": count})
    return FaultReport(report_id=report_id, outage_id=row.id, kind=row.kind,
                       new_incident=match is None,
                       distance_m=round(match.distance_m, 1) if match else None,
                       customer=who.code, phone=who.phone, lon=who.lon, lat=who.lat,
                       reports=count, status=row.status, at=iso_local(at, settings.tz))


def planned_until(conn: Connection, outage: Row[Any], customer_id: int | None,
                  at: datetime) -> datetime | None:
    """When power is expected back for a caller whose report joined a planned cut under way:
    the cut's expected end, if still ahead and the caller was not told power was back (a
    reopened customer's call is the desk's to look into, not the cut's to explain)."""
    end = outage.etr or outage.planned_end
    if outage.kind != OutageKind.PLANNED or end is None or end <= at:
        return None
    r = Reopening.__table__.c
    if customer_id is not None and conn.execute(select(exists().where(
            r.outage_id == outage.id, r.customer_id == customer_id))).scalar():
        return None
    return cast(datetime, end)


def _open_incident(conn: Connection, *, actor: str, source: str, at: datetime) -> Row[Any]:
    # No reason yet: what the caller said is theirs and stays on the report; customers read
    # the reason the dispatcher gives on confirming.
    outage_id = conn.execute(insert(lc.OUTAGES).values(
        kind=OutageKind.FAULT, status=IncidentStatus.REPORTED, revision=1,
        created_by=actor,
        created_at=at, updated_at=utcnow(),
    ).returning(lc.OUTAGES.c.id)).scalar_one()
    row = lc.load(conn, outage_id)
    lc.write_revision(conn, row, action="reported", actor=actor, details={"reports": 1})
    audit.record(conn, actor=actor, source=source, action="fault.opened", entity="outage",
                 entity_id=outage_id, after=lc.snapshot(row))
    return row


def _store(conn: Connection, outage_id: int, who: Reporter, *, text: str | None, channel: str,
           at: datetime) -> tuple[int, int]:
    """Insert the report, or count a repeat from the same customer (a caller without an
    account: the same number); (report id, reports)."""
    same = (REPORTS.c.customer_id == who.customer_id if who.customer_id is not None
            else and_(REPORTS.c.customer_id.is_(None), REPORTS.c.phone == who.phone)
            if who.phone else None)
    if same is not None:
        existing = conn.execute(select(REPORTS.c.id, REPORTS.c.reports).where(
            REPORTS.c.outage_id == outage_id, same).order_by(REPORTS.c.id)).first()
        if existing is not None:
            values: dict[str, Any] = {"reports": existing.reports + 1, "last_at": at}
            if text:
                values["text"] = text
            conn.execute(update(REPORTS).where(REPORTS.c.id == existing.id).values(**values))
            return existing.id, existing.reports + 1
    report_id = conn.execute(insert(REPORTS).values(
        outage_id=outage_id, customer_id=who.customer_id, phone=who.phone, lon=who.lon,
        lat=who.lat, text=text, source=channel, reports=1, first_at=at, last_at=at,
    ).returning(REPORTS.c.id)).scalar_one()
    return report_id, 1
