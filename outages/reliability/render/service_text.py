"""The service KPIs for people: short sections, "no data" where there is nothing to measure."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.markup import escape
from rich.table import Table as RichTable

from outages.reliability.results import (
    ChannelDelivery,
    EtrAccuracy,
    FaultResponse,
    PlannedNotice,
    ServiceReport,
)

NO_DATA = "no data"


def _share(value: float | None) -> str:
    return NO_DATA if value is None else f"{value:.1%}"


def _minutes(value: float | None) -> str:
    return NO_DATA if value is None else f"{value:,.1f} min"


def renderables(kpis: ServiceReport) -> list[Any]:
    period = f"{kpis.first or 'start of records'} to {kpis.last or 'now'} ({kpis.timezone})"
    return [f"[bold]Service KPIs[/bold], {period}", *_notice(kpis.planned_notice), "",
            *_faults(kpis.fault_response, kpis.etr_accuracy), "",
            *_delivery(kpis.delivery)]


def _notice(notice: PlannedNotice) -> list[Any]:
    if notice.cuts == 0:
        return [f"Planned cuts notified at least {notice.min_notice} ahead: {NO_DATA}"]
    sources = notice.lead_source
    lines: list[Any] = [
        f"Planned cuts notified at least {notice.min_notice} ahead: {notice.on_time} of "
        f"{notice.cuts} ({_share(notice.share_on_time)}); lead measured from the first "
        f"notice sent for {sources['outbox']}, from the cut's creation for "
        f"{sources['created_at']} (no notice sent)."]
    if notice.late:
        late = RichTable(title="Cuts notified late", title_justify="left", box=box.SIMPLE_HEAD)
        for column in ("id", "external id", "area", "start", "notified", "lead h", "from",
                       "urgent override"):
            late.add_column(column)
        for cut in notice.late:
            late.add_row(str(cut.outage_id), escape(cut.external_id or "-"),
                         escape(cut.area_name or "-"), cut.planned_start, cut.notified_at,
                         f"{cut.lead_hours:.1f}", cut.lead_source,
                         escape(cut.urgent_reason or "yes") if cut.urgent else "-")
        lines.append(late)
    return lines


def _faults(response: FaultResponse, etr: EtrAccuracy) -> list[str]:
    ack, restore = response.to_acknowledgement, response.to_restoration
    etr_line = (f"ETR accuracy (restored within 30 min of the last ETR): {_share(etr.share)}"
                + (f" ({etr.within_30_min} of {etr.incidents})" if etr.incidents else ""))
    etr_lines = [etr_line, *_by_lead(etr)]
    if not response.incidents:
        return [f"Fault incidents with a customer report: {NO_DATA}", *etr_lines]
    return [
        f"Fault incidents with a customer report: {response.incidents}",
        f"  first report to acknowledgement notice: median {_minutes(ack.median_minutes)}, "
        f"p90 {_minutes(ack.p90_minutes)} ({ack.count} acknowledged)",
        f"  first report to restoration: median {_minutes(restore.median_minutes)}, "
        f"p90 {_minutes(restore.p90_minutes)} ({restore.count} restored)",
        *etr_lines,
    ]


def _by_lead(etr: EtrAccuracy) -> list[str]:
    """One line per band of how early each ETR was given; none when no ETR was given."""
    if not any(band.etrs for band in etr.by_lead):
        return []
    lines = ["  every ETR given, by how long before the restoration:"]
    for band in etr.by_lead:
        detail = (f"{_share(band.share)} within 30 min ({band.within_30_min} of {band.etrs}), "
                  f"median error {band.median_error_minutes:+,.1f} min"
                  if band.median_error_minutes is not None else NO_DATA)
        lines.append(f"    {band.lead}: {detail}")
    return lines


def _delivery(channels: list[ChannelDelivery]) -> list[Any]:
    if not channels:
        return [f"Notice delivery: {NO_DATA}"]
    table = RichTable(title="Notice delivery by channel", title_justify="left",
                      box=box.SIMPLE_HEAD)
    for column in ("channel", "notices", "attempted", "delivered", "delivered or sent",
                   "statuses"):
        table.add_column(column, justify="left" if column in ("channel", "statuses") else "right")
    for item in channels:
        statuses = ", ".join(f"{k} {v}" for k, v in item.statuses.items())
        table.add_row(item.channel, f"{item.total:,}", f"{item.attempted:,}",
                      _share(item.delivered_rate), _share(item.accepted_rate), statuses)
    return [table]
