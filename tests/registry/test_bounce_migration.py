"""Migration 0005: bounces the worker stored as email opt-outs become invalid addresses."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from outages import db
from outages.models import Interruption

AT = datetime(2026, 11, 1, tzinfo=UTC)
customers = sa.table("customers", sa.column("code"), sa.column("lon"), sa.column("lat"),
                     sa.column("email"), sa.column("email_opt_out"))
# The table as it was at 0004: the model's columns of later revisions do not exist yet.
outages = sa.table("outages", sa.column("id"), sa.column("kind"), sa.column("status"),
                   sa.column("revision"), sa.column("created_at"), sa.column("updated_at"))
audit = sa.table("audit_log", sa.column("at"), sa.column("actor"), sa.column("source"),
                 sa.column("action"), sa.column("entity"), sa.column("entity_id"))


def _entry(code: str, actor: str, action: str) -> dict[str, object]:
    return {"at": AT, "actor": actor, "source": "cli", "action": action, "entity": "customer",
            "entity_id": code}


def test_bounces_stored_as_opt_outs_become_invalid_addresses(empty_db_url: str) -> None:
    engine = db.make_engine(empty_db_url)
    db.upgrade(engine, "0004")
    with engine.begin() as conn:
        conn.execute(sa.insert(customers), [
            {"code": code, "lon": 105.8, "lat": 21.0, "email": f"{code}@example.vn",
             "email_opt_out": True} for code in ("BOUNCED", "FIXED", "CHOSE")])
        conn.execute(sa.insert(audit), [
            _entry("BOUNCED", "worker", "customer.email_opt_out"),
            _entry("FIXED", "worker", "customer.email_opt_out"),
            _entry("FIXED", "admin", "customer.update"),  # changed by hand since
            _entry("CHOSE", "admin", "customer.update"),
        ])
        # A registry in use: other tables refer to its customers, so the upgrade must not
        # rebuild the customers table (SQLite would refuse to drop it under foreign keys).
        outage = conn.execute(outages.insert().values(
            kind="fault", status="restored", revision=1, created_at=AT, updated_at=AT)
            .returning(outages.c.id)).scalar_one()
        conn.execute(Interruption.__table__.insert(), [
            {"outage_id": outage, "customer_id": customer, "planned": False, "start_at": AT}
            for customer in conn.execute(sa.text("SELECT id FROM customers")).scalars()])
    db.upgrade(engine)
    with engine.connect() as conn:
        flags = {r.code: (r.email_invalid, r.email_opt_out) for r in conn.execute(
            sa.text("SELECT code, email_invalid, email_opt_out FROM customers"))}
        interrupted = conn.execute(sa.select(sa.func.count()).select_from(Interruption)).scalar()
    engine.dispose()
    assert flags == {"BOUNCED": (True, False), "FIXED": (False, True), "CHOSE": (False, True)}
    assert interrupted == 3
