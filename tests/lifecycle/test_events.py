"""What the notifier is told: event kinds, revisions and customers, only when changes commit."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from outages.errors import Conflict
from outages.lifecycle import core as lifecycle
from outages.lifecycle import cuts, events, fault_reports, faults
from outages.lifecycle import views as outage_views
from outages.models import Outage, OutageCustomer
from outages.settings import Settings
from tests.lifecycle.conftest import ahead, columns, ids_of
from tests.lifecycle.test_cuts_create import area, make

ACT: dict[str, Any] = {"actor": "t", "source": "cli"}


def test_cut_lifecycle_events(engine: Engine, relaxed: Settings, grid: Any,
                              published: list[Any]) -> None:
    cut = make(engine, relaxed, 0, 1)
    cuts.reschedule(engine, relaxed, cut_id=cut.id, start=ahead(hours=3), end=ahead(hours=7),
                    **ACT)
    cuts.resize(engine, relaxed, cut_id=cut.id, area=area(columns(0, 2), relaxed), **ACT)
    cuts.start(engine, relaxed, cut_id=cut.id, at=ahead(minutes=-5), **ACT)
    cuts.restore(engine, relaxed, cut_id=cut.id, at=None, **ACT)
    assert [(e.kind, e.revision, e.outage_id) for e in published] == [
        ("cut_created", 1, cut.id), ("cut_rescheduled", 2, cut.id),
        ("cut_resized", 3, cut.id), ("cut_started", 4, cut.id),
        ("restored", 5, cut.id)]
    t = OutageCustomer.__table__
    with engine.connect() as conn:
        added = set(conn.execute(select(t.c.customer_id).where(t.c.added_revision == 3))
                    .scalars())
    assert added == ids_of(engine, [f"C{r * 10 + 2:03d}" for r in range(10)])
    assert len(published[-1].customer_ids) == 30
    assert [e.actor for e in published] == ["tester", "t", "t", "t", "t"]


def test_fault_events_carry_report_ids(engine: Engine, settings: Settings, grid: Any,
                                       published: list[Any]) -> None:
    first = fault_reports.report(engine, settings, customer="C000", **ACT)
    second = fault_reports.report(engine, settings, customer="C001", **ACT)
    faults.confirm(engine, settings, fault_id=first.outage_id,
                   area=area(columns(0, 1), settings), **ACT)
    faults.set_etr(engine, settings, fault_id=first.outage_id, at=ahead(hours=1), **ACT)
    assert [(e.kind, e.revision, e.report_id) for e in published] == [
        ("fault_reported", 1, first.report_id), ("fault_reported", 1, second.report_id),
        ("fault_confirmed", 2, None), ("etr_changed", 3, None)]


def test_no_event_and_no_change_when_refused(engine: Engine, relaxed: Settings, grid: Any,
                                             published: list[Any]) -> None:
    cut = make(engine, relaxed)
    cuts.start(engine, relaxed, cut_id=cut.id, at=None, **ACT)
    with pytest.raises(Conflict, match="only a scheduled cut"):
        cuts.resize(engine, relaxed, cut_id=cut.id, area=area(columns(0, 5), relaxed), **ACT)
    with pytest.raises(Conflict, match="only a scheduled cut"):
        cuts.reschedule(engine, relaxed, cut_id=cut.id, start=ahead(hours=5),
                        end=ahead(hours=6), **ACT)
    assert [e.kind for e in published] == ["cut_created", "cut_started"]


def test_failing_notifier_rolls_the_change_back(engine: Engine, relaxed: Settings, grid: Any,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    cut = make(engine, relaxed, 0, 1)

    def broken(*args: Any) -> None:
        raise RuntimeError("planner crashed")

    monkeypatch.setattr("outages.notices.planner.plan", broken)
    with pytest.raises(RuntimeError):
        cuts.resize(engine, relaxed, cut_id=cut.id, area=area(columns(5, 9), relaxed), **ACT)
    with engine.connect() as conn:
        row = lifecycle.load(conn, cut.id)
        view = outage_views.describe(conn, relaxed, row)
        history = outage_views.history(conn, relaxed, cut.id)
    assert (view.revision, view.affected, view.dropped) == (1, 20, 0)
    assert len(history) == 1


def test_a_change_nobody_listens_to_is_refused(engine: Engine, relaxed: Settings, grid: Any,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events, "_subscribers", [])
    with pytest.raises(events.NoSubscriber, match="no notice planner"):
        make(engine, relaxed, 0, 1)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Outage)).scalar_one() == 0
