"""What engineers read: group names as written (brackets too), causes with only momentary
interruptions in the HTML, and no interruption that has not begun."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from outages.models import Outage
from tests.reliability import builders as b

PERIOD = ("--from", "2025-01-01", "--to", "2025-12-31")


def test_an_open_interruption_not_started_yet_is_skipped(engine, report, time_machine) -> None:
    # README: "an interruption with no recorded restoration counts until the end of the
    # period or now, whichever is earlier ...; one not started yet is skipped."
    ids = b.customers(engine, 10)
    now = datetime(2025, 6, 10, 3, 0, tzinfo=UTC)  # 10:00 local
    b.interruptions(engine, b.outage(engine), ids[:3], now + timedelta(hours=2), None)
    time_machine.move_to(now, tick=False)
    got = report("2025-06-10", "2025-06-10").totals.indices
    assert got["customer_interruptions"] == 0
    assert got["customers_interrupted"] == 0
    assert got["SAIFI"] == 0


def test_table_shows_group_keys_as_written(cli, engine) -> None:
    # A district name with brackets is free text from the customer file.
    old = b.customers(engine, 10, district="Phường 1 [cũ]", prefix="A")
    b.customers(engine, 10, district="Phường 1", prefix="B")
    b.interruptions(engine, b.outage(engine), old[:5], b.T0, 60)
    as_json = json.loads(cli("report", "reliability", *PERIOD, "--by", "district",
                             "--format", "json").stdout)
    assert [g["key"] for g in as_json["groups"]] == ["Phường 1", "Phường 1 [cũ]"]
    table = cli("report", "reliability", *PERIOD, "--by", "district")
    assert table.exit_code == 0
    assert "Phường 1 [cũ]" in table.stdout


def test_table_with_a_bracketed_cause_does_not_crash(cli, engine) -> None:
    ids = b.customers(engine, 10)
    b.interruptions(engine, b.outage(engine), ids[:5], b.T0, 60, cause="cây đổ [/]")
    result = cli("report", "reliability", *PERIOD, "--by", "cause")
    assert result.exit_code == 0
    assert "cây đổ [/]" in result.stdout


def test_durations_table_with_a_bracketed_area_name_does_not_crash(cli, engine) -> None:
    with engine.begin() as conn:
        conn.execute(insert(Outage.__table__).values(
            kind="fault", status="completed", area_name="Ngõ 5 [/] Hàng Bạc",
            actual_start=b.T0, actual_end=b.T0 + timedelta(hours=1)))
    result = cli("outages", "durations", *PERIOD)
    assert result.exit_code == 0
    assert "Ngõ 5 [/] Hàng Bạc" in result.stdout


def test_html_by_cause_keeps_causes_with_only_momentary_interruptions(cli, engine,
                                                                       tmp_path) -> None:
    ids = b.customers(engine, 10)
    b.interruptions(engine, b.outage(engine), ids[:4], b.T0, 2, cause="lightning")
    as_json = json.loads(cli("report", "reliability", *PERIOD, "--by", "cause",
                             "--format", "json").stdout)
    (lightning,) = as_json["groups"]
    assert lightning["key"] == "lightning" and lightning["indices"]["MAIFIe"] == 0.4
    out = tmp_path / "report.html"
    assert cli("report", "reliability", *PERIOD, "--format", "html",
               "--out", str(out)).exit_code == 0
    page = out.read_text(encoding="utf-8")
    by_cause = page[page.index("<h2>By cause"):page.index("<h2>Worst feeders by SAIDI")]
    assert "No interruptions in the period." not in by_cause
    assert "lightning" in by_cause


def test_html_charts_take_feeder_names_with_dollar_signs_as_written(cli, engine,
                                                                    tmp_path) -> None:
    # Feeder names are free text from the customer file; matplotlib reads "$...$" as math.
    names = ["Lộ 471 $x^$", "$$", "F$1$"]
    for n, feeder in enumerate(names):
        ids = b.customers(engine, 10, feeder=feeder, prefix=f"P{n}")
        b.interruptions(engine, b.outage(engine), ids[:n + 1], b.T0, 60)
    out, charts = tmp_path / "report.html", tmp_path / "charts"
    result = cli("report", "reliability", *PERIOD, "--format", "html", "--out", str(out),
                 "--charts-dir", str(charts))
    assert result.exit_code == 0, result.stderr
    page = out.read_text(encoding="utf-8")
    feeders = page[page.index("<h2>Worst feeders by SAIDI"):page.index("<h2>Counting rules")]
    assert all(f"<td>{name}</td>" in feeders for name in names)
    assert (charts / "feeders.png").read_bytes().startswith(b"\x89PNG")


def test_csv_keys_are_the_json_keys_for_interruptions_without_a_cause(cli, engine) -> None:
    ids = b.customers(engine, 10)
    b.interruptions(engine, b.outage(engine), ids[:2], b.T0, 60, cause="weather")
    b.interruptions(engine, b.outage(engine), ids[2:5], b.T0, 60)  # no cause recorded
    as_json = json.loads(cli("report", "reliability", *PERIOD, "--by", "cause",
                             "--format", "json").stdout)
    as_csv = list(csv.DictReader(io.StringIO(cli("report", "reliability", *PERIOD, "--by",
                                                 "cause", "--format", "csv").stdout)))
    assert [g["key"] for g in as_json["groups"]] == ["-", "weather"]
    assert [row["key"] for row in as_csv] == ["-", "weather", "TOTAL"]
    assert float(as_csv[0]["SAIFI"]) == as_json["groups"][0]["indices"]["SAIFI"] == 0.3
