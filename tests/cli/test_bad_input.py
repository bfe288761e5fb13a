"""Bad input to the CLI is refused with a named field and exit 2, never a traceback, and
nothing is left half-written; tables show every zone's offset whole."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from outages.models import Customer

HUGE = "99999999999999999999999"


def test_huge_outage_id_is_refused_not_a_traceback(cli: Any) -> None:
    # `cuts show 0` says "no planned cut with id 0" (exit 3); a number too large for the
    # database must get an answer too, not an OverflowError traceback.
    result = cli("cuts", "show", HUGE)
    assert result.exit_code in (2, 3), result.output
    assert "Traceback" not in result.output


def test_huge_limit_is_refused_not_a_traceback(cli: Any) -> None:
    result = cli("customers", "list", "--limit", HUGE)
    assert result.exit_code == 2, result.output


def _feature(code: str, lon: str = "105.85", lat: str = "21.03") -> str:
    return json.dumps({"type": "Feature", "properties": {"code": code},
                       "geometry": {"type": "Point", "coordinates": ["LON", "LAT"]}}) \
        .replace('"LON"', lon).replace('"LAT"', lat)


def test_geojson_number_too_large_stores_nothing_half_way(
        cli: Any, engine: Any, tmp_path: Path) -> None:
    # 150 good features, then one whose lon is 1e400 (valid JSON, too large for a float).
    features = [_feature(f"G{n:04d}") for n in range(150)] + [_feature("BIG", lon="1e400")]
    path = tmp_path / "registry.geojson"
    path.write_text('{"type":"FeatureCollection","features":[' + ",".join(features) + "]}")
    result = cli("customers", "import", str(path), "--json",
                 OUTAGES_CUSTOMERS_IMPORT_BATCH="100")
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(Customer.__table__)).scalar()
    # Either the feature is a rejected row (exit 0, all 150 good ones stored) or the file
    # is refused before anything is stored (exit 2, nothing stored): not 100 of 150.
    assert (result.exit_code, stored) in ((0, 150), (2, 0)), (result.exit_code, stored,
                                                             result.output)


def test_export_with_bad_days_keeps_the_existing_file(cli: Any, tmp_path: Path) -> None:
    target = tmp_path / "log.csv"
    target.write_text("previous export\n")
    result = cli("interruptions", "export", "--from", "2026-03-01", "--to", "2026-02-01",
                 "--output", str(target))
    assert result.exit_code == 2
    assert target.read_text() == "previous export\n"


def test_export_json_with_bad_days_prints_no_broken_json(cli: Any) -> None:
    result = cli("interruptions", "export", "--from", "2026-03-01", "--to", "2026-02-01",
                 "--format", "json")
    assert result.exit_code == 2
    assert result.stdout.strip() == "", result.stdout


def test_export_to_a_missing_folder_is_an_error_not_a_traceback(
        cli: Any, tmp_path: Path) -> None:
    result = cli("interruptions", "export", "--output", str(tmp_path / "nope" / "log.csv"))
    assert result.exit_code == 2, result.output
    assert "--output" in result.output


def test_times_shown_with_a_half_hour_offset_keep_the_minutes(
        cli: Any, add_customers: Any, tmp_path: Path) -> None:
    # A zone 5:30 ahead of UTC: a cut at 08:00 local must read "+05:30", not "+05" (which
    # would say 08:00 at +05:00, half an hour later than the real instant).
    add_customers([{"code": "K1", "lon": 105.85, "lat": 21.03}])
    area = tmp_path / "a.geojson"
    area.write_text(json.dumps({"type": "Polygon", "coordinates": [[
        [105.84, 21.02], [105.86, 21.02], [105.86, 21.04], [105.84, 21.04], [105.84, 21.02]]]}))
    tz = {"OUTAGES_LOCALE_TIMEZONE": "Asia/Kolkata"}
    day = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    created = cli("cuts", "create", "--area", str(area), "--start", f"{day} 08:00",
                  "--end", f"{day} 10:00", "--reason", "maintenance", **tz)
    assert created.exit_code == 0, created.output
    shown = cli("cuts", "list", **tz)
    assert f"{day} 08:00 +05:30" in shown.output, shown.output


def test_restore_customers_file_that_is_not_utf8_is_refused_not_a_traceback(
        cli: Any, add_customers: Any, tmp_path: Path) -> None:
    add_customers([{"code": "K1", "lon": 105.85, "lat": 21.03}])
    area = tmp_path / "a.geojson"
    area.write_text(json.dumps({"type": "Polygon", "coordinates": [[
        [105.84, 21.02], [105.86, 21.02], [105.86, 21.04], [105.84, 21.04], [105.84, 21.02]]]}))
    soon = (datetime.now(UTC) + timedelta(minutes=10)).isoformat(timespec="minutes")
    later = (datetime.now(UTC) + timedelta(hours=2)).isoformat(timespec="minutes")
    created = cli("cuts", "create", "--area", str(area), "--start", soon, "--end", later,
                  "--reason", "r", "--urgent", "--urgent-reason", "storm")
    assert created.exit_code == 0, created.output
    assert cli("cuts", "start", "1").exit_code == 0
    codes = tmp_path / "codes.txt"
    codes.write_bytes("K1\nMÃ1\n".encode("latin-1"))  # not UTF-8 (a legacy editor)
    result = cli("cuts", "restore", "1", "--customers", str(codes))
    assert result.exit_code == 2, result.output
    assert "--customers" in result.output


def test_notices_list_refuses_an_unknown_status(cli: Any) -> None:
    # `cuts list --status bogus` exits 2 naming the values; `notices list` lists nothing
    # and exits 0, so a typo ("--status faild") reads as "no failed notices".
    result = cli("notices", "list", "--status", "faild")
    assert result.exit_code == 2, result.output
