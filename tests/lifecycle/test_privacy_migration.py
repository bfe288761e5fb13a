"""Migration 0006: outages get a public reference, and incidents drop the caller's words
earlier versions copied into their reason."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from outages import db

AT = datetime(2026, 11, 1, tzinfo=UTC)
outages = sa.table("outages", sa.column("id"), sa.column("kind"), sa.column("status"),
                   sa.column("reason"), sa.column("revision"), sa.column("created_at"),
                   sa.column("updated_at"))
audit = sa.table("audit_log", sa.column("id"), sa.column("at"), sa.column("actor"),
                 sa.column("source"), sa.column("action"), sa.column("entity"),
                 sa.column("entity_id"), sa.column("after", sa.JSON))


def test_existing_outages_get_references_and_incidents_and_their_audit_lose_callers_words(
        empty_db_url: str) -> None:
    engine = db.make_engine(empty_db_url)
    db.upgrade(engine, "0005")
    rows = [("planned", "scheduled", "bao duong"), ("fault", "confirmed", "call me 0987654321"),
            ("fault", "restored", "MATDIEN")]
    with engine.begin() as conn:
        conn.execute(sa.insert(outages), [
            {"kind": kind, "status": status, "reason": reason, "revision": 1, "created_at": AT,
             "updated_at": AT} for kind, status, reason in rows])
        conn.execute(sa.insert(audit), [
            {"at": AT, "actor": "webhook", "source": "webhook", "action": action,
             "entity": "outage", "entity_id": "2", "after": {"kind": "fault", "reason": reason}}
            for action, reason in (("fault.opened", "call me 0987654321"),
                                   ("cut.created", "bao duong"))])
    db.upgrade(engine)
    with engine.connect() as conn:
        after = conn.execute(sa.text("SELECT kind, reason, public_ref FROM outages "
                                     "ORDER BY id")).all()
        audited = conn.execute(sa.select(audit.c.action, audit.c.after).order_by(audit.c.id)).all()
    engine.dispose()
    assert [(action, entry["reason"]) for action, entry in audited] == [
        ("fault.opened", None), ("cut.created", "bao duong")]
    assert [(kind, reason) for kind, reason, _ in after] == [
        ("planned", "bao duong"), ("fault", None), ("fault", None)]
    refs = [ref for _, _, ref in after]
    assert len(set(refs)) == 3 and all(len(ref) == 8 and not ref.isdigit() for ref in refs)
