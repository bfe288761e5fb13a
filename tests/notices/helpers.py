"""Outage state written the way the lifecycle writes it, for driving the planner directly."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, literal, select, update

from notifier.store import outbox
from outages.models import Customer, Outage, OutageCustomer, Revision


class Clock:
    """A dispatcher's clock, set by the test."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def customers(count: int, *, start: int = 0, email: bool = False, language: str = "vi",
              **extra: Any) -> list[dict[str, Any]]:
    return [
        {"code": f"C{start + i:07d}", "lon": 105.8, "lat": 21.0,
         "phone": f"+8490{start + i:07d}", "email": f"c{start + i}@example.test" if email else None,
         "language": language, **extra}
        for i in range(count)
    ]


def customer_ids(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(select(Customer.id).order_by(Customer.id)).scalars())


def add_outage(engine: Engine, *, kind: str = "planned", status: str = "scheduled",
               start: datetime | None = None, end: datetime | None = None,
               members: Sequence[int] = (), **fields: Any) -> int:
    row = {"kind": kind, "status": status, "area_name": "Phường Láng Hạ",
           "reason": "bảo dưỡng đường dây", "planned_start": start, "planned_end": end,
           **fields}
    with engine.begin() as conn:
        outage_id = conn.execute(insert(Outage.__table__).values(row)
                                 .returning(Outage.id)).scalar_one()
        add_revision(conn, outage_id, 1, "create", at=start or fields["actual_start"])
        if members:
            conn.execute(insert(OutageCustomer.__table__),
                         [{"outage_id": outage_id, "customer_id": c, "added_revision": 1}
                          for c in members])
    return outage_id


def add_revision(conn: Any, outage_id: int, revision: int, action: str, *,
                 at: datetime) -> None:
    """The outage's next revision, its window as the outage row has it now."""
    o = Outage.__table__.c
    state = select(literal(outage_id), literal(revision), literal(action),
                   literal(at, Revision.at.type), o.planned_start, o.planned_end
                   ).where(o.id == outage_id)
    conn.execute(insert(Revision.__table__).from_select(
        ["outage_id", "revision", "action", "at", "planned_start", "planned_end"], state))
    conn.execute(update(Outage.__table__).where(Outage.id == outage_id)
                 .values(revision=revision))


def rows(engine: Engine, **where: Any) -> list[Any]:
    query = select(outbox).order_by(outbox.c.id)
    for name, value in where.items():
        query = query.where(outbox.c[name] == value)
    with engine.connect() as conn:
        return list(conn.execute(query).all())


def mark_sent(engine: Engine, *, kind: str, customer_ids: Sequence[int], at: datetime) -> None:
    """Notices of `kind` to these customers as the worker leaves them once the provider took
    them."""
    with engine.begin() as conn:
        conn.execute(update(outbox).where(outbox.c.kind == kind,
                                          outbox.c.customer_id.in_(list(customer_ids)))
                     .values(status="sent", sent_at=at))
