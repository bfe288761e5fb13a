"""The customers table's secondary indexes, set aside while an import fills an empty table.

SQLite and PostgreSQL build an index over a full table in one sorted pass several times faster
than they maintain it row by row, so an import into an empty customers table (the initial load)
drops the phone, region, district, feeder and lon/lat indexes in its first batch's transaction
and builds them again when it ends, however it ends. The unique code index stays: the upsert
needs it. A process killed outright cannot rebuild them; the next one that opens the database
does (db.ensure_schema calls restore_indexes), and so does the next import. Until then the
table is complete and correct, only slower to search. On PostgreSQL the drop locks the table
until the first batch commits; an empty table has nothing to read yet.

PostgreSQL builds them on several connections at once, each in its own transaction: CREATE
INDEX takes a SHARE lock, which the other builds share, and each build's final merge and
write run in one process, so two at a time keep more of the machine busy (1M customers on
two cores: 5.3 s instead of 6.6 s for the five).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Connection, Engine, Index, select

from outages.models import Customer

_t = Customer.metadata.tables["customers"]  # typed as a Table, with its indexes
BUILD_MEMORY_MB = 256
POSTGRES_BUILDERS = 2  # connections building at once; each may use its own parallel workers


def secondary_indexes() -> list[Index]:
    """The indexes an initial load may set aside: every one but the unique code index."""
    return sorted((ix for ix in _t.indexes if not ix.unique), key=lambda ix: str(ix.name))


def defer_for_initial_load(conn: Connection) -> bool:
    """Drop the secondary indexes when the table is empty; True when dropped.

    Call it inside the first batch's transaction: if that batch fails, the drop is rolled
    back with it.
    """
    if conn.execute(select(_t.c.id).limit(1)).first() is not None:
        return False
    for index in secondary_indexes():
        index.drop(conn, checkfirst=True)
    return True


_PRESENT = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'customers'",
    "postgresql": "SELECT indexname FROM pg_indexes WHERE tablename = 'customers' "
                  "AND schemaname = current_schema()",
}


def missing_indexes(conn: Connection) -> list[Index]:
    present = {name for (name,) in conn.exec_driver_sql(_PRESENT[conn.dialect.name])}
    return [ix for ix in secondary_indexes() if ix.name not in present]


def build_missing(conn: Connection) -> list[str]:
    """Build the missing secondary indexes in the caller's transaction; their names."""
    built = []
    for index in missing_indexes(conn):
        _create(conn, index)
        built.append(str(index.name))
    return built


def _create(conn: Connection, index: Index) -> None:
    if conn.dialect.name == "postgresql":
        # Room to sort a million-row index in memory rather than in temporary files.
        conn.exec_driver_sql(f"SET LOCAL maintenance_work_mem = '{BUILD_MEMORY_MB}MB'")
    index.create(conn, checkfirst=True)


def restore_indexes(engine: Engine) -> list[str]:
    """Build any secondary index an initial load set aside or a killed import left out; the
    names built (usually none)."""
    with engine.connect() as conn:  # a read: no write lock unless there is work to do
        missing = missing_indexes(conn)
    if not missing:
        return []
    if engine.dialect.name != "postgresql":
        with engine.connect().execution_options(sqlite_begin="IMMEDIATE") as conn, \
                conn.begin():
            return build_missing(conn)
    with ThreadPoolExecutor(POSTGRES_BUILDERS) as builders:
        return [name for name in builders.map(lambda index: _build_alone(engine, index),
                                              missing) if name]


def _build_alone(engine: Engine, index: Index) -> str | None:
    """Build one index in a transaction of its own; its name, None when another process
    built it first."""
    with engine.connect() as conn, conn.begin():
        if index.name not in {ix.name for ix in missing_indexes(conn)}:
            return None
        _create(conn, index)
    return str(index.name)
