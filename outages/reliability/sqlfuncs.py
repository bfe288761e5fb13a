"""Portable SQL expressions the loaders need, so each load stays one query on both backends."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class epoch(FunctionElement[int]):
    """Whole seconds since 1970-01-01 UTC of a UTCDateTime column."""

    type = BigInteger()
    inherit_cache = True


@compiles(epoch, "sqlite")
def _epoch_sqlite(element: epoch, compiler: Any, **kw: Any) -> str:
    # SQLite stores naive UTC text; unixepoch() reads it as UTC (SQLite >= 3.38).
    return f"unixepoch({compiler.process(element.clauses, **kw)})"


@compiles(epoch, "postgresql")
def _epoch_postgresql(element: epoch, compiler: Any, **kw: Any) -> str:
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})) AS BIGINT)"


class packed(FunctionElement[str]):
    """Aggregate: the integer expressions of every row as one comma-separated text.

    Millions of rows then cross the driver as a few strings and numpy parses them in C;
    fetching them as Python tuples would cost more than the whole computation.
    """

    type = String()
    inherit_cache = True


@compiles(packed, "sqlite")
def _packed_sqlite(element: packed, compiler: Any, **kw: Any) -> str:
    # One printf per row is about a quarter faster than chaining || concatenations.
    parts = [compiler.process(c, **kw) for c in element.clauses]
    pattern = ",".join("%d" for _ in parts)
    return f"group_concat(printf('{pattern}', {', '.join(parts)}), ',')"


@compiles(packed, "postgresql")
def _packed_postgresql(element: packed, compiler: Any, **kw: Any) -> str:
    parts = ", ".join(compiler.process(c, **kw) for c in element.clauses)
    return f"string_agg(concat_ws(',', {parts}), ',')"
