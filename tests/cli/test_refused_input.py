"""Bad input across the CLI is refused with exit 2 (78 for settings) naming what is wrong:
never a traceback, never accepted nonsense."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import shapely
from sqlalchemy import func, select

from geo import Area
from outages.enums import AreaKind
from outages.errors import ValidationError
from outages.lifecycle import cuts
from outages.models import AuditEntry, Outage
from outages.registry import named_areas

SQUARE = {"type": "Polygon", "coordinates": [[
    [105.84, 21.02], [105.86, 21.02], [105.86, 21.04], [105.84, 21.04], [105.84, 21.02]]]}


def _run(cli: Any, *args: str, **env: str) -> Any:
    """The command's result; a Python exception escaping the command is a failure of
    its own (the user sees a traceback and exit 1)."""
    try:
        return cli(*args, **env)
    except Exception as exc:
        pytest.fail(f"traceback instead of an error message: {exc!r}")


def _future_day(days: int = 30) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).date().isoformat()


def _area_file(tmp_path: Path) -> Path:
    path = tmp_path / "a.geojson"
    path.write_text(json.dumps(SQUARE))
    return path


# --- settings -------------------------------------------------------------------------------

def test_malformed_json_setting_is_a_settings_error_not_a_traceback(cli: Any) -> None:
    # Any other bad setting exits 78 naming the variable; a JSON-valued one that is not JSON
    # escapes as pydantic_settings.SettingsError (exit 1, stack trace).
    result = _run(cli, "cuts", "list", OUTAGES_ZALO_TEMPLATES="{bad")
    assert result.exit_code == 78, result.output
    assert "OUTAGES_ZALO_TEMPLATES" in result.output


@pytest.mark.parametrize("value", ["P1000000000D", "99999999999999d"])
def test_overflowing_duration_setting_is_a_settings_error_not_a_traceback(
        cli: Any, value: str) -> None:
    result = _run(cli, "cuts", "list", OUTAGES_PLANNED_MIN_NOTICE=value)
    assert result.exit_code == 78, result.output
    assert "OUTAGES_PLANNED_MIN_NOTICE" in result.output


@pytest.mark.parametrize("variable", ["OUTAGES_PLANNED_REMINDERS",
                                      "OUTAGES_PLANNED_REPEAT_WINDOW"])
def test_huge_duration_setting_is_refused_at_start_not_a_traceback_later(
        cli: Any, add_customers: Any, tmp_path: Path, variable: str) -> None:
    # 999999d parses, passes validation, and then overflows datetime arithmetic when a cut
    # is created (OverflowError: date value out of range).
    add_customers([{"code": "K1", "lon": 105.85, "lat": 21.03}])
    day = _future_day()
    result = _run(cli, "cuts", "create", "--area", str(_area_file(tmp_path)),
                  "--start", f"{day} 08:00", "--end", f"{day} 10:00", "--reason", "r",
                  **{variable: "999999d"})
    assert result.exit_code == 78, result.output
    assert variable in result.output


def test_unknown_urgent_kind_setting_is_refused(cli: Any) -> None:
    # A typo ("fault_akc") silently leaves fault acknowledgements held by quiet hours.
    result = _run(cli, "cuts", "list", OUTAGES_NOTICES_URGENT_KINDS="fault_akc")
    assert result.exit_code == 78, result.output
    assert "OUTAGES_NOTICES_URGENT_KINDS" in result.output


def test_territory_error_names_a_variable_that_exists(cli: Any) -> None:
    # A check of the whole section names the variables to fix, not OUTAGES_TERRITORY.
    result = _run(cli, "cuts", "list", OUTAGES_TERRITORY_MIN_LON="115")
    assert result.exit_code == 78, result.output
    assert "OUTAGES_TERRITORY_MIN_LON" in result.output, result.output


def test_infinite_group_radius_is_refused(cli: Any) -> None:
    result = _run(cli, "cuts", "list", OUTAGES_FAULTS_GROUP_RADIUS_M="inf")
    assert result.exit_code == 78, result.output


# --- worker start-up ------------------------------------------------------------------------

@pytest.mark.parametrize("timeout", ["-5", "nan"])
def test_run_until_idle_refuses_a_negative_or_nan_timeout(cli: Any, timeout: str) -> None:
    # -5 stops at once with notices still pending (exit 0); nan never times out
    # (time.monotonic() > nan is always False).
    result = _run(cli, "run", "--until-idle", "--timeout", timeout)
    assert result.exit_code == 2, result.output
    assert "--timeout" in result.output


# --- db -------------------------------------------------------------------------------------

def test_db_upgrade_to_an_unknown_revision_is_invalid_input_not_bad_settings(
        cli: Any) -> None:
    # The README: 2 invalid input, 78 bad settings. A mistyped REVISION argument is input.
    result = _run(cli, "db", "upgrade", "bogusrev")
    assert result.exit_code == 2, result.output


# --- users, tokens and --by -----------------------------------------------------------------

@pytest.mark.parametrize("name", ["\u202eadmin", "ops\x1b[2Jadmin", "a\x07b"])
def test_user_name_with_control_or_bidi_characters_is_refused(cli: Any, name: str) -> None:
    result = _run(cli, "users", "add", name, "--role", "admin")
    assert result.exit_code == 2, result.output
    listed = _run(cli, "users", "list", "--json")
    assert name not in listed.stdout


def test_password_stdin_that_is_not_utf8_is_refused_not_a_traceback(cli: Any) -> None:
    assert _run(cli, "users", "add", "lan.nguyen", "--role", "admin").exit_code == 0
    # A terminal's stdin (surrogateescape) turns \xff into a lone surrogate that argon2
    # cannot encode (UnicodeEncodeError); CliRunner's strict stdin raises
    # UnicodeDecodeError in sys.stdin.readline(). Either way: a stack trace, exit 1.
    result = _run(cli, "users", "passwd", "lan.nguyen", "--password-stdin",
                  input=b"\xff\xfe\xfdabcdefghijklmnop\n")
    assert result.exit_code == 2, result.output
    assert "password" in result.output


@pytest.mark.parametrize("by", ["\u202eadmin", "ops\x1b[31m", "x" * 150])
def test_by_with_control_characters_or_too_long_is_refused_and_not_audited(
        cli: Any, add_customers: Any, engine: Any, by: str) -> None:
    # audit_log.actor is String(100); names longer break PostgreSQL and terminal escapes
    # reach whoever reads `outages audit`.
    add_customers([{"code": "K1", "lon": 105.85, "lat": 21.03}])
    result = _run(cli, "customers", "update", "K1", "--language", "en", "--by", by)
    assert result.exit_code == 2, result.output
    assert "--by" in result.output
    with engine.connect() as conn:
        actors = conn.execute(select(AuditEntry.__table__.c.actor)).scalars().all()
    assert by not in actors


# --- named areas ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["\u202eabc", "Pho\x1b[2J Hue"])
def test_named_area_with_control_or_bidi_characters_is_refused(
        cli: Any, tmp_path: Path, name: str) -> None:
    # `cuts create --area` refuses such a name ("the area's name contains the control
    # character U+202E"); `areas import` stores it, and the console's cut from a named area
    # hands it to customers (next test).
    path = tmp_path / "districts.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": name}, "geometry": SQUARE}]}))
    result = _run(cli, "areas", "import", str(path), "--name-property", "name")
    assert result.exit_code == 2, result.output
    assert "name" in result.output


def test_cut_from_named_areas_checks_the_area_name(
        engine: Any, settings: Any, add_customers: Any) -> None:
    # The console's New cut with picked named areas: named_areas.union(...) -> cuts.create.
    # The joined name is neither checked for control characters nor held to the 200
    # characters of outages.area_name that customers read.
    add_customers([{"code": "K1", "lon": 105.85, "lat": 21.03}])
    geometry = shapely.from_geojson(json.dumps(SQUARE))
    named_areas.store(engine, {"\u202e" + "A" * 150: Area(geometry=geometry),
                               "B" * 150: Area(geometry=geometry)},
                      kind=AreaKind.DISTRICT, actor="setup", source="cli")
    with engine.connect() as conn:
        area = named_areas.union(conn, [1, 2])
    start = datetime.now(UTC) + timedelta(days=30)
    with pytest.raises(ValidationError, match="the area's name"):
        cuts.create(engine, settings, area=area, start=start, end=start + timedelta(hours=2),
                    reason="r", actor="t", source="console")
    named_areas.store(engine, {"C" * 150: Area(geometry=geometry)}, kind=AreaKind.DISTRICT,
                      actor="setup", source="cli")
    with engine.connect() as conn:  # two clean names too long together: shortened
        area = named_areas.union(conn, [2, 3])
    made = cuts.create(engine, settings, area=area, start=start,
                       end=start + timedelta(hours=2), reason="r", actor="t", source="console")
    with engine.connect() as conn:
        names = conn.execute(select(Outage.__table__.c.area_name)).scalars().all()
    assert names == [made.area_name] and len(names[0]) <= 200, names
    assert names[0].endswith(" and 1 more"), names


# --- interruption history -------------------------------------------------------------------

def _history(tmp_path: Path, row: str) -> Path:
    path = tmp_path / "history.csv"
    path.write_text("outage_id,customer_code,start,end,cause,planned\n" + row + "\n",
                    encoding="utf-8")
    return path


@pytest.mark.parametrize("row,what", [
    ("X1,K1,2026-01-01T08:00+07:00,2026-01-01T09:00+07:00,wether,false", "unknown cause"),
    ("X1,K1,2026-01-01T08:00+07:00,2026-01-01T09:00+07:00,\u202eweather,false",
     "bidi override in cause"),
    ("O" * 100 + ",K1,2026-01-01T08:00+07:00,2026-01-01T09:00+07:00,weather,false",
     "outage_id longer than outages.external_id (64)"),
    ("X1,K1,2099-01-01T08:00+07:00,2099-01-01T09:00+07:00,weather,false",
     "interruption in the future"),
])
def test_history_rows_with_nonsense_are_rejected(
        cli: Any, add_customers: Any, engine: Any, tmp_path: Path, row: str,
        what: str) -> None:
    add_customers([{"code": "K1", "lon": 105.85, "lat": 21.03}])
    result = _run(cli, "interruptions", "import", str(_history(tmp_path, row)), "--json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    with engine.connect() as conn:
        outages = conn.execute(select(func.count()).select_from(Outage.__table__)).scalar()
    assert (answer["rejected"], outages) == (1, 0), (what, answer)
