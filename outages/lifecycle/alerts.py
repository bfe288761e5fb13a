"""Read side of "still no power" replies: who was reopened in an outage, and the dispatch
desk's alerts (what the console lists)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, case, func, select

from outages.lifecycle import core as lc
from outages.lifecycle.reopen import (
    ALERTS,
    PARTIAL_RESTORATION,
    REOPENINGS,
    open_alert_condition,
)
from outages.lifecycle.results import AlertView, ReopenedCustomer
from outages.settings import Settings
from outages.timeutil import iso_local

__all__ = ["PARTIAL_RESTORATION", "listing", "one", "reopened"]


def _still_out_join() -> Any:
    r, i = REOPENINGS.c, lc.INTERRUPTIONS.c
    return and_(i.outage_id == r.outage_id, i.customer_id == r.customer_id, i.end_at.is_(None))


def reopened(conn: Connection, settings: Settings, outage_id: int) -> list[ReopenedCustomer]:
    """Every reply on the outage, latest first, with whether the customer is still out."""
    r, c, i = REOPENINGS.c, lc.CUSTOMERS.c, lc.INTERRUPTIONS.c
    query = (select(c.code, r.restored_at, r.replied_at, r.via, r.alert_id,
                    i.id.is_not(None).label("out"))
             .select_from(REOPENINGS.join(lc.CUSTOMERS, c.id == r.customer_id)
                          .outerjoin(lc.INTERRUPTIONS, _still_out_join()))
             .where(r.outage_id == outage_id).order_by(r.replied_at.desc(), r.id.desc()))
    tz = settings.tz
    return [ReopenedCustomer(customer=row.code, restored_at=iso_local(row.restored_at, tz),
                             replied_at=iso_local(row.replied_at, tz), via=row.via,
                             still_out=bool(row.out), alert_id=row.alert_id)
            for row in conn.execute(query)]


def listing(conn: Connection, settings: Settings, *, open_only: bool = True,
            limit: int = 100, alert_id: int | None = None) -> list[AlertView]:
    """Alerts, latest reply first: the open ones, or all of them (or the one `alert_id`)."""
    a, o, r, i = ALERTS.c, lc.OUTAGES.c, REOPENINGS.c, lc.INTERRUPTIONS.c
    replies = (select(r.alert_id, func.count(func.distinct(r.customer_id)).label("customers"),
                      func.count(func.distinct(case((i.id.is_not(None), r.customer_id))))
                      .label("still_out"))
               .select_from(REOPENINGS.outerjoin(lc.INTERRUPTIONS, _still_out_join()))
               .group_by(r.alert_id).subquery())
    query = (select(a.id, a.kind, a.outage_id, a.opened_at, a.last_at, o.kind.label("okind"),
                    o.status, o.area_name, replies.c.customers, replies.c.still_out)
             .select_from(ALERTS.join(lc.OUTAGES, o.id == a.outage_id)
                          .join(replies, replies.c.alert_id == a.id))
             .order_by(a.last_at.desc(), a.id.desc()).limit(limit))
    if open_only:
        query = query.where(open_alert_condition())
    if alert_id is not None:
        query = query.where(a.id == alert_id)
    tz = settings.tz
    return [AlertView(id=row.id, kind=row.kind, outage_id=row.outage_id,
                      outage_kind=row.okind, outage_status=row.status,
                      area_name=row.area_name, opened_at=iso_local(row.opened_at, tz),
                      last_at=iso_local(row.last_at, tz), customers=int(row.customers),
                      still_out=int(row.still_out), open=int(row.still_out) > 0)
            for row in conn.execute(query)]


def one(conn: Connection, settings: Settings, alert_id: int) -> AlertView | None:
    found = listing(conn, settings, open_only=False, alert_id=alert_id)
    return found[0] if found else None
