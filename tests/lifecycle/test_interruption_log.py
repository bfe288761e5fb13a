from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.exc import IntegrityError

from outages.errors import ValidationError
from outages.lifecycle import core as lifecycle
from outages.lifecycle import cuts, durations, faults
from outages.lifecycle import history_import as interruption_import
from outages.lifecycle.results import HistoryImport
from outages.models import Interruption, Outage
from outages.settings import Settings
from tests.lifecycle.conftest import ahead, columns
from tests.lifecycle.test_cuts_create import area, make

HEADER = "outage_id,customer_code,start,end,cause,planned\n"
GOOD = [
    "X1,C001,2026-01-05 08:00,2026-01-05 09:30,weather,false",
    "X1,C002,2026-01-05 08:00,2026-01-05 08:05,weather,false",
    "X2,C003,2026-01-06T08:00+07:00,2026-01-06T10:00+07:00,,true",
    "X1,C002,2026-01-05 09:00,2026-01-05 09:10,weather,false",
]
BAD = {
    "X1,C001,2026-01-05 09:00,2026-01-05 10:00,weather,false": "overlaps another interruption",
    "X1,NOPE,2026-01-05 08:00,2026-01-05 09:30,weather,false": "unknown customer 'NOPE'",
    "X2,C004,2026-01-06 08:00,2026-01-06 07:00,,true": "is before start",
    "X2,C005,2026-01-06 08:00,2026-01-06 10:00,,maybe": "planned must be true or false",
    "X2,C006,yesterday,2026-01-06 10:00,,true": "start: invalid time",
    "X3,C007,,2026-01-06 10:00,,true": "start is empty",
}


def write(tmp_path: Path, lines: list[str], name: str = "history.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "\n".join(lines) + "\n")
    return path


def do_import(engine: Engine, settings: Settings, path: Path) -> HistoryImport:
    return interruption_import.import_csv(engine, settings, path=path, actor="t", source="cli")


def test_import_rejects_with_line_and_reason(engine: Engine, settings: Settings, grid: Any,
                                             tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + list(BAD))
    result = do_import(engine, settings, path)
    assert result.as_json() == {"imported": 4, "rejected": 6, "outages_created": 2,
                      "rejects_file": str(tmp_path / "history.rejects.csv")}
    rejects = list(csv.DictReader(io.StringIO(Path(result.rejects_file).read_text())))
    assert [r["line"] for r in rejects] == ["6", "7", "8", "9", "10", "11"]
    for row, (line, reason) in zip(rejects, BAD.items(), strict=True):
        assert line.startswith(f"{row['outage_id']},{row['customer_code']}")
        assert reason in row["reason"]
    with engine.connect() as conn:
        outages = conn.execute(select(Outage.__table__).order_by(Outage.__table__.c.id)).all()
    assert [(o.external_id, o.kind, o.status) for o in outages] == [
        ("X1", "fault", "completed"), ("X2", "planned", "completed")]
    assert outages[0].actual_end.hour == 2  # 09:30 +07


def test_import_overlap_with_stored_rows(engine: Engine, settings: Settings, grid: Any,
                                         tmp_path: Path) -> None:
    do_import(engine, settings, write(tmp_path, GOOD[:1]))
    again = do_import(engine, settings, write(tmp_path, GOOD[:2], "more.csv"))
    assert (again.imported, again.rejected, again.outages_created) == (1, 1, 0)


def test_import_header_is_checked(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("outage,customer,start\n1,2,3\n")
    with pytest.raises(ValidationError, match=r"lacks column.*outage_id"):
        do_import(engine, settings, path)


def test_cli_import_json_exit_code(cli: Any, grid: Any, tmp_path: Path) -> None:
    clean = cli("interruptions", "import", str(write(tmp_path, GOOD)), "--json")
    assert clean.exit_code == 0
    assert json.loads(clean.stdout)["imported"] == 4
    dirty = cli("interruptions", "import", str(write(tmp_path, list(BAD)[1:2], "b.csv")),
                "--json")
    assert dirty.exit_code == 0  # reported and kept, as in the customer import
    assert json.loads(dirty.stdout)["rejected"] == 1
    told = cli("interruptions", "import", str(write(tmp_path, list(BAD)[1:2], "c.csv")))
    assert "1 row(s) rejected; reasons are in" in told.stderr


def test_export_columns_filter_and_round_trip(engine: Engine, settings: Settings, grid: Any,
                                              tmp_path: Path, cli: Any,
                                              make_settings: Any) -> None:
    do_import(engine, settings, write(tmp_path, GOOD))
    result = cli("interruptions", "export", "--from", "2026-01-05", "--to", "2026-01-05")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == ["outage_id", "customer_code", "start", "end", "cause", "planned",
                             "duration_minutes", "momentary"]
    assert [(r["customer_code"], r["duration_minutes"], r["momentary"]) for r in rows] == [
        ("C001", "90.0", "false"), ("C002", "5.0", "true"), ("C002", "10.0", "false")]
    as_json = json.loads(cli("interruptions", "export", "--format", "json").stdout)
    assert len(as_json) == 4 and as_json[-1]["planned"] is True
    everything = tmp_path / "all.csv"
    cli("interruptions", "export", "--output", str(everything))
    other_db = tmp_path / "other.db"
    other = make_settings(OUTAGES_DATABASE_URL=f"sqlite:///{other_db}")
    from outages import db
    from tests.conftest import insert_customers
    from tests.lifecycle.conftest import grid_rows
    target = db.make_engine(f"sqlite:///{other_db}")
    db.upgrade(target)
    insert_customers(target, grid_rows(100))
    again = interruption_import.import_csv(target, other, path=everything, actor="t",
                                           source="cli")
    assert (again.imported, again.rejected) == (4, 0)
    with target.connect() as conn:
        back = list(durations.export_rows(conn, other))
    with engine.connect() as conn:
        assert back == list(durations.export_rows(conn, settings))
    target.dispose()


def test_imported_history_is_listed_by_when_it_happened(cli: Any, grid: Any,
                                                       tmp_path: Path) -> None:
    cli("interruptions", "import", str(write(tmp_path, GOOD)))
    # X2 is a planned cut from a source system: no planned window, one customer interrupted.
    listed = json.loads(cli("cuts", "list", "--from", "2026-01-06", "--to", "2026-01-06",
                            "--json").stdout)
    assert [(c["external_id"], c["start"], c["actual_start"], c["actual_end"], c["affected"],
             c["restored"], c["remaining"]) for c in listed] == [
        ("X2", None, "2026-01-06T08:00:00+07:00", "2026-01-06T10:00:00+07:00", 1, 1, 0)]
    assert json.loads(cli("cuts", "list", "--from", "2026-01-07", "--json").stdout) == []
    # X1 (a fault) interrupted C001 once and C002 twice: two customers, both restored.
    incidents = json.loads(cli("faults", "list", "--json").stdout)
    assert [(f["external_id"], f["affected"], f["restored"]) for f in incidents] == [
        ("X1", 2, 2)]
    table = cli("cuts", "list").stdout
    assert "2026-01-06 08:00 +07" in table and "imported X2" in table


def test_durations_per_outage(engine: Engine, relaxed: Settings, grid: Any, cli: Any) -> None:
    cut = make(engine, relaxed, 0, 1, start=ahead(hours=3), end=ahead(hours=5))
    cuts.start(engine, relaxed, cut_id=cut.id, at=ahead(minutes=-60), **{"actor": "t",
                                                                            "source": "cli"})
    cuts.restore(engine, relaxed, cut_id=cut.id, at=ahead(minutes=-30),
                 area=area(columns(0, 0), relaxed), actor="t", source="cli")
    from outages.lifecycle import fault_reports
    reported = fault_reports.report(engine, relaxed, customer="C099", actor="t", source="cli")
    faults.confirm(engine, relaxed, fault_id=reported.outage_id,
                   area=area(columns(9, 9), relaxed), started_at=ahead(minutes=-20),
                   cause="animal", actor="t", source="cli")
    faults.restore(engine, relaxed, fault_id=reported.outage_id, at=ahead(minutes=-5),
                   actor="t", source="cli")
    with engine.connect() as conn:
        rows = {r.id: r for r in durations.outage_durations(conn, relaxed)}
    planned, fault = rows[cut.id], rows[reported.outage_id]
    assert (planned.type, planned.customers, planned.customer_minutes,
            planned.still_out) == ("planned", 20, 300.0, 10)
    assert planned.notice_lead_hours == pytest.approx(3, abs=0.05)
    assert (fault.type, fault.cause, fault.customers, fault.customer_minutes,
            fault.notice_lead_hours) == ("unplanned", "animal", 10, 150.0, None)
    table = cli("outages", "durations")
    assert "Outage durations (2)" in table.stdout
    as_csv = cli("outages", "durations", "--format", "csv").stdout.splitlines()
    assert as_csv[0].startswith("id,external_id,area_name,type")
    refused = cli("outages", "durations", "--format", "xml")
    assert refused.exit_code == 2
    assert "unknown format" in refused.stderr


def test_interruption_rows_need_their_outage(engine: Engine, grid: Any) -> None:
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(lifecycle.INTERRUPTIONS).values(outage_id=999, customer_id=1,
                                                            planned=True))
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Interruption.__table__)).scalar() == 0


def test_the_export_keeps_fractions_of_a_second_so_importing_it_gives_the_same_log(
        engine: Engine, settings: Settings, grid: Any, tmp_path: Path, cli: Any,
        make_settings: Any) -> None:
    # 300.4 seconds: sustained. Cut to whole seconds it would come back momentary.
    lines = ["X9,C001,2026-01-05 08:00:00,2026-01-05 08:05:00.4,weather,false"]
    do_import(engine, settings, write(tmp_path, lines))
    exported = tmp_path / "log.csv"
    cli("interruptions", "export", "--output", str(exported))
    (row,) = list(csv.DictReader(exported.open()))
    assert row["end"] == "2026-01-05T08:05:00.400000+07:00"
    assert (row["duration_minutes"], row["momentary"]) == ("5.01", "false")
    from outages import db
    from tests.conftest import insert_customers
    from tests.lifecycle.conftest import grid_rows
    other_db = tmp_path / "other.db"
    target = db.make_engine(f"sqlite:///{other_db}")
    db.upgrade(target)
    insert_customers(target, grid_rows(100))
    other = make_settings(OUTAGES_DATABASE_URL=f"sqlite:///{other_db}")
    interruption_import.import_csv(target, other, path=exported, actor="t", source="cli")
    with target.connect() as conn:
        back = list(durations.export_rows(conn, other))
    target.dispose()
    with engine.connect() as conn:
        assert back == list(durations.export_rows(conn, settings))
    assert back[0]["momentary"] is False
