"""`outages interruptions import`: history from another system, streamed in batches.

Columns outage_id,customer_code,start,end,cause,planned; one row per customer per interruption.
Bad rows go to a rejects CSV with their line and reason; good rows are stored batch by batch,
each batch in one transaction together with the outages it creates.
"""

from __future__ import annotations

import codecs
import csv
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import Connection, Engine, func, insert, select, update

from outages.access import audit
from outages.db import write_transaction
from outages.enums import CutStatus, IncidentStatus, OutageKind
from outages.errors import ValidationError
from outages.lifecycle import core as lc
from outages.lifecycle.results import HistoryImport
from outages.rejects import RejectsFile
from outages.settings import Settings
from outages.timeutil import parse_datetime, utcnow

COLUMNS = ("outage_id", "customer_code", "start", "end", "cause", "planned")
TRUE = {"true", "1", "yes", "y", "t", "planned"}
FALSE = {"false", "0", "no", "n", "f", "unplanned"}
NEVER = float("inf")


class RowError(ValueError):
    """A bad row: the message is the reason written to the rejects file."""


@dataclass
class Good:
    external_id: str
    customer_id: int
    start: datetime
    end: datetime | None
    cause: str
    planned: bool


EXTERNAL_MAX = 64  # outages.external_id


@dataclass
class State:
    """What the import has seen so far: lookups built once and the intervals per
    (outage, customer) to catch overlaps."""

    codes: dict[str, int]
    outages: dict[str, int | None] = field(default_factory=dict)  # None: to create
    created: list[int] = field(default_factory=list)
    intervals: dict[tuple[str, int], list[tuple[float, float]]] = field(default_factory=dict)
    # Rows of one outage share their start (and often their end): parse each text once.
    times: dict[str, datetime] = field(default_factory=dict)
    imported: int = 0
    rejected: int = 0
    now: datetime = field(default_factory=utcnow)


def import_csv(engine: Engine, settings: Settings, *, path: Path, actor: str, source: str,
               rejects_path: Path | None = None) -> HistoryImport:
    rejects_path = rejects_path or path.with_name(path.stem + ".rejects.csv")
    _check_text(path)  # before anything is stored: rows are stored batch by batch
    with engine.connect() as conn:
        query = select(lc.CUSTOMERS.c.code, lc.CUSTOMERS.c.id)
        state = State(codes={code: cid for code, cid in conn.execute(query)})
    header = ["line", *COLUMNS, "reason"]
    with _open(path) as handle, RejectsFile(rejects_path, header) as rejects:
        reader = csv.DictReader(handle)
        _check_header(reader.fieldnames, path)
        batch: list[Good] = []
        for raw in reader:
            try:
                batch.append(_row(engine, settings, state, raw))
            except RowError as exc:
                state.rejected += 1
                rejects.add([reader.line_num, *(raw.get(c) or "" for c in COLUMNS), str(exc)])
            if len(batch) >= settings.customers.import_batch:
                _flush(engine, state, batch, actor=actor)
        _flush(engine, state, batch, actor=actor)
        _finish(engine, state, actor=actor, source=source, path=path)
        written = rejects.commit()
    return HistoryImport(imported=state.imported, rejected=state.rejected,
                         outages_created=len(state.created),
                         rejects_file=str(written) if written else None)


def _check_text(path: Path) -> None:
    """The whole file is UTF-8 text: one bad byte would otherwise stop the import after the
    batches before it were stored."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    line += chunk.count(b"\n", 0, max(0, exc.start))
                    raise ValidationError(
                        f"{path.name}: line {line} is not UTF-8 text; save the file as UTF-8 "
                        "(CSV UTF-8 in a spreadsheet) and import it again. Nothing was "
                        "imported", field="file") from None
                if (nul := chunk.find(b"\0")) >= 0:  # the CSV reader stops at one
                    at = line + chunk.count(b"\n", 0, nul)
                    raise ValidationError(
                        f"{path.name}: line {at} holds a NUL "
                        "byte: this is not a CSV text file. Nothing was imported",
                        field="file")
                line += chunk.count(b"\n")
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise ValidationError(f"{path.name}: the file ends inside a character: it is not "
                              "UTF-8 text. Nothing was imported", field="file") from None
    except OSError as exc:
        raise ValidationError(f"cannot read {path}: {exc.strerror}", field="path") from None


def _open(path: Path) -> TextIO:
    try:
        return path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise ValidationError(f"cannot read {path}: {exc.strerror}", field="path") from None


def _check_header(names: Any, path: Path) -> None:
    missing = [c for c in COLUMNS if c not in (names or [])]
    if missing:
        raise ValidationError(f"{path}: line 1 lacks column(s) {', '.join(missing)}; the "
                              f"header must be {','.join(COLUMNS)}", field="path")


def _row(engine: Engine, settings: Settings, state: State, raw: dict[str, Any]) -> Good:
    external = (raw.get("outage_id") or "").strip()
    if not external:
        raise RowError("outage_id is empty")
    if len(external) > EXTERNAL_MAX:
        raise RowError(f"outage_id is {len(external)} characters long, more than the limit "
                       f"of {EXTERNAL_MAX}")
    code = (raw.get("customer_code") or "").strip()
    customer_id = state.codes.get(code)
    if customer_id is None:
        raise RowError(f"unknown customer {code!r}" if code else "customer_code is empty")
    start = _time(raw.get("start"), "start", settings, state, required=True)
    end = _time(raw.get("end"), "end", settings, state, required=False)
    if start is None:
        raise RowError("start is empty")
    if end is not None and end < start:
        raise RowError(f"end {raw['end']} is before start {raw['start']}")
    if start > state.now:
        raise RowError(f"start {raw['start']} is in the future: history is what happened")
    planned = _flag(raw.get("planned"))
    cause = (raw.get("cause") or "").strip() or ("planned" if planned else "unknown")
    if cause not in settings.faults.causes and cause not in ("planned", "unknown"):
        raise RowError(f"unknown cause {cause!r}: use one of "
                       f"{', '.join([*settings.faults.causes, 'planned', 'unknown'])}")
    _claim_interval(engine, state, external, customer_id, start, end)
    return Good(external, customer_id, start, end, cause, planned)


def _time(text: Any, name: str, settings: Settings, state: State, *,
          required: bool) -> datetime | None:
    if not (text or "").strip():
        if required:
            raise RowError(f"{name} is empty")
        return None
    known = state.times.get(text)
    if known is not None:
        return known
    try:
        value = parse_datetime(text, settings.tz)
    except ValueError as exc:
        raise RowError(f"{name}: {exc}") from None
    if len(state.times) < 100_000:
        state.times[text] = value
    return value


def _flag(text: Any) -> bool:
    value = (text or "").strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise RowError(f"planned must be true or false, got {text!r}")


def _claim_interval(engine: Engine, state: State, external: str, customer_id: int,
                    start: datetime, end: datetime | None) -> None:
    if external not in state.outages:
        _load_outage(engine, state, external)
    span = (start.timestamp(), end.timestamp() if end else NEVER)
    known = state.intervals.setdefault((external, customer_id), [])
    if any(span[0] < other[1] and other[0] < span[1] for other in known):
        raise RowError(f"overlaps another interruption of this customer in outage {external}")
    known.append(span)


def _load_outage(engine: Engine, state: State, external: str) -> None:
    """Remember whether the outage exists; if it does, its stored intervals count too."""
    i = lc.INTERRUPTIONS
    with engine.connect() as conn:
        outage_id = conn.execute(select(lc.OUTAGES.c.id).where(
            lc.OUTAGES.c.external_id == external)).scalar()
        state.outages[external] = outage_id
        if outage_id is None:
            return
        query = select(i.c.customer_id, i.c.start_at, i.c.end_at).where(
            i.c.outage_id == outage_id, i.c.start_at.is_not(None))
        for cid, start, end in conn.execute(query):
            state.intervals.setdefault((external, cid), []).append(
                (start.timestamp(), end.timestamp() if end else NEVER))


def _flush(engine: Engine, state: State, batch: list[Good], *, actor: str) -> None:
    if not batch:
        return
    with write_transaction(engine) as conn:
        ids = {g.external_id: _outage_id(conn, state, g, actor) for g in batch}
        conn.execute(insert(lc.INTERRUPTIONS), [
            {"outage_id": ids[g.external_id], "customer_id": g.customer_id, "planned": g.planned,
             "cause": g.cause, "start_at": g.start, "end_at": g.end} for g in batch])
    state.imported += len(batch)
    batch.clear()


def _outage_id(conn: Connection, state: State, good: Good, actor: str) -> int:
    known = state.outages.get(good.external_id)
    if known is not None:
        return known
    now = utcnow()
    outage_id = conn.execute(insert(lc.OUTAGES).values(
        kind=OutageKind.PLANNED if good.planned else OutageKind.FAULT,
        status=CutStatus.COMPLETED if good.planned else IncidentStatus.COMPLETED,
        external_id=good.external_id, cause=good.cause, revision=1, created_by=actor,
        created_at=now, updated_at=now).returning(lc.OUTAGES.c.id)).scalar_one()
    lc.write_revision(conn, lc.load(conn, outage_id), action="imported", actor=actor)
    state.outages[good.external_id] = outage_id
    state.created.append(outage_id)
    return outage_id


def _finish(engine: Engine, state: State, *, actor: str, source: str, path: Path) -> None:
    """Actual start and end of the outages this import created, from their rows."""
    i = lc.INTERRUPTIONS
    with write_transaction(engine) as conn:
        for part in lc.chunks(state.created):
            first = select(func.min(i.c.start_at)).where(i.c.outage_id == lc.OUTAGES.c.id)
            last = select(func.max(i.c.end_at)).where(i.c.outage_id == lc.OUTAGES.c.id)
            conn.execute(update(lc.OUTAGES).where(lc.OUTAGES.c.id.in_(part)).values(
                actual_start=first.scalar_subquery(), actual_end=last.scalar_subquery()))
        audit.record(conn, actor=actor, source=source, action="interruptions.imported",
                     entity="interruptions", entity_id=path.name,
                     after={"imported": state.imported, "rejected": state.rejected,
                            "outages_created": len(state.created)})
