"""What the open feeds publish: current outages, upcoming cuts and recently cancelled ones,
and the public history of changes, each after the privacy rule (`privacy`).

The feeds (GeoJSON, iCalendar, CAP, Atom) are renderings of these items at the HTTP edge.
`watermark` is what changes whenever any of them may: every change of an outage writes an
outage_revisions row, and a new outage a new outages row; both maxima are index lookups.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select

from outages.enums import INCIDENT_VOID, CutStatus, OutageKind
from outages.lifecycle import core as lc
from outages.lifecycle import privacy
from outages.lifecycle.public import POWER_OFF, district_counts, district_names, expected_back
from outages.models import Customer, Outage, OutageCustomer, Revision
from outages.settings import Settings

_o = Outage.__table__.c
_r = Revision.__table__.c
_oc = OutageCustomer.__table__.c
_c = Customer.__table__.c

# A cancelled cut stays in the calendar and CAP feeds, as cancelled, this long.
CANCELLED_KEPT = timedelta(days=7)
# Revisions the Atom feed tells of; a fault's first report ("reported") is one caller's.
PUBLIC_ACTIONS = frozenset({"created", "rescheduled", "resized", "cancelled", "started",
                            "extended", "restored", "confirmed", "etr"})


@dataclass(frozen=True)
class FeedItem:
    """One outage as the feeds publish it. `area` is already public (privacy rule)."""

    ref: str
    kind: str
    status: str
    area_name: str | None
    reason: str | None
    reason_en: str | None
    cause: str | None
    start: datetime | None
    end: datetime | None
    etr: datetime | None
    districts: list[str]
    customers_affected: privacy.Count
    area: dict[str, Any] | None
    revision: int
    created: datetime
    updated: datetime
    # (revision, when) of each earlier revision, oldest first: CAP's `references`.
    history: list[tuple[int, datetime]] = field(default_factory=list)
    # When the current revision was written (its outage_revisions row; else `updated`):
    # the same instant the next revision's CAP `references` will name.
    revised: datetime | None = None

    @property
    def current(self) -> bool:
        return self.status in POWER_OFF

    @property
    def cancelled(self) -> bool:
        return self.status == CutStatus.CANCELLED


@dataclass(frozen=True)
class FeedEntry:
    """One public change of an outage, for the Atom feed."""

    ref: str
    kind: str
    action: str
    revision: int
    at: datetime
    area_name: str | None
    reason: str | None
    reason_en: str | None
    start: datetime | None
    end: datetime | None
    etr: datetime | None
    districts: list[str]


Watermark = tuple[Any, ...]


def watermark(conn: Connection) -> Watermark:
    """The newest revision and the newest outage, each with its time: changes with any
    outage revision (the times tell apart an id handed out again after a restore)."""
    revision = select(_r.id, _r.at).order_by(_r.id.desc()).limit(1).subquery()
    outage = select(_o.id, _o.created_at).order_by(_o.id.desc()).limit(1).subquery()
    row = conn.execute(select(
        select(revision.c.id).scalar_subquery(), select(revision.c.at).scalar_subquery(),
        select(outage.c.id).scalar_subquery(),
        select(outage.c.created_at).scalar_subquery())).one()
    return tuple(row)


def last_change(conn: Connection) -> datetime | None:
    """When the newest revision was written (the feeds' Last-Modified)."""
    return conn.execute(select(_r.at).order_by(_r.id.desc()).limit(1)).scalar()


_ITEM_COLUMNS = (_o.id, _o.public_ref, _o.kind, _o.status, _o.area_name, _o.area_geojson,
                 _o.area_points, _o.reason, _o.reason_en, _o.cause, _o.planned_start,
                 _o.planned_end, _o.actual_start, _o.etr, _o.revision, _o.created_at,
                 _o.updated_at)


def items(conn: Connection, settings: Settings, *, now: datetime,
          days: int | None = None, cancelled: bool = True) -> list[FeedItem]:
    """Current outages, cuts not yet ended (starting within `days` when given) and, with
    `cancelled`, cuts cancelled in the last 7 days; soonest first."""
    upcoming = [_o.kind == OutageKind.PLANNED, _o.status == CutStatus.SCHEDULED,
                _o.planned_end > now]
    if days is not None:
        upcoming.append(_o.planned_start < now + timedelta(days=days))
    wanted = [_o.status.in_(POWER_OFF), and_(*upcoming)]
    if cancelled:
        wanted.append(and_(_o.kind == OutageKind.PLANNED, _o.status == CutStatus.CANCELLED,
                           _o.updated_at >= now - CANCELLED_KEPT))
    rows = conn.execute(select(*_ITEM_COLUMNS).where(or_(*wanted))
                        .order_by(func.coalesce(_o.actual_start, _o.planned_start,
                                                _o.created_at), _o.id)).all()
    counts = district_counts(conn, rows)
    counts.update(_cancelled_counts(conn, [row for row in rows
                                           if row.status == CutStatus.CANCELLED]))
    history = _history(conn, [row.id for row in rows])
    return [_item(settings, row, counts[row.id], history.get(row.id, []), now)
            for row in rows]


def _cancelled_counts(conn: Connection, rows: Sequence[Any]) -> dict[int, dict[str, int]]:
    """A cancellation drops every member at its revision: count those, so a cancelled cut
    still names the districts (and reaches the calendars) it was planned for."""
    found: dict[int, dict[str, int]] = {row.id: {} for row in rows}
    if rows:
        for outage_id, district, count in conn.execute(
                select(_oc.outage_id, _c.district, func.count())
                .join(Customer.__table__, _c.id == _oc.customer_id)
                .join(Outage.__table__, _o.id == _oc.outage_id)
                .where(_oc.outage_id.in_(list(found)),
                       or_(_oc.dropped_revision.is_(None), _oc.dropped_revision == _o.revision))
                .group_by(_oc.outage_id, _c.district)):
            found[outage_id][district or "-"] = int(count)
    return found


def in_district(conn: Connection, found: Sequence[FeedItem], typed: str) -> list[FeedItem]:
    """The items touching the district a person typed (any case or diacritics)."""
    wanted = set(district_names(conn, typed))
    return [item for item in found if wanted & set(item.districts)]


def for_customer(conn: Connection, found: Sequence[FeedItem], code: str) -> list[FeedItem]:
    """The items holding customer `code` (a cancelled cut: held when it was cancelled). An
    unknown code holds none, like a code without cuts."""
    customer = lc.customer_by_code(conn, code)
    refs = set() if customer is None else set(conn.execute(
        select(_o.public_ref)
        .join(OutageCustomer.__table__, _oc.outage_id == _o.id)
        .where(_oc.customer_id == customer,
               or_(_oc.dropped_revision.is_(None),
                   and_(_o.status == CutStatus.CANCELLED,
                        _oc.dropped_revision == _o.revision)))).scalars())
    return [item for item in found if item.ref in refs]


def _item(settings: Settings, row: Any, counts: dict[str, int],
          history: list[tuple[int, datetime]], now: datetime) -> FeedItem:
    planned = row.kind == OutageKind.PLANNED
    etr = row.etr or (row.planned_end if planned else None)
    if row.status in POWER_OFF:  # power is off now: a time gone by is expected no more
        etr = expected_back(etr, now)
    if planned and row.status != CutStatus.IN_PROGRESS:
        area = privacy.planned_area(row.area_geojson)
    else:  # power is off now: the area is blurred (or left out)
        area = privacy.current_area(row.area_geojson, row.area_points, settings)
    return FeedItem(
        ref=row.public_ref, kind=row.kind, status=row.status, area_name=row.area_name,
        reason=row.reason, reason_en=row.reason_en, cause=row.cause,
        start=row.actual_start or row.planned_start, end=row.planned_end,
        etr=etr,
        districts=sorted(counts), area=area,
        customers_affected=privacy.total_count(counts, settings),
        revision=int(row.revision), created=row.created_at, updated=row.updated_at,
        history=[(n, at) for n, at in history if n < row.revision],
        revised=next((at for n, at in history if n == row.revision), row.updated_at))


def _history(conn: Connection, outage_ids: Sequence[int]) -> dict[int, list[tuple[int, datetime]]]:
    found: dict[int, list[tuple[int, datetime]]] = defaultdict(list)
    if outage_ids:
        for outage_id, revision, at in conn.execute(
                select(_r.outage_id, _r.revision, _r.at).where(_r.outage_id.in_(outage_ids))
                .order_by(_r.outage_id, _r.revision)):
            found[outage_id].append((int(revision), at))
    return found


def entries(conn: Connection, *, limit: int = 50) -> list[FeedEntry]:
    """The latest public changes (announcements, changes, cancellations, restorations),
    newest first."""
    rows = conn.execute(
        select(_o.id, _o.public_ref, _o.kind, _o.area_name, _o.reason, _o.reason_en,
               _o.created_at, _r.action, _r.revision, _r.at, _r.planned_start,
               _r.planned_end, _r.etr, _o.revision.label("current"), _o.status)
        .join(Revision.__table__, _r.outage_id == _o.id)
        # A dismissed or merged incident was no outage of its own: what it was told (an
        # ETR) is withdrawn.
        .where(_r.action.in_(PUBLIC_ACTIONS), _o.status.not_in(INCIDENT_VOID))
        .order_by(_r.at.desc(), _r.id.desc()).limit(limit)).all()
    counts = district_counts(conn, [_as_current(row) for row in rows])
    # A cancellation drops every house: its entries name the districts it was planned for.
    cancelled = {row.id: row for row in rows if row.status == CutStatus.CANCELLED}
    counts.update(_cancelled_counts(conn, list(cancelled.values())))
    return [FeedEntry(ref=row.public_ref, kind=row.kind, action=row.action,
                      revision=int(row.revision), at=row.at, area_name=row.area_name,
                      reason=row.reason, reason_en=row.reason_en, start=row.planned_start,
                      end=row.planned_end, etr=row.etr, districts=sorted(counts[row.id]))
            for row in rows]


@dataclass(frozen=True)
class _Current:
    id: int
    created_at: datetime
    revision: int


def _as_current(row: Any) -> _Current:
    # District names come from the outage's current affected set (cached per revision).
    return _Current(id=row.id, created_at=row.created_at, revision=row.current)
