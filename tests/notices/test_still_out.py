"""Who is still out of an outage: the interruption log is read only once a restoration step
has ended someone's interruption (before that, nobody can have been restored)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, insert, update

from outages.lifecycle import core as lc
from outages.lifecycle import restoration
from outages.notices import planner
from outages.settings import Settings
from outages.timeutil import utcnow
from tests.notices import helpers as h


def _fault(engine: Engine, members: list[int], **fields: Any) -> int:
    started = utcnow() - timedelta(hours=1)
    outage = h.add_outage(engine, kind="fault", status="confirmed", members=members,
                          actual_start=started, **fields)
    with engine.begin() as conn:
        conn.execute(insert(lc.INTERRUPTIONS), [
            {"outage_id": outage, "customer_id": c, "planned": False, "start_at": started}
            for c in members])
    return outage


def _ids(conn: Any, query: Any) -> list[int]:
    return sorted(conn.execute(query).scalars())


def test_the_log_is_read_only_after_a_restoration_step(engine: Engine, settings: Settings,
                                                        add_customers: Any) -> None:
    add_customers(h.customers(4))
    members = h.customer_ids(engine)
    outage = _fault(engine, members)
    with engine.begin() as conn:
        before = planner.still_out(conn, outage)
        assert "interruptions" not in str(before)
        assert _ids(conn, before) == members
        restoration.restore(conn, settings, lc.load(conn, outage),
                            at=utcnow() - timedelta(minutes=5), area=None, codes=["C0000000"],
                            actor="dispatcher", source="cli")
        after = planner.still_out(conn, outage)
        assert "interruptions" in str(after)
        assert _ids(conn, after) == members[1:]


def test_an_imported_outage_is_always_read_from_the_log(engine: Engine,
                                                        add_customers: Any) -> None:
    """Imported history has ended interruptions and no restoration steps."""
    add_customers(h.customers(3))
    members = h.customer_ids(engine)
    outage = _fault(engine, members, external_id="SCADA-7")
    with engine.begin() as conn:
        conn.execute(update(lc.INTERRUPTIONS).where(lc.INTERRUPTIONS.c.customer_id == members[2])
                     .values(end_at=utcnow()))
        assert _ids(conn, planner.still_out(conn, outage)) == members[:2]
