"""The initial load sets the secondary indexes aside and always ends with every one present."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event, inspect

from outages.errors import OutagesError
from outages.models.indexes import secondary_indexes
from outages.registry.importer import import_customers
from outages.registry.rows import COLUMNS, RowChecker
from outages.registry.store import BatchWriter
from tests.registry.conftest import row

EXPECTED = {"ix_customers_district", "ix_customers_feeder", "ix_customers_lon_lat",
            "ix_customers_phone", "ix_customers_region"}


def _indexes(engine: Engine) -> set[str]:
    return {str(ix["name"]) for ix in inspect(engine).get_indexes("customers")}


@pytest.fixture
def statements(engine: Engine) -> Iterator[list[str]]:
    """Every SQL statement the engine runs during the test."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def _drops(statements: list[str]) -> list[str]:
    return [s for s in statements if s.lstrip().upper().startswith("DROP INDEX")]


def test_the_indexes_set_aside_are_all_but_the_unique_code_index() -> None:
    assert {str(ix.name) for ix in secondary_indexes()} == EXPECTED


def test_import_into_an_empty_table_ends_with_every_index(
    engine: Engine, make_settings: Any, write_csv: Any, stored: Any, statements: list[str]
) -> None:
    settings = make_settings(OUTAGES_CUSTOMERS_IMPORT_BATCH="100")
    result = import_customers(engine, settings, write_csv(
        [row(f"E{i:03d}", phone=f"09123{i:05d}") for i in range(250)]))
    assert (result.imported, result.rejected) == (250, 0)
    assert _indexes(engine) >= EXPECTED
    assert len(_drops(statements)) == len(EXPECTED)
    assert stored()["E007"]["phone"] == "+84912300007"


def test_import_into_a_filled_table_keeps_its_indexes(
    engine: Engine, settings: Any, add_customers: Any, write_csv: Any, statements: list[str]
) -> None:
    add_customers([{"code": "OLD", "lon": 105.85, "lat": 21.03}])
    result = import_customers(engine, settings, write_csv([row("A"), row("B")]))
    assert (result.imported, result.updated) == (2, 0)
    assert _drops(statements) == []
    assert _indexes(engine) >= EXPECTED


def test_initial_load_stopped_part_way_keeps_earlier_batches_and_every_index(
    engine: Engine, make_settings: Any, write_csv: Any, stored: Any, refuse_code: Any
) -> None:
    settings = make_settings(OUTAGES_CUSTOMERS_IMPORT_BATCH="100")
    refuse_code("C230")
    with pytest.raises(OutagesError, match="the 200 rows before them were"):
        import_customers(engine, settings, write_csv([row(f"C{i:03d}") for i in range(250)]))
    assert sorted(stored()) == [f"C{i:03d}" for i in range(200)]
    assert _indexes(engine) >= EXPECTED


def test_initial_load_failing_in_its_first_batch_keeps_every_index(
    engine: Engine, make_settings: Any, write_csv: Any, stored: Any, refuse_code: Any
) -> None:
    settings = make_settings(OUTAGES_CUSTOMERS_IMPORT_BATCH="100")
    refuse_code("C050")
    with pytest.raises(OutagesError, match="none of them was stored"):
        import_customers(engine, settings, write_csv([row(f"C{i:03d}") for i in range(150)]))
    assert stored() == {}
    assert _indexes(engine) >= EXPECTED


def test_indexes_left_out_by_a_killed_import_are_rebuilt_on_next_use(
    engine: Engine, settings: Any, cli: Any
) -> None:
    # What a process killed after its first batch leaves: rows committed, no rebuild run.
    checker, writer = RowChecker(settings), BatchWriter(engine, COLUMNS)
    values = [row(f"K{i}") for i in range(3)]
    rows = [checker.check([v[c] for c in COLUMNS])[0] for v in values]
    assert writer.write(rows) == (3, 0)
    assert _indexes(engine) & EXPECTED == set()
    result = cli("customers", "list", "--json")
    assert result.exit_code == 0, result.stderr
    assert _indexes(engine) >= EXPECTED
    assert '"K2"' in result.stdout
    writer.close()  # nothing left to build: it only gives its connection back
    assert _indexes(engine) >= EXPECTED


def test_postgres_batches_are_copied_to_a_staging_table_and_upserted_from_it(
    engine: Engine, make_settings: Any, write_csv: Any, stored: Any, add_customers: Any,
    statements: list[str]
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    add_customers([{"code": "C001", "lon": 105.85, "lat": 21.03, "phone": "+84912345678"}])
    settings = make_settings(OUTAGES_CUSTOMERS_IMPORT_BATCH="100")
    before = len(statements)
    result = import_customers(engine, settings, write_csv([row(f"C{i:03d}") for i in range(250)]))
    assert (result.imported, result.updated) == (249, 1)
    inserts = [s for s in statements[before:]
               if s.lstrip().upper().startswith("INSERT INTO CUSTOMERS")]
    assert len(inserts) == 3  # one statement a batch, no row-by-row parameters
    assert all("FROM customers_import" in s for s in inserts)
    assert len(stored()) == 250


def test_postgres_initial_load_copies_straight_into_the_customers_table(
    engine: Engine, make_settings: Any, write_csv: Any, stored: Any, statements: list[str]
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    settings = make_settings(OUTAGES_CUSTOMERS_IMPORT_BATCH="100")
    result = import_customers(engine, settings, write_csv(
        [row(f"C{i:03d}", phone=f"09123{i:05d}") for i in range(250)]))
    assert (result.imported, result.updated, result.rejected) == (250, 0, 0)
    assert not any("customers_import" in s for s in statements)
    customers = stored()
    assert sorted(customers, key=lambda code: customers[code]["id"]) == \
        [f"C{i:03d}" for i in range(250)]  # ids in file order, as the upsert gives them
    assert customers["C007"]["phone"] == "+84912300007"
    assert customers["C007"]["sms_opt_out"] is False
    assert _indexes(engine) >= EXPECTED


def test_postgres_initial_load_upserts_a_batch_whose_code_appeared_meanwhile(
    engine: Engine, settings: Any, stored: Any
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    checker, writer = RowChecker(settings), BatchWriter(engine, COLUMNS)
    values = [row(f"M{i}", name=f"file {i}") for i in range(6)]
    rows = [checker.check([v[c] for c in COLUMNS])[0] for v in values]
    try:
        assert writer.write(rows[:3]) == (3, 0)
        with engine.begin() as conn:  # another process stores one of the next batch's codes
            conn.exec_driver_sql("INSERT INTO customers (code, name, lon, lat, phone_invalid) "
                                 "VALUES ('M4', 'other', 105.85, 21.03, true)")
        assert writer.write(rows[3:]) == (2, 1)
    finally:
        writer.close()
    customers = stored()
    assert sorted(customers) == [f"M{i}" for i in range(6)]
    assert customers["M4"]["name"] == "file 4"
    assert customers["M4"]["phone_invalid"] is False  # a new number, as any upsert does
    assert _indexes(engine) >= EXPECTED
