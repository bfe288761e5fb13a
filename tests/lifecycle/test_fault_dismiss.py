"""A reported incident the crew found no fault on the network for is dismissed: it closes
with its reason, records no interruption, leaves the public answers, and a later report from
the same place opens a new incident. A confirmed one is refused: it ends by restoration."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from outages.cli.errors import describe
from outages.errors import Conflict, NotFound, ValidationError
from outages.lifecycle import durations, faults, views
from outages.models import AuditEntry, Interruption
from outages.reliability.report import Request, compute
from outages.settings import Settings
from outages.timeutil import to_local, utcnow
from tests.lifecycle.conftest import LAT0, LON0, ahead, columns, public_refs
from tests.lifecycle.test_cuts_create import area
from tests.lifecycle.test_faults import ACT, report

FOUND = "the customer's own breaker had tripped"


def test_a_reported_incident_is_dismissed_with_its_reason_and_leaves_the_public_answers(
        engine: Engine, settings: Settings, grid: Any) -> None:
    first = report(engine, settings, customer="C000")
    report(engine, settings, customer="C004")
    # An ETR given while only reported is public: it goes with the dismissal.
    etr = faults.set_etr(engine, settings, fault_id=first.outage_id, at=ahead(hours=2), **ACT)
    assert etr.public_ref in public_refs(engine, settings)
    view = faults.dismiss(engine, settings, fault_id=first.outage_id, reason=f"  {FOUND} ",
                          actor="dispatcher", source="http", seen=etr.revision)
    assert (view.status, view.dismiss_reason, view.revision) == ("dismissed", FOUND, 3)
    assert etr.public_ref not in public_refs(engine, settings)
    with engine.connect() as conn:
        [listed] = views.listing(conn, settings, kind="fault", status="dismissed")
        assert views.listing(conn, settings, kind="fault", status="reported") == []
        audit = conn.execute(select(AuditEntry.actor, AuditEntry.source).where(
            AuditEntry.action == "fault.dismissed")).all()
        interruptions = conn.execute(select(func.count()).select_from(Interruption)).scalar()
    assert (listed.id, listed.dismiss_reason) == (first.outage_id, FOUND)
    assert audit == [("dispatcher", "http")]
    assert interruptions == 0


def test_a_later_report_from_the_same_place_opens_a_new_incident(
        engine: Engine, settings: Settings, grid: Any) -> None:
    first = report(engine, settings, customer="C000")
    faults.dismiss(engine, settings, fault_id=first.outage_id, reason=FOUND, **ACT)
    again = report(engine, settings, customer="C001")  # next door, minutes later
    assert again.new_incident and again.outage_id != first.outage_id
    assert again.status == "reported"


def test_dismissing_is_refused_unless_the_incident_is_only_reported(
        engine: Engine, settings: Settings, grid: Any) -> None:
    a = report(engine, settings, customer="C000")
    with pytest.raises(ValidationError, match="say why") as blank:
        faults.dismiss(engine, settings, fault_id=a.outage_id, reason="  ", **ACT)
    assert blank.value.field == "reason"
    with pytest.raises(Conflict, match="changed after the page was opened") as stale:
        faults.dismiss(engine, settings, fault_id=a.outage_id, reason=FOUND, seen=2, **ACT)
    assert stale.value.field == "revision"
    faults.confirm(engine, settings, fault_id=a.outage_id, area=area(columns(0, 1), settings),
                   started_at=ahead(minutes=-30), **ACT)
    with pytest.raises(Conflict, match="is confirmed") as confirmed:
        faults.dismiss(engine, settings, fault_id=a.outage_id, reason=FOUND, **ACT)
    assert confirmed.value.hint == "restore_fault"
    assert describe(confirmed.value, []).endswith(
        "record its restoration instead with `outages faults restore ID`")
    faults.restore(engine, settings, fault_id=a.outage_id, at=None, **ACT)
    with pytest.raises(Conflict, match="is restored; only a reported incident"):
        faults.dismiss(engine, settings, fault_id=a.outage_id, reason=FOUND, **ACT)
    b = report(engine, settings, point=(LON0 + 0.02, LAT0))
    faults.dismiss(engine, settings, fault_id=b.outage_id, reason=FOUND, **ACT)
    with pytest.raises(Conflict, match="is dismissed"):
        faults.dismiss(engine, settings, fault_id=b.outage_id, reason=FOUND, **ACT)
    with pytest.raises(NotFound):
        faults.dismiss(engine, settings, fault_id=b.outage_id + 100, reason=FOUND, **ACT)


def test_a_dismissed_incident_counts_in_no_reliability_index(
        engine: Engine, settings: Settings, grid: Any) -> None:
    real = report(engine, settings, customer="C000")
    confirmed = faults.confirm(engine, settings, fault_id=real.outage_id,
                               area=area(columns(0, 1), settings),
                               started_at=ahead(minutes=-90), **ACT)
    faults.restore(engine, settings, fault_id=real.outage_id, at=ahead(minutes=-30), **ACT)
    false_alarm = report(engine, settings, point=(LON0 + 0.02, LAT0))  # ~2 km away
    assert false_alarm.new_incident
    faults.dismiss(engine, settings, fault_id=false_alarm.outage_id, reason=FOUND, **ACT)
    today = to_local(utcnow(), settings.tz).date()
    with engine.connect() as conn:
        totals = compute(conn, settings, Request(today, today, planned="include")
                         ).to_json().totals
        logged = durations.outage_durations(conn, settings, first=today, last=today)
    assert confirmed.affected == 20
    assert totals.indices["SAIFI"] == pytest.approx(20 / 100)  # the real incident alone
    assert totals.indices["SAIDI"] == pytest.approx(20 * 60 / 100)
    assert [row.id for row in logged] == [real.outage_id]


def test_cli_dismiss_show_and_list(cli: Any, grid: Any) -> None:
    opened = json.loads(cli("faults", "report", "--customer", "C000", "--json").stdout)
    fault_id = str(opened["outage_id"])
    missing = cli("faults", "dismiss", fault_id)
    assert missing.exit_code != 0 and "--reason" in missing.output
    done = cli("faults", "dismiss", fault_id, "--reason", FOUND, "--by", "lan")
    assert done.exit_code == 0, done.output
    assert "dismissed" in done.stdout and FOUND in done.stdout
    shown = json.loads(cli("faults", "show", fault_id, "--json").stdout)
    assert (shown["status"], shown["dismiss_reason"]) == ("dismissed", FOUND)
    listed = json.loads(cli("faults", "list", "--status", "dismissed", "--json").stdout)
    assert [f["id"] for f in listed] == [int(fault_id)]
    again = cli("faults", "dismiss", fault_id, "--reason", FOUND)
    assert again.exit_code != 0 and "only a reported incident can be dismissed" in again.output
    other = json.loads(cli("faults", "report", "--customer", "C050", "--json").stdout)
    cli("faults", "confirm", str(other["outage_id"]), "--feeder", "F1")
    refused = cli("faults", "dismiss", str(other["outage_id"]), "--reason", FOUND)
    assert refused.exit_code != 0
    assert "record its restoration instead with `outages faults restore ID`" in refused.output
