"""Plain CSV blocks read by pyarrow and checked a column at a time give exactly what the csv
reader and RowChecker give: values, stored rows, counts, rejects (bytes), reasons, line
numbers and errors, also when the file stops being plain part-way."""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from outages.registry import csvblocks, importer
from outages.registry.rows import COLUMNS
from tests.registry.conftest import row

NAMES = ["a", "b", "c"]


def _csv_rows(block: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(block.decode("utf-8"), newline="")))


@pytest.mark.parametrize("block", [
    b'a,b,c\n', b'"a,b",c,d\r\n', b'"x ""y"" z",,\n', b'"","""",c\n', b' a , b ,c \n',
    b'S\xe1\xbb\x91,"1,2",\n',
])
def test_a_plain_block_is_read_as_the_csv_module_reads_it(block: bytes) -> None:
    table = csvblocks._plain_table(block, NAMES)
    assert table is not None
    assert [list(r.values()) for r in table.to_pylist()] == _csv_rows(block)


@pytest.mark.parametrize("block", [
    b'a,b"c,d\n', b'"ab"c,d,e\n', b'a,"b\nc",d\n', b'a,b,c\n\nd,e,f\n', b'a,b,c\rd,e,f\n',
    b'a,b\n', b'a,b,c,d\n', b'a,\xff,c\n', b'a,"b,c\n', b'a,b,c', b'a,"b""",c"\n',
])
def test_a_block_that_is_not_plain_is_left_to_the_csv_module(block: bytes) -> None:
    assert csvblocks._plain_table(block, NAMES) is None


def test_random_blocks_read_as_plain_agree_with_the_csv_module() -> None:
    rng = random.Random(5)
    pieces = ["a", "b", " ", ",", '"', '""', "\n", "\r\n", "ố", "\r"]
    plain = 0
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 14))) + "\n"
        block = text.encode()
        table = csvblocks._plain_table(block, NAMES)
        if table is None:
            continue
        plain += 1
        rows = _csv_rows(block)
        assert [list(r.values()) for r in table.to_pylist()] == rows, text
        assert len(rows) == block.count(b"\n"), text
    assert plain > 50


def _tricky_rows(count: int = 400) -> list[dict[str, str]]:
    changes: list[dict[str, str]] = [
        {"name": "  An  "}, {"name": "An\u00a0"}, {"name": "An\t"}, {"address": "x\u202e"},
        {"connected_on": "2021-02-29"}, {"connected_on": "1899-12-31"},
        {"connected_on": " 2001-01-01 "}, {"connected_on": "2001-01-01",
                                           "disconnected_on": "1990-01-01"},
        {"priority": "Life_Support"}, {"priority": "nonsense"}, {"channels": "SMS, email"},
        {"language": "EN"}, {"language": "fr"}, {"language": ""}, {"lon": "105,8"},
        {"lon": "1e2"}, {"lon": " 105.85"}, {"lat": "21.0300000000000000001"},
        {"phone": "+84 912 345 678"}, {"phone": "(024) 3825 1234"}, {"phone": "12345"},
        {"phone": ""}, {"email": "A@B.CO"}, {"email": "x" * 65 + "@a.vn"},
        {"email": "bad@@a.vn"}, {"email": ""}, {"code": ""}, {"code": "PD005"},
        {"address": "x" * 501}, {"name": 'Tên "có" ngoặc'}, {"region": ""},
        {"district": "   "}, {"name": "Số 1, ngõ 2"}, {"lon": "105.2", "lat": "20.1"},
    ]
    rows = [row(f"PD{k:03d}") for k in range(count)]
    for k, change in enumerate(changes):
        rows[7 + 11 * k].update(change)
    return rows


def _outcome(engine: Engine, settings: Any, path: Path) -> tuple[Any, ...]:
    try:
        result = importer.import_customers(engine, settings, path)
    except Exception as exc:  # the error is part of the outcome
        outcome: Any = f"{type(exc).__name__}: {exc}"
        rejects = None
    else:
        outcome = result.as_json() | {"samples": result.samples}
        assert result.rejects_file is not None
        rejects = result.rejects_file.read_bytes()
    with engine.begin() as conn:
        stored = conn.execute(text(f"SELECT id, {', '.join(COLUMNS)}, phone_invalid "
                                   "FROM customers ORDER BY id")).all()
        conn.execute(text("DELETE FROM customers") if engine.dialect.name == "sqlite" else
                     text("TRUNCATE customers RESTART IDENTITY CASCADE"))  # ids from 1 again
    return outcome, stored, rejects


def _both_ways(engine: Engine, settings: Any, path: Path,
               monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """(outcome through plain blocks, outcome through the csv reader alone)."""
    monkeypatch.setattr(csvblocks, "BLOCK_BYTES", 3000)  # several blocks, chunks across them
    monkeypatch.setattr(importer, "PLAIN_CHUNK", 300)  # three checked chunks of 100 rows
    checked: list[int] = []
    check = importer._LinesChecker.check

    def counting(self: Any, lines: Any) -> Any:
        checked.append(len(lines))
        return check(self, lines)

    with monkeypatch.context() as patch:
        patch.setattr(importer._LinesChecker, "check", counting)
        fast = _outcome(engine, settings, path)
    assert sum(checked) >= 200  # most of the file came as plain lines
    with monkeypatch.context() as patch:
        patch.setattr(csvblocks, "_records_start", lambda *_: None)  # the csv reader only
        slow = _outcome(engine, settings, path)
    return fast, slow


@pytest.mark.parametrize("crlf", [False, True])
def test_plain_blocks_and_the_csv_reader_store_and_refuse_the_same(
        engine: Engine, make_settings: Any, write_csv: Any, monkeypatch: pytest.MonkeyPatch,
        crlf: bool) -> None:
    settings = make_settings(OUTAGES_CUSTOMERS_IMPORT_BATCH="100")
    path = write_csv(_tricky_rows(), bom=crlf)
    if not crlf:
        path.write_bytes(path.read_bytes().replace(b"\r\n", b"\n"))
    fast, slow = _both_ways(engine, settings, path, monkeypatch)
    assert fast == slow
    assert fast[0]["rejected"] > 10 and len(fast[1]) > 350


def test_a_line_break_in_a_value_hands_the_rest_to_the_csv_reader(
        engine: Engine, make_settings: Any, write_csv: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    settings = make_settings(OUTAGES_CUSTOMERS_IMPORT_BATCH="100")
    rows = _tricky_rows(1500)
    rows[1300]["address"] = "Số 1\nngõ 2"
    rows[1320]["code"] = ""
    fast, slow = _both_ways(engine, settings, write_csv(rows), monkeypatch)
    assert fast == slow
    assert "Số 1\nngõ 2".encode() in fast[2]  # refused: a line break is a control character


def test_text_that_is_not_utf8_part_way_fails_as_the_csv_reader_does(
        engine: Engine, make_settings: Any, write_csv: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    settings = make_settings(OUTAGES_CUSTOMERS_IMPORT_BATCH="100")
    path = write_csv([row(f"PD{k:04d}") for k in range(2000)])
    data = path.read_bytes()
    cut = data.index(b"PD1500")
    path.write_bytes(data[:cut] + b"\xff" + data[cut:])
    fast, slow = _both_ways(engine, settings, path, monkeypatch)
    assert fast == slow
    assert "is not UTF-8" in fast[0] and len(fast[1]) > 100


@pytest.mark.parametrize("columns", [
    ("code", "lon", "lat"),
    ("lat", "phone", "code", "lon", "language"),
    (" Code ", "LON", "lat", "Email", "connected_on"),
])
def test_a_header_with_some_columns_in_any_order_and_case_gives_the_same(
        engine: Engine, make_settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        columns: tuple[str, ...]) -> None:
    settings = make_settings(OUTAGES_CUSTOMERS_IMPORT_BATCH="100")
    rows = _tricky_rows(600)
    keys = [c.strip().lower() for c in columns]
    lines = [",".join(columns)] + [",".join(_quoted(r[k]) for k in keys) for r in rows]
    path = tmp_path / "data" / "some-columns.csv"
    path.parent.mkdir(exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    fast, slow = _both_ways(engine, settings, path, monkeypatch)
    assert fast == slow


def _quoted(value: str) -> str:
    if any(c in value for c in ',"\n'):
        return '"' + value.replace('"', '""') + '"'
    return value
