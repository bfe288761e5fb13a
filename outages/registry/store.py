"""Storing validated registry rows: one upsert by code per batch, in one transaction."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, TypeAlias

import pyarrow as pa
import pyarrow.csv as pa_csv
from sqlalchemy import Connection, Engine, bindparam, case, column, false, func, null, select, table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from outages.models import Customer
from outages.models.indexes import build_missing, defer_for_initial_load, restore_indexes
from outages.registry.rows import COLUMNS, Row

_t = Customer.__table__
Rows: TypeAlias = "list[Row] | pa.Table"  # a table: the COLUMNS, typed as rows' values are


class BatchWriter:
    """One upsert per batch. Columns the file does not have keep their stored values.

    SQLite: the Core statement is compiled once and run with plain tuples: SQLAlchemy's
    per-row parameter processing would double the time of a million-row import. PostgreSQL:
    the batch is copied (COPY) into a temporary table dropped at commit, and one INSERT ...
    SELECT ... ON CONFLICT upserts from it; row-by-row parameters cost it ten times more. An
    initial load copies straight into the customers table (see _Stage).
    Values are already what the driver takes (str, float, None).
    """

    def __init__(self, engine: Engine, present: Sequence[str]) -> None:
        self.engine = engine
        columns = [c for c in COLUMNS if c in present or c == "language"]
        updated = [c for c in columns if c in present]
        self._columns = columns
        self._copy = engine.dialect.name == "postgresql"
        if self._copy:
            self._stage = _Stage(engine, columns, updated)
        # New rows get the flags as constants, so the parameters are a row's values: picked
        # per row, or, when the file has every column, the row itself (SQLite's ?NNN names a
        # parameter by its place in the row), with no Python step per row.
        values: dict[str, Any] = {c: bindparam(c) for c in columns} | {f: false() for f in _FLAGS}
        compiled = _upsert(engine, updated, values=values).compile(dialect=engine.dialect)
        self.sql = str(compiled)
        order = list(compiled.positiontup or columns)
        self._pick: Callable[[Row], Row] | None = itemgetter(*map(COLUMNS.index, order))
        if engine.dialect.name == "sqlite" and sorted(order) == sorted(COLUMNS):
            self.sql = _numbered(self.sql, [COLUMNS.index(k) + 1 for k in order])
            self._pick = None
        self._conn: Connection | None = None
        self._first = True
        self._initial = False  # the table was empty when the import began

    def write(self, rows: list[Row]) -> tuple[int, int]:
        """Store the rows in one transaction; (new, existing) counts."""
        return self.write_parts(self.prepare([rows]))

    def prepare(self, parts: Sequence[Rows]) -> list[Rows | CsvRows]:
        """The parts as the database takes them, made before write_parts (by the thread that
        checks, while the previous batch is written): tables as tuples for SQLite, as CSV
        text for PostgreSQL's COPY (pyarrow quotes every string, so only a null is an empty
        field)."""
        if not self._copy:
            return [_tuples(part) for part in parts]
        return [part if isinstance(part, list) else CsvRows(_csv(part.select(self._columns)),
                                                             part.num_rows) for part in parts]

    def write_parts(self, parts: Sequence[Rows | CsvRows]) -> tuple[int, int]:
        """Store the rows of the parts, in order, in one transaction; (new, existing)."""
        conn = self._connection()
        with conn.begin():
            if self._first:
                # Undone with this batch if it fails.
                self._initial = defer_for_initial_load(conn)
                self._first = False
            if self._copy:
                return self._stage.write(conn, parts, initial=self._initial)
            rows = [row for part in parts for row in _tuples(part)]
            params = rows if self._pick is None else list(map(self._pick, rows))
            return _upsert_counting_ids(conn, self.sql, params)

    def _connection(self) -> Connection:
        """One connection for the whole import, opened by the thread that writes."""
        if self._conn is None:
            self._conn = self.engine.connect().execution_options(sqlite_begin="IMMEDIATE")
            if self.engine.dialect.name == "sqlite":
                # A batch dirties pages all over the phone and location indexes; with the
                # default 2 MB cache they spill to the WAL several times per transaction.
                # Index builds sort in memory rather than in a temporary file.
                _pragmas(self._conn, f"cache_size=-{IMPORT_CACHE_KIB}", "temp_store=MEMORY")
        return self._conn

    def close(self) -> None:
        """Build the indexes an initial load set aside (or a killed import left out), then
        give the connection back as it was. Call it however the import ends."""
        if self._conn is None:
            return
        conn, self._conn = self._conn, None
        try:
            if self.engine.dialect.name == "sqlite":  # one writer: on this connection's cache
                with conn.begin():
                    build_missing(conn)
                _pragmas(conn, f"cache_size={SQLITE_DEFAULT_CACHE}",
                         f"temp_store={SQLITE_DEFAULT_TEMP_STORE}")
        finally:
            conn.close()
        if self.engine.dialect.name == "postgresql":  # several at once, each on its own
            restore_indexes(self.engine)


@dataclass(frozen=True)
class CsvRows:
    """Rows as CSV text for COPY."""

    text: bytes
    count: int

    def __len__(self) -> int:
        return self.count


def _tuples(part: Rows) -> list[Row]:
    if isinstance(part, list):
        return part
    return list(zip(*(column.to_pylist() for column in part.columns), strict=True))


def _csv(table: pa.Table) -> bytes:
    text = io.BytesIO()
    pa_csv.write_csv(table, text, pa_csv.WriteOptions(include_header=False))
    return text.getvalue()


IMPORT_CACHE_KIB = 64 * 1024
SQLITE_DEFAULT_CACHE = -2000  # SQLite's own defaults, for the connection back in the pool
SQLITE_DEFAULT_TEMP_STORE = 0
_FLAGS = ("sms_opt_out", "email_opt_out", "phone_invalid", "email_invalid")


def _numbered(sql: str, numbers: list[int]) -> str:
    """`sql` with its ? parameters written ?NNN, in order (it has no other question mark)."""
    parts = sql.split("?")
    assert len(parts) == len(numbers) + 1, sql
    return "".join(part + f"?{n}" for part, n in zip(parts, numbers, strict=False)) + parts[-1]


def _pragmas(conn: Connection, *settings: str) -> None:
    """Set pragmas on the driver connection, outside any transaction (temp_store cannot
    change inside one, and SQLAlchemy would begin one)."""
    driver = conn.connection.dbapi_connection
    assert driver is not None
    for setting in settings:
        driver.execute(f"PRAGMA {setting}")


STAGE = "customers_import"
_TABLE = "customers"


class _Stage:
    """PostgreSQL: COPY a batch into a temporary table, then upsert from it in one statement.

    The table is created in each batch's transaction and dropped at its commit (or with its
    rollback), so a pooled connection never keeps one with another import's columns.

    An initial load (the table was empty when the import began) copies each batch straight
    into the customers table instead: codes are unique within the file, so every row is new,
    and the staging table and the upsert would double the work. Should another process have
    stored one of the batch's codes meanwhile, the COPY fails on the unique code index; the
    batch is then rolled back to a savepoint and upserted through the staging table, so the
    outcome is the upsert's either way.
    """

    def __init__(self, engine: Engine, columns: list[str], updated: Sequence[str]) -> None:
        names = ", ".join(columns)
        self.create = (f"CREATE TEMPORARY TABLE {STAGE} ON COMMIT DROP AS "
                       f"SELECT {names} FROM {_TABLE} WITH NO DATA")
        self.copy = f"COPY {STAGE} ({names}) FROM STDIN"
        self.direct = f"COPY {_TABLE} ({names}) FROM STDIN"
        self.existing = (f"SELECT count(*) FROM {STAGE} JOIN {_TABLE} "
                         f"ON {_TABLE}.code = {STAGE}.code")
        staged = table(STAGE, *(column(c) for c in columns), column("ctid"))
        # In file order (the order COPY wrote them), so new rows get ids as they would one by one.
        rows = select(*(staged.c[c] for c in columns), *(false() for _ in _FLAGS)) \
            .order_by(staged.c.ctid)
        self.upsert = str(_upsert(engine, updated, source=([*columns, *_FLAGS], rows))
                          .compile(dialect=engine.dialect))
        self._pick = itemgetter(*(COLUMNS.index(c) for c in columns))

    def write(self, conn: Connection, parts: Sequence[Rows | CsvRows], *,
              initial: bool = False) -> tuple[int, int]:
        """Stage and upsert the rows inside the caller's transaction; (new, existing)."""
        count = sum(map(len, parts))
        if initial and self._copied_straight(conn, parts):
            return count, 0
        conn.exec_driver_sql(self.create)
        self._copy_parts(conn, self.copy, parts)
        existing = int(conn.exec_driver_sql(self.existing).scalar_one())
        conn.exec_driver_sql(self.upsert)
        return count - existing, existing

    def _copied_straight(self, conn: Connection, parts: Sequence[Rows | CsvRows]) -> bool:
        """COPY the rows into the customers table; False (and nothing stored) when one of
        their codes is there already."""
        savepoint = conn.begin_nested()
        try:
            self._copy_parts(conn, self.direct, parts)
        except DBAPIError as exc:
            savepoint.rollback()
            if getattr(exc.orig, "sqlstate", None) == _UNIQUE_VIOLATION:
                return False
            raise
        savepoint.commit()
        return True

    def _copy_parts(self, conn: Connection, statement: str,
                    parts: Sequence[Rows | CsvRows]) -> None:
        """One COPY a part, in order: tuples row by row, CSV text as it is."""
        driver: Any = conn.connection.dbapi_connection  # psycopg's, for its COPY support
        pick = self._pick
        try:
            with driver.cursor() as cursor:
                for part in parts:
                    if isinstance(part, CsvRows):
                        with cursor.copy(f"{statement} (FORMAT csv)") as copy:
                            copy.write(part.text)
                        continue
                    with cursor.copy(statement) as copy:
                        for row in _tuples(part):
                            copy.write_row(pick(row))
        except Exception as exc:  # the driver's own error, as SQLAlchemy would report it
            if isinstance(exc, conn.dialect.dbapi.Error):  # type: ignore[union-attr]
                raise DBAPIError(statement, None, exc) from exc
            raise


_UNIQUE_VIOLATION = "23505"


def _upsert(engine: Engine, updated: Sequence[str], *,
            source: tuple[list[str], Any] | None = None,
            values: dict[str, Any] | None = None) -> Any:
    """INSERT ... ON CONFLICT (code) DO UPDATE of the `updated` columns; of `values`, or of
    `source` (names, SELECT)."""
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(_t)
    if source is not None:
        statement = statement.from_select(*source)
    if values is not None:
        statement = statement.values(values)
    excluded = statement.excluded
    changes: dict[str, Any] = {c: excluded[c] for c in updated if c != "code"}
    changes["updated_at"] = func.current_timestamp()
    for contact in ("phone", "email"):
        if contact in updated:
            # A new address has not been refused by the provider yet.
            flag = f"{contact}_invalid"
            changes[flag] = case(
                (_t.c[contact].is_not_distinct_from(excluded[contact]), _t.c[flag]),
                else_=false(),
            )
    if "phone" in updated:  # nor found without a Zalo account
        changes["zalo_absent_at"] = case(
            (_t.c.phone.is_not_distinct_from(excluded.phone), _t.c.zalo_absent_at),
            else_=null(),
        )
    return statement.on_conflict_do_update(index_elements=[_t.c.code], set_=changes)


def _upsert_counting_ids(conn: Connection, sql: str, params: list[Any]) -> tuple[int, int]:
    """SQLite holds the write lock since BEGIN IMMEDIATE and numbers new rows above the
    current highest id, so the rows above it afterwards are exactly the new ones: two index
    look-ups instead of one per code."""
    top = conn.execute(select(func.coalesce(func.max(_t.c.id), 0))).scalar_one()
    conn.exec_driver_sql(sql, params)
    new = int(conn.execute(select(func.count()).where(_t.c.id > top)).scalar_one())
    return new, len(params) - new
