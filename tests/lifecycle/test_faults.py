from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from shapely.geometry import MultiPoint, Point
from sqlalchemy import Engine, func, select, update

from notifier.store import outbox
from outages.cli.errors import describe
from outages.errors import Conflict, NotFound, ValidationError
from outages.lifecycle import core as lc
from outages.lifecycle import fault_reports, faults, results, views
from outages.lifecycle.fault_grouping import haversine_m
from outages.models import FaultReport, Interruption
from outages.settings import Settings
from outages.timeutil import utcnow
from tests.lifecycle.conftest import LAT0, LON0, ahead, columns, ids_of
from tests.lifecycle.test_cuts_create import area

ACT: dict[str, Any] = {"actor": "call-centre", "source": "cli"}


def report(engine: Engine, settings: Settings, **kw: Any) -> results.FaultReport:
    return fault_reports.report(engine, settings, **ACT, **kw)


def test_haversine_matches_a_known_distance() -> None:
    # One degree of latitude is about 111.2 km anywhere.
    assert haversine_m(105.8, 21.0, [105.8], [22.0])[0] == pytest.approx(111_195, rel=1e-3)


def test_reports_group_by_distance(engine: Engine, settings: Settings, grid: Any) -> None:
    first = report(engine, settings, customer="C000")
    assert first.new_incident is True
    near = report(engine, settings, customer="C004")  # ~415 m east
    assert (near.new_incident, near.outage_id) == (False, first.outage_id)
    far = report(engine, settings, point=(LON0 + 0.02, LAT0))  # ~2 km away
    assert far.new_incident is True
    chained = report(engine, settings, customer="C008")  # ~830 m from C000, ~415 m from C004
    assert chained.outage_id == first.outage_id


def test_radius_edge(engine: Engine, make_settings: Any, grid: Any) -> None:
    tight = make_settings(OUTAGES_FAULTS_GROUP_RADIUS_M="104")
    base = report(engine, tight, customer="C000")
    step = haversine_m(LON0, LAT0, [LON0 + 0.001], [LAT0])[0]
    assert 103 < step < 104  # grid neighbours are ~103.8 m apart here
    assert report(engine, tight, customer="C001").outage_id == base.outage_id
    tighter = make_settings(OUTAGES_FAULTS_GROUP_RADIUS_M="103")
    assert report(engine, tighter, customer="C050").new_incident is True
    assert report(engine, tighter, customer="C051").new_incident is True


def test_window_edge(engine: Engine, settings: Settings, grid: Any) -> None:
    now = utcnow()
    base = report(engine, settings, customer="C000", at=now - timedelta(hours=2))
    inside = report(engine, settings, customer="C001", at=now)
    assert inside.outage_id == base.outage_id  # exactly 2 h after the latest: joins
    old = report(engine, settings, customer="C090", at=now - timedelta(hours=5))
    assert old.new_incident is True  # ~1 km from the first incident
    stale = report(engine, settings, customer="C091", at=now - timedelta(hours=2, seconds=1))
    assert stale.new_incident is True  # 2 h 59 min after C090's report: too late
    after_window = report(engine, settings, customer="C092")
    assert after_window.new_incident is True  # C091's report is 2 h 1 s old


def test_duplicates_are_counted_not_repeated(engine: Engine, settings: Settings,
                                             grid: Any) -> None:
    first = report(engine, settings, customer="C000", text="dark")
    again = report(engine, settings, customer="C000", text="still dark")
    assert (again.report_id, again.reports) == (first.report_id, 2)
    with engine.connect() as conn:
        rows = conn.execute(select(FaultReport.__table__)).all()
    assert [(r.reports, r.text) for r in rows] == [(2, "still dark")]


def test_phone_lookup_normalises_and_refuses_shared(engine: Engine, settings: Settings,
                                                    grid: Any, add_customers: Any) -> None:
    found = report(engine, settings, phone="090 000 0005")
    assert (found.customer, found.phone) == ("C005", "+84900000005")
    add_customers([{"code": "S1", "lon": LON0, "lat": LAT0, "phone": "+84911111111"},
                   {"code": "S2", "lon": LON0, "lat": LAT0, "phone": "+84911111111"}])
    with pytest.raises(ValidationError, match=r"2 customers \(S1, S2\)") as shared:
        report(engine, settings, phone="0911111111")
    assert describe(shared.value).endswith("say which one with --customer CODE")
    with pytest.raises(ValidationError, match="not a valid number"):
        report(engine, settings, phone="12")
    with pytest.raises(NotFound, match="no customer has phone") as unknown:
        report(engine, settings, phone="0922222222")
    assert "--at LON,LAT" in describe(unknown.value)
    stranger = report(engine, settings, phone="0922222222", point=(LON0, LAT0))
    assert (stranger.customer, stranger.phone) == (None, "+84922222222")


def test_report_input_refusals(engine: Engine, settings: Settings, grid: Any) -> None:
    with pytest.raises(ValidationError, match="give one of"):
        report(engine, settings)
    with pytest.raises(ValidationError, match="look swapped"):
        report(engine, settings, point=(LAT0, LON0))
    with pytest.raises(NotFound, match="no customer with code"):
        report(engine, settings, customer="NOPE")
    with pytest.raises(ValidationError, match="unknown source"):
        report(engine, settings, customer="C000", channel="fax")


def test_confirm_auto_feeder_area(engine: Engine, settings: Settings, grid: Any,
                                  published: list[Any]) -> None:
    a = report(engine, settings, customer="C044", at=utcnow() - timedelta(minutes=40))
    report(engine, settings, customer="C045")
    with engine.connect() as conn:
        proposed = faults.proposal(conn, settings, a.outage_id)
    reporters = MultiPoint([(LON0 + 0.004, LAT0 + 0.004), (LON0 + 0.005, LAT0 + 0.004)])
    assert proposed.geometry.covers(reporters.buffer(0.004))  # the 500 m radius, both sides
    assert not proposed.geometry.covers(Point(LON0 + 0.0045, LAT0 + 0.0095))  # ~610 m off
    with pytest.raises(ValidationError, match="unknown cause"):
        faults.confirm(engine, settings, fault_id=a.outage_id, auto=True, cause="aliens",
                       **ACT)
    view = faults.confirm(engine, settings, fault_id=a.outage_id, auto=True, cause="weather",
                          **ACT)
    assert view.status == "confirmed"
    assert view.actual_start == a.at  # defaults to the earliest report
    assert 10 < view.affected < 100
    with pytest.raises(Conflict, match="confirmed again"):
        faults.confirm(engine, settings, fault_id=a.outage_id, feeders=["F1"], **ACT)
    b = report(engine, settings, point=(LON0 + 0.05, LAT0))
    by_feeder = faults.confirm(engine, settings, fault_id=b.outage_id, feeders=["F1"],
                               started_at=ahead(minutes=-5), **ACT)
    assert by_feeder.affected == 100
    c = report(engine, settings, point=(LON0 + 0.1, LAT0))
    with pytest.raises(ValidationError, match="matches no customer"):
        faults.confirm(engine, settings, fault_id=c.outage_id, feeders=["F9"], **ACT)
    by_area = faults.confirm(engine, settings, fault_id=c.outage_id,
                             area=area(columns(0, 0), settings), **ACT)
    assert by_area.affected == 10
    with engine.connect() as conn:  # counted from the matched customers, as read back later
        again = views.describe(conn, settings, lc.load(conn, c.outage_id))
    assert (by_area.by_district, by_area.by_feeder) == (again.by_district, again.by_feeder)
    assert sum(again.by_feeder.values()) == 10
    kinds = [e.kind for e in published]
    assert kinds.count("fault_confirmed") == 3 and kinds.count("fault_reported") == 4


def test_confirm_sets_interruption_start(engine: Engine, settings: Settings, grid: Any) -> None:
    a = report(engine, settings, customer="C000")
    started = ahead(minutes=-90)
    view = faults.confirm(engine, settings, fault_id=a.outage_id,
                          area=area(columns(0, 1), settings), started_at=started,
                          cause="vegetation", **ACT)
    assert view.warnings == []
    t = Interruption.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(t.c.start_at, t.c.planned, t.c.cause, func.count())
                            .group_by(t.c.start_at, t.c.planned, t.c.cause)).all()
    assert rows == [(started, False, "vegetation", 20)]


def test_etr_history_and_restore(engine: Engine, settings: Settings, grid: Any,
                                 published: list[Any], cli: Any) -> None:
    a = report(engine, settings, customer="C000")
    with pytest.raises(Conflict, match="no recorded start") as unconfirmed:
        faults.restore(engine, settings, fault_id=a.outage_id, at=None, **ACT)
    assert unconfirmed.value.hint == "confirm_fault"  # the CLI: `outages faults confirm ID`
    faults.confirm(engine, settings, fault_id=a.outage_id, area=area(columns(0, 1), settings),
                   started_at=ahead(minutes=-60), **ACT)
    with pytest.raises(ValidationError, match="not in the future"):
        faults.set_etr(engine, settings, fault_id=a.outage_id, at=ahead(minutes=-1), **ACT)
    faults.set_etr(engine, settings, fault_id=a.outage_id, at=ahead(hours=2), **ACT)
    moved = faults.set_etr(engine, settings, fault_id=a.outage_id, at=ahead(hours=3),
                           note="part on the way", **ACT)
    assert moved.etr is not None and moved.revision == 4
    part = faults.restore(engine, settings, fault_id=a.outage_id, at=ahead(minutes=-30),
                          area=area(columns(0, 0), settings), **ACT)
    assert (part.status, part.step.remaining) == ("confirmed", 10)
    done = faults.restore(engine, settings, fault_id=a.outage_id, at=None, **ACT)
    assert done.status == "restored"
    shown = json.loads(cli("faults", "show", str(a.outage_id), "--history", "--json").stdout)
    etrs = [h for h in shown["history"] if h["action"] == "etr"]
    assert [h["note"] for h in etrs] == [None, "part on the way"]
    assert etrs[0]["etr"] != etrs[1]["etr"]
    assert shown["reports"][0]["customer"] == "C000"
    kinds = [e.kind for e in published]
    assert kinds == ["fault_reported", "fault_confirmed", "etr_changed", "etr_changed",
                     "restored", "restored"]
    with pytest.raises(Conflict):
        faults.set_etr(engine, settings, fault_id=a.outage_id, at=ahead(hours=1), **ACT)


def test_cli_report_confirm_auto(cli: Any, grid: Any) -> None:
    first = json.loads(cli("faults", "report", "--customer", "C000", "--json").stdout)
    cli("faults", "report", "--at", f"{LON0 + 0.001},{LAT0 + 0.001}", "--source", "sms")
    declined = cli("faults", "confirm", str(first["outage_id"]), "--auto", input="n\n")
    assert declined.exit_code == 1
    assert "Proposed area" in declined.stdout
    shown = json.loads(cli("faults", "show", str(first["outage_id"]), "--json").stdout)
    assert shown["status"] == "reported"
    saved = cli("faults", "confirm", str(first["outage_id"]), "--auto", "--yes", "--json")
    assert json.loads(saved.stdout)["status"] == "confirmed"
    # Customers read this name in their notices: the districts, not an internal label.
    assert shown["id"] == first["outage_id"]
    named = json.loads(cli("faults", "show", str(first["outage_id"]), "--json").stdout)
    assert set(named["area_name"].split(", ")) == {"Dong Da", "Ba Dinh"}
    listed = json.loads(cli("faults", "list", "--status", "confirmed", "--json").stdout)
    assert [f["id"] for f in listed] == [first["outage_id"]]
    refused = cli("faults", "report", "--at", "somewhere")
    assert refused.exit_code == 2
    assert "LON,LAT" in refused.stderr


def _notices(engine: Engine, kind: str) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(outbox.c.customer_id, outbox.c.recipient, outbox.c.status)
                                 .where(outbox.c.kind == kind)).all())


def test_redrawn_incident_area_tells_added_and_dropped_and_answers_reports_outside(
        engine: Engine, settings: Settings, grid: Any) -> None:
    first = report(engine, settings, customer="C001", at=utcnow() - timedelta(minutes=30))
    report(engine, settings, customer="C000")
    report(engine, settings, customer="C005")
    caller = report(engine, settings, phone="+84912345678", point=(LON0 + 0.0065, LAT0))
    assert caller.outage_id == first.outage_id
    fault = first.outage_id
    confirmed = faults.confirm(engine, settings, fault_id=fault, area=area(columns(0, 2),
                                                                           settings), **ACT)
    assert [r.customer for r in confirmed.reporters_outside or []] == ["C005", None]
    with engine.begin() as conn:  # the acknowledgement reached everyone
        conn.execute(update(outbox).where(outbox.c.kind == "fault_ack").values(status="sent"))

    wider = faults.resize(engine, settings, fault_id=fault, area=area(columns(0, 5), settings),
                          **ACT)
    assert (wider.change.as_json(), wider.affected) == ({"added": 30, "dropped": 0}, 60)
    assert [r.customer for r in wider.reporters_outside or []] == [None]
    assert len([n for n in _notices(engine, "fault_ack") if n.status == "pending"]) == 30

    moved = faults.resize(engine, settings, fault_id=fault, area=area(columns(1, 5), settings),
                          **ACT)
    assert moved.change.as_json() == {"added": 0, "dropped": 10}
    assert (moved.affected, moved.remaining) == (50, 50)
    with engine.connect() as conn:  # reporters left out at confirmation were told then
        column0 = set(conn.execute(select(outbox.c.customer_id).where(
            outbox.c.kind == "fault_not_affected", outbox.c.revision == 4)).scalars())
    assert len(column0) == 10 and ids_of(engine, ["C000"]) <= column0
    assert [r.customer for r in moved.reporters_outside or []] == ["C000", None]
    with pytest.raises(Conflict, match="only a confirmed incident"):
        faults.resize(engine, settings, fault_id=report(
            engine, settings, point=(LON0 + 0.05, LAT0)).outage_id,
            area=area(columns(0, 1), settings), **ACT)

    done = faults.restore(engine, settings, fault_id=fault, at=None, **ACT)
    assert done.status == "restored"
    answered = {(c, r) for c, r, _s in _notices(engine, "report_unresolved")}
    (c000,) = ids_of(engine, ["C000"])
    assert answered == {(c000, "+84900000000"), (None, "+84912345678")}
