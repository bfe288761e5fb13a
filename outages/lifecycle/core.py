"""What planned cuts and fault incidents share: loading, revisions, the affected set and its
interruption rows, start and step restoration.

Every function here works inside the caller's transaction; the callers (cuts.py, faults.py)
open exactly one per change, so an outage never exists without its affected set.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import numpy as np
import numpy.typing as npt
from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    Connection,
    Row,
    Table,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)

from geo import Area, AreaError, BBox, load_area, parse_area
from outages import db, text, timeutil
from outages.access import audit
from outages.enums import OutageKind
from outages.errors import Conflict, NotFound, ValidationError
from outages.lifecycle import events
from outages.models import Customer, Interruption, Outage, OutageCustomer, Revision
from outages.settings import Settings

# Declarative models type __table__ loosely; these are plain Core tables for bulk work.
OUTAGES = cast(Table, Outage.__table__)
REVISIONS = cast(Table, Revision.__table__)
MEMBERS = cast(Table, OutageCustomer.__table__)
INTERRUPTIONS = cast(Table, Interruption.__table__)
CUSTOMERS = cast(Table, Customer.__table__)
KIND_LABEL: dict[str, str] = {OutageKind.PLANNED: "planned cut", OutageKind.FAULT: "fault incident"}
CHUNK = 500  # ids per IN (...) list: far below every backend's bind-parameter limit


def territory(settings: Settings) -> BBox:
    t = settings.territory
    return BBox(t.min_lon, t.min_lat, t.max_lon, t.max_lat)


def read_area(source: str | Path, settings: Settings, *, field: str = "area") -> Area:
    """An area from a file or inline GeoJSON; geo's refusal becomes a ValidationError."""
    try:
        area = load_area(source, territory=territory(settings),
                         max_vertices=settings.http.max_area_vertices)
    except AreaError as exc:
        raise ValidationError(str(exc), field=field, hint=exc.hint) from None
    check_area_name(area, field=field)
    return area


def check_area_name(area: Area, *, field: str = "area") -> None:
    """An area's name is what customers read: one line, no control characters, within the
    column. Checked where an area is read and again where one is stored (an area made in
    code, such as a union of named areas, was never read)."""
    if area.name is not None:
        free_text(area.name, field=field, limit=text.NAME_MAX, multiline=False,
                  what="the area's name")


def check_feeders(feeders: Sequence[str] | None) -> None:
    """Feeder names are stored with the outage: held to the registry's limit."""
    for name in feeders or ():
        free_text(name, field="feeders", limit=text.FEEDER_MAX, multiline=False,
                  what="a feeder name")


def free_text(value: str | None, *, field: str, limit: int, multiline: bool = True,
              what: str = "the text") -> None:
    """Refuse text over `limit` characters or with control characters (outages.text)."""
    wrong = None if value is None else text.problem(value, limit=limit, multiline=multiline)
    if wrong:
        raise ValidationError(f"{what} {wrong}", field=field)


def stored_area(row: Row[Any], settings: Settings) -> Area | None:
    if not row.area_geojson:
        return None
    return parse_area(json.loads(row.area_geojson), territory=territory(settings))


def parse_time(text: str, settings: Settings, *, field: str) -> datetime:
    try:
        return timeutil.parse_datetime(text, settings.tz)
    except ValueError as exc:
        raise ValidationError(str(exc), field=field) from None


def parse_day(text: str | None, field: str) -> date | None:
    """A local calendar day given as YYYY-MM-DD (None when not given)."""
    if text is None:
        return None
    try:
        return timeutil.parse_date(text)
    except ValueError as exc:
        raise ValidationError(str(exc), field=field) from None


def require_aware(value: datetime, *, field: str) -> None:
    """Domain functions take instants; a wall-clock time needs parse_time first."""
    if value.tzinfo is None:
        raise ValidationError("time without a zone reached the domain: parse it with the "
                              "configured zone first", field=field)


def not_future(at: datetime | None, *, field: str, what: str, settings: Settings) -> datetime:
    """`at`, or now when not given; refused when ahead of now or further back than
    lifecycle.max_backdate (a mistyped date would count as a long interruption), shown in
    local time as the dispatcher typed it."""
    now = timeutil.utcnow()
    if at is None:
        return now
    require_aware(at, field=field)
    tz = settings.tz
    if at > now:
        raise ValidationError(f"{what} {timeutil.show_local(at, tz)} is in the future: "
                              "record it when it has happened (or leave it out for now)",
                              field=field)
    back = settings.lifecycle.max_backdate
    if at < now - back:
        raise ValidationError(
            f"{what} {timeutil.show_local(at, tz)} is more than {timeutil.format_duration(back)} "
            f"ago (lifecycle.max_backdate): check the date and give a time after "
            f"{timeutil.show_local(ceil_minute(now - back), tz)} (history from before then is "
            "imported, not typed)", field=field)
    return at


def check_ahead(settings: Settings, at: datetime, *, field: str, what: str) -> None:
    """Refuse a time further ahead than planned.max_ahead: customers would be told of it."""
    latest = timeutil.utcnow() + settings.planned.max_ahead
    if at > latest:
        raise ValidationError(
            f"{what} {timeutil.show_local(at, settings.tz)} is more than "
            f"{timeutil.format_duration(settings.planned.max_ahead)} ahead "
            f"(planned.max_ahead): give a time before {timeutil.show_local(latest, settings.tz)}",
            field=field)


def ceil_minute(value: datetime) -> datetime:
    """Round up, so an 'earliest allowed' time shown to the minute is really allowed."""
    floor = value.replace(second=0, microsecond=0)
    return floor if floor == value else floor + timedelta(minutes=1)


def optional_text(value: str | None) -> str | None:
    """Optional free text as stored: stripped, and None when nothing is left."""
    return (value or "").strip() or None


def customer_by_code(conn: Connection, code: str) -> int | None:
    """The customer a code typed by a person names: as typed, else in capitals ("pd0001" is
    PD0001: codes are stored as the registry spells them, and registries write capitals)."""
    typed = code.strip()
    c = CUSTOMERS.c
    found = conn.execute(select(c.id, c.code).where(c.code.in_({typed, typed.upper()}))).all()
    exact = [row.id for row in found if row.code == typed]
    return int(exact[0]) if exact else (int(found[0].id) if found else None)


def find(conn: Connection, outage_id: int, *, lock: bool = False) -> Row[Any] | None:
    """The outage's row, or None when there is none. `lock`: held until the transaction
    ends (PostgreSQL; SQLite lets one writer in at a time anyway), so that two dispatchers
    changing one outage at once take turns: the second sees the first's revision."""
    query = select(OUTAGES).where(OUTAGES.c.id == outage_id)
    return conn.execute(query.with_for_update() if lock else query).first()


def load(conn: Connection, outage_id: int, *, kind: str | None = None,
         lock: bool = False, seen: int | None = None) -> Row[Any]:
    """The outage's row (NotFound, naming what to list, when there is none); `lock` it to
    change it (see find). `seen`: the revision the person changing it was shown; a Conflict
    when it has changed since (another dispatcher acted meanwhile)."""
    row = find(conn, outage_id, lock=lock)
    if row is None:
        what = KIND_LABEL.get(kind or "", "outage")
        raise NotFound(f"no {what} with id {outage_id}", field="id",
                       hint="list_faults" if kind == "fault" else "list_cuts")
    if kind is not None and row.kind != kind:
        raise NotFound(f"outage {outage_id} is a {KIND_LABEL[row.kind]}, not a "
                       f"{KIND_LABEL[kind]}", field="id",
                       hint="use_cuts" if row.kind == "planned" else "use_faults")
    if seen is not None and row.revision != seen:
        r = REVISIONS.c
        last = conn.execute(select(r.action, r.actor).where(
            r.outage_id == outage_id, r.revision == row.revision)).first()
        by = f" ({last.action} by {last.actor or 'the system'})" if last is not None else ""
        raise Conflict(f"{KIND_LABEL[row.kind]} {outage_id} changed after the page was "
                       f"opened: it is at revision {row.revision}{by}, not {seen}; nothing "
                       "was changed", field="revision", hint="changed")
    return row


def snapshot(row: Row[Any]) -> dict[str, Any]:
    """The outage's own fields for the audit log (JSON-safe)."""
    skip = {"area_geojson"}
    return {k: (v.isoformat() if isinstance(v, datetime) else v)
            for k, v in row._mapping.items() if k not in skip}


def change(
    conn: Connection,
    row: Row[Any],
    *,
    action: str,
    actor: str,
    source: str,
    values: dict[str, Any],
    note: str | None = None,
    details: dict[str, Any] | None = None,
) -> Row[Any]:
    """Apply `values` as the next revision, record it in the history and the audit log, and
    return the row after the change."""
    revision = row.revision + 1
    now = timeutil.utcnow()
    conn.execute(update(OUTAGES).where(OUTAGES.c.id == row.id)
                 .values(**values, revision=revision, updated_at=now))
    after = load(conn, row.id)
    write_revision(conn, after, action=action, actor=actor, note=note, details=details)
    audit.record(conn, actor=actor, source=source, action=f"{after.kind}.{action}",
                 entity="outage", entity_id=row.id, before=snapshot(row), after=snapshot(after))
    return after


def write_revision(
    conn: Connection,
    row: Row[Any],
    *,
    action: str,
    actor: str,
    note: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """The state after a change, so every earlier revision stays readable."""
    free_text(note, field="note", limit=text.NOTE_MAX)
    conn.execute(insert(REVISIONS).values(
        outage_id=row.id, revision=row.revision, action=action, actor=actor,
        at=timeutil.utcnow(), planned_start=row.planned_start, planned_end=row.planned_end,
        etr=row.etr, area_geojson=row.area_geojson, note=note, details=details,
    ))


def publish(
    conn: Connection,
    settings: Settings,
    row: Row[Any],
    kind: events.EventKind,
    *,
    actor: str,
    customer_ids: Sequence[int] = (),
    report_id: int | None = None,
    merged_from: int | None = None,
    alert_id: int | None = None,
    acknowledge: bool = False,
    restored_at: datetime | None = None,
    step_area: BaseGeometry | None = None,
) -> None:
    events.publish(conn, settings, events.OutageEvent(
        kind=kind, outage_id=row.id, revision=row.revision, at=timeutil.utcnow(),
        customer_ids=tuple(int(i) for i in customer_ids), report_id=report_id,
        merged_from=merged_from, actor=actor,
        alert_id=alert_id, acknowledge=acknowledge, restored_at=restored_at,
        step_area=step_area,
    ))


def member_ids(conn: Connection, outage_id: int) -> npt.NDArray[np.int64]:
    query = select(MEMBERS.c.customer_id).where(MEMBERS.c.outage_id == outage_id,
                                                MEMBERS.c.dropped_revision.is_(None))
    return np.fromiter(conn.execute(query).scalars(), dtype=np.int64)


@dataclass(frozen=True)
class SetChange:
    added: int
    dropped: int


def set_members(
    conn: Connection,
    row: Row[Any],
    ids: npt.NDArray[np.int64],
    *,
    revision: int,
    cause: str | None,
    start_at: datetime | None = None,
) -> SetChange:
    """Make the affected set equal `ids` as of `revision`: new members get an interruption
    row, dropped ones keep their membership row (dropped_revision) and lose the interruption
    that has not ended."""
    current = member_ids(conn, row.id)
    added = np.setdiff1d(ids, current, assume_unique=True)
    dropped = np.setdiff1d(current, ids, assume_unique=True)
    _drop(conn, row.id, dropped, revision)
    _add(conn, row, added, revision=revision, cause=cause, start_at=start_at)
    return SetChange(added=int(added.size), dropped=int(dropped.size))


def _drop(conn: Connection, outage_id: int, ids: npt.NDArray[np.int64], revision: int) -> None:
    if not ids.size:
        return
    params = [{"cid": int(i)} for i in ids]
    conn.execute(update(MEMBERS).where(MEMBERS.c.outage_id == outage_id,
                                       MEMBERS.c.customer_id == bindparam("cid"))
                 .values(dropped_revision=revision), params)
    # A placeholder, or an incident's open interruption for a customer found outside its
    # area: the outage never cut them. A finished interruption did happen and stays.
    conn.execute(delete(INTERRUPTIONS).where(INTERRUPTIONS.c.outage_id == outage_id,
                                             INTERRUPTIONS.c.customer_id == bindparam("cid"),
                                             INTERRUPTIONS.c.end_at.is_(None)), params)


def drop_all(conn: Connection, outage_id: int, revision: int) -> int:
    """Cancellation: everyone leaves the set in this revision; placeholders go."""
    dropped = conn.execute(update(MEMBERS).where(MEMBERS.c.outage_id == outage_id,
                                                 MEMBERS.c.dropped_revision.is_(None))
                           .values(dropped_revision=revision)).rowcount
    conn.execute(delete(INTERRUPTIONS).where(INTERRUPTIONS.c.outage_id == outage_id,
                                             INTERRUPTIONS.c.start_at.is_(None)))
    return int(dropped)


def _add(
    conn: Connection,
    row: Row[Any],
    ids: npt.NDArray[np.int64],
    *,
    revision: int,
    cause: str | None,
    start_at: datetime | None,
) -> None:
    if not ids.size:
        return
    rejoining = _previously_dropped(conn, row.id, ids)
    fresh = np.setdiff1d(ids, rejoining, assume_unique=True)
    if rejoining.size:
        conn.execute(update(MEMBERS).where(MEMBERS.c.outage_id == row.id,
                                           MEMBERS.c.customer_id == bindparam("cid"))
                     .values(added_revision=revision, dropped_revision=None),
                     [{"cid": int(i)} for i in rejoining])
    if fresh.size:
        _insert_members(conn, row.id, fresh, revision)
    # One INSERT ... SELECT for the interruption rows of everyone added in this revision.
    added = select(
        MEMBERS.c.outage_id, MEMBERS.c.customer_id,
        literal(row.kind == OutageKind.PLANNED, Interruption.planned.type),
        literal(cause, Interruption.cause.type),
        literal(start_at, Interruption.start_at.type),
    ).where(MEMBERS.c.outage_id == row.id, MEMBERS.c.added_revision == revision,
            MEMBERS.c.dropped_revision.is_(None))
    if rejoining.size:
        # One whose power came back from this outage is not cut again by a redraw: the
        # interruption happened and is over. If they lose power again, their reply says so.
        i = INTERRUPTIONS.c
        added = added.where(~exists().where(i.outage_id == row.id,
                                            i.customer_id == MEMBERS.c.customer_id,
                                            i.end_at.is_not(None)))
    conn.execute(insert(INTERRUPTIONS).from_select(
        ["outage_id", "customer_id", "planned", "cause", "start_at"], added))
    for table in ("outage_customers", "interruptions"):
        db.refresh_statistics(conn, table, int(ids.size))


# PostgreSQL's binary COPY of (outage_id, customer_id, added_revision), all int4: every row
# has the same width, so the rows are one numpy array, made without a Python object per row.
_MEMBER_ROW = np.dtype([("fields", ">i2"), ("l1", ">i4"), ("outage", ">i4"), ("l2", ">i4"),
                        ("customer", ">i4"), ("l3", ">i4"), ("revision", ">i4")])


def _insert_members(conn: Connection, outage_id: int, ids: npt.NDArray[np.int64],
                    revision: int) -> None:
    """PostgreSQL: one binary COPY (a million members in two seconds; an INSERT ... SELECT
    unnest(array) spent 0.7 s more making the array from Python ints); SQLite: executemany,
    which is fast there."""
    if conn.dialect.name != "postgresql":
        conn.execute(insert(MEMBERS), [
            {"outage_id": outage_id, "customer_id": int(i), "added_revision": revision}
            for i in ids
        ])
        return
    rows = np.empty(len(ids), dtype=_MEMBER_ROW)
    rows["fields"], rows["l1"], rows["l2"], rows["l3"] = 3, 4, 4, 4
    rows["outage"], rows["customer"], rows["revision"] = outage_id, ids, revision
    driver: Any = conn.connection.dbapi_connection
    with driver.cursor() as cursor, cursor.copy(
            "COPY outage_customers (outage_id, customer_id, added_revision) "
            "FROM STDIN (FORMAT BINARY)") as copy:
        copy.write(db.PG_COPY_HEADER + rows.tobytes() + db.PG_COPY_TRAILER)


def _previously_dropped(
    conn: Connection, outage_id: int, ids: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    query = select(MEMBERS.c.customer_id).where(MEMBERS.c.outage_id == outage_id,
                                                MEMBERS.c.dropped_revision.is_not(None))
    before = np.fromiter(conn.execute(query).scalars(), dtype=np.int64)
    return np.intersect1d(ids, before)


def start_interruptions(conn: Connection, outage_id: int, at: datetime) -> int:
    return int(conn.execute(
        update(INTERRUPTIONS).where(INTERRUPTIONS.c.outage_id == outage_id,
                                    INTERRUPTIONS.c.start_at.is_(None))
        .values(start_at=at)).rowcount)


def chunks(values: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    """`values` in slices of `size`, for IN (...) lists within every backend's limits."""
    for first in range(0, len(values), size):
        yield values[first:first + size]


def ids_for_codes(conn: Connection, codes: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for part in chunks(codes):
        query = select(CUSTOMERS.c.code, CUSTOMERS.c.id).where(CUSTOMERS.c.code.in_(part))
        found.update({code: cid for code, cid in conn.execute(query)})
    return found


def count_open(conn: Connection, outage_id: int) -> int:
    query = select(func.count()).select_from(INTERRUPTIONS).where(
        INTERRUPTIONS.c.outage_id == outage_id, INTERRUPTIONS.c.end_at.is_(None))
    return int(conn.execute(query).scalar_one())


def minutes(value: timedelta) -> float:
    return round(value.total_seconds() / 60, 2)


def is_momentary(duration: timedelta, settings: Settings) -> bool:
    return duration <= settings.reliability.momentary_max
