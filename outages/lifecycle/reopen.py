"""Customers who say they still have no power after being told it was back.

A reply within `faults.still_out_window` of the customer's recorded restoration reopens them
in the same outage: their interruption's end is cleared (the recorded restoration was wrong
for them, so reliability figures wait for the real one), a finished outage goes back to the
state a dispatcher restores from, and the reply joins the outage's open "partial restoration"
alert or opens one. A reply after the window is a new fault report, like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Engine, Row, Table, and_, exists, insert, select, update

from outages.db import write_transaction
from outages.enums import DONE, REOPENED, CutStatus, ReplyVia, ReportSource, Source
from outages.errors import NotFound
from outages.lifecycle import core as lc
from outages.lifecycle import fault_reports
from outages.lifecycle.results import StillOut
from outages.models import Alert, Reopening
from outages.settings import Settings
from outages.timeutil import iso_local, utcnow

ALERTS = cast(Table, Alert.__table__)
REOPENINGS = cast(Table, Reopening.__table__)
PARTIAL_RESTORATION = "partial_restoration"


@dataclass(frozen=True)
class Reopened:
    outage_id: int
    customer_id: int
    alert_id: int
    restored_at: datetime
    replied_at: datetime
    already: bool  # reopened by an earlier reply; nothing changed now


def still_out(conn: Connection, settings: Settings, *, customer_id: int, at: datetime,
              via: str, actor: str, source: str, acknowledge: bool) -> Reopened | None:
    """Reopen the customer in the outage that restored them within the window, inside the
    caller's transaction; None when no restoration of theirs is that recent."""
    earlier = _open_reopening(conn, settings, customer_id, at)
    if earlier is not None:
        return earlier
    last = _last_restoration(conn, settings, customer_id, at)
    if last is None:
        return None
    # Replies from one outage's customers at once take turns (PostgreSQL; SQLite writes one
    # at a time anyway): each sees the other's alert and revision.
    conn.execute(select(lc.OUTAGES.c.id).where(lc.OUTAGES.c.id == last.outage_id)
                 .with_for_update())
    cleared = conn.execute(update(lc.INTERRUPTIONS).where(
        lc.INTERRUPTIONS.c.id == last.id, lc.INTERRUPTIONS.c.end_at == last.end_at,
    ).values(end_at=None)).rowcount
    if cleared != 1:  # restored again or reopened by a concurrent reply
        return None
    row = lc.load(conn, last.outage_id)
    alert_id = _join_alert(conn, settings, row.id, at)
    conn.execute(insert(REOPENINGS).values(
        outage_id=row.id, customer_id=customer_id, alert_id=alert_id,
        restored_at=last.end_at, replied_at=at, via=via))
    values: dict[str, Any] = {}
    if row.status == DONE[row.kind]:
        values = {"status": REOPENED[row.kind], "actual_end": None}
    after = lc.change(conn, row, action="reopened", actor=actor, source=source, values=values,
                      details={"customer": last.code, "via": via, "alert_id": alert_id,
                               "restored_at": iso_local(last.end_at, settings.tz)})
    lc.publish(conn, settings, after, "customer_reopened", actor=actor,
               customer_ids=[customer_id], alert_id=alert_id, acknowledge=acknowledge)
    return Reopened(row.id, customer_id, alert_id, last.end_at, at, already=False)


def restored_lately(conn: Connection, settings: Settings, customer_id: int,
                    at: datetime) -> bool:
    """Whether a "still no power" from the customer now would reopen them (or did)."""
    return (_open_reopening(conn, settings, customer_id, at) is not None
            or _last_restoration(conn, settings, customer_id, at) is not None)


def _last_restoration(conn: Connection, settings: Settings, customer_id: int,
                      at: datetime) -> Row[Any] | None:
    """The customer's latest interruption ended within the window, in an outage they are
    still part of (not cancelled, not imported history)."""
    i, o, m = lc.INTERRUPTIONS.c, lc.OUTAGES.c, lc.MEMBERS.c
    member = exists().where(m.outage_id == i.outage_id, m.customer_id == i.customer_id,
                            m.dropped_revision.is_(None))
    query = (select(i.id, i.outage_id, i.end_at, lc.CUSTOMERS.c.code)
             .join(lc.OUTAGES, o.id == i.outage_id)
             .join(lc.CUSTOMERS, lc.CUSTOMERS.c.id == i.customer_id)
             .where(i.customer_id == customer_id, i.end_at.is_not(None),
                    i.end_at > at - settings.faults.still_out_window, i.end_at <= at,
                    o.status != CutStatus.CANCELLED, o.external_id.is_(None), member)
             .order_by(i.end_at.desc(), i.id.desc()).limit(1))
    return cast("Row[Any] | None", conn.execute(query).first())


def _open_reopening(conn: Connection, settings: Settings, customer_id: int,
                    at: datetime) -> Reopened | None:
    """A reopening of this customer within the window that is still open: a repeated reply
    changes nothing."""
    r, i = REOPENINGS.c, lc.INTERRUPTIONS.c
    still = exists().where(i.outage_id == r.outage_id, i.customer_id == r.customer_id,
                           i.end_at.is_(None))
    found = conn.execute(select(r.outage_id, r.alert_id, r.restored_at, r.replied_at).where(
        r.customer_id == customer_id, r.replied_at > at - settings.faults.still_out_window,
        still).order_by(r.replied_at.desc()).limit(1)).first()
    if found is None:
        return None
    return Reopened(found.outage_id, customer_id, found.alert_id, found.restored_at,
                    found.replied_at, already=True)


def open_alert_condition() -> Any:
    """An alert is open while one of its customers is still out."""
    r, i = REOPENINGS.c, lc.INTERRUPTIONS.c
    return exists().where(r.alert_id == ALERTS.c.id, and_(
        i.outage_id == r.outage_id, i.customer_id == r.customer_id, i.end_at.is_(None)))


def _join_alert(conn: Connection, settings: Settings, outage_id: int, at: datetime) -> int:
    """The outage's open alert with a reply within the window, or a new one."""
    a = ALERTS.c
    current = conn.execute(select(a.id).where(
        a.outage_id == outage_id, a.last_at > at - settings.faults.still_out_window,
        open_alert_condition()).order_by(a.last_at.desc()).limit(1)).scalar()
    if current is not None:
        conn.execute(update(ALERTS).where(a.id == current).values(last_at=at))
        return int(current)
    return int(conn.execute(insert(ALERTS).values(
        kind=PARTIAL_RESTORATION, outage_id=outage_id, opened_at=at, last_at=at,
    ).returning(a.id)).scalar_one())


def customer_id(conn: Connection, code: str) -> int | None:
    return lc.customer_by_code(conn, code)


def report(engine: Engine, settings: Settings, *, customer: str, via: str, actor: str,
           source: str, at: datetime | None = None) -> StillOut:
    """A customer's "still no power" taken by the desk (CLI or API): reopened within the
    window, else filed as a new fault report."""
    at = lc.not_future(at, field="at", what="reply time", settings=settings)
    with write_transaction(engine) as conn:
        cid = customer_id(conn, customer)
        if cid is None:
            raise NotFound(f"no customer with code {customer!r}", field="customer")
        code = conn.execute(select(lc.CUSTOMERS.c.code).where(lc.CUSTOMERS.c.id == cid)) \
            .scalar_one()  # as stored: "c010" names C010
        done = still_out(conn, settings, customer_id=cid, at=at, via=via, actor=actor,
                         source=source, acknowledge=True)
        if done is not None:
            return result(settings, code, done)
        filed = fault_reports.record(conn, settings, actor=actor, source=source,
                                     customer=customer, channel=ReportSource.CALL, at=at)
    return StillOut(customer=code, reopened=False, already=False,
                    outage_id=filed.outage_id, alert_id=None, report_id=filed.report_id,
                    restored_at=None, replied_at=iso_local(at, settings.tz))


def result(settings: Settings, code: str, done: Reopened) -> StillOut:
    return StillOut(customer=code, reopened=True, already=done.already,
                    outage_id=done.outage_id, alert_id=done.alert_id, report_id=None,
                    restored_at=iso_local(done.restored_at, settings.tz),
                    replied_at=iso_local(done.replied_at, settings.tz))


def public_reply(engine: Engine, settings: Settings, *, customer: str) -> None:
    """The public page's button: reopen within the window; anything else (an unknown code,
    a customer not restored lately) does nothing, and the caller answers all alike."""
    with write_transaction(engine) as conn:
        cid = customer_id(conn, customer)
        if cid is not None:
            still_out(conn, settings, customer_id=cid, at=utcnow(), via=ReplyVia.WEB,
                      actor="web", source=Source.HTTP, acknowledge=True)
