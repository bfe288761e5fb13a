"""Reports far apart about the same fault opened two incidents: the duplicate (reported) is
merged into the one that stands. Its reports join that incident (a repeat from the same
reporter counted on the report already there), it closes as 'merged' keeping where it went,
leaves the public answers and counts in no index. Every other merge is refused with the way
out."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from outages.cli.errors import describe
from outages.errors import Conflict, NotFound, ValidationError
from outages.lifecycle import durations, fault_merge, faults, views
from outages.models import AuditEntry, FaultReport, Interruption
from outages.reliability.report import Request, compute
from outages.settings import Settings
from outages.timeutil import to_local, utcnow
from tests.lifecycle.conftest import LAT0, LON0, STEP, ahead, columns, public_refs
from tests.lifecycle.test_cuts_create import area
from tests.lifecycle.test_faults import ACT, report

CALLER = "+84912345678"  # on no account
FAR = (LON0 + 0.02, LAT0)  # about 2 km from the grid's first column


def _reports(engine: Engine, outage_id: int) -> list[tuple[str | None, int]]:
    r = FaultReport.__table__.c
    with engine.connect() as conn:
        return [(row.phone, row.reports) for row in conn.execute(
            select(r.phone, r.reports).where(r.outage_id == outage_id).order_by(r.id))]


def test_the_duplicates_reports_join_the_target_and_it_closes_as_merged(
        engine: Engine, settings: Settings, grid: Any) -> None:
    target = report(engine, settings, customer="C000")
    report(engine, settings, phone=CALLER, point=(LON0 + STEP, LAT0))  # joins the target
    duplicate = report(engine, settings, phone=CALLER, point=FAR)
    assert duplicate.new_incident
    report(engine, settings, phone=CALLER, point=FAR)  # a repeat, counted there
    other = report(engine, settings, point=(FAR[0] + STEP, LAT0))
    assert other.outage_id == duplicate.outage_id
    # An ETR given while only reported is public: it goes with the duplicate.
    etr = faults.set_etr(engine, settings, fault_id=duplicate.outage_id, at=ahead(hours=2),
                         **ACT)
    assert etr.public_ref in public_refs(engine, settings)
    view = fault_merge.merge(engine, settings, fault_id=duplicate.outage_id,
                             into=target.outage_id, actor="dispatcher", source="http",
                             seen=etr.revision)
    assert (view.status, view.merged_into) == ("merged", target.outage_id)
    assert _reports(engine, duplicate.outage_id) == []
    # The caller's two calls to the duplicate are counted on their report to the target.
    assert _reports(engine, target.outage_id) == [("+84900000000", 1), (CALLER, 3), (None, 1)]
    assert etr.public_ref not in public_refs(engine, settings)
    with engine.connect() as conn:
        [listed] = views.listing(conn, settings, kind="fault", status="merged")
        still = [f.id for f in views.listing(conn, settings, kind="fault", status="reported")]
        audit = conn.execute(select(AuditEntry.action, AuditEntry.actor, AuditEntry.source)
                             .where(AuditEntry.action.like("fault.merged%"))
                             .order_by(AuditEntry.id)).all()
    assert (listed.id, listed.merged_into) == (duplicate.outage_id, target.outage_id)
    assert still == [target.outage_id]
    assert audit == [("fault.merged", "dispatcher", "http"),
                     ("fault.merged_in", "dispatcher", "http")]


def test_a_later_report_from_the_duplicates_place_joins_the_target(
        engine: Engine, settings: Settings, grid: Any) -> None:
    target = report(engine, settings, customer="C000")
    duplicate = report(engine, settings, point=FAR)
    fault_merge.merge(engine, settings, fault_id=duplicate.outage_id, into=target.outage_id,
                      **ACT)
    again = report(engine, settings, point=(FAR[0] + STEP, LAT0))  # its reports moved there
    assert (again.outage_id, again.new_incident) == (target.outage_id, False)


def test_merging_is_refused_with_the_way_out(
        engine: Engine, settings: Settings, grid: Any, relaxed: Settings) -> None:
    target = report(engine, settings, customer="C000")
    duplicate = report(engine, settings, point=FAR)
    dup, into = duplicate.outage_id, target.outage_id
    with pytest.raises(ValidationError, match="into itself") as itself:
        fault_merge.merge(engine, settings, fault_id=dup, into=dup, **ACT)
    assert itself.value.field == "into"
    with pytest.raises(NotFound, match="to merge into") as missing:
        fault_merge.merge(engine, settings, fault_id=dup, into=dup + 100, **ACT)
    assert describe(missing.value, []).endswith("see `outages faults list`")
    with pytest.raises(Conflict, match="changed after the page was opened") as stale:
        fault_merge.merge(engine, settings, fault_id=dup, into=into, seen=5, **ACT)
    assert stale.value.field == "revision"
    cut = _planned_cut(engine, relaxed)
    with pytest.raises(ValidationError, match="is a planned cut") as planned:
        fault_merge.merge(engine, settings, fault_id=dup, into=cut, **ACT)
    assert describe(planned.value, []).endswith(
        "with `outages faults dismiss ID --reason TEXT`")
    faults.confirm(engine, settings, fault_id=into, area=area(columns(0, 1), settings),
                   started_at=ahead(minutes=-30), **ACT)
    with pytest.raises(Conflict, match="is confirmed") as confirmed:
        fault_merge.merge(engine, settings, fault_id=into, into=dup, **ACT)
    assert f"merge incident {dup} into it instead" in confirmed.value.message
    faults.restore(engine, settings, fault_id=into, at=None, **ACT)
    with pytest.raises(Conflict, match="is restored: reports cannot join a closed"):
        fault_merge.merge(engine, settings, fault_id=dup, into=into, **ACT)
    third = report(engine, settings, point=(FAR[0], LAT0 + 0.02)).outage_id
    fault_merge.merge(engine, settings, fault_id=dup, into=third, **ACT)
    with pytest.raises(Conflict, match="is merged; only a reported incident") as merged:
        fault_merge.merge(engine, settings, fault_id=dup, into=third, **ACT)
    assert merged.value.message.endswith("leave it as it is")
    with pytest.raises(Conflict, match="is restored; only a reported incident"):
        fault_merge.merge(engine, settings, fault_id=into, into=third, **ACT)
    with pytest.raises(Conflict, match="is merged: reports cannot join a closed"):
        fault_merge.merge(engine, settings, fault_id=third, into=dup, **ACT)
    with engine.connect() as conn:
        assert [f.status for f in views.listing(conn, settings, kind="fault")] == [
            "restored", "merged", "reported"]


def _planned_cut(engine: Engine, settings: Settings) -> int:
    from outages.lifecycle import cuts

    return cuts.create(engine, settings, area=area(columns(5, 6), settings),
                       start=ahead(hours=1), end=ahead(hours=3), reason="maintenance",
                       **ACT).id


def test_a_merged_incident_counts_in_no_reliability_index(
        engine: Engine, settings: Settings, grid: Any) -> None:
    real = report(engine, settings, customer="C000")
    duplicate = report(engine, settings, point=FAR)
    fault_merge.merge(engine, settings, fault_id=duplicate.outage_id, into=real.outage_id,
                      **ACT)
    confirmed = faults.confirm(engine, settings, fault_id=real.outage_id,
                               area=area(columns(0, 1), settings),
                               started_at=ahead(minutes=-90), **ACT)
    faults.restore(engine, settings, fault_id=real.outage_id, at=ahead(minutes=-30), **ACT)
    today = to_local(utcnow(), settings.tz).date()
    with engine.connect() as conn:
        totals = compute(conn, settings, Request(today, today, planned="include")
                         ).to_json().totals
        logged = durations.outage_durations(conn, settings, first=today, last=today)
        interruptions = conn.execute(select(func.count()).select_from(Interruption).where(
            Interruption.outage_id == duplicate.outage_id)).scalar()
    assert confirmed.affected == 20 and interruptions == 0
    assert totals.indices["SAIFI"] == pytest.approx(20 / 100)
    assert [row.id for row in logged] == [real.outage_id]


def test_cli_merge_and_show_say_where_it_went(cli: Any, grid: Any) -> None:
    target = json.loads(cli("faults", "report", "--customer", "C000", "--json").stdout)
    dup = json.loads(cli("faults", "report", "--at", f"{FAR[0]},{FAR[1]}", "--json").stdout)
    into, dup_id = str(target["outage_id"]), str(dup["outage_id"])
    missing = cli("faults", "merge", dup_id)
    assert missing.exit_code != 0 and "--into" in missing.output
    itself = cli("faults", "merge", dup_id, "--into", dup_id)
    assert itself.exit_code == 2 and "--into: incident" in itself.output
    done = cli("faults", "merge", dup_id, "--into", into, "--by", "lan")
    assert done.exit_code == 0, done.output
    assert "merged" in done.stdout and f"incident #{into}" in done.stdout
    shown = cli("faults", "show", dup_id)
    assert "merged into" in shown.stdout and f"outages faults show {into}" in shown.stdout
    as_json = json.loads(cli("faults", "show", dup_id, "--json").stdout)
    assert (as_json["status"], as_json["merged_into"]) == ("merged", int(into))
    listed = json.loads(cli("faults", "list", "--status", "merged", "--json").stdout)
    assert [f["id"] for f in listed] == [int(dup_id)]
    again = cli("faults", "merge", dup_id, "--into", into)
    assert again.exit_code == 4 and "only a reported incident can be merged" in again.output
    cli("faults", "confirm", into, "--feeder", "F1")
    other = json.loads(cli("faults", "report", "--at", f"{FAR[0]},{LAT0 + 0.02}",
                           "--json").stdout)
    refused = cli("faults", "merge", into, "--into", str(other["outage_id"]))
    assert refused.exit_code == 4 and "merge incident" in refused.output
