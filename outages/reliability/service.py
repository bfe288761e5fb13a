"""Operational KPIs beside the indices: notice lead times, fault response, ETR accuracy and
notice delivery. Per-outage figures, so a handful of grouped queries suffice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Connection, func, select

from notifier import outbox
from notifier.enums import ATTEMPTED, OutboxStatus
from outages.enums import CutStatus, NoticeKind, OutageKind
from outages.errors import ValidationError
from outages.models import FaultReport, Outage, Revision
from outages.reliability.results import (
    ChannelDelivery,
    EtrAccuracy,
    EtrLead,
    FaultResponse,
    PlannedNotice,
    ServiceReport,
    Spread,
)
from outages.settings import Settings
from outages.timeutil import day_start, format_duration, iso_local

ETR_TOLERANCE = timedelta(minutes=30)
# How long before the restoration an ETR was given: an early one is the harder promise.
LEAD_BANDS = (("under 1h", timedelta(0), timedelta(hours=1)),
              ("1h to 3h", timedelta(hours=1), timedelta(hours=3)),
              ("3h or more", timedelta(hours=3), timedelta.max))
_o = Outage.__table__.c
_r = FaultReport.__table__.c
_v = Revision.__table__.c


@dataclass(frozen=True)
class Window:
    """Local days first..last (either open-ended), as UTC bounds."""

    first: date | None
    last: date | None
    tz: ZoneInfo

    def __post_init__(self) -> None:
        if self.first and self.last and self.first > self.last:
            raise ValidationError(f"the first day {self.first} is after the last day "
                                  f"{self.last}", field="from")

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """The window's first instant and the instant after it, either None when open."""
        return (day_start(self.first, self.tz) if self.first else None,
                day_start(self.last + timedelta(days=1), self.tz) if self.last else None)

    def clause(self, column: Any) -> list[Any]:
        """SQL conditions: `column` falls on one of the window's local days."""
        start, end = self.bounds()
        return [*([column >= start] if start else []), *([column < end] if end else [])]


def service_report(conn: Connection, settings: Settings, window: Window) -> ServiceReport:
    return ServiceReport.model_validate({
        "from": window.first.isoformat() if window.first else None,
        "to": window.last.isoformat() if window.last else None,
        "timezone": window.tz.key,
        "planned_notice": planned_notice(conn, settings, window),
        "fault_response": fault_response(conn, window),
        "etr_accuracy": etr_accuracy(conn, window),
        "delivery": delivery(conn, window),
    })


def planned_notice(conn: Connection, settings: Settings, window: Window) -> PlannedNotice:
    """Cuts (not cancelled) starting in the window, and whether their first notice went out
    at least `planned.min_notice` ahead. Lead from the first notice sent (outbox), or from the
    cut's creation when no notice was sent."""
    first_sent = outbox.first_sent()
    query = (select(_o.id, _o.external_id, _o.area_name, _o.planned_start, _o.created_at,
                    _o.urgent, _o.urgent_reason, first_sent.c.sent_at)
             .outerjoin(first_sent, first_sent.c.outage_id == _o.id)
             .where(_o.kind == OutageKind.PLANNED, _o.status != CutStatus.CANCELLED,
                    _o.planned_start.is_not(None), *window.clause(_o.planned_start))
             .order_by(_o.planned_start, _o.id))
    minimum = settings.planned.min_notice
    cuts, late, sources = 0, [], {"outbox": 0, "created_at": 0}
    for row in conn.execute(query):
        cuts += 1
        source = "outbox" if row.sent_at else "created_at"
        sources[source] += 1
        lead = row.planned_start - (row.sent_at or row.created_at)
        if lead < minimum:
            late.append({"outage_id": row.id, "external_id": row.external_id,
                         "area_name": row.area_name,
                         "planned_start": iso_local(row.planned_start, window.tz),
                         "notified_at": iso_local(row.sent_at or row.created_at, window.tz),
                         "lead_source": source, "lead_hours": round(lead / timedelta(hours=1), 2),
                         # A dispatcher's urgent override explains a short lead; show it.
                         "urgent": bool(row.urgent), "urgent_reason": row.urgent_reason})
    return PlannedNotice.model_validate({
        "min_notice": format_duration(minimum), "cuts": cuts, "on_time": cuts - len(late),
        "share_on_time": None if cuts == 0 else (cuts - len(late)) / cuts,
        "lead_source": sources, "late": late})


def fault_response(conn: Connection, window: Window) -> FaultResponse:
    """Per fault incident first reported in the window: minutes from the first report to the
    first acknowledgement notice sent, and to restoration."""
    reports = (select(_r.outage_id, func.min(_r.first_at).label("first_at"))
               .group_by(_r.outage_id).subquery())
    acks = outbox.first_sent(kind=NoticeKind.FAULT_ACK)
    query = (select(reports.c.first_at, acks.c.sent_at, _o.actual_end)
             .join(Outage.__table__, _o.id == reports.c.outage_id)
             .outerjoin(acks, acks.c.outage_id == reports.c.outage_id)
             .where(_o.kind == OutageKind.FAULT, *window.clause(reports.c.first_at)))
    rows = conn.execute(query).all()
    return FaultResponse(
        incidents=len(rows),
        to_acknowledgement=_spread([_minutes(r.first_at, r.sent_at) for r in rows]),
        to_restoration=_spread([_minutes(r.first_at, r.actual_end) for r in rows]))


def etr_accuracy(conn: Connection, window: Window) -> EtrAccuracy:
    """Restored fault incidents with an ETR: share restored within 30 minutes of the last ETR
    (the outage's current ETR is the last one given); and every ETR given, by how long before
    the restoration it was given."""
    query = select(_o.etr, _o.actual_end).where(
        _o.kind == OutageKind.FAULT, _o.etr.is_not(None), _o.actual_end.is_not(None),
        *window.clause(_o.actual_end))
    rows = conn.execute(query).all()
    within = sum(1 for r in rows if abs(r.actual_end - r.etr) <= ETR_TOLERANCE)
    return EtrAccuracy(incidents=len(rows), within_30_min=within,
                       share=None if not rows else within / len(rows),
                       by_lead=etr_by_lead(conn, window))


def etr_by_lead(conn: Connection, window: Window) -> list[EtrLead]:
    """Each ETR a dispatcher gave (the incident's history) on incidents restored in the
    window, in bands of how long before the restoration it was given."""
    query = (select(_v.at, _v.etr, _o.actual_end)
             .join_from(Revision.__table__, Outage.__table__, _o.id == _v.outage_id)
             .where(_o.kind == OutageKind.FAULT, _o.actual_end.is_not(None),
                    _v.action == "etr", _v.etr.is_not(None), *window.clause(_o.actual_end)))
    rows = conn.execute(query).all()
    lead = np.fromiter(((end - at) / timedelta(minutes=1) for at, _etr, end in rows),
                       np.float64, len(rows))
    error = np.fromiter(((end - etr) / timedelta(minutes=1) for _at, etr, end in rows),
                        np.float64, len(rows))
    close = np.abs(error) <= ETR_TOLERANCE / timedelta(minutes=1)
    bands = []
    for name, low, high in LEAD_BANDS:
        chosen = (lead >= low / timedelta(minutes=1)) & (lead < high / timedelta(minutes=1))
        count, hits = int(chosen.sum()), int(close[chosen].sum())
        bands.append(EtrLead(lead=name, etrs=count, within_30_min=hits,
                             share=None if not count else hits / count,
                             median_error_minutes=None if not count
                             else float(np.median(error[chosen]))))
    return bands


def delivery(conn: Connection, window: Window) -> list[ChannelDelivery]:
    """Outbox notices due in the window, by channel and status."""
    due_from, due_before = window.bounds()
    channels: dict[str, dict[str, int]] = {}
    for channel, status, count in outbox.counts(conn, due_from=due_from, due_before=due_before):
        channels.setdefault(channel, {})[status] = count
    return [_channel(name, statuses) for name, statuses in channels.items()]


def _channel(name: str, statuses: dict[str, int]) -> ChannelDelivery:
    attempted = sum(statuses.get(s, 0) for s in ATTEMPTED)
    delivered = statuses.get(OutboxStatus.DELIVERED, 0)
    accepted = delivered + statuses.get(OutboxStatus.SENT, 0)
    return ChannelDelivery(channel=name, total=sum(statuses.values()), statuses=statuses,
                           attempted=attempted,
                           delivered_rate=None if attempted == 0 else delivered / attempted,
                           accepted_rate=None if attempted == 0 else accepted / attempted)


def _minutes(start: datetime | None, end: datetime | None) -> float | None:
    return None if start is None or end is None else (end - start) / timedelta(minutes=1)


def _spread(values: list[float | None]) -> Spread:
    known = np.asarray([v for v in values if v is not None], dtype=np.float64)
    if len(known) == 0:
        return Spread(count=0, median_minutes=None, p90_minutes=None)
    return Spread(count=len(known), median_minutes=float(np.median(known)),
                  p90_minutes=float(np.percentile(known, 90)))
