"""Portable SQL expressions the loaders need, so each load stays one query on both backends."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class epoch_ms(FunctionElement[int]):
    """Milliseconds since 1970-01-01 UTC of a UTCDateTime column, the fraction kept: a
    300.4-second interruption is longer than 5 minutes, and SAIDI sums every fraction.

    Milliseconds, not the stored microseconds, because (customer id, time) pairs are sorted
    as one int64 key: at 9 million customer ids, ten years of microseconds would overflow it.
    """

    type = BigInteger()
    inherit_cache = True


@compiles(epoch_ms, "sqlite")
def _epoch_ms_sqlite(element: epoch_ms, compiler: Any, **kw: Any) -> str:
    # SQLite stores naive UTC text, 'YYYY-MM-DD HH:MM:SS' then an optional '.ffffff';
    # unixepoch() reads the whole seconds as UTC (SQLite >= 3.38), the fraction is read from
    # the text (padded, so '.5' is 500 ms and no fraction is 0). julianday() would lose it to
    # floating point.
    value = compiler.process(element.clauses, **kw)
    return (f"(unixepoch({value}) * 1000"
            f" + CAST(substr({value} || '000', 21, 3) AS INTEGER))")


@compiles(epoch_ms, "postgresql")
def _epoch_ms_postgresql(element: epoch_ms, compiler: Any, **kw: Any) -> str:
    # EXTRACT returns numeric (exact) since PostgreSQL 14.
    value = compiler.process(element.clauses, **kw)
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {value}) * 1000) AS BIGINT)"


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
