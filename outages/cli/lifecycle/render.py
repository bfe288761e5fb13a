"""Printing outages for people: one outage, a listing, its history and its customers.

Works on the views the domain returns (the same ones `--json` prints), with times already in
local ISO form.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from rich.table import Table

from outages.cli.output import console, warn
from outages.timeutil import show_offset

if TYPE_CHECKING:
    from outages.lifecycle.results import (
        Change,
        OutageCustomer,
        OutageView,
        RestoreStep,
        Revision,
    )

LABEL = {"planned": "Cut", "fault": "Incident"}


def short(iso: str | None) -> str:
    """'2026-12-07T08:00:00+07:00' -> '2026-12-07 08:00 +07'."""
    if not iso:
        return "-"
    return show_offset(datetime.fromisoformat(iso))


def _counts(counts: dict[str, int], limit: int = 8) -> str:
    items = list(counts.items())
    text = ", ".join(f"{name} {count}" for name, count in items[:limit])
    return text + (f", ... ({len(items) - limit} more)" if len(items) > limit else "")


def outage(view: OutageView) -> None:
    kind = LABEL[view.kind]
    flag = "  [bold red]URGENT[/bold red]" if view.urgent else ""
    console.print(f"[bold]{kind} #{view.id}[/bold] {view.status} "
                  f"(revision {view.revision}){flag}")
    rows = [
        ("area", view.area_name or "-"),
        ("public ref", view.public_ref),
        ("reason", view.reason),
        ("reason (en)", view.reason_en),
        ("work", view.work),
        ("cause", view.cause if view.kind == "fault" else None),
        ("planned", f"{short(view.start)} -> {short(view.end)}" if view.start else None),
        ("actual", f"{short(view.actual_start)} -> {short(view.actual_end)}"
         if view.actual_start else None),
        ("ETR", _etr(view)),
        ("suggested ETR", _suggested(view)),
        ("urgent", view.urgent_reason),
        ("cancelled", view.cancel_reason),
        ("dismissed", view.dismiss_reason),
        ("merged into", _merged_into(view)),
        ("affected", _affected(view)),
        ("by district", _counts(view.by_district) if view.by_district else None),
        ("by feeder", _counts(view.by_feeder) if view.by_feeder else None),
        ("earliest legal start", short(view.earliest_legal_start)
         if view.earliest_legal_start else None),
        ("notice given", view.notice_lead),
        ("note", view.note),
        ("this change", _change(view.change)),
        ("this step", _step(view.step)),
    ]
    for label, value in rows:
        if value:
            console.print(f"  {label:<21} {value}", markup=False)
    if view.still_out_after_restoration:
        warn(f"{view.still_out_after_restoration} still out after restoration")
    for reply in view.reopened or []:
        state = "still out" if reply.still_out else "restored again"
        console.print(f"  reopened {reply.customer}: restored {short(reply.restored_at)}, "
                      f"replied {short(reply.replied_at)} by {reply.via} ({state})",
                      markup=False)
    for report in view.reporters_outside or []:
        who = report.customer or "a caller without an account"
        warn(f"report #{report.report_id} from {who} is outside the affected set")
    for line in view.repairs or []:
        warn(f"area repaired: {line}")
    for item in view.warnings or []:
        warn(item.message)


def _merged_into(view: OutageView) -> str | None:
    if view.merged_into is None:
        return None
    return (f"incident #{view.merged_into} (its reports are there: "
            f"`outages faults show {view.merged_into}`)")


def _etr(view: OutageView) -> str | None:
    if not view.etr:
        return None
    left = view.etr_minutes_left
    if view.etr_state == "overdue" and left is not None:
        return f"{short(view.etr)}  ETR overdue by {-left} min"
    if view.etr_state == "passes_soon":
        return f"{short(view.etr)}  ETR passes in {left} min"
    return short(view.etr)


def _suggested(view: OutageView) -> str | None:
    s = view.suggested_etr
    if s is None:
        return None
    return (f"{short(s.at)} (median {s.median_minutes} min of {s.based_on} past incidents, "
            f"{s.basis.replace('_', ' ')}; not set until you give it)")


def _affected(view: OutageView) -> str:
    if view.actual_start is None:
        return f"{view.affected} customers, none out yet"
    return f"{view.affected} customers, {view.restored} restored, {view.remaining} still out"


def _change(change: Change | None) -> str | None:
    return f"{change.added} added, {change.dropped} dropped" if change else None


def _step(step: RestoreStep | None) -> str | None:
    if not step:
        return None
    return f"{step.restored} restored ({step.scope}), {step.remaining} still out"


def listing(views: Sequence[OutageView], *, kind: str) -> None:
    table = Table(title=f"{LABEL[kind]}s ({len(views)})")
    for column in ("id", "status", "start", "end", "affected", "restored", "urgent",
                   "area / reason"):
        table.add_column(column, justify="right" if column in ("id", "affected", "restored")
                         else "left")
    for v in views:
        # Imported history has only actual times; a cut is otherwise shown by its plan.
        start = (kind == "planned" and v.start) or v.actual_start
        end = (kind == "planned" and v.end) or v.actual_end or v.etr
        status = v.status + (", ETR overdue" if v.etr_state == "overdue" else "")
        table.add_row(str(v.id), status, short(start), short(end), str(v.affected),
                      str(v.restored), "URGENT" if v.urgent else "", _what(v))
    console.print(table)


def _what(view: OutageView) -> str:
    text = " / ".join(x for x in (view.area_name, view.reason) if x)
    if view.external_id:
        cause = f", {view.cause}" if view.cause else ""
        text = text or f"imported {view.external_id}{cause}"
    return text


def history(items: Sequence[Revision]) -> None:
    table = Table(title="History")
    for column in ("rev", "action", "by", "at", "window / ETR", "details"):
        table.add_column(column)
    for item in items:
        window = f"{short(item.start)} -> {short(item.end)}" if item.start else ""
        if item.etr:
            window = (window + " ETR " + short(item.etr)).strip()
        details = ", ".join(f"{k} {v}" for k, v in (item.details or {}).items())
        if item.note:
            details = f"{details}; {item.note}" if details else item.note
        table.add_row(str(item.revision), item.action, item.actor or "-",
                      short(item.at), window, details)
    console.print(table)


def customers(items: Sequence[OutageCustomer]) -> None:
    table = Table(title=f"Customers ({len(items)})")
    for column in ("code", "district", "feeder", "added", "dropped", "off", "on"):
        table.add_column(column)
    for item in items:
        table.add_row(item.code, item.district or "-", item.feeder or "-",
                      str(item.added_revision), str(item.dropped_revision or ""),
                      short(item.start), short(item.end))
    console.print(table)
