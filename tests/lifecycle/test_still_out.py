"""'Still no power' after a restoration: reopening the customer in the same outage, the
incident back to a state the desk works on, the alert, the window, and the real end."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from notifier.store import outbox
from outages.lifecycle import alerts, faults, reopen
from outages.models import Interruption
from outages.settings import Settings
from outages.timeutil import utcnow
from tests.lifecycle.conftest import ahead, columns, ids_of
from tests.lifecycle.test_cuts_create import area
from tests.lifecycle.test_faults import ACT, report


def _restored_incident(engine: Engine, settings: Settings, *, restored_ago: timedelta) -> int:
    """An incident over grid columns 0..1 (20 customers), restored `restored_ago`."""
    first = report(engine, settings, customer="C000")
    faults.confirm(engine, settings, fault_id=first.outage_id,
                   area=area(columns(0, 1), settings), started_at=ahead(hours=-20), **ACT)
    faults.restore(engine, settings, fault_id=first.outage_id,
                   at=utcnow() - restored_ago, **ACT)
    return first.outage_id


def _ends(engine: Engine, outage_id: int, code: str) -> list[Any]:
    (cid,) = ids_of(engine, [code])
    with engine.connect() as conn:
        return list(conn.execute(select(Interruption.end_at).where(
            Interruption.outage_id == outage_id, Interruption.customer_id == cid)).scalars())


def test_a_reply_within_the_window_reopens_the_customer_and_the_incident(
        engine: Engine, settings: Settings, grid: Any, cli: Any) -> None:
    fault_id = _restored_incident(engine, settings, restored_ago=timedelta(hours=1))
    done = json.loads(cli("faults", "still-out", "C010", "--json").stdout)
    assert (done["reopened"], done["outage_id"], done["already"]) == (True, fault_id, False)
    assert _ends(engine, fault_id, "C010") == [None]  # running again: the end was wrong
    shown = json.loads(cli("faults", "show", str(fault_id), "--json").stdout)
    # A restored incident goes back to confirmed: the desk restores it from there.
    assert (shown["status"], shown["actual_end"], shown["remaining"]) == ("confirmed", None, 1)
    assert shown["still_out_after_restoration"] == 1
    [reply] = shown["reopened"]
    assert (reply["customer"], reply["via"], reply["still_out"]) == ("C010", "cli", True)
    assert reply["replied_at"] == done["replied_at"]
    text = cli("faults", "show", str(fault_id))
    assert "1 still out after restoration" in text.stderr
    # Replying again changes nothing.
    again = json.loads(cli("faults", "still-out", "C010", "--json").stdout)
    assert (again["reopened"], again["already"], again["alert_id"]) == (
        True, True, done["alert_id"])
    # Two more near each other join the same alert.
    for code in ("C011", "C001"):
        assert json.loads(cli("faults", "still-out", code, "--json").stdout)["alert_id"] \
            == done["alert_id"]
    [alert] = json.loads(cli("alerts", "list", "--json").stdout)
    assert (alert["id"], alert["outage_id"], alert["still_out"], alert["open"]) == (
        done["alert_id"], fault_id, 3, True)


def test_the_real_end_counts_once_recorded(engine: Engine, settings: Settings, grid: Any,
                                           cli: Any) -> None:
    fault_id = _restored_incident(engine, settings, restored_ago=timedelta(hours=2))
    cli("faults", "still-out", "C010")
    real_end = (utcnow() - timedelta(minutes=5)).replace(microsecond=0)
    faults.restore(engine, settings, fault_id=fault_id, at=real_end, codes=["C010"], **ACT)
    [end] = _ends(engine, fault_id, "C010")
    assert end == real_end
    shown = json.loads(cli("faults", "show", str(fault_id), "--json").stdout)
    assert shown["status"] == "restored" and shown["still_out_after_restoration"] == 0
    assert shown["reopened"][0]["still_out"] is False
    assert json.loads(cli("alerts", "list", "--json").stdout) == []
    assert len(json.loads(cli("alerts", "list", "--all", "--json").stdout)) == 1
    exported = cli("interruptions", "export", "--format", "json")
    rows = [r for r in json.loads(exported.stdout) if r["customer_code"] == "C010"]
    assert len(rows) == 1 and rows[0]["duration_minutes"] > 20 * 60 - 10


def test_a_reply_after_the_window_files_a_new_fault_report(
        engine: Engine, make_settings: Any, grid: Any, cli: Any) -> None:
    settings = make_settings()
    fault_id = _restored_incident(engine, settings, restored_ago=timedelta(hours=13))
    done = json.loads(cli("faults", "still-out", "C010", "--json").stdout)
    assert done["reopened"] is False and done["report_id"] is not None
    assert done["outage_id"] != fault_id
    assert _ends(engine, fault_id, "C010")[0] is not None
    assert json.loads(cli("alerts", "list", "--all", "--json").stdout) == []
    # A wider window makes the same reply a reopening.
    wide = json.loads(cli("faults", "still-out", "C011", "--json",
                          OUTAGES_FAULTS_STILL_OUT_WINDOW="14h").stdout)
    assert (wide["reopened"], wide["outage_id"]) == (True, fault_id)


def test_a_completed_cut_goes_back_in_progress_and_the_customer_is_acknowledged(
        engine: Engine, relaxed: Settings, grid: Any, cli: Any, area_file: Any) -> None:
    created = json.loads(cli("cuts", "create", "--area", area_file(columns(0, 0)),
                             "--start", ahead(minutes=30).isoformat(),
                             "--end", ahead(hours=3).isoformat(), "--reason", "bao duong",
                             "--json", OUTAGES_PLANNED_MIN_NOTICE="0s").stdout)
    cut = str(created["id"])
    cli("cuts", "start", cut, "--at", ahead(minutes=-90).isoformat())
    cli("cuts", "restore", cut, "--at", ahead(minutes=-30).isoformat())
    assert json.loads(cli("cuts", "show", cut, "--json").stdout)["status"] == "completed"
    assert json.loads(cli("faults", "still-out", "C020", "--json").stdout)["reopened"]
    shown = json.loads(cli("cuts", "show", cut, "--json").stdout)
    assert (shown["status"], shown["remaining"]) == ("in_progress", 1)
    (cid,) = ids_of(engine, ["C020"])
    with engine.connect() as conn:
        kinds = dict(conn.execute(select(outbox.c.kind, outbox.c.status).where(
            outbox.c.customer_id == cid,
            outbox.c.kind.in_(("restored", "still_out_ack")))).all())
    # The "restored" notice not sent yet is untrue now; the customer hears they were heard.
    assert kinds == {"restored": "skipped", "still_out_ack": "pending"}


def test_unknown_customer_is_refused(cli: Any, grid: Any) -> None:
    result = cli("faults", "still-out", "NOPE")
    assert result.exit_code == 3


@pytest.mark.postgres_only
def test_replies_at_the_same_moment_share_one_alert(engine: Engine, settings: Settings,
                                                    grid: Any) -> None:
    fault_id = _restored_incident(engine, settings, restored_ago=timedelta(hours=1))
    codes = [f"C0{row}{col}" for row in range(6) for col in range(2)]
    start = threading.Barrier(len(codes))

    def reply(code: str) -> Any:
        start.wait()
        return reopen.report(engine, settings, customer=code, via="api", **ACT)

    with ThreadPoolExecutor(len(codes)) as pool:
        done = list(pool.map(reply, codes))
    assert {d.outage_id for d in done} == {fault_id}
    assert len({d.alert_id for d in done}) == 1
    with engine.connect() as conn:
        [alert] = alerts.listing(conn, settings)
    assert alert.still_out == len(codes)
