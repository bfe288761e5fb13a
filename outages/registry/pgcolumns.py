"""PostgreSQL: many rows as numpy columns, without a Python object per row.

A query aggregates its rows into arrays (array_agg), which cross the driver in PostgreSQL's
binary array format and are read straight into numpy. Matching an area groups its candidates
by (region, district, feeder, priority) and gets, per group, their ids, longitudes and
latitudes as arrays and their codes as one text: a province of a million customers crosses
the driver as a few hundred rows instead of a million tuples of eight values. The
reliability report reads the interruption log the same way.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, func, literal, select
from sqlalchemy.exc import DBAPIError

CODE_SEPARATOR = "\x1f"  # ASCII unit separator: never in a code (rows.py refuses controls)
INT8_ARRAY, FLOAT8_ARRAY, TIMESTAMPTZ_ARRAY = 1016, 1022, 1185  # PostgreSQL type oids
# A timestamptz travels as int64 microseconds since 2000-01-01 UTC (-infinity: int64 min).
_ELEMENT = {INT8_ARRAY: ">i8", FLOAT8_ARRAY: ">f8", TIMESTAMPTZ_ARRAY: ">i8"}
# Memory for grouping, per query; a larger area spills to disk as before (see grouped).
GROUPING_MEMORY = "128MB"


def grouped(conn: Connection, columns: dict[str, Any], groups: list[Any],
            where: list[Any]) -> list[tuple[Any, ...]]:
    """Rows of (*group values, ids, lons, lats, codes text) for the candidates matching
    `where`, with `columns` naming id, lon, lat and code."""
    query = select(
        *groups, func.array_agg(columns["id"]), func.array_agg(columns["lon"]),
        func.array_agg(columns["lat"]),
        func.string_agg(columns["code"], literal(CODE_SEPARATOR)),
    ).where(*where).group_by(*groups)
    # The province's 240 groups take 47 MB to hash: more than the default work_mem, which
    # made PostgreSQL sort the 930,000 rows on disk instead (2.2-2.8 s, not 1.3).
    return fetch(conn, query, work_mem=GROUPING_MEMORY)


def fetch(conn: Connection, query: Any, *,
          work_mem: str | None = None) -> list[tuple[Any, ...]]:
    """The rows of `query`, its bigint, double and timestamptz arrays read from PostgreSQL's
    binary format straight into numpy (timestamps as microseconds since 2000-01-01 UTC)."""
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    driver: Any = conn.connection.dbapi_connection
    try:
        with driver.cursor(binary=True) as cursor:
            for oid in _ELEMENT:
                cursor.adapters.register_loader(oid, _NumpyArrayLoader)
            # Compiling these queries to machine code (PostgreSQL's JIT, on by default) took
            # 3 of the 5 seconds of matching a province of 930,000 customers; off for them.
            cursor.execute("SELECT current_setting('jit'), current_setting('work_mem'), "
                           "set_config('jit', 'off', true), "
                           "set_config('work_mem', coalesce(%s, current_setting('work_mem')), "
                           "true)", (work_mem,))
            (jit, was, *_set) = cursor.fetchone() or ("on", "4MB")
            cursor.execute(str(compiled), compiled.params)
            rows = list(cursor.fetchall())
            cursor.execute("SELECT set_config('jit', %s, true), set_config('work_mem', %s, true)",
                           (jit, was))
            return rows
    except conn.dialect.dbapi.Error as exc:  # type: ignore[union-attr]
        raise DBAPIError(str(compiled), None, exc) from exc  # as SQLAlchemy would report it


def parse_array(data: bytes | memoryview, element: str) -> npt.NDArray[Any]:
    """A one-dimensional array without NULLs in PostgreSQL's binary format, as numpy."""
    dims, has_null, _oid = struct.unpack_from(">iii", data)
    if dims == 0:
        return np.empty(0, dtype=np.dtype(element).newbyteorder("="))
    if dims != 1 or has_null:
        raise ValueError("expected a one-dimensional array without NULLs")
    (size,) = struct.unpack_from(">i", data, 12)
    cells = np.frombuffer(data, dtype=np.dtype([("length", ">i4"), ("value", element)]),
                          count=size, offset=20)
    return cells["value"].astype(np.dtype(element).newbyteorder("="))


def _loader_base() -> Any:
    from psycopg import pq
    from psycopg.adapt import Loader

    class NumpyArrayLoader(Loader):
        format = pq.Format.BINARY

        def load(self, data: Any) -> Any:
            return parse_array(bytes(data), _ELEMENT[self.oid])

    return NumpyArrayLoader


_NumpyArrayLoader: Any = _loader_base()
