"""Engine, sessions and migrations.

SQLite (the embedded default) runs in WAL mode with foreign keys on; PostgreSQL is reached
through psycopg 3. An empty database is migrated on first use; a database behind the code
is refused with the command that brings it up to date.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Connection,
    Engine,
    any_,
    bindparam,
    create_engine,
    event,
    func,
    inspect,
    literal,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.sql.elements import ColumnElement

from outages.errors import ConfigError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str, **kwargs: Any) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, **kwargs)
    if parsed.drivername == "postgresql":
        url = str(parsed.set(drivername="postgresql+psycopg"))
    return create_engine(url, **{"pool_pre_ping": True, **kwargs})


def _sqlite_engine(url: str, **kwargs: Any) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        folder = Path(database).expanduser().resolve().parent
        if not folder.is_dir():
            raise ConfigError(f"folder {folder} for the SQLite database does not exist",
                              field="database.url")
    engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy issue BEGIN itself so that BEGIN IMMEDIATE can be asked for.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "")
        conn.exec_driver_sql(f"BEGIN {mode}".strip())

    return engine


# Alembic is imported only to migrate: checking that a database is current reads the
# revision ids from the migration files and the alembic_version table directly, so a
# command on an up-to-date database starts without loading alembic.


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


@cache
def head_revision() -> str | None:
    """The newest revision in migrations/versions: the one no other revision follows."""
    revisions = _revisions()
    heads = set(revisions) - set(revisions.values())
    if len(heads) > 1:
        raise ConfigError(f"migrations have several heads: {', '.join(sorted(heads))}",
                          field="migrations")
    return heads.pop() if heads else None


def _assignments(path: Path, names: tuple[str, ...]) -> dict[str, Any]:
    """The literal values of the module-level `names = ...` in a migration file."""
    found: dict[str, Any] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name) and target.id in names:
                found[target.id] = ast.literal_eval(value)
    return found


def _revisions() -> dict[str, str | None]:
    """Each revision in migrations/versions -> the one it follows."""
    revisions: dict[str, str | None] = {}
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = _assignments(path, ("revision", "down_revision"))
        revisions[str(found["revision"])] = found.get("down_revision")
    return revisions


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, as alembic records it (None when never migrated)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    if len(versions) > 1:
        raise ConfigError(f"database records several schema revisions: {', '.join(versions)}",
                          field="database.url")
    return versions[0] if versions else None


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def ensure_schema(engine: Engine) -> None:
    """Migrate an empty database; refuse one that is behind with the fix."""
    current = current_revision(engine)
    if current == head_revision():
        _restore_customer_indexes(engine)
        return
    if current is None and not _has_tables(engine):
        upgrade(engine)
        return
    if current is not None and current not in _revisions():
        # Migrated by a newer release (a rolling deploy): upgrading cannot help, this code
        # does not know that revision.
        raise ConfigError(f"database schema is at {current}, newer than this code knows (it "
                          f"needs {head_revision()}): run the release that migrated it",
                          field="database.url")
    raise ConfigError(
        f"database schema is at {current or 'an unknown version'}, the code needs "
        f"{head_revision()}", field="database.url", hint="db_upgrade",
    )


def _restore_customer_indexes(engine: Engine) -> None:
    """An import killed during an initial load leaves the customers table without its
    secondary indexes (see customer_indexes); the next process to open it builds them."""
    from outages.models.indexes import restore_indexes  # the models import this module

    restore_indexes(engine)


def _has_tables(engine: Engine) -> bool:
    return bool(inspect(engine).get_table_names())


# Rows one transaction may add to a table before the planner's statistics of it are renewed
# in that same transaction (PostgreSQL). Autovacuum renews them only minutes after the commit,
# and is busiest when the rows come in bulk: a typhoon's million queued notices were planned
# as 283 rows, and every worker's claim sorted all of them (0.5-1.1 s per claim instead of
# 24 ms).
STALE_AFTER_ROWS = 50_000


# PostgreSQL's binary COPY framing: a signature, flags and header extension, and the end
# mark after the rows (each row: its field count, then per field a length and the bytes).
PG_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
PG_COPY_TRAILER = b"\xff\xff"


def refresh_statistics(conn: Connection, table: str, added: int) -> None:
    """ANALYZE `table` inside the caller's transaction after it added `added` rows, when that
    is enough to mislead the planner. ANALYZE counts the transaction's own new rows, and its
    statistics are seen by others from the commit on. SQLite plans without row counts."""
    if added >= STALE_AFTER_ROWS and conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"ANALYZE {table}")


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Any]:
    """A transaction that takes SQLite's write lock at BEGIN, so two writers queue instead
    of failing half-way with 'database is locked'."""
    with engine.connect().execution_options(sqlite_begin="IMMEDIATE") as conn, conn.begin():
        yield conn


def hold(conn: Connection, key: str, *, seed: int) -> None:
    """Wait until no other transaction holds `key` (among the locks of `seed`), and hold it
    to the end of this one: PostgreSQL's advisory lock. On SQLite a write transaction already
    holds the database's one write lock, so there is nothing to take."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(
            func.hashtextextended(literal(key), literal(seed)))))


def among(conn: Connection, column: ColumnElement[Any],
          values: Iterable[Any]) -> ColumnElement[bool]:
    """`column IN (values)`; on PostgreSQL `column = ANY(array)` with one bound array. An IN
    list is spelled out anew at each execution, one placeholder per value: for a worker's
    batch of 500 ids that cost more than the query."""
    values = list(values)
    if conn.dialect.name != "postgresql":
        return column.in_(values)
    from sqlalchemy.dialects.postgresql import ARRAY

    return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
