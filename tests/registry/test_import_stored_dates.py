"""A file with one connection date only: the other one keeps its stored value, so a row whose
date contradicts it is refused, with a reason that says how to fix it."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from outages.registry import csvblocks, stored_dates
from outages.registry.importer import import_customers
from tests.registry.conftest import read_rejects, row

SLIM = ("code", "lon", "lat")
LATE_CONNECTION = ("connected_on 2025-03-01 is after the stored disconnected_on 2024-06-01: "
                   "correct connected_on, or put disconnected_on in the file too (empty to "
                   "clear it)")
EARLY_DISCONNECTION = ("disconnected_on 2024-06-01 is before the stored connected_on "
                       "2025-03-01: correct disconnected_on, or put connected_on in the file "
                       "too (empty to clear it)")


@pytest.fixture(params=["plain blocks", "csv reader"])
def reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each CSV test runs through the column-wise path and the csv module's records."""
    if request.param == "csv reader":
        monkeypatch.setattr(csvblocks, "_records_start", lambda *_: None)
    return str(request.param)


def _dates(stored: Any, code: str) -> tuple[str | None, str | None]:
    customer = stored()[code]
    connected, disconnected = (customer[c] and customer[c].isoformat()
                               for c in ("connected_on", "disconnected_on"))
    return connected, disconnected


def _slim(code: str, **values: str) -> dict[str, str]:
    return {"code": code, "lon": "105.85", "lat": "21.03", **values}


def test_connected_on_alone_after_the_stored_disconnection_is_rejected(
    engine: Engine, settings: Any, write_csv: Any, stored: Any, reader: str
) -> None:
    import_customers(engine, settings, write_csv([
        row("A", disconnected_on="2024-06-01"), row("B", disconnected_on="2024-06-01"),
        row("C"), row("E", disconnected_on="2024-06-01")]))
    path = write_csv([
        _slim("A", connected_on="2025-03-01"),
        _slim("B", connected_on="2024-06-01"),  # the day of the disconnection: agrees
        _slim("C", connected_on="2025-03-01"),  # never disconnected
        _slim("D", connected_on="2025-03-01"),  # new
        _slim("E", connected_on=""),  # no date contradicts nothing
    ], name="connected.csv", columns=(*SLIM, "connected_on"))
    result = import_customers(engine, settings, path)
    assert (result.imported, result.updated, result.rejected) == (1, 3, 1)
    assert result.samples == [f"line 2: {LATE_CONNECTION}"]
    assert read_rejects(result.rejects_file) == [
        {**_slim("A", connected_on="2025-03-01"), "line": "2", "reason": LATE_CONNECTION}]
    assert _dates(stored, "A") == ("2010-01-01", "2024-06-01")
    assert _dates(stored, "B") == ("2024-06-01", "2024-06-01")
    assert _dates(stored, "C") == ("2025-03-01", None)
    assert _dates(stored, "D") == ("2025-03-01", None)
    assert _dates(stored, "E") == (None, "2024-06-01")


def test_disconnected_on_alone_before_the_stored_connection_is_rejected(
    engine: Engine, settings: Any, write_csv: Any, stored: Any, reader: str
) -> None:
    import_customers(engine, settings, write_csv([
        row("A", connected_on="2025-03-01"), row("B", connected_on="2024-06-01"),
        row("C", connected_on="")]))
    path = write_csv([
        _slim("B", disconnected_on="2024-06-01"),
        _slim("A", disconnected_on="2024-06-01"),
        _slim("C", disconnected_on="2024-06-01"),  # never connected: nothing to contradict
        _slim("A", disconnected_on="2024-06-01"),  # a repeat is named as such too
    ], name="disconnected.csv", columns=(*SLIM, "disconnected_on"))
    result = import_customers(engine, settings, path)
    assert (result.imported, result.updated, result.rejected) == (0, 2, 2)
    assert result.samples == [f"line 3: {EARLY_DISCONNECTION}",
                              f"line 5: {EARLY_DISCONNECTION}; duplicate code A, first seen "
                              "on line 3"]
    assert [r["line"] for r in read_rejects(result.rejects_file)] == ["3", "5"]
    assert _dates(stored, "A") == ("2025-03-01", None)
    assert _dates(stored, "B") == ("2024-06-01", "2024-06-01")
    assert _dates(stored, "C") == (None, "2024-06-01")


def _point(code: str, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": {"code": code, **props},
            "geometry": {"type": "Point", "coordinates": [105.85, 21.03]}}


def test_a_geojson_feature_is_checked_against_the_stored_date(
    engine: Engine, settings: Any, write_csv: Any, stored: Any, tmp_path: Path
) -> None:
    import_customers(engine, settings, write_csv([row("A", disconnected_on="2024-06-01"),
                                                  row("B", disconnected_on="2024-06-01")]))
    path = tmp_path / "connected.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        _point("B", connected_on="2023-01-01"), _point("A", connected_on="2025-03-01")]}),
        encoding="utf-8")
    result = import_customers(engine, settings, path)
    assert (result.imported, result.updated, result.rejected) == (0, 1, 1)
    assert result.samples == [f"feature 1: {LATE_CONNECTION}"]
    assert read_rejects(result.rejects_file) == [
        {"code": "A", "lon": "105.85", "lat": "21.03", "connected_on": "2025-03-01",
         "feature": "1", "reason": f"feature 1: {LATE_CONNECTION}"}]
    assert _dates(stored, "A") == ("2010-01-01", "2024-06-01")
    assert _dates(stored, "B") == ("2023-01-01", "2024-06-01")


@pytest.mark.parametrize(("fix", "dates"), [
    ("add the disconnection", ("2025-03-01", None)),
    ("correct the date", ("2024-05-01", "2024-06-01")),
])
def test_the_rejects_file_fixed_is_imported(
    engine: Engine, settings: Any, write_csv: Any, stored: Any, fix: str,
    dates: tuple[str, str | None]
) -> None:
    import_customers(engine, settings, write_csv([row("A", disconnected_on="2024-06-01")]))
    result = import_customers(engine, settings, write_csv(
        [_slim("A", connected_on="2025-03-01"), _slim("B", connected_on="2025-03-01")],
        name="connected.csv", columns=(*SLIM, "connected_on")))
    assert result.rejects_file is not None and result.rejected == 1
    rejected = read_rejects(result.rejects_file)
    fixed = result.rejects_file.with_name("fixed.csv")
    with fixed.open("w", encoding="utf-8", newline="") as handle:
        columns = [*rejected[0], "disconnected_on"] if fix == "add the disconnection" else \
            list(rejected[0])
        writer = csv.DictWriter(handle, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows([{**r, "connected_on": dates[0]} for r in rejected])
    again = import_customers(engine, settings, fixed)
    assert (again.imported, again.updated, again.rejected) == (0, 1, 0)
    assert _dates(stored, "A") == dates


def test_codes_are_looked_up_in_parts(
    engine: Engine, settings: Any, write_csv: Any, stored: Any, reader: str,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stored_dates, "IN_CHUNK", 2)
    codes = [f"C{k}" for k in range(5)]
    import_customers(engine, settings, write_csv(
        [row(code, disconnected_on="2024-06-01") for code in codes]))
    result = import_customers(engine, settings, write_csv(
        [_slim(code, connected_on="2025-03-01") for code in codes],
        name="connected.csv", columns=(*SLIM, "connected_on")))
    assert (result.updated, result.rejected) == (0, 5)
    assert {_dates(stored, code) for code in codes} == {("2010-01-01", "2024-06-01")}


@pytest.fixture
def date_reads(engine: Engine) -> Iterator[list[str]]:
    """The statements that read stored connection dates."""
    reads: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "connected_on" in statement:
            reads.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    yield reads
    event.remove(engine, "before_cursor_execute", seen)


@pytest.mark.parametrize("columns", [("connected_on", "disconnected_on"), ()])
def test_a_file_with_both_dates_or_neither_reads_no_stored_date(
    engine: Engine, settings: Any, write_csv: Any, stored: Any, reader: str,
    date_reads: list[str], columns: tuple[str, ...]
) -> None:
    import_customers(engine, settings, write_csv([row("A", disconnected_on="2024-06-01")]))
    date_reads.clear()
    result = import_customers(engine, settings, write_csv(
        [_slim("A", connected_on="2025-03-01", disconnected_on="")],
        name="again.csv", columns=(*SLIM, *columns)))
    assert (result.updated, result.rejected) == (1, 0)
    assert date_reads == []
    assert _dates(stored, "A") == (("2025-03-01", None) if columns else
                                   ("2010-01-01", "2024-06-01"))
