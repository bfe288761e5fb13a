"""SMS opt-out and opt-in by phone number, and contact flags set from delivery failures.

A phone number may belong to several accounts (a landlord, a family); a STOP from it
applies to all of them, and to texts to the number itself (a caller without an account, a
subscriber), kept in sms_opt_outs. Every change is audited.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Literal, cast

from sqlalchemy import Connection, Table, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from outages import db
from outages.access import audit
from outages.models import Customer, SmsOptOut
from outages.timeutil import utcnow

_customers = cast(Table, Customer.__table__)
_c = _customers.c
_numbers = cast(Table, SmsOptOut.__table__)

# Columns of customers that stop notices on a channel; delivery names them by convention,
# `<channel>_opt_out` and `<contact>_invalid` (outages.notices.queue.contact_flag).
ContactFlag = Literal["sms_opt_out", "phone_invalid", "email_opt_out", "email_invalid"]


def set_sms_opt_out(conn: Connection, *, phone: str, opted_out: bool, actor: str,
                    source: str) -> list[str]:
    """Opt the number and every customer with `phone` out of (or back into) SMS; the codes
    changed."""
    mark_number(conn, phone, opted_out, actor=actor, source=source)
    rows = conn.execute(
        update(_customers)
        .where(_c.phone == phone, _c.sms_opt_out.is_not(opted_out))
        .values(sms_opt_out=opted_out, updated_at=utcnow())
        .returning(_c.id, _c.code)
    ).all()
    for row in rows:
        audit.record(conn, actor=actor, source=source,
                     action="customer.sms_opt_out" if opted_out else "customer.sms_opt_in",
                     entity="customer", entity_id=row.code,
                     before={"sms_opt_out": not opted_out}, after={"sms_opt_out": opted_out})
    return sorted(row.code for row in rows)


def mark_number(conn: Connection, phone: str, opted_out: bool, *, actor: str,
                source: str) -> None:
    """Record that `phone` said STOP (or START); audited when it changes anything."""
    if opted_out:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        changed = conn.execute(dialect.insert(_numbers).values(phone=phone, at=utcnow())
                               .on_conflict_do_nothing()).rowcount
    else:
        changed = conn.execute(delete(_numbers).where(_numbers.c.phone == phone)).rowcount
    if changed:
        audit.record(conn, actor=actor, source=source,
                     action="number.sms_opt_out" if opted_out else "number.sms_opt_in",
                     entity="phone", entity_id=phone)


def opted_out_numbers(conn: Connection, phones: Collection[str]) -> set[str]:
    """Those of `phones` that texted STOP (and not START since)."""
    if not phones:
        return set()
    n = _numbers.c
    return set(conn.execute(select(n.phone).where(db.among(conn, n.phone, phones))).scalars())


def flag_customer(conn: Connection, *, customer_id: int, flag: ContactFlag, reason: str,
                  actor: str, source: str) -> bool:
    """Set `flag` on one customer (the provider says the address opted out or cannot
    receive); False when it was already set."""
    column = _c[flag]
    row = conn.execute(
        update(_customers).where(_c.id == customer_id, column.is_not(True))
        .values({flag: True, "updated_at": utcnow()}).returning(_c.code)
    ).first()
    if row is None:
        return False
    audit.record(conn, actor=actor, source=source, action=f"customer.{flag}", entity="customer",
                 entity_id=row.code, before={flag: False}, after={flag: True, "reason": reason})
    return True
