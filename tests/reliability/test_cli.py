"""`outages report reliability` in every format, `outages demo-history`, and bad input."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest

from tests.reliability import builders as b

INDEX_KEYS = {"SAIFI", "SAIDI", "CAIDI", "CTAIDI", "CAIFI", "ASAI", "MAIFI", "MAIFIe", "CEMI",
              "CEMSMI", "CELID_s", "CELID_t", "customer_interruptions", "customer_minutes",
              "customers_interrupted"}
PERIOD = ("--from", "2025-01-01", "--to", "2025-12-31")


@pytest.fixture
def history(engine) -> None:
    north = b.customers(engine, 20, district="North", feeder="F1")
    south = b.customers(engine, 10, district="South", feeder="F2")
    b.interruptions(engine, b.outage(engine, cause="weather"), north[:10], b.T0, 90,
                    cause="weather")
    b.interruptions(engine, b.outage(engine, kind="planned"), south, b.T0 + timedelta(days=40),
                    240, planned=True, cause="planned")
    b.interruptions(engine, b.outage(engine), north, b.T0 + timedelta(days=70), 1,
                    cause="animal")


def test_json_has_exactly_the_documented_shape(cli, history) -> None:
    result = cli("report", "reliability", *PERIOD, "--by", "district", "--format", "json")
    assert result.exit_code == 0, result.stderr
    got = json.loads(result.stdout)
    assert set(got) == {"from", "to", "timezone", "customers_served", "t_med", "t_med_by_year",
                        "major_event_days", "groups", "totals"}
    assert got["t_med_by_year"] == [
        {"year": 2025, "t_med": None, "history_from": "2020-01-01", "history_to": "2024-12-31",
         "history_years": 0.0, "history_short": True, "unrestored_left_out": 0}]
    assert (got["from"], got["to"], got["timezone"]) == ("2025-01-01", "2025-12-31",
                                                         "Asia/Ho_Chi_Minh")
    assert [g["key"] for g in got["groups"]] == ["North", "South"]
    for group in [*got["groups"], got["totals"]]:
        assert set(group) == {"key", "customers_served", "indices"}
        assert set(group["indices"]) == INDEX_KEYS
        assert set(group["indices"]["CEMI"]) == set(group["indices"]["CEMSMI"]) == {
            "1", "2", "3", "4", "5"}
    assert got["totals"]["indices"]["customer_minutes"] == pytest.approx(900 + 2400)
    assert got["groups"][1]["indices"]["SAIDI"] == pytest.approx(240)


def test_json_without_by_has_one_group_all_and_planned_exclude(cli, history) -> None:
    got = json.loads(cli("report", "reliability", *PERIOD, "--format", "json",
                         "--planned", "exclude").stdout)
    assert [g["key"] for g in got["groups"]] == ["all"]
    assert got["groups"][0]["indices"]["customer_minutes"] == pytest.approx(900)
    assert got["customers_served"] == 30


def test_table_shows_variants_side_by_side_with_rules_footer(cli, history) -> None:
    result = cli("report", "reliability", *PERIOD, "--by", "cause")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    for label in ("all -MED", "unpl", "plan", "SAIDI min", "CEMSMI5", "weather", "planned"):
        assert label in out
    saidi = next(line for line in out.splitlines() if line.strip().startswith("SAIDI min"))
    assert saidi.split()[2:5] == ["110.00", "30.000", "80.000"]
    assert "belongs to the period and the day in which it began" in out
    assert "T_MED: not available" in out and "(no interruption recorded)" in out


def test_csv_has_a_row_per_group_and_the_totals(cli, history, tmp_path: Path) -> None:
    target = tmp_path / "r.csv"
    result = cli("report", "reliability", *PERIOD, "--by", "feeder", "--format", "csv",
                 "--out", str(target))
    assert result.exit_code == 0 and f"wrote {target}" in result.stdout
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert [r["key"] for r in rows] == ["F1", "F2", "TOTAL"]
    assert float(rows[0]["SAIDI"]) == pytest.approx(45)
    assert rows[0]["MAIFI"] == "1" and rows[2]["customers_served"] == "30"


def test_html_is_self_contained_and_charts_are_written(cli, history, tmp_path: Path) -> None:
    page, charts = tmp_path / "r.html", tmp_path / "charts"
    result = cli("report", "reliability", *PERIOD, "--by", "district", "--format", "html",
                 "--out", str(page), "--charts-dir", str(charts))
    assert result.exit_code == 0, result.stderr
    html = page.read_text()
    assert html.count('src="data:image/png;base64,') == 4
    assert "http" not in html.replace("http-equiv", "")
    assert "Worst feeders" in html and "North" in html and "Counting rules" in html
    assert sorted(p.name for p in charts.iterdir()) == ["causes.png", "daily.png",
                                                       "feeders.png", "monthly.png"]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in charts.iterdir())


@pytest.mark.parametrize(("args", "field"), [
    (("--from", "2025-13-01", "--to", "2025-12-31"), "--from"),
    (("--from", "2025-02-01", "--to", "2025-01-01"), "--from"),
    ((*PERIOD, "--by", "street"), "--by"),
    ((*PERIOD, "--planned", "maybe"), "--planned"),
    ((*PERIOD, "--format", "pdf"), "--format"),
])
def test_bad_options_are_refused_with_the_option_named(cli, args, field) -> None:
    refused = cli("report", "reliability", *args)
    assert refused.exit_code == 2
    assert refused.stderr.lstrip().startswith(f"error: {field}:")


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "html"])
def test_an_out_file_that_cannot_be_written_is_refused_in_every_format(
        cli, history, tmp_path: Path, fmt: str) -> None:
    target = tmp_path / "missing" / f"report.{fmt}"
    refused = cli("report", "reliability", *PERIOD, "--format", fmt, "--out", str(target))
    assert refused.exit_code == 2
    assert refused.stderr.lstrip().startswith(f"error: --out: cannot write {target}")
    written = cli("report", "reliability", *PERIOD, "--format", fmt, "--out",
                  str(tmp_path / f"report.{fmt}"))
    assert written.exit_code == 0 and "SAIDI" in (tmp_path / f"report.{fmt}").read_text()


def test_demo_history_writes_an_import_csv(cli, engine, tmp_path: Path) -> None:
    b.customers(engine, 300, feeder="F1")
    b.customers(engine, 200, district="D2", feeder="F2")
    target = tmp_path / "history.csv"
    result = cli("demo-history", str(target), "--years", "2", "--seed", "5")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(target.open()))
    assert list(rows[0]) == ["outage_id", "customer_code", "start", "end", "cause", "planned"]
    assert 500 < len(rows) < 20_000
    assert all(r["outage_id"].startswith("H20") and r["end"] > r["start"] for r in rows)
    assert {r["planned"] for r in rows} == {"true", "false"}
    assert "weather" in {r["cause"] for r in rows}
    assert len({r["customer_code"] for r in rows}) > 250
    again = tmp_path / "again.csv"
    cli("demo-history", str(again), "--years", "2", "--seed", "5")
    assert again.read_text() == target.read_text()


def test_demo_history_needs_customers(cli, tmp_path: Path) -> None:
    refused = cli("demo-history", str(tmp_path / "h.csv"))
    assert refused.exit_code == 2
    assert "no customers" in refused.stderr
