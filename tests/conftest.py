"""Shared fixtures: a fresh real database per test, settings bound to it, and a CLI runner.

OUTAGES_TEST_DB=sqlite (default) gives each test its own SQLite file; OUTAGES_TEST_DB=postgres
gives the run its own PostgreSQL database on OUTAGES_TEST_POSTGRES_URL, migrated once, emptied
before each test and dropped at the end.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, create_engine, insert
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from outages import db, notices  # noqa: F401  (notices: subscribes the notice planner)
from outages.models import Customer
from outages.settings import Settings, load_settings
from tests.support.smtp_server import SmtpServer

# Every API refusal in the suite is checked for CLI words (see that module).
pytest_plugins = ("tests.support.refusals",)

# pytest-xdist's workers inherit COLUMNS=80 from the controller; the tests read the CLI's
# output as a pipe gets it (outages/cli/output.py), with or without workers.
os.environ.pop("COLUMNS", None)

BACKEND = os.environ.get("OUTAGES_TEST_DB", "sqlite")
POSTGRES_URL = os.environ.get("OUTAGES_TEST_POSTGRES_URL", "")
# An ISO time with its offset: every test then starts its (ticking) clock there. `make
# test-midnight` runs the suite just before and just after local midnight, where a test that
# reads the wall clock for a local date would fail.
TEST_CLOCK = os.environ.get("OUTAGES_TEST_CLOCK", "")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if BACKEND == "postgres":
        return
    skip = pytest.mark.skip(reason="PostgreSQL only: runs when OUTAGES_TEST_DB=postgres")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _test_clock(request: pytest.FixtureRequest) -> Iterator[None]:
    if not TEST_CLOCK or request.node.get_closest_marker("real_clock"):
        yield
        return
    import time_machine

    with time_machine.travel(datetime.fromisoformat(TEST_CLOCK), tick=True):
        yield


def _admin_engine() -> Engine:
    url = make_url(POSTGRES_URL).set(drivername="postgresql+psycopg", database="postgres")
    return create_engine(url, isolation_level="AUTOCOMMIT")


class _PostgresRun:
    """One migrated database for the whole run, dropped at the end; emptied between tests
    (deleting rows and restarting sequences takes milliseconds, dropping a database about
    a second, since PostgreSQL checkpoints on DROP DATABASE)."""

    def __init__(self) -> None:
        if not POSTGRES_URL:
            raise pytest.UsageError("OUTAGES_TEST_DB=postgres needs OUTAGES_TEST_POSTGRES_URL")
        self.admin = _admin_engine()
        # Migrated once and never connected to again, so that databases a test needs of its
        # own are copied from it (CREATE DATABASE ... TEMPLATE) instead of migrated anew.
        self.pristine = self.create("outages_template")
        engine = db.make_engine(self.url_of(self.pristine))
        db.upgrade(engine)
        self.tables = _deletion_order(engine)
        engine.dispose()
        self.name = self.migrated("outages_run")
        self.url = self.url_of(self.name)
        # One connection kept for emptying, and the whole emptying sent as one batch: a new
        # connection and a round trip per table took most of a test's setup (~50 ms).
        self.emptier = create_engine(make_url(self.url), pool_size=1, pool_pre_ping=True)
        with self.emptier.connect() as conn:
            sequences = conn.exec_driver_sql(
                "SELECT sequence_name FROM information_schema.sequences "
                "WHERE sequence_schema = 'public'").scalars().all()
        # A test that left a transaction open must fail loudly, not hang the run.
        self.emptying = "".join([
            "SET LOCAL lock_timeout = '5s';",
            *(f'DELETE FROM "{table}";' for table in self.tables),
            *(f'ALTER SEQUENCE "{sequence}" RESTART;' for sequence in sequences)])

    def url_of(self, name: str) -> str:
        return make_url(POSTGRES_URL).set(drivername="postgresql+psycopg",
                                          database=name).render_as_string(hide_password=False)

    def create(self, prefix: str, template: str = "template1") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return name

    def migrated(self, prefix: str) -> str:
        """A new database already migrated (a copy of the pristine one)."""
        return self.create(prefix, template=self.pristine)

    def drop(self, name: str) -> None:
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def empty(self) -> None:
        with self.emptier.begin() as conn:
            conn.exec_driver_sql(self.emptying)

    def close(self) -> None:
        self.emptier.dispose()
        self.drop(self.name)
        self.drop(self.pristine)
        self.admin.dispose()


# Checked by triggers rather than foreign keys on PostgreSQL (migration 0018), so reflection
# cannot see that they go before the customers they name.
REFERRING_BY_TRIGGER = ("outage_customers", "interruptions")


def _deletion_order(engine: Engine) -> list[str]:
    reflected = MetaData()
    reflected.reflect(engine)
    rest = [t.name for t in reversed(reflected.sorted_tables)
            if t.name not in ("alembic_version", *REFERRING_BY_TRIGGER)]
    return [*REFERRING_BY_TRIGGER, *rest]


@pytest.fixture(scope="session")
def _template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if BACKEND == "postgres":
        run = _PostgresRun()
        yield run
        run.close()
        return
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    engine.dispose()
    yield path


@pytest.fixture
def db_url(_template: Any, tmp_path: Path) -> str:
    """URL of a migrated, empty database of the backend under test."""
    if BACKEND == "postgres":
        _template.empty()
        return str(_template.url)
    target = tmp_path / "outages.db"
    shutil.copyfile(_template, target)
    return f"sqlite:///{target}"


@pytest.fixture(scope="module")
def module_db_url(_template: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a migrated, empty database for one module (a server the module's tests share)."""
    if BACKEND == "postgres":
        name = _template.migrated("outages_module")
        yield _template.url_of(name)
        _template.drop(name)
        return
    target = tmp_path_factory.mktemp("module") / "outages.db"
    shutil.copyfile(_template, target)
    yield f"sqlite:///{target}"


@pytest.fixture
def empty_db_url(_template: Any, tmp_path: Path) -> Iterator[str]:
    """URL of a database with no schema at all (to test first-use migration)."""
    if BACKEND == "postgres":
        name = _template.create("outages_empty")
        yield _template.url_of(name)
        _template.drop(name)
        return
    yield f"sqlite:///{tmp_path / 'empty.db'}"


@pytest.fixture
def test_env(db_url: str) -> dict[str, str]:
    """Environment for settings and CLI runs: the fresh database, no notice delay rules
    relaxed unless a test says so."""
    return {"OUTAGES_DATABASE_URL": db_url}


@pytest.fixture
def make_settings(test_env: dict[str, str]) -> Callable[..., Settings]:
    def build(**env: str) -> Settings:
        return load_settings(environ={**test_env, **env})

    return build


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = db.make_engine(db_url)
    yield engine
    engine.dispose()


class Cli:
    """Runs the real `outages` command in-process with a given environment."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = dict(env)
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, **env: str) -> Any:
        from outages.cli import app

        merged = {**self.env, **env}
        saved = {k: os.environ.get(k) for k in merged}
        os.environ.update(merged)
        try:
            return self.runner.invoke(app, list(args), input=input, catch_exceptions=False)
        except SystemExit as exc:  # pragma: no cover - CliRunner converts these already
            raise AssertionError(f"command exited outside the runner: {exc}") from exc
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


@pytest.fixture
def cli(test_env: dict[str, str]) -> Cli:
    return Cli(test_env)


def insert_customers(engine: Engine, rows: Sequence[Mapping[str, Any]]) -> None:
    """Test helper: put customers straight into the registry (code, lon, lat at least)."""
    with engine.begin() as conn:
        conn.execute(insert(Customer.__table__), [dict(row) for row in rows])


@pytest.fixture
def add_customers(engine: Engine) -> Callable[[Sequence[Mapping[str, Any]]], None]:
    return lambda rows: insert_customers(engine, rows)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server in this process (aiosmtpd) on a free loopback port."""
    server = SmtpServer().start()
    yield server
    server.stop()
