"""Fault reports as callers make them: one inside an incident's area or out in it joins it
however long ago its last call was; one told power is back who calls is out again and
answered; the desk's answer names the code as stored; a suggested ETR is one the desk may set."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, select

from notifier.store import outbox
from outages.lifecycle import fault_reports, faults, reopen
from outages.models import Interruption
from outages.settings import Settings
from outages.timeutil import utcnow
from tests.lifecycle.conftest import LAT0, LON0, ahead, columns, ids_of
from tests.lifecycle.test_cuts_create import area

ACT: dict[str, Any] = {"actor": "call-centre", "source": "cli"}


def _report(engine: Engine, settings: Settings, **kw: Any) -> Any:
    return fault_reports.report(engine, settings, **ACT, **kw)


def test_caller_inside_a_confirmed_area_joins_it_whatever_the_age_of_its_last_report(
        engine: Engine, settings: Settings, grid: Any) -> None:
    first = _report(engine, settings, customer="C000", at=utcnow() - timedelta(hours=3))
    faults.confirm(engine, settings, fault_id=first.outage_id,
                   area=area(columns(0, 1), settings), started_at=ahead(hours=-3), **ACT)
    # C001 is a member of the confirmed incident, 100 m from its only report, still out.
    later = _report(engine, settings, customer="C001")
    assert (later.new_incident, later.outage_id) == (False, first.outage_id)


def test_member_of_an_incident_confirmed_by_feeder_joins_it(
        engine: Engine, settings: Settings, grid: Any) -> None:
    # The first caller is 5 km away; the dispatcher confirms the whole feeder F1 (all 100).
    first = _report(engine, settings, point=(LON0 + 0.05, LAT0))
    view = faults.confirm(engine, settings, fault_id=first.outage_id, feeders=["F1"],
                          started_at=ahead(minutes=-5), **ACT)
    assert view.affected == 100
    member = _report(engine, settings, customer="C000")  # a minute later, on the same feeder
    assert (member.new_incident, member.outage_id) == (False, first.outage_id)


def test_a_normal_report_after_a_partial_restoration_is_answered(
        engine: Engine, settings: Settings, grid: Any) -> None:
    first = _report(engine, settings, customer="C000", at=utcnow() - timedelta(minutes=50))
    faults.confirm(engine, settings, fault_id=first.outage_id,
                   area=area(columns(0, 1), settings), started_at=ahead(hours=-1), **ACT)
    faults.restore(engine, settings, fault_id=first.outage_id,
                   at=utcnow() - timedelta(minutes=10), codes=["C010"], **ACT)
    # C010, told power is back, calls in a plain fault report (not a "still out" reply).
    again = _report(engine, settings, customer="C010")
    assert again.outage_id == first.outage_id
    (cid,) = ids_of(engine, ["C010"])
    with engine.connect() as conn:
        ends = list(conn.execute(select(Interruption.end_at).where(
            Interruption.outage_id == first.outage_id,
            Interruption.customer_id == cid)).scalars())
    # The incident still counts C010 as restored: reliability and notices ignore the call.
    assert ends == [None], "C010 reported no power but stays recorded as restored"


def test_the_last_restoration_answers_a_member_who_called_after_a_partial_step(
        engine: Engine, settings: Settings, grid: Any) -> None:
    first = _report(engine, settings, customer="C000", at=utcnow() - timedelta(minutes=50))
    faults.confirm(engine, settings, fault_id=first.outage_id,
                   area=area(columns(0, 1), settings), started_at=ahead(hours=-1), **ACT)
    faults.restore(engine, settings, fault_id=first.outage_id,
                   at=utcnow() - timedelta(minutes=10), codes=["C010"], **ACT)
    called_at = utcnow()
    _report(engine, settings, customer="C010")
    faults.restore(engine, settings, fault_id=first.outage_id, at=None, **ACT)
    (cid,) = ids_of(engine, ["C010"])
    with engine.connect() as conn:
        after_call = conn.execute(select(outbox.c.kind, outbox.c.status).where(
            outbox.c.customer_id == cid, outbox.c.created_at >= called_at)).all()
    # What C010 hears after the call, and that is still to go out: nothing at all.
    live = [r for r in after_call if r.status != "skipped"]
    assert any(r.kind in ("restored", "report_unresolved") for r in live), after_call


def test_still_out_by_the_desk_names_the_customer_as_stored(
        engine: Engine, settings: Settings, grid: Any) -> None:
    first = _report(engine, settings, customer="C000")
    faults.confirm(engine, settings, fault_id=first.outage_id,
                   area=area(columns(0, 1), settings), started_at=ahead(hours=-2), **ACT)
    faults.restore(engine, settings, fault_id=first.outage_id,
                   at=utcnow() - timedelta(minutes=30), **ACT)
    done = reopen.report(engine, settings, customer="c010", via="cli", **ACT)
    assert done.reopened is True
    assert done.customer == "C010"


def test_the_suggested_etr_is_one_the_desk_may_set(
        engine: Engine, settings: Settings, add_customers: Any) -> None:
    from datetime import datetime

    from outages.lifecycle import core as lc
    from outages.lifecycle import etr
    from tests.lifecycle.conftest import grid_rows

    add_customers(grid_rows(10))
    day = utcnow().replace(second=0, microsecond=0) - timedelta(days=3)
    for n in range(3):  # three past weather incidents on F1, 30 minutes each
        r = _report(engine, settings, point=(LON0 + 0.1 * n, LAT0))
        faults.confirm(engine, settings, fault_id=r.outage_id, feeders=["F1"], cause="weather",
                       started_at=day + timedelta(hours=6 * n), **ACT)
        faults.restore(engine, settings, fault_id=r.outage_id,
                       at=day + timedelta(hours=6 * n, minutes=30), **ACT)
    # An incident that began 2 hours ago (the first call came late): no past one lasted so
    # long, so there is nothing to suggest (a start plus 30 minutes would be 90 minutes ago).
    r = _report(engine, settings, point=(LON0 + 0.5, LAT0))
    faults.confirm(engine, settings, fault_id=r.outage_id, feeders=["F1"], cause="weather",
                   started_at=utcnow() - timedelta(hours=2), **ACT)
    with engine.connect() as conn:
        assert etr.suggest(conn, settings, lc.load(conn, r.outage_id)) is None
    # One that began 10 minutes ago: its start plus the median, ahead, and the desk may set it.
    r = _report(engine, settings, point=(LON0 + 0.7, LAT0))
    started = utcnow() - timedelta(minutes=10)
    faults.confirm(engine, settings, fault_id=r.outage_id, feeders=["F1"], cause="weather",
                   started_at=started, **ACT)
    with engine.connect() as conn:
        suggestion = etr.suggest(conn, settings, lc.load(conn, r.outage_id))
    assert suggestion is not None and suggestion.median_minutes == 30
    at = datetime.fromisoformat(suggestion.at)
    assert at > utcnow()
    faults.set_etr(engine, settings, fault_id=r.outage_id, at=at, **ACT)
