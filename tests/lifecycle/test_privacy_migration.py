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


def test_existing_outages_get_references_and_incidents_lose_callers_words(
        empty_db_url: str) -> None:
    engine = db.make_engine(empty_db_url)
    db.upgrade(engine, "0005")
    rows = [("planned", "scheduled", "bao duong"), ("fault", "confirmed", "call me 0987654321"),
            ("fault", "restored", "MATDIEN")]
    with engine.begin() as conn:
        conn.execute(sa.insert(outages), [
            {"kind": kind, "status": status, "reason": reason, "revision": 1, "created_at": AT,
             "updated_at": AT} for kind, status, reason in rows])
    db.upgrade(engine)
    with engine.connect() as conn:
        after = conn.execute(sa.text("SELECT kind, reason, public_ref FROM outages "
                                     "ORDER BY id")).all()
    engine.dispose()
    assert [(kind, reason) for kind, reason, _ in after] == [
        ("planned", "bao duong"), ("fault", None), ("fault", None)]
    refs = [ref for _, _, ref in after]
    assert len(set(refs)) == 3 and all(len(ref) == 8 and not ref.isdigit() for ref in refs)
