from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from outages.errors import Conflict, ValidationError
from outages.lifecycle import core as lc
from outages.lifecycle import cuts
from outages.lifecycle import views as outage_views
from outages.models import Interruption, OutageCustomer
from outages.settings import Settings
from tests.lifecycle.conftest import ahead, columns, ids_of
from tests.lifecycle.test_cuts_create import area, make

ACT: dict[str, Any] = {"actor": "dispatcher-2", "source": "cli"}


def membership(engine: Engine, cut_id: int) -> dict[int, tuple[int, int | None]]:
    t = OutageCustomer.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(t.c.customer_id, t.c.added_revision, t.c.dropped_revision)
                            .where(t.c.outage_id == cut_id))
        return {cid: (added, dropped) for cid, added, dropped in rows}


def interruptions(engine: Engine, cut_id: int) -> dict[int, tuple[Any, Any]]:
    t = Interruption.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(t.c.customer_id, t.c.start_at, t.c.end_at)
                            .where(t.c.outage_id == cut_id))
        return {cid: (start, end) for cid, start, end in rows}


def test_resize_records_added_and_dropped(engine: Engine, relaxed: Settings, grid: Any,
                                          published: list[Any]) -> None:
    cut = make(engine, relaxed, 0, 2)
    view = cuts.resize(engine, relaxed, cut_id=cut.id, area=area(columns(1, 3), relaxed),
                       **ACT)
    assert view.change.as_json() == {"added": 10, "dropped": 10}
    assert (view.affected, view.dropped, view.revision) == (30, 10, 2)
    members = membership(engine, cut.id)
    col0 = ids_of(engine, [f"C{r * 10:03d}" for r in range(10)])
    col3 = ids_of(engine, [f"C{r * 10 + 3:03d}" for r in range(10)])
    assert {members[c] for c in col0} == {(1, 2)}
    assert {members[c] for c in col3} == {(2, None)}
    assert set(interruptions(engine, cut.id)) == set(members) - col0
    back = cuts.resize(engine, relaxed, cut_id=cut.id, area=area(columns(0, 2), relaxed),
                       **ACT)
    assert back.change.as_json() == {"added": 10, "dropped": 10}
    assert {membership(engine, cut.id)[c] for c in col0} == {(3, None)}
    assert [e.kind for e in published] == ["cut_created", "cut_resized", "cut_resized"]
    assert [e.revision for e in published] == [1, 2, 3]


def test_reschedule_later_always_earlier_needs_notice(engine: Engine, settings: Settings,
                                                      grid: Any) -> None:
    cut = make(engine, settings, start=ahead(days=6), end=ahead(days=6, hours=4))
    later = cuts.reschedule(engine, settings, cut_id=cut.id, start=ahead(days=8),
                            end=ahead(days=8, hours=2), **ACT)
    assert later.revision == 2
    with pytest.raises(ValidationError, match="earliest allowed start"):
        cuts.reschedule(engine, settings, cut_id=cut.id, start=ahead(days=2),
                        end=ahead(days=2, hours=2), **ACT)
    ok = cuts.reschedule(engine, settings, cut_id=cut.id, start=ahead(days=7),
                         end=ahead(days=7, hours=2), **ACT)
    assert ok.revision == 3
    urgent = cuts.reschedule(engine, settings, cut_id=cut.id, start=ahead(days=1),
                             end=ahead(days=1, hours=2), urgent=True,
                             urgent_reason="storm forecast", **ACT)
    assert (urgent.urgent, urgent.revision) == (True, 4)


def test_customers_a_resize_adds_must_have_the_notice_period(
        engine: Engine, settings: Settings, grid: Any, time_machine: Any) -> None:
    start = ahead(days=6)
    cut = make(engine, settings, 0, 2, start=start, end=start + timedelta(hours=4))
    time_machine.move_to(ahead(days=4), tick=False)  # two days before the start
    smaller = cuts.resize(engine, settings, cut_id=cut.id, area=area(columns(0, 1), settings),
                          **ACT)  # dropping customers needs no notice
    assert smaller.change.as_json() == {"added": 0, "dropped": 10}
    with pytest.raises(ValidationError, match="adds 30 customers who have not been told") as e:
        cuts.resize(engine, settings, cut_id=cut.id, area=area(columns(0, 4), settings), **ACT)
    assert (e.value.field, e.value.hint) == ("area", "urgent")
    assert len(membership(engine, cut.id)) == 30  # nothing half-done: still revision 2
    wider = cuts.resize(engine, settings, cut_id=cut.id, area=area(columns(0, 4), settings),
                        urgent=True, urgent_reason="transformer failing", **ACT)
    assert (wider.change.as_json(), wider.urgent, wider.revision) == (
        {"added": 30, "dropped": 0}, True, 3)


def test_history_keeps_every_revision(engine: Engine, relaxed: Settings, grid: Any,
                                      cli: Any) -> None:
    cut = make(engine, relaxed)
    first_start = cut.start
    cuts.reschedule(engine, relaxed, cut_id=cut.id, start=ahead(hours=8),
                    end=ahead(hours=9), note="crew late", **ACT)
    cuts.cancel(engine, relaxed, cut_id=cut.id, reason="work not needed", **ACT)
    with engine.connect() as conn:
        items = outage_views.history(conn, relaxed, cut.id)
    assert [(i.revision, i.action, i.actor) for i in items] == [
        (1, "created", "tester"), (2, "rescheduled", "dispatcher-2"),
        (3, "cancelled", "dispatcher-2")]
    assert items[0].start == first_start
    assert items[1].note == "crew late"
    assert items[2].details["dropped"] == 30
    shown = json.loads(cli("cuts", "show", str(cut.id), "--history", "--json").stdout)
    assert [h["action"] for h in shown["history"]] == ["created", "rescheduled", "cancelled"]
    assert "dispatcher-2" in cli("cuts", "show", str(cut.id), "--history").stdout


def test_cancel_drops_everyone_and_refuses_twice(engine: Engine, relaxed: Settings, grid: Any,
                                                 published: list[Any]) -> None:
    cut = make(engine, relaxed)
    view = cuts.cancel(engine, relaxed, cut_id=cut.id, reason="weather", **ACT)
    assert (view.status, view.cancel_reason, view.dropped_now) == (
        "cancelled", "weather", 30)
    assert {d for _, d in membership(engine, cut.id).values()} == {2}
    assert interruptions(engine, cut.id) == {}
    assert published[-1].kind == "cut_cancelled"
    with pytest.raises(Conflict, match="cancelled"):
        cuts.cancel(engine, relaxed, cut_id=cut.id, reason="again", **ACT)
    with pytest.raises(Conflict):
        cuts.start(engine, relaxed, cut_id=cut.id, at=None, **ACT)


def test_start_and_step_restoration(engine: Engine, relaxed: Settings, grid: Any,
                                    published: list[Any], tmp_path: Path) -> None:
    cut = make(engine, relaxed)
    with pytest.raises(Conflict, match="no recorded start"):
        cuts.restore(engine, relaxed, cut_id=cut.id, at=None, **ACT)
    with pytest.raises(ValidationError, match="in the future"):
        cuts.start(engine, relaxed, cut_id=cut.id, at=ahead(hours=1), **ACT)
    began = ahead(minutes=-30)
    started = cuts.start(engine, relaxed, cut_id=cut.id, at=began, **ACT)
    assert started.status == "in_progress"
    assert "before the planned start" in started.note
    assert {s for s, _ in interruptions(engine, cut.id).values()} == {began}
    first_step = ahead(minutes=-20)
    part = cuts.restore(engine, relaxed, cut_id=cut.id, at=first_step,
                        area=area(columns(0, 0), relaxed), **ACT)
    assert part.step.as_json() == {"restored": 10, "remaining": 20, "scope": "area"}
    assert part.status == "in_progress"
    codes = ["C001", "C011", "C001"]
    done_codes = cuts.restore(engine, relaxed, cut_id=cut.id, at=ahead(minutes=-10),
                              codes=codes, **ACT)
    assert done_codes.step.restored == 2
    with pytest.raises(ValidationError) as caught:
        cuts.restore(engine, relaxed, cut_id=cut.id, at=None,
                     codes=["C001", "C009", "ZZZ"], **ACT)
    message = caught.value.message
    assert "1 unknown customer code: ZZZ" in message
    assert "1 not affected by outage" in message and "C009" in message
    assert "1 already restored: C001" in message
    final = cuts.restore(engine, relaxed, cut_id=cut.id, at=None, **ACT)
    assert (final.status, final.remaining, final.restored) == ("completed", 0, 30)
    ends = interruptions(engine, cut.id)
    assert ends[min(ids_of(engine, ["C000"]))][1] == first_step
    restored = [e for e in published if e.kind == "restored"]
    assert [len(e.customer_ids) for e in restored] == [10, 2, 18]
    assert ids_of(engine, ["C001", "C011"]) == set(restored[1].customer_ids)
    with pytest.raises(Conflict, match="already completed"):
        cuts.restore(engine, relaxed, cut_id=cut.id, at=None, **ACT)


def test_restore_before_start_time_refused(engine: Engine, relaxed: Settings,
                                           grid: Any) -> None:
    cut = make(engine, relaxed)
    cuts.start(engine, relaxed, cut_id=cut.id, at=ahead(minutes=-10), **ACT)
    with pytest.raises(ValidationError, match="before the outage started"):
        cuts.restore(engine, relaxed, cut_id=cut.id, at=ahead(minutes=-20), **ACT)


def test_a_cut_ends_when_its_last_customer_came_back_whatever_step_said_so(
        engine: Engine, relaxed: Settings, grid: Any) -> None:
    from outages.models import Outage
    from outages.timeutil import utcnow

    cut = make(engine, relaxed, 0, 1)
    now = utcnow()
    cuts.start(engine, relaxed, cut_id=cut.id, at=now - timedelta(hours=3), **ACT)
    cuts.restore(engine, relaxed, cut_id=cut.id, at=now - timedelta(hours=1),
                 area=area(columns(0, 0), relaxed), **ACT)
    # The rest came back earlier, recorded afterwards.
    done = cuts.restore(engine, relaxed, cut_id=cut.id, at=now - timedelta(hours=2), **ACT)
    assert done.status == "completed"
    with engine.connect() as conn:
        end = conn.execute(select(Outage.actual_end).where(Outage.id == cut.id)).scalar_one()
    assert end == max(e for _start, e in interruptions(engine, cut.id).values())
    assert abs((end - (now - timedelta(hours=1))).total_seconds()) < 1


def test_cli_restore_with_customers_file(cli: Any, engine: Engine, relaxed: Settings,
                                         grid: Any, tmp_path: Path) -> None:
    cut = make(engine, relaxed)
    cli("cuts", "start", str(cut.id))
    listing = tmp_path / "codes.csv"
    listing.write_text("name,code\nx,C000\ny,C010\n")
    result = cli("cuts", "restore", str(cut.id), "--customers", str(listing), "--json")
    assert json.loads(result.stdout)["step"]["restored"] == 2
    plain = tmp_path / "codes.txt"
    plain.write_text("C001\n\nC002\n")
    text = cli("cuts", "restore", str(cut.id), "--customers", str(plain))
    assert "2 restored (customers), 26 still out" in text.stdout


def test_unknown_and_wrong_kind_ids(engine: Engine, relaxed: Settings, grid: Any) -> None:
    from outages.errors import NotFound
    with pytest.raises(NotFound, match="no planned cut with id 99"):
        cuts.cancel(engine, relaxed, cut_id=99, reason="x", **ACT)


def test_list_filters_by_status(engine: Engine, relaxed: Settings, grid: Any, cli: Any) -> None:
    kept = make(engine, relaxed)
    gone = make(engine, relaxed, 5, 6)
    cuts.cancel(engine, relaxed, cut_id=gone.id, reason="x", **ACT)
    listed = json.loads(cli("cuts", "list", "--status", "scheduled", "--json").stdout)
    assert [c["id"] for c in listed] == [kept.id]
    refused = cli("cuts", "list", "--status", "done")
    assert refused.exit_code == 2
    assert "unknown status 'done'" in refused.stderr


def test_a_cut_not_yet_started_has_nobody_out(cli: Any, engine: Engine, relaxed: Settings,
                                              grid: Any) -> None:
    cut = make(engine, relaxed)
    shown = json.loads(cli("cuts", "show", str(cut.id), "--json").stdout)
    assert (shown["affected"], shown["restored"], shown["remaining"]) == (30, 0, 0)
    text = cli("cuts", "show", str(cut.id)).stdout
    assert "30 customers, none out yet" in text and "still out" not in text
    cli("cuts", "start", str(cut.id))
    assert "30 customers, 0 restored, 30 still out" in cli("cuts", "show", str(cut.id)).stdout


def test_reschedule_to_the_same_window_changes_nothing(engine: Engine, relaxed: Settings,
                                                       grid: Any, published: list[Any]) -> None:
    cut = make(engine, relaxed)
    with engine.connect() as conn:
        current = lc.load(conn, cut.id)
    same = cuts.reschedule(engine, relaxed, cut_id=cut.id, start=current.planned_start,
                           end=current.planned_end, **ACT)
    assert (same.revision, same.change.as_json()) == (1, {"added": 0, "dropped": 0})
    assert same.note is not None and "nothing changed" in same.note
    assert [e.kind for e in published] == ["cut_created"]
    with engine.connect() as conn:
        assert len(outage_views.history(conn, relaxed, cut.id)) == 1


@pytest.mark.postgres_only
def test_two_dispatchers_changing_one_cut_at_once_take_turns(engine: Engine, settings: Settings,
                                                             grid: Any) -> None:
    import threading

    from sqlalchemy import text

    cut = make(engine, settings, start=ahead(days=6), end=ahead(days=6, hours=4))
    results: list[Any] = []
    with engine.connect() as first:  # a colleague's change, under way
        first.begin()
        first.execute(text("SELECT id FROM outages WHERE id = :id FOR UPDATE"), {"id": cut.id})

        def second() -> None:
            try:
                results.append(cuts.reschedule(engine, settings, cut_id=cut.id,
                                               start=ahead(days=8), end=ahead(days=8, hours=2),
                                               **ACT))
            except Exception as exc:
                results.append(exc)

        waiting = threading.Thread(target=second)
        waiting.start()
        waiting.join(timeout=1.0)
        assert waiting.is_alive()  # it waits for the colleague's change to end
        first.execute(text("UPDATE outages SET revision = 2 WHERE id = :id"), {"id": cut.id})
        first.execute(text("INSERT INTO outage_revisions (outage_id, revision, action, actor, at)"
                           " VALUES (:id, 2, 'resized', 'colleague', now())"), {"id": cut.id})
        first.commit()
    waiting.join(timeout=30)
    [after] = results
    assert not isinstance(after, Exception), after
    assert after.revision == 3  # after the colleague's revision 2, not a second revision 2
