"""Merging a duplicate incident into the one that stands: reports far apart about the same
fault open two incidents; the dispatcher moves the duplicate's reports to the other.

Each report joins the target as a new report would (a repeat from the same reporter is
counted on the one already there) and its reporter hears what joining tells them: the
acknowledgement with the ETR when the target is confirmed and they are in it, "report
received" otherwise, unless they were already told the report was received. The duplicate
closes as `merged`, keeping where it went; like a dismissed incident it records nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, Row, and_, delete, select, update

from outages.db import write_transaction
from outages.enums import INCIDENT_OPEN, IncidentStatus, OutageKind
from outages.errors import Conflict, NotFound, ValidationError
from outages.lifecycle import core as lc
from outages.lifecycle.fault_grouping import REPORTS
from outages.lifecycle.results import OutageView
from outages.lifecycle.views import describe
from outages.settings import Settings


def merge(
    engine: Engine, settings: Settings, *, fault_id: int, into: int, actor: str, source: str,
    seen: int | None = None
) -> OutageView:
    """Merge the reported incident `fault_id` into the open incident `into`; `seen` is the
    duplicate's revision the dispatcher was shown. Returns the duplicate as it now stands."""
    if into == fault_id:
        raise ValidationError(f"incident {fault_id} cannot be merged into itself: give the "
                              "incident that stands for the same fault", field="into")
    with write_transaction(engine) as conn:
        duplicate, target = _locked(conn, fault_id, into, seen)
        moved = _report_ids(conn, fault_id)
        after = lc.change(conn, duplicate, action="merged", actor=actor, source=source,
                          values={"status": IncidentStatus.MERGED, "merged_into": into},
                          details={"into": into, "reports": len(moved)})
        # First: the duplicate's notices not sent yet are withdrawn, so that a reporter
        # still owed "report received" gets it from the target instead.
        lc.publish(conn, settings, after, "fault_merged", actor=actor)
        joined = [_move(conn, report_id, into) for report_id in moved]
        target = lc.change(conn, target, action="merged_in", actor=actor, source=source,
                           values={}, details={"from": fault_id, "reports": len(moved)})
        for report_id in joined:
            lc.publish(conn, settings, target, "fault_reported", actor=actor,
                       report_id=report_id, merged_from=fault_id)
        return describe(conn, settings, after)


def _locked(conn: Connection, fault_id: int, into: int,
            seen: int | None) -> tuple[Row[Any], Row[Any]]:
    # Lowest id first, so two merges of the same pair the other way round cannot deadlock.
    rows = {}
    for outage_id in sorted((fault_id, into)):
        rows[outage_id] = _load(conn, outage_id, seen=seen if outage_id == fault_id else None,
                                target=outage_id == into)
    duplicate, target = rows[fault_id], rows[into]
    _check_duplicate(duplicate, into)
    if target.status not in INCIDENT_OPEN:
        raise Conflict(f"incident {into} is {target.status}: reports cannot join a closed "
                       "incident; merge into an open one (reported or confirmed)",
                       field="into", hint="list_faults")
    return duplicate, target


def _load(conn: Connection, outage_id: int, *, seen: int | None, target: bool) -> Row[Any]:
    try:
        return lc.load(conn, outage_id, kind=OutageKind.FAULT, lock=True, seen=seen)
    except NotFound as exc:
        if not target:
            raise
        if lc.find(conn, outage_id) is None:
            raise NotFound(f"no fault incident with id {outage_id} to merge into",
                           field="into", hint="list_faults") from exc
        raise ValidationError(
            f"outage {outage_id} is a planned cut, not a fault incident: reports are merged "
            "into an incident only. If the callers were out for that cut, dismiss this "
            "incident saying so", field="into", hint="dismiss_fault") from exc


def _check_duplicate(row: Row[Any], into: int) -> None:
    if row.status == IncidentStatus.CONFIRMED:
        raise Conflict(f"incident {row.id} is confirmed: its customers were told of an outage "
                       "and their interruptions are recorded, so it cannot be merged away; "
                       f"merge incident {into} into it instead if that one is only reported, "
                       "or restore it")
    if row.status != IncidentStatus.REPORTED:
        raise Conflict(f"incident {row.id} is {row.status}; only a reported incident can be "
                       "merged into another. It is closed already and its reporters were told "
                       "how it ended: leave it as it is")


def _report_ids(conn: Connection, fault_id: int) -> list[int]:
    return list(conn.execute(select(REPORTS.c.id).where(REPORTS.c.outage_id == fault_id)
                             .order_by(REPORTS.c.first_at, REPORTS.c.id)).scalars())


def _move(conn: Connection, report_id: int, into: int) -> int:
    """Move one report to `into`, or count it on that incident's report from the same
    reporter (a caller without an account: the same number), as a repeat call is; returns
    the report the target now holds it as."""
    r = REPORTS.c
    report = conn.execute(select(REPORTS).where(r.id == report_id)).one()
    same = (r.customer_id == report.customer_id if report.customer_id is not None
            else and_(r.customer_id.is_(None), r.phone == report.phone)
            if report.phone else None)
    existing = None if same is None else conn.execute(
        select(REPORTS).where(r.outage_id == into, same).order_by(r.id)).first()
    if existing is None:
        conn.execute(update(REPORTS).where(r.id == report_id).values(outage_id=into))
        return report_id
    conn.execute(update(REPORTS).where(r.id == existing.id).values(
        reports=existing.reports + report.reports,
        first_at=min(existing.first_at, report.first_at),
        last_at=max(existing.last_at, report.last_at), text=existing.text or report.text))
    conn.execute(delete(REPORTS).where(r.id == report_id))
    return int(existing.id)
