"""A call from a customer out in a planned cut under way is about the cut: it joins the cut
instead of opening a fault incident, and the caller hears when power is expected back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from notifier.store import outbox
from outages.db import write_transaction
from outages.enums import OutageKind
from outages.models import Interruption, Outage
from outages.notices import sms_commands
from outages.settings import Settings
from tests.lifecycle.conftest import LAT0, LON0, ahead, columns, ids_of


def _started_cut(cli: Any, area_file: Any) -> int:
    """A cut over grid column 0 (C000, C010 .. C090), under way since 10 minutes ago and
    expected to end in 3 hours."""
    created = json.loads(cli("cuts", "create", "--area", area_file(columns(0, 0)),
                             "--start", ahead(minutes=30).isoformat(),
                             "--end", ahead(hours=3).isoformat(), "--reason", "bao duong",
                             "--json", OUTAGES_PLANNED_MIN_NOTICE="0s").stdout)
    cli("cuts", "start", str(created["id"]), "--at", ahead(minutes=-10).isoformat())
    return int(created["id"])


def _faults(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Outage.__table__)
                                .where(Outage.kind == OutageKind.FAULT)).scalar_one())


def _received(engine: Engine, code: str) -> list[str]:
    (cid,) = ids_of(engine, [code])
    with engine.connect() as conn:
        return list(conn.execute(select(outbox.c.body).where(
            outbox.c.customer_id == cid, outbox.c.kind == "fault_report_received",
            outbox.c.channel == "sms")).scalars())


def test_a_call_from_a_customer_out_in_a_cut_joins_the_cut(
        engine: Engine, relaxed: Settings, grid: Any, cli: Any, area_file: Any) -> None:
    cut = _started_cut(cli, area_file)
    filed = json.loads(cli("faults", "report", "--customer", "C010", "--json").stdout)
    assert (filed["outage_id"], filed["kind"], filed["new_incident"]) == (cut, "planned", False)
    assert _faults(engine) == 0  # no incident for the desk to chase, no second interruption
    with engine.connect() as conn:
        (cid,) = ids_of(engine, ["C010"])
        assert conn.execute(select(func.count()).select_from(Interruption.__table__).where(
            Interruption.customer_id == cid)).scalar_one() == 1
    [body] = _received(engine, "C010")
    assert "theo ke hoach" in body and "dang kiem tra" not in body, body
    # A second call is counted on the same report.
    again = json.loads(cli("faults", "report", "--customer", "C010", "--json").stdout)
    assert (again["report_id"], again["reports"]) == (filed["report_id"], 2)
    # A neighbour outside the cut still opens an incident.
    other = json.loads(cli("faults", "report", "--customer", "C015", "--json").stdout)
    assert (other["kind"], other["new_incident"]) == ("fault", True)


def test_a_customer_told_power_is_back_who_calls_is_reopened_in_the_cut_only(
        engine: Engine, relaxed: Settings, grid: Any, cli: Any, area_file: Any,
        tmp_path: Path) -> None:
    cut = _started_cut(cli, area_file)
    codes = tmp_path / "codes.txt"
    codes.write_text("C020\n")
    cli("cuts", "restore", str(cut), "--customers", str(codes),
        "--at", ahead(minutes=-5).isoformat())
    filed = json.loads(cli("faults", "report", "--customer", "C020", "--json").stdout)
    assert (filed["outage_id"], filed["kind"]) == (cut, "planned")
    assert _faults(engine) == 0
    # Told power was back: not explained away by the cut's end; the desk looks into it.
    [body] = _received(engine, "C020")
    assert "dang kiem tra" in body and "theo ke hoach" not in body, body


def test_a_texted_report_during_a_cut_is_answered_with_the_cut_s_end(
        engine: Engine, relaxed: Settings, grid: Any, cli: Any, area_file: Any) -> None:
    _started_cut(cli, area_file)
    with write_transaction(engine) as conn:
        reply = sms_commands.receive(conn, relaxed, message_sid="SM1", phone="+84900000030",
                                     text="MATDIEN")
    assert reply is not None
    text = sms_commands.render(reply, relaxed)
    assert "C030" in text and "theo ke hoach" in text, text
    assert "se nhan tin" not in text, text  # no ETR text will follow: the cut has its end
    assert _faults(engine) == 0


def test_a_caller_without_an_account_inside_a_cut_under_way_joins_the_cut(
        engine: Engine, relaxed: Settings, grid: Any, cli: Any, area_file: Any) -> None:
    cut = _started_cut(cli, area_file)
    inside = json.loads(cli("faults", "report", "--phone", "+84912000001",
                            "--at", f"{LON0},{LAT0 + 0.0045}", "--json").stdout)
    assert (inside["outage_id"], inside["kind"]) == (cut, "planned")
    with engine.connect() as conn:
        [body] = conn.execute(select(outbox.c.body).where(
            outbox.c.recipient == "+84912000001")).scalars()
    assert "theo ke hoach" in body, body
    outside = json.loads(cli("faults", "report", "--phone", "+84912000002",
                             "--at", f"{LON0 + 0.005},{LAT0}", "--json").stdout)
    assert (outside["kind"], outside["new_incident"]) == ("fault", True)
    assert _faults(engine) == 1
