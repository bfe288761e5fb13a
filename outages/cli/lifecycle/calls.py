"""`outages cuts|faults calls ID` and `... call ID CODE`: the priority customers an outage
affects, to be called, and each call's outcome."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from outages.cli.context import ID_MAX, cli_actor, cli_context
from outages.cli.output import console, print_json
from outages.enums import CallOutcome, Source

if TYPE_CHECKING:  # `outages --help` must not load pydantic
    from outages.lifecycle.results import CallList, PriorityCallEntry

CSV_COLUMNS = ("code", "priority", "name", "phone", "address", "outcome", "note", "called_by",
               "called_at", "calls")
OUTCOME_HELP = ", ".join(CallOutcome) + "."


def add_commands(app: typer.Typer, *, kind: str, noun: str) -> None:
    """`calls ID` and `call ID CODE` for the group `app` (cuts or faults) of outage `kind`."""
    json_option = typer.Option(False, "--json", help="Print JSON instead of text.")

    @app.command("calls", help=f"The priority customers the {noun} affects, to call, with "
                               "each last outcome.")
    def calls_(
        ctx: typer.Context,
        outage_id: int = typer.Argument(..., metavar="ID", min=1, max=ID_MAX),
        as_json: bool = json_option,
        as_csv: bool = typer.Option(False, "--csv", help="Print CSV instead of text."),
    ) -> None:
        show(ctx, outage_id, kind=kind, as_json=as_json, as_csv=as_csv)

    @app.command("call", help=f"Record a call to a priority customer about the {noun} "
                              "(audited).")
    def call(
        ctx: typer.Context,
        outage_id: int = typer.Argument(..., metavar="ID", min=1, max=ID_MAX),
        code: str = typer.Argument(..., metavar="CODE", help="The customer called."),
        outcome: str = typer.Option(..., "--outcome", help=OUTCOME_HELP),
        note: str | None = typer.Option(None, "--note", help="What was said or agreed."),
        by: str | None = typer.Option(
            None, "--by", help="Who is acting (default $OUTAGES_ACTOR or the OS user)."),
        as_json: bool = json_option,
    ) -> None:
        record(ctx, outage_id, code, kind=kind, outcome=outcome, note=note, by=by,
               as_json=as_json)


def show(ctx: typer.Context, outage_id: int, *, kind: str, as_json: bool,
         as_csv: bool) -> None:
    from outages.lifecycle import calls

    if as_json and as_csv:
        raise typer.BadParameter("give --json or --csv, not both", param_hint="--csv")
    context = cli_context(ctx)
    with context.engine.connect() as conn:
        result = calls.call_list(conn, context.settings, outage_id, kind=kind)
    if as_json:
        print_json(result)
    elif as_csv:
        _csv(result)
    else:
        _table(result)


def record(ctx: typer.Context, outage_id: int, code: str, *, kind: str, outcome: str,
           note: str | None, by: str | None, as_json: bool) -> None:
    from outages.lifecycle import calls

    context = cli_context(ctx)
    entry = calls.record_call(context.engine, context.settings, outage_id=outage_id,
                              kind=kind, code=code, outcome=outcome, note=note,
                              actor=cli_actor(by), source=Source.CLI)
    if as_json:
        print_json(entry)
    else:
        console.print(f"{entry.code}: {entry.outcome} ({entry.calls} call(s) so far)")


def _csv(result: CallList) -> None:
    from outages.text import CsvWriter

    writer = CsvWriter(sys.stdout)
    writer.writerow(CSV_COLUMNS)
    writer.writerows([getattr(entry, column) for column in CSV_COLUMNS]
                     for entry in result.calls)


def _table(result: CallList) -> None:
    table = Table("code", "priority", "name", "phone", "address", "last outcome", "calls")
    for entry in result.calls:
        table.add_row(*(_cell(entry, c) for c in ("code", "priority", "name", "phone",
                                                  "address", "outcome")), str(entry.calls))
    console.print(table)
    console.print(f"{result.count} priority customer(s) to call")


def _cell(entry: PriorityCallEntry, column: str) -> str:
    value = getattr(entry, column)
    return "" if value is None else str(value)
