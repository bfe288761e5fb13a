from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import insert, inspect, select, text

from outages import db
from outages.cli.errors import describe
from outages.errors import ConfigError
from outages.models import Customer, Outage


def test_empty_database_is_migrated_on_first_use(empty_db_url: str) -> None:
    engine = db.make_engine(empty_db_url)
    assert db.current_revision(engine) is None
    db.ensure_schema(engine)
    assert db.current_revision(engine) == db.head_revision()
    engine.dispose()


def test_database_behind_the_code_is_refused_with_the_fix(empty_db_url: str) -> None:
    engine = db.make_engine(empty_db_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE unrelated (id INTEGER)"))
    with pytest.raises(ConfigError, match="the code needs") as caught:
        db.ensure_schema(engine)
    assert describe(caught.value).endswith(": run 'outages db upgrade'")
    engine.dispose()


def test_schema_check_reads_the_revisions_alembic_reads(empty_db_url: str) -> None:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    assert db.head_revision() == ScriptDirectory(str(db.MIGRATIONS)).get_current_head()
    engine = db.make_engine(empty_db_url)
    db.upgrade(engine, "0001")
    with engine.connect() as conn:
        assert db.current_revision(engine) == MigrationContext.configure(conn) \
            .get_current_revision() == "0001"
    with pytest.raises(ConfigError, match=f"the code needs {db.head_revision()}"):
        db.ensure_schema(engine)  # behind the code: refused, not migrated behind one's back
    engine.dispose()


def test_timestamps_round_trip_as_aware_utc(engine, add_customers) -> None:
    hanoi = timezone(timedelta(hours=7))
    start = datetime(2026, 12, 7, 8, 0, tzinfo=hanoi)
    with engine.begin() as conn:
        conn.execute(
            Outage.__table__.insert().values(kind="planned", status="scheduled",
                                             planned_start=start)
        )
        stored = conn.execute(select(Outage.__table__.c.planned_start)).scalar_one()
    assert stored == start
    assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)
    assert stored.hour == 1


def test_naive_datetime_is_refused(engine) -> None:
    with pytest.raises(Exception, match="naive"), engine.begin() as conn:
        conn.execute(
            Outage.__table__.insert().values(kind="planned", status="scheduled",
                                             planned_start=datetime(2026, 12, 7, 8, 0)),  # noqa: DTZ001
        )


def test_sqlite_pragmas(engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_customer_defaults(engine, add_customers) -> None:
    add_customers([{"code": "PD0001", "lon": 105.8, "lat": 21.0}])
    with engine.connect() as conn:
        row = conn.execute(select(Customer.__table__)).one()
    assert row.language == "vi"
    assert row.sms_opt_out is False
    assert row.created_at.tzinfo == UTC


def test_identifiers_compare_by_bytes_and_the_migration_goes_both_ways(
        empty_db_url: str) -> None:
    """0017: keys in byte order on PostgreSQL (the locale's rules cost 40% of queueing) and
    two outbox indexes fewer; downgrading puts both back."""
    from alembic import command

    engine = db.make_engine(empty_db_url)
    db.upgrade(engine)

    def state() -> tuple[set[str | None], set[str]]:
        with engine.connect() as conn:
            collations = set() if engine.dialect.name != "postgresql" else {
                name for (name,) in conn.execute(text(
                    "SELECT collation_name FROM information_schema.columns WHERE "
                    "(table_name, column_name) IN (('outbox', 'key'), ('customers', 'code'), "
                    "('customers', 'phone')) AND table_schema = current_schema()"))}
            indexes = {ix["name"] for ix in inspect(conn).get_indexes("outbox")}
        return collations, indexes

    collations, indexes = state()
    assert collations <= {"C"} and (engine.dialect.name != "postgresql" or collations)
    assert "ix_outbox_customer_id" not in indexes and "ix_outbox_provider_id" in indexes
    command.downgrade(db.alembic_config(engine), "0016")
    collations, indexes = state()
    assert "C" not in collations and "ix_outbox_customer_id" in indexes
    command.upgrade(db.alembic_config(engine), "head")
    assert state()[1] == indexes - {"ix_outbox_customer_id"}
    engine.dispose()


@pytest.mark.postgres_only
def test_area_groups_have_joint_statistics_and_the_migration_goes_both_ways(
        empty_db_url: str) -> None:
    """0019: without them PostgreSQL expected 2,000 times the groups an area has and sorted
    a province on disk instead of hashing it (registry/pgcolumns.py)."""
    from alembic import command

    engine = db.make_engine(empty_db_url)
    db.upgrade(engine)

    def statistics() -> list[str]:
        with engine.connect() as conn:
            return list(conn.execute(text(
                "SELECT stxname || ':' || array_to_string(stxkind, ',') FROM pg_statistic_ext "
                "WHERE stxrelid = 'customers'::regclass")).scalars())

    assert statistics() == ["customers_area_groups:d"]
    command.downgrade(db.alembic_config(engine), "0018")
    assert statistics() == []
    command.upgrade(db.alembic_config(engine), "head")
    assert statistics() == ["customers_area_groups:d"]
    engine.dispose()


def test_a_database_newer_than_the_code_is_refused_without_bad_advice(
        empty_db_url: str, cli: Any) -> None:
    engine = db.make_engine(empty_db_url)
    db.upgrade(engine)
    with engine.begin() as conn:  # migrated by a newer release
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(ConfigError, match="newer than this code knows") as caught:
        db.ensure_schema(engine)
    assert "db upgrade" not in describe(caught.value)
    engine.dispose()
    upgrade = cli("db", "upgrade", OUTAGES_DATABASE_URL=empty_db_url)
    assert upgrade.exit_code != 0 and "9999" in upgrade.output
    assert "Traceback" not in upgrade.output


def test_downgrading_past_0020_keeps_customers_with_interruptions(empty_db_url: str) -> None:
    from alembic import command

    if not empty_db_url.startswith("sqlite"):
        pytest.skip("SQLite's table rebuild is what foreign keys refused")
    engine = db.make_engine(empty_db_url)
    db.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO customers (id, code, lon, lat) "
                          "VALUES (1, 'PD0001', 105.8, 21.0)"))
        conn.execute(text("INSERT INTO outages (id, kind, status) VALUES (1, 'fault', "
                          "'confirmed')"))
        conn.execute(text("INSERT INTO interruptions (outage_id, customer_id, planned, "
                          "start_at) VALUES (1, 1, 0, '2026-01-01 00:00:00.000000')"))
    command.downgrade(db.alembic_config(engine), "0019")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM customers")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM interruptions")).scalar() == 1
    db.upgrade(engine)
    assert db.current_revision(engine) == db.head_revision()
    engine.dispose()


def test_notices_queued_before_0022_get_their_cuts_start_as_deadline(empty_db_url: str) -> None:
    from notifier.store import outbox

    start = datetime(2026, 12, 7, 23, 0, tzinfo=UTC)  # 06:00 in Hanoi
    engine = db.make_engine(empty_db_url)
    db.upgrade(engine, "0021")
    with engine.begin() as conn:
        conn.execute(insert(Outage.__table__).values(id=1, kind="planned", status="scheduled",
                                                     planned_start=start, revision=1))
        conn.execute(insert(outbox), [
            {"key": key, "outage_id": 1, "revision": 1, "kind": kind, "channel": "sms",
             "recipient": "+849", "language": "vi", "due_at": start, "body": "x",
             "status": status}
            for key, kind, status in (("a", "reminder", "pending"),
                                      ("b", "fault_ack", "pending"), ("c", "reminder", "sent"))])
    db.upgrade(engine)
    with engine.connect() as conn:
        found = dict(conn.execute(select(outbox.c.key, outbox.c.deadline)).all())
    engine.dispose()
    assert found == {"a": start, "b": None, "c": None}
