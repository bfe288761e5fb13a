"""`outages faults ...`: fault reports and incidents for the call centre and dispatchers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from outages.cli.context import ID_MAX, CliContext, cli_actor, cli_context
from outages.cli.lifecycle import args
from outages.cli.lifecycle import calls as call_list
from outages.cli.lifecycle import render as outage_render
from outages.cli.output import console, print_json
from outages.enums import IncidentStatus, OutageKind, Source
from outages.errors import ValidationError

if TYPE_CHECKING:
    from geo import Area
    from outages.lifecycle.results import Report

app = typer.Typer(help="Fault reports and incidents: report, confirm, ETR, restore, dismiss, "
                  "merge.", no_args_is_help=True)

JSON = typer.Option(False, "--json", help="Print JSON instead of text.")
BY = typer.Option(None, "--by", help="Who is acting (default $OUTAGES_ACTOR or the OS user).")


def _point(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    try:
        lon, lat = (float(part) for part in text.split(","))
    except ValueError:
        raise ValidationError(f"cannot read {text!r}: write LON,LAT such as 105.85,21.03",
                              field="--at") from None
    return lon, lat


@app.command("report")
def report(
    ctx: typer.Context,
    customer: str | None = typer.Option(None, "--customer", help="Customer code."),
    phone: str | None = typer.Option(None, "--phone", help="Caller's phone number."),
    at: str | None = typer.Option(None, "--at", help="Where, as LON,LAT."),
    text: str | None = typer.Option(None, "--text", help="What the customer said."),
    source: str = typer.Option("call", "--source", help="call, sms or web."),
    by: str | None = BY,
    as_json: bool = JSON,
) -> None:
    """Record a customer's fault report; it joins the planned cut or incident the customer
    is out in, else a nearby open incident, else opens one."""
    from outages.lifecycle import fault_reports

    context = cli_context(ctx)
    result = fault_reports.report(
        context.engine, context.settings, customer=customer, phone=phone, point=_point(at),
        text=text, channel=source, actor=cli_actor(by), source=Source.CLI)
    if as_json:
        print_json(result)
        return
    joined = ("opened new incident" if result.new_incident
              else "joined the planned cut the customer is out in" if result.kind == "planned"
              else f"joined incident ({result.distance_m} m away)")
    who = result.customer or result.phone or f"{result.lon},{result.lat}"
    console.print(f"Report #{result.report_id} from {who}: {joined} "
                  f"#{result.outage_id} ({result.status}); "
                  f"{result.reports} report(s) from this caller", markup=False)


@app.command("confirm")
def confirm(
    ctx: typer.Context,
    fault_id: int = typer.Argument(..., metavar="ID", min=1, max=ID_MAX),
    area: str | None = typer.Option(None, "--area", help="GeoJSON of the area without power."),
    feeder: list[str] = typer.Option([], "--feeder", help="A feeder that is down."),
    auto: bool = typer.Option(False, "--auto", help="Propose an area around the reports."),
    yes: bool = typer.Option(False, "--yes", help="Save the --auto proposal without asking."),
    started_at: str | None = typer.Option(None, "--started-at",
                                          help="When power went (default: first report)."),
    cause: str | None = typer.Option(None, "--cause", help="A cause code from settings; "
                                     "customers read its wording unless --reason is given."),
    reason: str | None = typer.Option(None, "--reason", help="The reason customers read, "
                                      "in the default language."),
    reason_en: str | None = typer.Option(None, "--reason-en",
                                         help="The reason customers read in English."),
    by: str | None = BY,
    as_json: bool = JSON,
) -> None:
    """Confirm an incident and fix who is affected."""
    from outages.lifecycle import core as lifecycle
    from outages.lifecycle import faults

    context = cli_context(ctx)
    settings = context.settings
    chosen = lifecycle.read_area(area, settings) if area else None
    if auto and as_json and not yes:
        raise ValidationError("--auto with --json cannot ask for confirmation: add --yes",
                              field="--yes")
    if auto and chosen is not None:
        raise ValidationError("give either --area or --auto, not both", field="--auto")
    started = args.at(settings, started_at, "--started-at")
    if auto:
        chosen = _accept_proposal(context, fault_id, started, yes=yes, quiet=as_json)
    view = faults.confirm(
        context.engine, settings, fault_id=fault_id, area=chosen, feeders=feeder or None,
        auto=auto, started_at=started, cause=cause,
        reason=reason, reason_en=reason_en, actor=cli_actor(by), source=Source.CLI)
    args.emit(view, as_json)


def _accept_proposal(context: CliContext, fault_id: int, started_at: datetime | None, *,
                     yes: bool, quiet: bool) -> Area:
    from outages.lifecycle import faults

    with context.engine.connect() as conn:
        proposed, count = faults.proposed(conn, context.settings, fault_id, started_at)
    if not quiet:
        console.print(f"Proposed area ({proposed.area_km2():.3f} km², {count} customers):",
                      markup=False)
        console.print(proposed.to_geojson(), markup=False, soft_wrap=True)
    if not yes and not typer.confirm("Save this area?", default=False):
        raise typer.Exit(1)
    return proposed


@app.command("resize")
def resize(
    ctx: typer.Context,
    fault_id: int = typer.Argument(..., metavar="ID", min=1, max=ID_MAX),
    area: str = typer.Option(..., "--area", help="The new area without power (GeoJSON)."),
    note: str | None = typer.Option(None, "--note", help="A note kept in the history."),
    by: str | None = BY,
    as_json: bool = JSON,
) -> None:
    """Redraw a confirmed incident's area; customers added and dropped are told."""
    from outages.lifecycle import core as lifecycle
    from outages.lifecycle import faults

    context = cli_context(ctx)
    settings = context.settings
    view = faults.resize(context.engine, settings, fault_id=fault_id,
                         area=lifecycle.read_area(area, settings), note=note,
                         actor=cli_actor(by), source=Source.CLI)
    args.emit(view, as_json)


@app.command("etr")
def etr(
    ctx: typer.Context,
    fault_id: int = typer.Argument(..., metavar="ID", min=1, max=ID_MAX),
    at: str = typer.Option(..., "--at", help="Expected restoration (local time)."),
    note: str | None = typer.Option(None, "--note"),
    by: str | None = BY,
    as_json: bool = JSON,
) -> None:
    """Set or move the estimated restoration time."""
    from outages.lifecycle import core as lifecycle
    from outages.lifecycle import faults

    context = cli_context(ctx)
    settings = context.settings
    view = faults.set_etr(context.engine, settings, fault_id=fault_id,
                          at=lifecycle.parse_time(at, settings, field="--at"), note=note,
                          actor=cli_actor(by), source=Source.CLI)
    args.emit(view, as_json)


@app.command("restore")
def restore(
    ctx: typer.Context,
    fault_id: int = typer.Argument(..., metavar="ID", min=1, max=ID_MAX),
    at: str | None = typer.Option(None, "--at", help="When (default now)."),
    area: str | None = typer.Option(None, "--area", help="Only customers inside this part."),
    customers: Path | None = typer.Option(None, "--customers", help="File of customer codes."),
    by: str | None = BY,
    as_json: bool = JSON,
) -> None:
    """Record power back for everyone left, or for a part."""
    from outages.lifecycle import faults

    context = cli_context(ctx)
    settings = context.settings
    part, codes = args.restore_scope(settings, area, customers)
    view = faults.restore(context.engine, settings, fault_id=fault_id,
                          at=args.at(settings, at), area=part, codes=codes,
                          actor=cli_actor(by), source=Source.CLI)
    args.emit(view, as_json)


@app.command("dismiss")
def dismiss(
    ctx: typer.Context,
    fault_id: int = typer.Argument(..., metavar="ID", min=1, max=ID_MAX),
    reason: str = typer.Option(..., "--reason", help="What the crew found (kept with the "
                               "incident): the customer's own installation, a prank... (a "
                               "duplicate of another incident is merged into it instead)"),
    by: str | None = BY,
    as_json: bool = JSON,
) -> None:
    """Close a reported incident the crew found no fault on the network for; its reporters
    are told so. A confirmed incident is restored instead."""
    from outages.lifecycle import faults

    context = cli_context(ctx)
    view = faults.dismiss(context.engine, context.settings, fault_id=fault_id, reason=reason,
                          actor=cli_actor(by), source=Source.CLI)
    args.emit(view, as_json)


@app.command("merge")
def merge(
    ctx: typer.Context,
    fault_id: int = typer.Argument(..., metavar="DUPLICATE", min=1, max=ID_MAX,
                                   help="The reported incident to close."),
    into: int = typer.Option(..., "--into", min=1, max=ID_MAX,
                             help="The open incident that stands for the same fault."),
    by: str | None = BY,
    as_json: bool = JSON,
) -> None:
    """Merge a reported incident into another one about the same fault: its reports join
    that incident (their reporters hear what joining it tells them) and it closes as
    merged. A confirmed incident cannot be the duplicate."""
    from outages.lifecycle import fault_merge

    context = cli_context(ctx)
    view = fault_merge.merge(context.engine, context.settings, fault_id=fault_id, into=into,
                             actor=cli_actor(by), source=Source.CLI)
    args.emit(view, as_json)


@app.command("still-out")
def still_out(
    ctx: typer.Context,
    customer: str = typer.Argument(..., metavar="CODE", help="Customer code."),
    at: str | None = typer.Option(None, "--at", help="When the customer said so (default "
                                  "now)."),
    by: str | None = BY,
    as_json: bool = JSON,
) -> None:
    """A customer told "restored" still has no power: reopened in that outage within
    faults.still_out_window (the desk is alerted), otherwise a new fault report."""
    from outages.enums import ReplyVia
    from outages.lifecycle import reopen

    context = cli_context(ctx)
    result = reopen.report(context.engine, context.settings, customer=customer,
                           via=ReplyVia.CLI, at=args.at(context.settings, at),
                           actor=cli_actor(by), source=Source.CLI)
    if as_json:
        print_json(result)
    elif result.reopened:
        again = " (already reopened)" if result.already else ""
        console.print(f"{result.customer} reopened in outage #{result.outage_id}{again}: "
                      f"restored {outage_render.short(result.restored_at)}; "
                      f"alert #{result.alert_id}", markup=False)
    else:
        console.print(f"{result.customer} was not restored within faults.still_out_window: "
                      f"report #{result.report_id} on incident #{result.outage_id}",
                      markup=False)


@app.command("list")
def list_faults(
    ctx: typer.Context,
    status: str | None = typer.Option(None, "--status", help=", ".join(IncidentStatus) + "."),
    first: str | None = typer.Option(None, "--from", help="First local day (YYYY-MM-DD)."),
    last: str | None = typer.Option(None, "--to", help="Last local day, inclusive."),
    overdue: bool = typer.Option(False, "--overdue",
                                 help="Only open incidents whose ETR has passed."),
    as_json: bool = JSON,
) -> None:
    """Incidents that began in the given local days."""
    context = cli_context(ctx)
    args.list_outages(context.engine, context.settings, kind="fault", status=status,
                      first=first, last=last, as_json=as_json, overdue=overdue)


@app.command("show")
def show(
    ctx: typer.Context,
    fault_id: int = typer.Argument(..., metavar="ID", min=1, max=ID_MAX),
    customers: bool = typer.Option(False, "--customers", help="List the affected customers."),
    history: bool = typer.Option(False, "--history", help="List every revision."),
    as_json: bool = JSON,
) -> None:
    """One incident with its reports, optionally its customers and history."""
    context = cli_context(ctx)
    view, past, people = args.load_view(context.engine, context.settings, fault_id,
                                        kind="fault", history=history, customers=customers)
    args.show(view, as_json=as_json, history=past, customers=people)
    if not as_json:
        _reports_table(view.reports or [])


def _reports_table(items: Sequence[Report]) -> None:
    table = Table(title=f"Reports ({len(items)})")
    for column in ("id", "customer", "phone", "source", "count", "first", "last", "text"):
        table.add_column(column)
    for r in items:
        table.add_row(str(r.id), str(r.customer or "-"), str(r.phone or "-"),
                      str(r.source), str(r.reports),
                      outage_render.short(r.first_at), outage_render.short(r.last_at),
                      str(r.text or ""))
    console.print(table)


call_list.add_commands(app, kind=OutageKind.FAULT, noun="fault incident")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="faults")
