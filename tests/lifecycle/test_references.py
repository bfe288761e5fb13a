"""An outage's members and interruptions name an existing outage and customer, go with their
outage and keep their customers: foreign keys on SQLite, statement triggers on PostgreSQL
(migration 0018, checked once per statement instead of once per row)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from outages import db
from outages.lifecycle import core as lifecycle

MEMBERS, INTERRUPTIONS = lifecycle.MEMBERS, lifecycle.INTERRUPTIONS


def _outage(conn: Any, status: str = "confirmed") -> int:
    return int(conn.execute(text("INSERT INTO outages (kind, status) VALUES ('fault', :s) "
                                 "RETURNING id"), {"s": status}).scalar_one())


def _customer_ids(conn: Any) -> list[int]:
    return list(conn.execute(text("SELECT id FROM customers ORDER BY id")).scalars())


def _counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return tuple(int(conn.execute(select(func.count()).select_from(t)).scalar_one())
                     for t in (MEMBERS, INTERRUPTIONS))  # type: ignore[return-value]


def _members(outage: int, customers: list[int]) -> list[dict[str, Any]]:
    return [{"outage_id": outage, "customer_id": c, "added_revision": 1} for c in customers]


def _interruptions(outage: int, customers: list[int]) -> list[dict[str, Any]]:
    return [{"outage_id": outage, "customer_id": c, "planned": False} for c in customers]


@pytest.mark.parametrize("table,rows", [(MEMBERS, _members), (INTERRUPTIONS, _interruptions)])
def test_one_row_naming_a_missing_customer_refuses_the_whole_statement(
        engine: Engine, grid: Any, table: Any, rows: Any) -> None:
    with engine.begin() as conn:
        outage, customers = _outage(conn), _customer_ids(conn)
    with pytest.raises(IntegrityError) as refused, engine.begin() as conn:
        conn.execute(insert(table), rows(outage, [*customers[:50], 999_999, *customers[50:]]))
    assert _counts(engine) == (0, 0)
    if engine.dialect.name == "postgresql":
        assert "customer 999999" in str(refused.value)
        assert getattr(refused.value.orig, "sqlstate", None) == "23503"


@pytest.mark.parametrize("table,rows", [(MEMBERS, _members), (INTERRUPTIONS, _interruptions)])
def test_rows_naming_a_missing_outage_are_refused(engine: Engine, grid: Any, table: Any,
                                                  rows: Any) -> None:
    with engine.begin() as conn:
        outage, customers = _outage(conn), _customer_ids(conn)
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(table), [*rows(outage, customers[:3]), *rows(outage + 7, [1])])
    assert _counts(engine) == (0, 0)
    with engine.begin() as conn:  # and the same rows with the right outage are taken
        conn.execute(insert(table), rows(outage, customers[:4]))
    assert sorted(_counts(engine)) == [0, 4]


def test_deleting_an_outage_deletes_its_members_and_interruptions_only(
        engine: Engine, grid: Any) -> None:
    with engine.begin() as conn:
        gone, kept, customers = _outage(conn), _outage(conn), _customer_ids(conn)
        for outage in (gone, kept):
            conn.execute(insert(MEMBERS), _members(outage, customers[:30]))
            conn.execute(insert(INTERRUPTIONS), _interruptions(outage, customers[:30]))
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM outages WHERE id = :id"), {"id": gone})
    with engine.connect() as conn:
        left = {str(t.name): sorted(set(conn.execute(select(t.c.outage_id)).scalars()))
                for t in (MEMBERS, INTERRUPTIONS)}
    assert left == {"outage_customers": [kept], "interruptions": [kept]}
    assert _counts(engine) == (30, 30)


@pytest.mark.parametrize("table,rows", [(MEMBERS, _members), (INTERRUPTIONS, _interruptions)])
def test_a_customer_in_an_outage_cannot_be_deleted_and_others_can(
        engine: Engine, grid: Any, table: Any, rows: Any) -> None:
    with engine.begin() as conn:
        outage, customers = _outage(conn), _customer_ids(conn)
        conn.execute(insert(table), rows(outage, customers[:1]))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("DELETE FROM customers WHERE id IN (:a, :b)"),
                     {"a": customers[1], "b": customers[0]})
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM customers WHERE id = :b"), {"b": customers[1]})
        assert _customer_ids(conn) == [customers[0], *customers[2:]]


def test_a_row_cannot_be_moved_to_a_missing_customer_or_outage(engine: Engine,
                                                                grid: Any) -> None:
    with engine.begin() as conn:
        outage, customers = _outage(conn), _customer_ids(conn)
        conn.execute(insert(MEMBERS), _members(outage, customers[:2]))
        conn.execute(insert(INTERRUPTIONS), _interruptions(outage, customers[:2]))
    for table, values in ((MEMBERS, {"customer_id": 999_999}),
                          (INTERRUPTIONS, {"outage_id": outage + 5})):
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(update(table).where(table.c.customer_id == customers[0])
                         .values(**values))
    with engine.begin() as conn:  # the columns that do change, change
        conn.execute(update(MEMBERS).values(dropped_revision=2))
        conn.execute(update(INTERRUPTIONS).values(cause="weather"))
        assert set(conn.execute(select(MEMBERS.c.dropped_revision)).scalars()) == {2}


@pytest.mark.postgres_only
def test_the_checks_replace_the_foreign_keys_and_the_migration_goes_both_ways(
        empty_db_url: str) -> None:
    from alembic import command

    engine = db.make_engine(empty_db_url)
    db.upgrade(engine)

    def state() -> tuple[set[str], set[str]]:
        with engine.connect() as conn:
            keys = set(conn.execute(text(
                "SELECT conname FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass"
                "::text IN ('outage_customers', 'interruptions')")).scalars())
            triggers = set(conn.execute(text(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")).scalars())
        return keys, triggers

    keys, triggers = state()
    assert not keys
    assert {"outage_customers_refer_to_existing_rows", "interruptions_refer_to_existing_rows",
            "outages_take_their_rows", "customers_in_outages_stay"} <= triggers
    command.downgrade(db.alembic_config(engine), "0017")
    assert state() == ({"fk_outage_customers_outage_id_outages",
                        "fk_outage_customers_customer_id_customers",
                        "fk_interruptions_outage_id_outages",
                        "fk_interruptions_customer_id_customers"}, set())
    command.upgrade(db.alembic_config(engine), "head")
    assert state() == (keys, triggers)
    engine.dispose()
