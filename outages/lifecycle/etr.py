"""How an incident's ETR stands for the dispatch desk (about to pass, overdue), and a first
ETR suggested from how long past incidents took to restore."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, Connection, Row, and_, case, exists, false, select

from outages.enums import INCIDENT_OPEN, IncidentStatus, OutageKind
from outages.lifecycle import core as lc
from outages.lifecycle.results import EtrSuggestion
from outages.settings import Settings
from outages.timeutil import iso_local, utcnow

ON_TIME, PASSES_SOON, OVERDUE = "on_time", "passes_soon", "overdue"
MINUTE = timedelta(minutes=1)


def state(settings: Settings, row: Row[Any], now: datetime) -> tuple[str | None, int | None]:
    """(state, minutes until the ETR, negative once past) of an open incident with an ETR.
    An open incident has customers still out; its ETR can only be replaced by a later one,
    so "overdue" lasts until a new ETR is set or power is back."""
    if row.kind != OutageKind.FAULT or row.status not in INCIDENT_OPEN or row.etr is None:
        return None, None
    left = row.etr - now
    if left <= timedelta(0):
        return OVERDUE, -int(-left // MINUTE)
    name = PASSES_SOON if left <= settings.faults.etr_warn_before else ON_TIME
    return name, int(left // MINUTE)


def overdue(now: datetime) -> ColumnElement[bool]:
    """SQL: the open incidents whose ETR has passed."""
    o = lc.OUTAGES.c
    return and_(o.kind == OutageKind.FAULT, o.status.in_(INCIDENT_OPEN), o.etr <= now)


def _feeders(outage_id: int) -> Any:
    """The feeders of the incident's current affected customers."""
    m, c = lc.MEMBERS.c, lc.CUSTOMERS.c
    return (select(c.feeder).distinct().join_from(lc.MEMBERS, lc.CUSTOMERS, c.id == m.customer_id)
            .where(m.outage_id == outage_id, m.dropped_revision.is_(None),
                   c.feeder.is_not(None)))


def _history(conn: Connection, row: Row[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every restored past incident: minutes to restore, same cause, shares a feeder."""
    o, i, c = lc.OUTAGES.c, lc.INTERRUPTIONS.c, lc.CUSTOMERS.c
    on_feeder = exists().where(i.outage_id == o.id, i.customer_id == c.id,
                               c.feeder.in_(_feeders(row.id)))
    same_cause = o.cause == row.cause
    query = select(o.actual_start, o.actual_end, case((same_cause, True), else_=False),
                   case((same_cause, on_feeder), else_=false())).where(
        o.kind == OutageKind.FAULT, o.id != row.id, o.actual_start.is_not(None),
        o.actual_end > o.actual_start)
    rows = conn.execute(query).all()
    minutes = np.fromiter(((end - start) / MINUTE for start, end, _c, _f in rows), np.float64,
                          len(rows))
    cause = np.fromiter((bool(r[2]) for r in rows), np.bool_, len(rows))
    feeder = np.fromiter((bool(r[3]) for r in rows), np.bool_, len(rows))
    return minutes, cause, feeder


def suggest(conn: Connection, settings: Settings, row: Row[Any]) -> EtrSuggestion | None:
    """A first ETR for a confirmed incident: its start plus the median restoration time of
    past incidents with the same cause on one of its feeders, else the same cause, else all;
    the first group with at least `faults.etr_history_min` incidents. Of an incident out
    longer than that already, the median of those that lasted longer still, so the time
    suggested is ahead (none when no past one lasted so long). Only shown: a dispatcher sets
    the ETR."""
    if row.status != IncidentStatus.CONFIRMED or row.actual_start is None:
        return None
    minutes, cause, feeder = _history(conn, row)
    groups = (("cause_and_feeder", cause & feeder), ("cause", cause),
              ("all", np.ones_like(cause)))
    now = utcnow()
    elapsed = (now - row.actual_start).total_seconds() / 60
    for basis, chosen in groups:
        if int(chosen.sum()) < settings.faults.etr_history_min:
            continue
        longer = minutes[chosen & (minutes > elapsed)]
        if not longer.size:
            return None
        median = float(np.median(longer))
        at = lc.ceil_minute(max(row.actual_start + timedelta(minutes=median),
                                now + timedelta(minutes=1)))
        return EtrSuggestion(at=iso_local(at, settings.tz), median_minutes=round(median),
                             based_on=int(longer.size), basis=basis)
    return None
