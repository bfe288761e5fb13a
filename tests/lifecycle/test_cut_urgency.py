"""A cut is urgent while its window waives a notice period, and no longer: a reschedule or
resize that keeps the notice periods leaves (or makes) it an ordinary cut, shown, listed,
audited and notified as one."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine, select

from outages.lifecycle import cuts
from outages.lifecycle import views as outage_views
from outages.models import AuditEntry
from outages.settings import Settings
from tests.lifecycle.conftest import LAT0, LON0, ahead, columns
from tests.lifecycle.test_cuts_create import area, make

ACT: dict[str, Any] = {"actor": "dispatcher-2", "source": "cli"}
URGENT: dict[str, Any] = {"urgent": True, "urgent_reason": "storm forecast"}


def _last_audit(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        after = conn.execute(select(AuditEntry.after).order_by(AuditEntry.id.desc())).first()
    assert after is not None
    return dict(after[0])


def test_an_urgent_cut_moved_to_a_date_that_keeps_the_notice_is_no_longer_urgent(
        engine: Engine, settings: Settings, grid: Any, cli: Any) -> None:
    cut = make(engine, settings, start=ahead(days=6), end=ahead(days=6, hours=4))
    rushed = cuts.reschedule(engine, settings, cut_id=cut.id, start=ahead(days=1),
                             end=ahead(days=1, hours=2), **URGENT, **ACT)
    assert (rushed.urgent, rushed.urgent_reason) == (True, "storm forecast")
    put_off = cuts.reschedule(engine, settings, cut_id=cut.id, start=ahead(days=8),
                              end=ahead(days=8, hours=2), **ACT)
    assert (put_off.urgent, put_off.urgent_reason) == (False, None)
    assert put_off.note == "the new window keeps the notice period: the cut is no longer urgent"
    assert (_last_audit(engine)["urgent"], _last_audit(engine)["urgent_reason"]) == (False, None)
    with engine.connect() as conn:
        history = outage_views.history(conn, settings, cut.id)
    assert [(h.action, (h.details or {}).get("urgent")) for h in history] == [
        ("created", None), ("rescheduled", True), ("rescheduled", False)]
    listed = json.loads(cli("cuts", "list", "--json").stdout)
    assert [c["urgent"] for c in listed if c["id"] == cut.id] == [False]


def test_urgent_given_with_a_change_that_needs_no_waiver_does_not_mark_the_cut(
        engine: Engine, settings: Settings, grid: Any) -> None:
    cut = make(engine, settings, start=ahead(days=6), end=ahead(days=6, hours=4))
    later = cuts.reschedule(engine, settings, cut_id=cut.id, start=ahead(days=8),
                            end=ahead(days=8, hours=2), **URGENT, **ACT)
    assert (later.urgent, later.urgent_reason) == (False, None)
    assert later.note == "the new window keeps the notice period: the cut is not marked urgent"
    wider = cuts.resize(engine, settings, cut_id=cut.id, area=area(columns(0, 4), settings),
                        **URGENT, **ACT)
    assert (wider.urgent, wider.change and wider.change.added) == (False, 20)
    assert _last_audit(engine)["urgent"] is False


def test_an_urgent_cut_stays_urgent_while_priority_customers_lack_their_notice(
        engine: Engine, settings: Settings, grid: Any, add_customers: Any) -> None:
    """Six days keeps everyone's five days' notice, not the seven a clinic needs."""
    add_customers([{"code": "CLINIC", "lon": LON0, "lat": LAT0 + 0.0001, "feeder": "F1",
                    "district": "Dong Da", "phone": "+84911111112", "priority": "medical"}])
    cut = make(engine, settings, start=ahead(days=2), end=ahead(days=2, hours=4), **URGENT)
    moved = cuts.reschedule(engine, settings, cut_id=cut.id, start=ahead(days=6),
                            end=ahead(days=6, hours=4), **ACT)
    assert (moved.urgent, moved.urgent_reason, moved.note) == (True, "storm forecast", None)
    cleared = cuts.reschedule(engine, settings, cut_id=cut.id, start=ahead(days=8),
                              end=ahead(days=8, hours=4), **ACT)
    assert cleared.urgent is False
