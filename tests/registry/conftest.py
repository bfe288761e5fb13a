"""Helpers for registry tests: CSV files written from rows, and a look at what was stored."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from outages.models import Customer
from outages.registry.rows import COLUMNS

HEADER = ",".join(COLUMNS)


def row(code: str = "PD1", **values: str) -> dict[str, str]:
    """A good row (Hoàn Kiếm), with some fields replaced."""
    base = {"code": code, "name": "Nguyễn Văn An", "phone": "0912345678",
            "email": "an@example.vn", "lon": "105.85", "lat": "21.03",
            "address": "1 Tràng Tiền", "region": "Hà Nội", "district": "Hoàn Kiếm",
            "feeder": "HK-471", "language": "vi", "connected_on": "2010-01-01",
            "disconnected_on": "", "priority": "", "channels": ""}
    return {**base, **values}


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    def write(rows: Sequence[dict[str, str]], name: str = "customers.csv",
              columns: Sequence[str] = COLUMNS, bom: bool = False) -> Path:
        path = tmp_path / "data" / name  # apart from the test's SQLite file
        path.parent.mkdir(exist_ok=True)
        with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(columns), extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
        return path

    return write


@pytest.fixture
def stored(engine: Engine) -> Callable[[], dict[str, dict[str, Any]]]:
    """Every stored customer by code."""
    def read() -> dict[str, dict[str, Any]]:
        with engine.connect() as conn:
            rows = conn.execute(select(Customer.__table__)).mappings().all()
        return {r["code"]: dict(r) for r in rows}

    return read


def read_rejects(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def refuse_code(engine: Engine) -> Iterator[Any]:
    """Make the database refuse one code; PostgreSQL keeps one database per run, so the
    trigger and its function are dropped before and after."""
    def clear() -> None:
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS boom" + (
                " ON customers" if engine.dialect.name == "postgresql" else ""))
            if engine.dialect.name == "postgresql":
                conn.exec_driver_sql("DROP FUNCTION IF EXISTS boom()")

    clear()
    yield lambda code: _fail_on_code(engine, code)
    clear()


def _fail_on_code(engine: Any, code: str) -> None:
    """A database that refuses one code, to make a later batch fail part-way through."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql(f"CREATE TRIGGER boom BEFORE INSERT ON customers WHEN "
                                 f"NEW.code = '{code}' BEGIN SELECT RAISE(ABORT, 'boom'); END")
            return
        conn.exec_driver_sql(
            "CREATE FUNCTION boom() RETURNS trigger AS $$ BEGIN IF NEW.code = '" + code +
            "' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql")
        conn.exec_driver_sql("CREATE TRIGGER boom BEFORE INSERT ON customers FOR EACH ROW "
                             "EXECUTE FUNCTION boom()")
