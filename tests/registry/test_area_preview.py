"""`outages area preview`: counts, breakdowns, feeders, today's connections, CSV output."""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine

from tests.geo.test_area import OUTER, polygon

TODAY = date(2026, 12, 7)


def customer(code: str, lon: float, lat: float, feeder: str, district: str,
             **extra: Any) -> dict[str, Any]:
    return {"code": code, "lon": lon, "lat": lat, "feeder": feeder, "district": district,
            "region": "Hà Nội", "name": f"Khách {code}", "phone": None,
            "connected_on": None, "disconnected_on": None, **extra}


@pytest.fixture
def area_file(tmp_path: Path) -> Path:
    path = tmp_path / "area.geojson"
    path.write_text(json.dumps({"type": "Feature", "properties": {"name": "Phố cổ"},
                                "geometry": polygon(OUTER)}), encoding="utf-8")
    return path


@pytest.fixture
def town(add_customers: Any) -> None:
    add_customers([
        customer("A1", 105.805, 21.005, "HK-471", "Hoàn Kiếm", phone="+84912345678"),
        customer("A2", 105.80, 21.002, "HK-471", "Hoàn Kiếm"),  # on the edge
        customer("A3", 105.809, 21.009, "HK-472", "Hai Bà Trưng"),
        customer("GONE", 105.805, 21.006, "HK-471", "Hoàn Kiếm",
                 disconnected_on=TODAY - timedelta(days=1)),
        customer("LATER", 105.805, 21.007, "HK-471", "Hoàn Kiếm",
                 connected_on=TODAY + timedelta(days=1)),
        customer("OUT", 105.82, 21.005, "HK-471", "Hoàn Kiếm"),
    ])


@time_machine.travel("2026-12-07 10:00 +07:00", tick=False)
def test_json_counts_today_connected_customers(cli: Any, town: None, area_file: Path) -> None:
    result = cli("area", "preview", str(area_file), "--json")
    payload = json.loads(result.stdout)
    assert payload["count"] == 3
    assert sorted(payload["customers"]) == ["A1", "A2", "A3"]
    assert payload["by_district"] == {"Hoàn Kiếm": 2, "Hai Bà Trưng": 1}
    assert payload["by_feeder"] == {"HK-471": 2, "HK-472": 1}
    assert payload["by_region"] == {"Hà Nội": 3}
    assert payload["repairs"] == []


@time_machine.travel("2026-12-06 23:30 +00:00", tick=False)  # already Dec 7 in Hanoi
def test_today_is_the_local_date(cli: Any, town: None, area_file: Path) -> None:
    payload = json.loads(cli("area", "preview", str(area_file), "--json").stdout)
    assert "GONE" not in payload["customers"]


@time_machine.travel("2026-12-07 10:00 +07:00", tick=False)
def test_feeder_filter_and_customers_out(cli: Any, town: None, area_file: Path,
                                         tmp_path: Path) -> None:
    out = tmp_path / "affected.csv"
    result = cli("area", "preview", str(area_file), "--feeder", "HK-471",
                 "--customers-out", str(out))
    assert "2 customer(s) affected" in result.stdout
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["code", "name", "phone", "email", "district", "feeder", "lon",
                             "lat"]
    assert [(r["code"], r["phone"], r["lon"]) for r in rows] == [
        ("A1", "+84912345678", "105.805"), ("A2", "", "105.8")]


def test_human_output_names_area_and_breakdowns(cli: Any, town: None, area_file: Path) -> None:
    result = cli("area", "preview", str(area_file))
    assert "area 'Phố cổ'" in result.stdout
    assert "Hai Bà Trưng" in result.stdout and "HK-472" in result.stdout


def test_bad_area_exits_2_with_the_place(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "open.geojson"
    path.write_text(json.dumps(polygon(OUTER[:-1])), encoding="utf-8")
    refused = cli("area", "preview", str(path))
    assert refused.exit_code == 2
    assert "Polygon ring 0 (exterior): ring is not closed" in refused.stderr


def test_repair_is_reported(cli: Any, town: None, tmp_path: Path) -> None:
    bow_tie = polygon([[105.80, 21.00], [105.81, 21.01], [105.81, 21.00], [105.80, 21.01],
                       [105.80, 21.00]])
    path = tmp_path / "tie.geojson"
    path.write_text(json.dumps(bow_tie), encoding="utf-8")
    payload = json.loads(cli("area", "preview", str(path), "--repair", "--json").stdout)
    assert "repaired into 2 part(s)" in payload["repairs"][0]
    assert "A2" in payload["customers"]  # on the west edge of the left triangle
    assert "OUT" not in payload["customers"]
