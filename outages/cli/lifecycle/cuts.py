"""`outages cuts ...`: planned cuts for dispatchers."""

from __future__ import annotations

from pathlib import Path

import typer

from outages.cli.context import ID_MAX, cli_actor, cli_context
from outages.cli.lifecycle import args
from outages.cli.lifecycle import calls as call_list
from outages.enums import CutStatus, OutageKind, Source

app = typer.Typer(help="Planned power cuts: schedule, change, cancel, start and restore.",
                  no_args_is_help=True)

JSON = typer.Option(False, "--json", help="Print JSON instead of text.")
BY = typer.Option(None, "--by", help="Who is acting (default $OUTAGES_ACTOR or the OS user).")
AT = typer.Option(None, "--at", help="When it happened (ISO 8601; local time without offset).")
NOTE = typer.Option(None, "--note", help="A note kept in the history.")


@app.command("create")
def create(
    ctx: typer.Context,
    area: str = typer.Option(..., "--area", help="GeoJSON file (or inline GeoJSON)."),
    start: str = typer.Option(..., "--start", help="e.g. '2026-12-07 08:00' (local)."),
    end: str = typer.Option(..., "--end", help="e.g. '2026-12-07 16:30' (local)."),
    reason: str = typer.Option(..., "--reason", help="Why, as customers will read it."),
    reason_en: str | None = typer.Option(None, "--reason-en", help="The reason in English "
                                         "(default: the wording of the cause 'planned')."),
    work: str | None = typer.Option(None, "--work", help="The work done during the cut."),
    feeder: list[str] = typer.Option([], "--feeder", help="Only customers on this feeder."),
    urgent: bool = typer.Option(False, "--urgent", help="Emergency: skip the notice rule."),
    urgent_reason: str | None = typer.Option(None, "--urgent-reason", help="Why it is urgent."),
    allow_empty: bool = typer.Option(False, "--allow-empty", help="Accept an area without "
                                     "customers."),
    by: str | None = BY,
    as_json: bool = JSON,
) -> None:
    """Schedule a planned cut over an area."""
    from outages.lifecycle import core as lifecycle
    from outages.lifecycle import cuts

    context = cli_context(ctx)
    settings = context.settings
    view = cuts.create(
        context.engine, settings, area=lifecycle.read_area(area, settings),
        start=lifecycle.parse_time(start, settings, field="--start"),
        end=lifecycle.parse_time(end, settings, field="--end"), reason=reason,
        reason_en=reason_en, work=work, feeders=feeder or None, urgent=urgent,
        urgent_reason=urgent_reason, allow_empty=allow_empty, actor=cli_actor(by),
        source=Source.CLI)
    args.emit(view, as_json)


@app.command("list")
def list_cuts(
    ctx: typer.Context,
    status: str | None = typer.Option(None, "--status",
                                      help=", ".join(CutStatus) + "."),
    first: str | None = typer.Option(None, "--from", help="First local day (YYYY-MM-DD)."),
    last: str | None = typer.Option(None, "--to", help="Last local day, inclusive."),
    as_json: bool = JSON,
) -> None:
    """Cuts whose planned start falls in the given local days."""
    context = cli_context(ctx)
    args.list_outages(context.engine, context.settings, kind="planned", status=status,
                      first=first, last=last, as_json=as_json)


@app.command("show")
def show(
    ctx: typer.Context,
    cut_id: int = typer.Argument(..., metavar="ID", min=1, max=ID_MAX),
    customers: bool = typer.Option(False, "--customers", help="List the affected customers."),
    history: bool = typer.Option(False, "--history", help="List every revision."),
    as_json: bool = JSON,
) -> None:
    """One cut, optionally with its customers and its history."""
    context = cli_context(ctx)
    view, past, people = args.load_view(context.engine, context.settings, cut_id,
                                        kind="planned", history=history, customers=customers)
    args.show(view, as_json=as_json, history=past, customers=people)


@app.command("reschedule")
def reschedule(
    ctx: typer.Context,
    cut_id: int = typer.Argument(..., metavar="ID", min=1, max=ID_MAX),
    start: str = typer.Option(..., "--start"),
    end: str = typer.Option(..., "--end"),
    urgent: bool = typer.Option(False, "--urgent", help="Allow an earlier start without the "
                                "full notice period."),
    urgent_reason: str | None = typer.Option(None, "--urgent-reason"),
    note: str | None = NOTE,
    by: str | None = BY,
    as_json: bool = JSON,
) -> None:
    """Move a scheduled cut to a new window."""
    from outages.lifecycle import core as lifecycle
    from outages.lifecycle import cuts

    context = cli_context(ctx)
    settings = context.settings
    view = cuts.reschedule(
        context.engine, settings, cut_id=cut_id,
        start=lifecycle.parse_time(start, settings, field="--start"),
        end=lifecycle.parse_time(end, settings, field="--end"), note=note, urgent=urgent,
        urgent_reason=urgent_reason, actor=cli_actor(by), source=Source.CLI)
    args.emit(view, as_json)


@app.command("resize")
def resize(
    ctx: typer.Context,
    cut_id: int = typer.Argument(..., metavar="ID", min=1, max=ID_MAX),
    area: str = typer.Option(..., "--area", help="The new area (GeoJSON)."),
    allow_empty: bool = typer.Option(False, "--allow-empty"),
    urgent: bool = typer.Option(False, "--urgent", help="Allow adding customers without the "
                                "full notice period."),
    urgent_reason: str | None = typer.Option(None, "--urgent-reason"),
    note: str | None = NOTE,
    by: str | None = BY,
    as_json: bool = JSON,
) -> None:
    """Change the area of a scheduled cut; customers added and dropped are recorded."""
    from outages.lifecycle import core as lifecycle
    from outages.lifecycle import cuts

    context = cli_context(ctx)
    settings = context.settings
    view = cuts.resize(context.engine, settings, cut_id=cut_id,
                       area=lifecycle.read_area(area, settings), allow_empty=allow_empty,
                       note=note, urgent=urgent, urgent_reason=urgent_reason,
                       actor=cli_actor(by), source=Source.CLI)
    args.emit(view, as_json)


@app.command("cancel")
def cancel(
    ctx: typer.Context,
    cut_id: int = typer.Argument(..., metavar="ID", min=1, max=ID_MAX),
    reason: str = typer.Option(..., "--reason", help="Why (customers are told)."),
    by: str | None = BY,
    as_json: bool = JSON,
) -> None:
    """Cancel a scheduled cut."""
    from outages.lifecycle import cuts

    context = cli_context(ctx)
    view = cuts.cancel(context.engine, context.settings, cut_id=cut_id, reason=reason,
                       actor=cli_actor(by), source=Source.CLI)
    args.emit(view, as_json)


@app.command("extend")
def extend(
    ctx: typer.Context,
    cut_id: int = typer.Argument(..., metavar="ID", min=1, max=ID_MAX),
    end: str = typer.Option(..., "--end", help="When power is now expected back (local)."),
    note: str | None = NOTE,
    by: str | None = BY,
    as_json: bool = JSON,
) -> None:
    """Give a started cut a new expected end; customers still out are told."""
    from outages.lifecycle import core as lifecycle
    from outages.lifecycle import cuts

    context = cli_context(ctx)
    settings = context.settings
    view = cuts.extend(context.engine, settings, cut_id=cut_id,
                       end=lifecycle.parse_time(end, settings, field="--end"), note=note,
                       actor=cli_actor(by), source=Source.CLI)
    args.emit(view, as_json)


@app.command("start")
def start(
    ctx: typer.Context,
    cut_id: int = typer.Argument(..., metavar="ID", min=1, max=ID_MAX),
    at: str | None = AT,
    by: str | None = BY,
    as_json: bool = JSON,
) -> None:
    """Record that the power was cut (default now)."""
    from outages.lifecycle import cuts

    context = cli_context(ctx)
    view = cuts.start(context.engine, context.settings, cut_id=cut_id,
                      at=args.at(context.settings, at), actor=cli_actor(by), source=Source.CLI)
    args.emit(view, as_json)


@app.command("restore")
def restore(
    ctx: typer.Context,
    cut_id: int = typer.Argument(..., metavar="ID", min=1, max=ID_MAX),
    at: str | None = AT,
    area: str | None = typer.Option(None, "--area", help="Only customers inside this part."),
    customers: Path | None = typer.Option(None, "--customers", help="File of customer codes "
                                          "(one per line, or CSV with a code column)."),
    by: str | None = BY,
    as_json: bool = JSON,
) -> None:
    """Record power back for everyone left, or for a part (step restoration)."""
    from outages.lifecycle import cuts

    context = cli_context(ctx)
    settings = context.settings
    part, codes = args.restore_scope(settings, area, customers)
    view = cuts.restore(context.engine, settings, cut_id=cut_id, at=args.at(settings, at),
                        area=part, codes=codes, actor=cli_actor(by), source=Source.CLI)
    args.emit(view, as_json)


call_list.add_commands(app, kind=OutageKind.PLANNED, noun="cut")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="cuts")
