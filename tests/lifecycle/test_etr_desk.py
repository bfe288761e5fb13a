"""What the dispatch desk sees of an incident's ETR: "passes in N min", "overdue" until a new
ETR is set (and the listing of overdue incidents), and a first ETR suggested from history."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import time_machine
from sqlalchemy import Engine

from outages.lifecycle import fault_reports, faults
from outages.settings import Settings
from outages.timeutil import utcnow
from tests.lifecycle.conftest import LAT0, LON0, grid_rows

ACT: dict[str, Any] = {"actor": "desk", "source": "cli"}


def _incident(engine: Engine, settings: Settings, *, cause: str, feeder: str,
              started: datetime, lasted: timedelta | None = None, place: int = 0) -> int:
    """An incident on `feeder`, restored after `lasted` if given; `place` keeps incidents
    apart so their reports do not group."""
    report = fault_reports.report(engine, settings, point=(LON0 + 0.1 * place, LAT0), **ACT)
    faults.confirm(engine, settings, fault_id=report.outage_id, feeders=[feeder], cause=cause,
                   started_at=started, **ACT)
    if lasted is not None:
        faults.restore(engine, settings, fault_id=report.outage_id, at=started + lasted, **ACT)
    return report.outage_id


def test_etr_passes_soon_then_overdue_until_a_new_etr_and_the_overdue_listing(
    engine: Engine, settings: Settings, add_customers: Any, cli: Any,
) -> None:
    add_customers(grid_rows(20))
    now = utcnow().replace(second=0, microsecond=0)
    fault = _incident(engine, settings, cause="weather", feeder="F1",
                      started=now - timedelta(hours=1))
    other = _incident(engine, settings, cause="weather", feeder="F1",
                      started=now - timedelta(hours=1), place=1)
    etr = now + timedelta(hours=1)
    faults.set_etr(engine, settings, fault_id=fault, at=etr, **ACT)
    faults.set_etr(engine, settings, fault_id=other, at=etr + timedelta(hours=1), **ACT)
    with time_machine.travel(etr - timedelta(minutes=10), tick=False) as clock:
        shown = json.loads(cli("faults", "show", str(fault), "--json").stdout)
        assert (shown["etr_state"], shown["etr_minutes_left"]) == ("passes_soon", 10)
        assert "ETR passes in 10 min" in cli("faults", "show", str(fault)).stdout
        assert json.loads(cli("faults", "list", "--overdue", "--json").stdout) == []
        clock.move_to(etr + timedelta(minutes=5))
        assert "ETR overdue by 5 min" in cli("faults", "show", str(fault)).stdout
        overdue = json.loads(cli("faults", "list", "--overdue", "--json").stdout)
        assert [(f["id"], f["etr_state"]) for f in overdue] == [(fault, "overdue")]
        assert "ETR overdue" in cli("faults", "list").stdout
        view = faults.set_etr(engine, settings, fault_id=fault,
                              at=etr + timedelta(hours=2), **ACT)
        assert (view.etr_state, view.etr_minutes_left) == ("on_time", 115)
        assert json.loads(cli("faults", "list", "--overdue", "--json").stdout) == []
        faults.restore(engine, settings, fault_id=other, at=None, **ACT)
        clock.move_to(etr + timedelta(hours=3))
        done = json.loads(cli("faults", "show", str(other), "--json").stdout)
        assert done["etr_state"] is None  # power is back: nothing to chase


def test_suggested_etr_is_the_median_of_the_closest_history_with_enough_incidents(
    engine: Engine, settings: Settings, add_customers: Any, cli: Any,
) -> None:
    add_customers(grid_rows(10) + grid_rows(10, prefix="D", feeder="F2"))
    day = utcnow().replace(second=0, microsecond=0) - timedelta(days=3)
    history = [("weather", "F1", 60), ("weather", "F1", 90), ("weather", "F1", 120),
               ("weather", "F2", 300), ("weather", "F2", 300),
               ("vegetation", "F2", 30), ("vegetation", "F2", 40), ("vegetation", "F2", 50)]
    for n, (cause, feeder, minutes) in enumerate(history):
        _incident(engine, settings, cause=cause, feeder=feeder, lasted=timedelta(minutes=minutes),
                  started=day + timedelta(hours=6 * n), place=n)
    started = utcnow().replace(second=0, microsecond=0) - timedelta(minutes=10)

    def suggested(cause: str, feeder: str, place: int) -> dict[str, Any]:
        fault = _incident(engine, settings, cause=cause, feeder=feeder, started=started,
                          place=place)
        shown = json.loads(cli("faults", "show", str(fault), "--json").stdout)
        assert shown["etr"] is None  # shown, never set by itself
        return dict(shown["suggested_etr"])

    on_feeder = suggested("weather", "F1", 20)
    assert (on_feeder["basis"], on_feeder["based_on"], on_feeder["median_minutes"]) == (
        "cause_and_feeder", 3, 90)
    assert datetime.fromisoformat(on_feeder["at"]) == started + timedelta(minutes=90)
    # two weather incidents on F2 are fewer than faults.etr_history_min: all weather ones
    assert suggested("weather", "F2", 21)["median_minutes"] == 120
    by_all = suggested("animal", "F1", 22)
    assert (by_all["basis"], by_all["based_on"], by_all["median_minutes"]) == ("all", 8, 75)
