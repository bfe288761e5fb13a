"""Checked chunks are sorted out a column at a time, repeated codes included (plain lines
through columnar.py); the outcome is what the csv reader and taking the rows one by one give:
the same rows stored, counted and rejected, batch boundaries and the order of rejects
included."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from outages.registry import csvblocks, importer
from outages.registry.rows import CODE
from tests.registry.conftest import read_rejects, row


def _rows() -> list[dict[str, str]]:
    rows = [row(f"PD{k:03d}") for k in range(450)]
    rows[3]["lon"] = "abc"
    rows[99]["code"] = ""
    rows[100]["phone"] = "09123"
    rows[213]["lat"], rows[213]["lon"] = rows[213]["lon"], rows[213]["lat"]
    rows[325]["code"] = "PD002"  # a repeat, in a later chunk
    rows[431]["email"] = "khong-co-email"
    rows[433]["code"] = "PD432"  # a repeat in the same chunk, after the first
    rows[440]["code"], rows[440]["lon"] = "PD003", "x"  # repeats a refused row, refused too
    rows[441]["code"] = "PD100"  # repeats a refused row
    rows[445]["code"] = rows[446]["code"] = "PD444"  # three of a code in one chunk
    return rows


def _one_by_one(records: list[Any], rows: list[Any], refused: dict[int, list[str]],
                seen: dict[str, int], label: str) -> tuple[list[Any], list[int], list[Any]]:
    """The reference: each record in file order, its code looked up as it comes."""
    good, locations, refusals = [], [], []
    for location, checked, reasons, original in _each(records, rows, refused, seen, label):
        if checked is None:
            refusals.append((location, reasons, original))
        else:
            good.append(checked)
            locations.append(location)
    return good, locations, refusals


def _each(records: list[Any], rows: list[Any], refused: dict[int, list[str]],
          seen: dict[str, int], label: str) -> Iterator[tuple[int, Any, list[str], Any]]:
    position = 0
    for location, raw, original, problem in records:
        if problem is not None:
            yield location, None, [problem], original
            continue
        checked, reasons = rows[position], refused.get(position, [])
        position += 1
        code = checked[CODE] if checked else (str(raw[CODE]).strip() if raw[CODE] else "")
        if code:
            first = seen.setdefault(code, location)
            if first != location:
                reasons = [*reasons, f"duplicate code {code}, first seen on {label} {first}"]
                checked = None
        yield location, checked, reasons, original


def _import(engine: Engine, settings: Any, path: Path) -> tuple[Any, list[Any], list[Any]]:
    result = importer.import_customers(engine, settings, path)
    with engine.begin() as conn:
        stored = conn.execute(text("SELECT id, code, phone, lon, lat FROM customers "
                                   "ORDER BY id")).all()
        conn.execute(text("DELETE FROM customers"))
    assert result.rejects_file is not None
    rejects = read_rejects(result.rejects_file)
    return result.as_json() | {"samples": result.samples}, stored, rejects


def test_column_wise_and_one_by_one_agree(engine: Engine, make_settings: Any, write_csv: Any,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    settings = make_settings(OUTAGES_CUSTOMERS_IMPORT_BATCH="100")  # chunks of 100 rows
    path = write_csv(_rows())
    together = _import(engine, settings, path)  # plain lines, checked by columnar.py
    monkeypatch.setattr(importer, "_sort_out", _one_by_one)
    monkeypatch.setattr(csvblocks, "_records_start", lambda *_: None)  # the csv reader only
    alone = _import(engine, settings, path)
    assert together[0] == alone[0]
    assert [r[1:] for r in together[1]] == [r[1:] for r in alone[1]]
    assert together[2] == alone[2]
    assert together[0]["rejected"] == 11 and len(together[1]) == 439
    assert [r["code"] for r in together[2]] == [
        "PD003", "", "PD100", "PD213", "PD002", "PD431", "PD432", "PD003", "PD100", "PD444",
        "PD444"]
    reasons = {r["line"]: r["reason"] for r in together[2]}
    assert reasons["442"].startswith("lon 'x' is not a number")
    assert reasons["442"].endswith("duplicate code PD003, first seen on line 5")
    assert reasons["435"] == "duplicate code PD432, first seen on line 434"
    assert reasons["447"] == "duplicate code PD444, first seen on line 446"
