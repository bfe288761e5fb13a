"""A chunk whose codes are all new goes to the batch whole (its bad rows to the rejects);
one with a repeated code goes row by row. Both store, count and reject exactly alike, batch
boundaries and the order of rejects included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from outages.registry import importer
from tests.registry.conftest import read_rejects, row


def _rows() -> list[dict[str, str]]:
    rows = [row(f"PD{k:03d}") for k in range(450)]
    rows[3]["lon"] = "abc"
    rows[99]["code"] = ""
    rows[100]["phone"] = "09123"
    rows[213]["lat"], rows[213]["lon"] = rows[213]["lon"], rows[213]["lat"]
    rows[325]["code"] = "PD002"  # a repeat, in a later chunk
    rows[431]["email"] = "khong-co-email"
    return rows


def _import(engine: Engine, settings: Any, path: Path) -> tuple[Any, list[Any], list[Any]]:
    result = importer.import_customers(engine, settings, path)
    with engine.begin() as conn:
        stored = conn.execute(text("SELECT id, code, phone, lon, lat FROM customers "
                                   "ORDER BY id")).all()
        conn.execute(text("DELETE FROM customers"))
    assert result.rejects_file is not None
    rejects = read_rejects(result.rejects_file)
    return result.as_json() | {"samples": result.samples}, stored, rejects


def test_bulk_and_row_by_row_agree(engine: Engine, make_settings: Any, write_csv: Any,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    settings = make_settings(OUTAGES_CUSTOMERS_IMPORT_BATCH="100")  # chunks of 100 rows
    path = write_csv(_rows())
    calls: list[bool] = []
    bulk = importer._bulk

    def counted(*args: Any) -> Any:
        found = bulk(*args)
        calls.append(found is not None)
        return found

    monkeypatch.setattr(importer, "_bulk", counted)
    together = _import(engine, settings, path)
    assert calls == [True, True, True, False, True]  # the fourth chunk holds the repeat
    monkeypatch.setattr(importer, "_bulk", lambda *args: None)
    alone = _import(engine, settings, path)
    assert together[0] == alone[0]
    assert [r[1:] for r in together[1]] == [r[1:] for r in alone[1]]
    assert together[2] == alone[2]
    assert together[0]["rejected"] == 6 and len(together[1]) == 444
    assert [r["code"] for r in together[2]] == ["PD003", "", "PD100", "PD213", "PD002", "PD431"]
