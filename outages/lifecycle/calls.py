"""Call lists: the priority customers (life support, medical, critical facility) an outage
affects, whom a person calls, and what came of each call.

The list is the outage's current priority members, so it exists as soon as the affected set
does and follows every resize; each call's outcome is a row of priority_calls, audited.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Connection, Engine, Row, Table, case, func, insert, select

from outages import text
from outages.access import audit
from outages.db import write_transaction
from outages.enums import CallOutcome, Priority
from outages.errors import NotFound, ValidationError
from outages.lifecycle import core as lc
from outages.lifecycle.results import CallList, PriorityCallEntry
from outages.models import PriorityCall
from outages.settings import Settings
from outages.timeutil import iso_local, utcnow

CALLS = cast(Table, PriorityCall.__table__)
# Who is called first: a life-support patient before a clinic before a water plant.
_URGENCY = case({p.value: rank for rank, p in enumerate(Priority)},
                value=lc.CUSTOMERS.c.priority, else_=len(Priority))


def call_list(conn: Connection, settings: Settings, outage_id: int, *, kind: str) -> CallList:
    lc.load(conn, outage_id, kind=kind)
    rows = conn.execute(_entries(outage_id)).all()
    return CallList(outage_id=outage_id, kind=kind, count=len(rows),
                    calls=[_entry(row, settings) for row in rows])


def record_call(engine: Engine, settings: Settings, *, outage_id: int, kind: str, code: str,
                outcome: str, note: str | None, actor: str, source: str) -> PriorityCallEntry:
    """Record one call to a customer on the outage's call list, audited."""
    if outcome not in set(CallOutcome):
        raise ValidationError(f"outcome {outcome!r} is not known: use "
                              f"{', '.join(CallOutcome)}", field="outcome")
    lc.free_text(note, field="note", limit=text.NOTE_MAX)
    note = lc.optional_text(note)
    with write_transaction(engine) as conn:
        lc.load(conn, outage_id, kind=kind)
        customer_id = _listed(conn, outage_id, code)
        conn.execute(insert(CALLS).values(outage_id=outage_id, customer_id=customer_id,
                                          outcome=outcome, note=note, called_by=actor,
                                          called_at=utcnow()))
        audit.record(conn, actor=actor, source=source, action="priority.call", entity="outage",
                     entity_id=outage_id,
                     after={"customer": code, "outcome": outcome, "note": note})
        row = conn.execute(_entries(outage_id).where(lc.CUSTOMERS.c.id == customer_id)).one()
    return _entry(row, settings)


def _listed(conn: Connection, outage_id: int, code: str) -> int:
    c = lc.CUSTOMERS.c
    query = _members(outage_id).with_only_columns(c.id).where(c.code == code)
    customer_id: int | None = conn.execute(query).scalar()
    if customer_id is None:
        raise NotFound(f"customer {code!r} is not on outage {outage_id}'s call list (only "
                       "priority customers it affects are)", field="code")
    return customer_id


def _members(outage_id: int) -> Any:
    m, c = lc.MEMBERS.c, lc.CUSTOMERS.c
    return (select(c.id).select_from(lc.MEMBERS.join(lc.CUSTOMERS, c.id == m.customer_id))
            .where(m.outage_id == outage_id, m.dropped_revision.is_(None),
                   c.priority.is_not(None)))


def _entries(outage_id: int) -> Any:
    """Each listed customer with the latest call (the highest id) and the number of calls."""
    c, k = lc.CUSTOMERS.c, CALLS.c
    last = (select(k.customer_id, func.max(k.id).label("last_id"),
                   func.count().label("calls"))
            .where(k.outage_id == outage_id).group_by(k.customer_id).subquery())
    latest = CALLS.alias("latest")
    m = lc.MEMBERS.c
    joined = (lc.MEMBERS.join(lc.CUSTOMERS, c.id == m.customer_id)
              .outerjoin(last, last.c.customer_id == c.id)
              .outerjoin(latest, latest.c.id == last.c.last_id))
    return (select(c.code, c.name, c.phone, c.address, c.priority, latest.c.outcome,
                   latest.c.note, latest.c.called_by, latest.c.called_at,
                   func.coalesce(last.c.calls, 0).label("calls"))
            .select_from(joined)
            .where(m.outage_id == outage_id, m.dropped_revision.is_(None),
                   c.priority.is_not(None))
            .order_by(_URGENCY, c.code))


def _entry(row: Row[Any], settings: Settings) -> PriorityCallEntry:
    return PriorityCallEntry(
        code=row.code, name=row.name, phone=row.phone, address=row.address,
        priority=row.priority, outcome=row.outcome, note=row.note, called_by=row.called_by,
        called_at=iso_local(row.called_at, settings.tz),
        calls=row.calls)
