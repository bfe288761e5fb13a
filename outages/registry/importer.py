"""Bulk import of the customer registry: stream, validate, upsert by code in batches.

Each batch is one transaction, so a crash leaves whole batches stored and never part of one;
running the same file again is safe (rows upsert by code). Bad rows go to a rejects CSV that
appears only when complete (written beside, then renamed).
"""

from __future__ import annotations

import gc
import os
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from outages.errors import OutagesError, ValidationError
from outages.registry.columnar import ColumnChecker, replace_rows
from outages.registry.csvblocks import BlockReader, Lines
from outages.registry.rows import CODE, COLUMNS, Row, RowChecker
from outages.registry.sources import REJECTS_COLUMNS, Record, Source, open_source
from outages.registry.store import BatchWriter, Rows
from outages.registry.stored_dates import StoredDateCheck, stored_date_check
from outages.rejects import RejectsFile
from outages.settings import Settings

SAMPLE_REASONS = 5
CHECK_CHUNK = 10_000  # rows checked together, a column at a time (at most a batch)
PLAIN_CHUNK = 50_000  # plain CSV lines checked together by pyarrow
Progress = Callable[[int, int], None]  # (bytes done, total bytes)


@dataclass
class ImportResult:
    imported: int = 0
    updated: int = 0
    rejected: int = 0
    rejects_file: Path | None = None
    samples: list[str] = field(default_factory=list)  # first reasons, for people

    def as_json(self) -> dict[str, Any]:
        return {"imported": self.imported, "updated": self.updated, "rejected": self.rejected,
                "rejects_file": str(self.rejects_file) if self.rejects_file else None}


def default_rejects_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}.rejects.csv")


def import_customers(
    engine: Engine,
    settings: Settings,
    path: Path,
    *,
    rejects_path: Path | None = None,
    progress: Progress | None = None,
    result: ImportResult | None = None,
) -> ImportResult:
    """Import a CSV or GeoJSON registry file; see the module docstring for the guarantees.
    `result`, when given, is filled as batches are stored: what an import stopped by an
    error stored before it."""
    path = Path(path)
    rejects_path = Path(rejects_path) if rejects_path else default_rejects_path(path)
    if rejects_path.resolve() == path.resolve():
        raise ValidationError("the rejects file must not be the input file", field="rejects")
    if not os.access(rejects_path.parent, os.W_OK):  # find out now, not after some batches
        raise ValidationError(f"cannot write the rejects file into {rejects_path.parent}: "
                              "give the rejects file a path in a writable folder", field="rejects")
    with ExitStack() as stack:
        source = open_source(path, stack)
        rejects = _Rejects(rejects_path, source)
        stack.enter_context(rejects)
        stack.enter_context(_cycle_collection_paused())
        result = _run(engine, settings, source, rejects, progress, path,
                      result or ImportResult())
        result.rejects_file = rejects.commit()
    return result


@contextmanager
def _cycle_collection_paused() -> Iterator[None]:
    """An import allocates millions of strings, lists and tuples that live for a batch; the
    cyclic collector would rescan them every few hundred allocations and double the time of
    checking. None of them is part of a cycle, so nothing is left for it to find."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _run(engine: Engine, settings: Settings, source: Source, rejects: _Rejects,
         progress: Progress | None, path: Path, result: ImportResult) -> ImportResult:
    checker, seen = RowChecker(settings), dict[str, int]()
    size, label = settings.customers.import_batch, source.location_name
    # Leaving the pool waits for a batch in flight, so an error never abandons one half-done.
    writer = BatchWriter(engine, source.present)
    blocks = BlockReader(path, source) if label == "line" else None
    chunks = blocks.chunks(min(CHECK_CHUNK, size), plain=PLAIN_CHUNK) if blocks else \
        _chunks(source.records, min(CHECK_CHUNK, size))
    dates = stored_date_check(engine, source.present)  # None: nothing to read per chunk
    lines = _LinesChecker(ColumnChecker(checker, source.original_header), seen, rejects, result,
                          dates)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-writer") as pool:
        position = blocks.position if blocks else source.position
        batch = _Batch(writer, source, position, result, progress, pool)
        try:
            for records in chunks:
                if isinstance(records, Lines):
                    table, locations = lines.check(records)
                    _add_clean(batch, table, locations, size)
                    continue
                readable = [raw for _, raw, _, problem in records if problem is None]
                rows, refused = checker.check_many(readable)  # type: ignore[arg-type]
                if dates:
                    refused = dates.refuse_rows(rows, refused)
                good, where, refusals = _sort_out(records, rows, refused, seen, label)
                for location, reasons, original in refusals:
                    _reject(rejects, result, original, location, label, "; ".join(reasons))
                _add_clean(batch, good, where, size)
            batch.flush()
            batch.wait()
        except ValidationError as exc:
            # The input stopped the import (not UTF-8, not CSV): what came before the fault
            # is stored, and the message says how much.
            batch.flush()
            batch.wait()
            done = result.imported + result.updated
            raise ValidationError(
                f"{exc.message}. The {done} {'rows' if label == 'line' else 'features'} "
                "before it were stored; fix it and import again (repeating is safe)",
                field=exc.field) from None
        finally:
            if batch.pending is not None:  # stopped by the input: the batch in flight counts
                with suppress(Exception):  # the error that stopped the import matters more
                    batch.wait()
            # On the writer's thread, after any batch in flight; it rebuilds set-aside indexes.
            closed = pool.submit(writer.close)
    closed.result()  # reached only on success: a failure's own error matters more
    result.rejected = rejects.count
    return result


class _LinesChecker:
    """Plain CSV lines checked a column at a time (columnar.py); doubtful rows through
    RowChecker.check, repeated codes as _sort_out marks them, a lone date against the
    stored one as the records are."""

    def __init__(self, columns: ColumnChecker, seen: dict[str, int], rejects: _Rejects,
                 result: ImportResult, dates: StoredDateCheck | None) -> None:
        self.columns, self.seen, self.rejects, self.result = columns, seen, rejects, result
        self.dates = dates

    def check(self, lines: Lines) -> tuple[pa.Table, list[int]]:
        """(good rows as a table in COLUMNS order, their line numbers); refusals written."""
        values, doubtful = self.columns.check(lines)
        positions = np.flatnonzero(doubtful).tolist()
        raws, _ = self.columns.raw(lines, positions)
        codes = values[CODE].to_pylist()
        refused: dict[int, list[str]] = {}
        fixed: list[int] = []
        rows: list[Row] = []
        for position, raw in zip(positions, raws, strict=True):
            row, reasons = self.columns.checker.check(raw)
            if row is None:
                refused[position] = reasons
                codes[position] = _raw_code(raw)
            else:
                fixed.append(position)
                rows.append(row)
                codes[position] = row[CODE]
        if self.dates:
            days = _days(values[self.dates.index], fixed, rows, refused, self.dates.index)
            refused = self.dates.refuse(codes, days, refused)
        first = lines.first_line
        locations = list(range(first, first + len(lines)))
        refused = _mark_repeats(codes, locations, refused, self.seen, "line")
        if refused:
            _, originals = self.columns.raw(lines, sorted(refused))
            for position, original in zip(sorted(refused), originals, strict=True):
                _reject(self.rejects, self.result, original, first + position, "line",
                        "; ".join(refused[position]))
        table = pa.Table.from_arrays(replace_rows(values, fixed, rows), names=list(COLUMNS))
        if not refused:
            return table, locations
        keep = np.ones(len(lines), dtype=bool)
        keep[list(refused)] = False
        return table.filter(pa.array(keep)), (first + np.flatnonzero(keep)).tolist()


def _days(column: pa.Array, fixed: list[int], rows: list[Row], refused: dict[int, list[str]],
          index: int) -> list[str | None]:
    """A date column of checked lines: the rows check() fixed take their value, the refused
    ones None."""
    days: list[str | None] = column.to_pylist()
    for position, row in zip(fixed, rows, strict=True):
        days[position] = row[index]
    for position in refused:
        days[position] = None
    return days


def _chunks(records: Iterator[Record], size: int) -> Iterator[list[Record]]:
    while chunk := list(islice(records, size)):
        yield chunk


Refusal = tuple[int, list[str], list[Any]]  # location, reasons, original values


def _sort_out(records: list[Record], rows: list[Row | None], refused: dict[int, list[str]],
              seen: dict[str, int], label: str) -> tuple[list[Row], list[int], list[Refusal]]:
    """(good rows, their locations, refusals in file order) of a checked chunk, with its
    codes marked seen (code: location of its first row). A row whose code was seen before,
    in the file or the chunk, is refused, its other reasons kept: the first row with a code
    wins, even a refused one.

    Column-wise: only the rows whose code repeats take a Python step each.
    """
    readable = records if len(rows) == len(records) else \
        [record for record in records if record[3] is None]
    locations = [record[0] for record in readable]
    codes = [row[CODE] if row is not None else _raw_code(record[1])
             for row, record in zip(rows, readable, strict=True)]
    refused = _mark_repeats(codes, locations, refused, seen, label)
    if not refused and readable is records:
        return rows, locations, []  # type: ignore[return-value]
    refusals = [(location, [problem], original)
                for location, _, original, problem in records if problem is not None]
    refusals += [(locations[position], reasons, readable[position][2])
                 for position, reasons in refused.items()]
    refusals.sort(key=lambda refusal: refusal[0])
    good: list[Row | None] = []
    where: list[int] = []
    start = 0
    for position in sorted(refused):  # every row that is None is refused
        good += rows[start:position]
        where += locations[start:position]
        start = position + 1
    return [*good, *rows[start:]], [*where, *locations[start:]], refusals  # type: ignore[list-item]


def _mark_repeats(codes: list[str], locations: list[int], refused: dict[int, list[str]],
                  seen: dict[str, int], label: str) -> dict[int, list[str]]:
    """`refused` with a reason added for each row whose code was seen before (a new dict
    when one is), and the codes marked seen."""
    firsts = dict(zip(reversed(codes), reversed(locations), strict=True))  # first wins
    firsts.pop("", None)
    repeats = seen.keys() & firsts.keys()
    if len(firsts) != len(codes) - codes.count(""):  # a code twice in the chunk
        repeats |= {code for code, count in Counter(codes).items() if count > 1 and code}
    if repeats:
        refused = dict(refused)
        for position in [k for k, code in enumerate(codes) if code in repeats]:
            code, location = codes[position], locations[position]
            first = seen.setdefault(code, location)
            if first != location:
                refused[position] = [*refused.get(position, []),
                                     f"duplicate code {code}, first seen on {label} {first}"]
            firsts.pop(code, None)
    seen.update(firsts)
    return refused


def _raw_code(raw: Any) -> str:
    return str(raw[CODE]).strip() if raw[CODE] is not None else ""


def _add_clean(batch: _Batch, rows: Rows, locations: list[int], size: int) -> None:
    """Good rows into batches of `size`, as adding them one by one would."""
    done = 0
    while done < len(rows):
        room = size - batch.count
        end = min(len(rows), done + room)
        part = rows.slice(done, end - done) if isinstance(rows, pa.Table) else rows[done:end]
        if batch.extend(part, locations[done], locations[end - 1]) >= size:
            batch.flush()
        done = end


class _Rejects(RejectsFile):
    """The input's columns, then where and why. The columns a fixed rejects file brings
    along (its line and reason) are written afresh, not twice: that file's own rejects
    file is imported again as it is."""

    def __init__(self, path: Path, source: Source) -> None:
        header = source.original_header
        self.keep = [i for i, name in enumerate(header)
                     if name.strip().lower() not in REJECTS_COLUMNS]
        super().__init__(path, [*(header[i] for i in self.keep), source.location_name,
                                "reason"])

    def reject(self, original: list[Any], location: int, reason: str) -> None:
        self.add([*(original[i] if i < len(original) else "" for i in self.keep), location,
                  reason])


def _reject(rejects: _Rejects, result: ImportResult, original: list[Any], location: int,
            label: str, reason: str) -> None:
    if label == "feature":
        reason = f"feature {location}: {reason}"
    rejects.reject(original, location, reason)
    if len(result.samples) < SAMPLE_REASONS:
        result.samples.append(reason if label == "feature" else f"line {location}: {reason}")


class _Batch:
    """Good rows waiting to be stored, with the span of the input they came from.

    A full batch is written by one background thread while the next one is read and checked.
    PostgreSQL works on it in its own process, so the two overlap; SQLite's driver takes the
    GIL back for every row, so there little overlaps (measured: the same time as writing in
    line). At most one batch is in flight; its failure is reported with its own span.
    """

    def __init__(self, writer: BatchWriter, source: Source, position: Callable[[], int],
                 result: ImportResult, progress: Progress | None,
                 pool: ThreadPoolExecutor) -> None:
        self.writer, self.position = writer, position
        self.size, self.label = source.size, source.location_name
        self.result, self.progress, self.pool = result, progress, pool
        self.parts: list[Rows] = []
        self.count = self.first = self.last = 0
        self.pending: tuple[Future[tuple[int, int]], int, int] | None = None

    def extend(self, rows: Rows, first: int, last: int) -> int:
        """Add rows read from locations first..last (all of them good)."""
        if not self.count:
            self.first = first
        self.parts.append(rows)
        self.count += len(rows)
        self.last = last
        return self.count

    def flush(self) -> None:
        if self.count:
            parts = self.writer.prepare(self.parts)  # while the batch before is written
            self.wait()
            self.pending = (self.pool.submit(self.writer.write_parts, parts), self.first,
                            self.last)
            self.parts, self.count = [], 0
        if self.progress:
            self.progress(self.position(), self.size)

    def wait(self) -> None:
        if self.pending is None:
            return
        future, first, last = self.pending
        self.pending = None
        try:
            imported, updated = future.result()
        except DBAPIError as exc:
            raise self._stopped(exc, first, last) from exc
        self.result.imported += imported
        self.result.updated += updated

    def _stopped(self, exc: DBAPIError, first: int, last: int) -> OutagesError:
        done = self.result.imported + self.result.updated
        where = f"{self.label}s {first}-{last}"
        return OutagesError(f"the database refused the rows of {where} ({exc.orig}); none of "
                            f"them was stored, the {done} rows before them were. Fix the "
                            "cause and run the import again (it is safe to repeat)")
