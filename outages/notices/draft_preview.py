"""What a planned cut would do before it exists: who it affects (by district and feeder),
the rules it would break, the warnings creating it would give, and the announcement each
language would read with its cost. Nothing is written.

The affected set is matched as `registry.matching` does (bounding box, then one vectorised
shapely test), and the same read brings what the notice counts need (language, reachable
channels), so nothing is asked per customer."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import numpy as np
import numpy.typing as npt
from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    bindparam,
    case,
    func,
    literal,
    select,
)

from geo import Area, covered_mask
from notifier.channels import REGISTRY
from notifier.channels.email import UNSUBSCRIBE_URL
from outages.enums import CUT_PENDING, CutStatus, NoticeKind, OutageKind
from outages.errors import ValidationError
from outages.lifecycle import core as lc
from outages.lifecycle import cut_rules
from outages.lifecycle.results import CutWarning
from outages.notices import subscriber_preview
from outages.notices.queue import (
    CHANNELS,
    LANGUAGES,
    contact_ok,
    context,
    cost,
    customers,
    prefers,
    render_all,
)
from outages.notices.results import PreviewMessage, PreviewTotals
from outages.registry.matching import Affected, connected_filter
from outages.results import Result
from outages.settings import Settings
from outages.timeutil import format_duration, iso_local, to_local, utcnow

_c = customers.c


@dataclass(frozen=True)
class Draft:
    """A cut as the dispatcher has typed it so far: only the area is required."""

    area: Area
    feeders: Sequence[str] | None = None
    start: datetime | None = None
    end: datetime | None = None
    reason: str | None = None
    reason_en: str | None = None
    work: str | None = None
    urgent: bool = False
    urgent_reason: str | None = None


class Problem(Result):
    """A rule creating the cut would refuse, with the field it concerns."""

    field: str | None
    message: str


class CutPreview(Result):
    area_name: str | None
    count: int
    priority: int | None  # None: not for this reader (no personal data)
    by_district: dict[str, int]
    by_feeder: dict[str, int]
    earliest_legal_start: str
    problems: list[Problem]
    warnings: list[CutWarning]
    messages: list[PreviewMessage]
    totals: PreviewTotals
    repairs: list[str]


@dataclass(frozen=True)
class Matched:
    affected: Affected
    languages: npt.NDArray[np.str_]
    reach: dict[str, npt.NDArray[np.bool_]]


def preview(conn: Connection, settings: Settings, draft: Draft, *,
            personal: bool = True) -> CutPreview:
    """What creating the cut would do. Without `personal` (a reader who may not see
    personal data) nothing tells whether the area holds a priority customer: no count, no
    warning, no refusal of the start on their account."""
    now = utcnow()
    earliest = cut_rules.earliest_start(settings, now)
    day = to_local(draft.start or now, settings.tz).date()
    matched = match(conn, settings, draft.area, feeders=draft.feeders, on=day)
    affected = matched.affected
    priority = affected.priority_count if personal else 0
    name = draft.area.name or affected.place_name()
    problems = _problems(settings, draft, affected.count, priority, now)
    warnings = [*cut_rules.priority_warning(priority)]
    if draft.start and draft.end and draft.end > draft.start:
        warnings += others(conn, settings, affected.ids, draft.start, draft.end)
    messages, totals = _messages(conn, settings, draft, matched, name, earliest, now)
    return CutPreview(area_name=name, count=affected.count,
                      priority=affected.priority_count if personal else None,
                      by_district=affected.breakdown("district"),
                      by_feeder=affected.breakdown("feeder"),
                      earliest_legal_start=iso_local(earliest, settings.tz) or "",
                      problems=problems, warnings=warnings, messages=messages, totals=totals,
                      repairs=draft.area.repairs)


def match(conn: Connection, settings: Settings, area: Area, *,
          feeders: Sequence[str] | None, on: date) -> Matched:
    """Customers connected on `on` inside the area (edge included), optionally only on
    `feeders`, with their notice language and the channels that would reach them.

    PostgreSQL reads the bounding box's rows with a bitmap heap scan, in table order: one
    query. SQLite would read them in longitude order, jumping around the table; there the
    candidates' (id, lon, lat) come from the lon/lat index alone, and only the rows inside
    are read, in id order (about a third faster on a million customers)."""
    min_lon, min_lat, max_lon, max_lat = area.bounds
    box: list[ColumnElement[bool]] = [_c.lon.between(min_lon, max_lon),
                                      _c.lat.between(min_lat, max_lat)]
    if feeders:
        box.append(_c.feeder.in_(list(feeders)))
    if conn.dialect.name != "sqlite":
        return _read(conn, settings, box, on, area)
    result = conn.execute(select(_c.id, _c.lon, _c.lat).where(*box))
    candidates = result.cursor.fetchall() if result.cursor else []
    result.close()
    if not candidates:
        return _nobody()
    ids, lons, lats = zip(*candidates, strict=True)
    inside = np.sort(np.asarray(ids, dtype=np.int64)[covered_mask(area.geometry, lons, lats)])
    if not inside.size:
        return _nobody()
    listed = func.json_each(bindparam("ids", json.dumps(inside.tolist()))).table_valued("value")
    return _read(conn, settings, [_c.id.in_(select(listed.c.value))], on, None)


def _read(conn: Connection, settings: Settings, where: Sequence[ColumnElement[bool]], on: date,
          area: Area | None) -> Matched:
    """The customers `where` selects, connected on `on`, and inside `area` when given."""
    default = settings.locale.default_language
    reach = {ch: case((and_(contact_ok(ch), prefers(settings, ch)), literal(1)), else_=literal(0))
             for ch in CHANNELS}
    language = case((_c.language.in_(LANGUAGES), _c.language), else_=literal(default))
    query = (select(_c.id, _c.code, _c.region, _c.district, _c.feeder, _c.priority, language,
                    _c.lon, _c.lat, *reach.values())
             .where(*where, cast(ColumnElement[bool], connected_filter(on))))
    result = conn.execute(query)
    rows: list[Any] = list(result.cursor.fetchall()) if result.cursor else []
    result.close()
    if area is not None and rows:
        mask = covered_mask(area.geometry, [r[7] for r in rows], [r[8] for r in rows])
        rows = [rows[int(i)] for i in np.flatnonzero(mask)]
    if not rows:
        return _nobody()
    cols = list(zip(*rows, strict=True))
    affected = Affected(ids=np.asarray(cols[0], dtype=np.int64), codes=list(cols[1]),
                        regions=list(cols[2]), districts=list(cols[3]), feeders=list(cols[4]),
                        priorities=list(cols[5]))
    flags = {ch: np.asarray(cols[9 + i], dtype=bool) for i, ch in enumerate(CHANNELS)}
    return Matched(affected, np.asarray(cols[6], dtype=str), flags)


def _nobody() -> Matched:
    empty = Affected(np.empty(0, dtype=np.int64), [], [], [], [], [])
    return Matched(empty, np.empty(0, dtype=str), {ch: np.zeros(0, dtype=bool) for ch in CHANNELS})


def _problems(settings: Settings, draft: Draft, count: int, priority: int,
              now: datetime) -> list[Problem]:
    """What `cuts.create` would refuse, each with its field; the first per field."""
    found: list[Problem] = []

    def check(rule: Any, *args: Any, **kwargs: Any) -> None:
        try:
            rule(*args, **kwargs)
        except ValidationError as exc:
            if all(p.field != exc.field for p in found):
                found.append(Problem(field=exc.field, message=exc.message))

    if count == 0:
        found.append(Problem(field="area", message="the area matches no customer: check the "
                             "area (lon/lat order)"))
    check(cut_rules.check_urgent, draft.urgent, draft.urgent_reason)
    if draft.start is None or draft.end is None:
        return found
    check(cut_rules.check_window, settings, draft.start, draft.end)
    check(cut_rules.check_notice, settings, draft.start, urgent=draft.urgent)
    refusal = cut_rules.priority_refusal(settings, draft.start, priority,
                                         now=now, waived=draft.urgent, urgent=draft.urgent)
    if refusal is not None:
        found.append(Problem(field="start", message=refusal))
    return _first_per_field(found)


def _first_per_field(problems: list[Problem]) -> list[Problem]:
    kept: dict[str | None, Problem] = {}
    for problem in problems:
        kept.setdefault(problem.field, problem)
    return list(kept.values())


def others(conn: Connection, settings: Settings, ids: npt.NDArray[np.int64], start: datetime,
           end: datetime) -> list[CutWarning]:
    """The overlap and repeat-window warnings `cut_rules.conflicts` gives after creation,
    for customers not yet stored: other cuts' current members are read for the window and
    matched in memory."""
    if ids.size == 0:
        return []
    window = settings.planned.repeat_window
    m, o = lc.MEMBERS.c, lc.OUTAGES.c
    query = (select(o.id, o.status, o.planned_start, o.planned_end, m.customer_id)
             .select_from(lc.MEMBERS.join(lc.OUTAGES, o.id == m.outage_id))
             .where(o.kind == OutageKind.PLANNED, m.dropped_revision.is_(None),
                    o.status.in_((*CUT_PENDING, CutStatus.COMPLETED)),
                    o.planned_start < end + window, o.planned_end > start - window))
    rows = conn.execute(query).all()
    if not rows:
        return []
    members = np.asarray([r.customer_id for r in rows], dtype=np.int64)
    shared = np.isin(members, ids)
    overlap: dict[int, set[int]] = {}
    nearby: dict[int, set[int]] = {}
    for row, hit in zip(rows, shared, strict=True):
        if not hit:
            continue
        overlapping = (row.status in CUT_PENDING and row.planned_start < end
                       and row.planned_end > start)
        (overlap if overlapping else nearby).setdefault(row.id, set()).add(row.customer_id)
    warnings = []
    if overlap:
        warnings.append(_warning("overlap", overlap, "affected customers are also in cuts "
                                 "whose window overlaps this one"))
    if nearby:
        warnings.append(_warning("repeat_window", nearby, "affected customers already have "
                                 f"another cut within {format_duration(window)}"))
    return warnings


def _warning(code: str, per_cut: dict[int, set[int]], words: str) -> CutWarning:
    ids = sorted(per_cut)
    count = len(set().union(*per_cut.values()))
    listed = ", ".join(f"#{i}" for i in ids)
    return CutWarning(code=code, count=count, cut_ids=ids, message=f"{count} {words}: {listed}")


def _messages(conn: Connection, settings: Settings, draft: Draft, matched: Matched,
              name: str | None, earliest: datetime,
              now: datetime) -> tuple[list[PreviewMessage], PreviewTotals]:
    """The announcement per channel and language, and the cost of sending it to everyone
    it would reach: the customers (on the channels each prefers) and the subscribers."""
    start = draft.start or earliest
    outage = SimpleNamespace(
        kind=OutageKind.PLANNED, area_name=name, reason=(draft.reason or "").strip() or None,
        reason_en=(draft.reason_en or "").strip() or None, cause="planned", work=draft.work,
        actual_start=None, planned_start=start,
        planned_end=draft.end or start + timedelta(hours=4), etr=None)
    # The templates read the outage's columns by name: a stand-in with the draft's values.
    # Worded for when it goes out: a cut drafted at night is announced after quiet hours
    # ("tomorrow 08:00" then reads "today 08:00", and may cost a segment less or more).
    sent = cut_rules.announced_at(settings, now, start, urgent=draft.urgent)
    texts = render_all(settings, NoticeKind.ANNOUNCEMENT,
                       context(settings, cast(Any, outage)), now=sent)
    messages: list[PreviewMessage] = []
    total_messages, segments, money = 0, 0, 0.0
    for channel in CHANNELS:
        for lang in LANGUAGES:
            text = texts[(channel, lang)]
            count = int(np.count_nonzero(matched.reach[channel] & (matched.languages == lang)))
            each = cost(settings, channel, text)
            messages.append(PreviewMessage(
                channel=channel, language=lang, recipients=count, encoding=text.encoding,
                segments=text.segments, subject=text.subject,
                body=text.body.replace(UNSUBSCRIBE_URL, "<unsubscribe link>"), cost_each=each))
            total_messages += count
            segments += count * text.segments if REGISTRY[channel].priced_per_segment else 0
            money += count * each
    districts = Counter(d for d in matched.affected.districts if d is not None)
    for line in subscriber_preview.messages(conn, settings, NoticeKind.ANNOUNCEMENT, texts,
                                            matched.affected.ids, districts, now=sent,
                                            languages=LANGUAGES):
        messages.append(line.message)
        total_messages += line.message.recipients
        segments += line.segments
        money += line.cost
    return messages, PreviewTotals(messages=total_messages, segments=segments,
                                   cost=round(money, 4))
