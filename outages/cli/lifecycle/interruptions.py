"""`outages interruptions import|export` and `outages outages durations`: the interruption
log for reliability engineers."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from itertools import chain, islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape
from rich.table import Table

from outages.cli.context import cli_actor, cli_context
from outages.cli.lifecycle import args
from outages.cli.lifecycle.render import short
from outages.cli.output import console, print_json, warn
from outages.enums import Source
from outages.errors import ValidationError
from outages.jsonable import json_default
from outages.text import CsvWriter

if TYPE_CHECKING:
    from outages.lifecycle.results import OutageDuration

app = typer.Typer(help="The per-customer interruption log: import and export.",
                  no_args_is_help=True)
outages_app = typer.Typer(help="Reports over whole outages.", no_args_is_help=True)

FROM = typer.Option(None, "--from", help="First local day (YYYY-MM-DD), inclusive.")
TO = typer.Option(None, "--to", help="Last local day (YYYY-MM-DD), inclusive.")


@app.command("import")
def import_(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="CSV: outage_id,customer_code,start,end,cause,planned"),
    rejects: Path | None = typer.Option(None, "--rejects", help="Where bad rows go (default "
                                        "beside the input: NAME.rejects.csv)."),
    by: str | None = typer.Option(None, "--by"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Load interruption history; bad rows are written to the rejects file with a reason."""
    from outages.lifecycle import history_import as interruption_import

    context = cli_context(ctx)
    result = interruption_import.import_csv(context.engine, context.settings, path=path,
                                            rejects_path=rejects, actor=cli_actor(by),
                                            source=Source.CLI)
    # As the customer import: rejected rows are reported and kept, not a failed run (exit 0).
    if as_json:
        print_json(result)
        return
    console.print(f"imported {result.imported} interruptions, created "
                  f"{result.outages_created} outages, rejected {result.rejected}",
                  markup=False)
    if result.rejects_file:
        warn(f"{result.rejected} row(s) rejected; reasons are in {result.rejects_file}")


def _check_format(value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValidationError(f"unknown format {value!r}: use {' or '.join(allowed)}",
                              field="--format")
    return value


@app.command("export")
def export(
    ctx: typer.Context,
    first: str | None = FROM,
    last: str | None = TO,
    fmt: str = typer.Option("csv", "--format", help="csv or json."),
    output: Path | None = typer.Option(None, "--output", "-o", help="File (default stdout)."),
) -> None:
    """Interruptions that began in the given local days, in the import's columns plus
    duration_minutes and momentary."""
    from outages.lifecycle import durations

    context = cli_context(ctx)
    _check_format(fmt, ("csv", "json"))
    with context.engine.connect() as conn:
        rows = durations.export_rows(conn, context.settings, first=args.day(first, "--from"),
                                     last=args.day(last, "--to"))
        # The first row before anything is written: the days are checked as it is read.
        head = list(islice(rows, 1))
        with _target(output) as handle:
            (_write_csv if fmt == "csv" else _write_json)(chain(head, rows), handle)


class _target:
    """Standard output, or a file written beside the target and renamed when complete: an
    export that fails leaves the previous file as it was."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.temp = path.with_name(f".{path.name}.{os.getpid()}.tmp") if path else None

    def __enter__(self) -> Any:
        if self.temp is None:
            self.handle = sys.stdout
            return self.handle
        try:
            self.handle = self.temp.open("w", encoding="utf-8", newline="")
        except OSError as exc:
            raise ValidationError(f"cannot write {self.path}: {exc.strerror}",
                                  field="--output") from None
        return self.handle

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        if self.temp is None or self.path is None:
            return
        self.handle.close()
        if kind is not None:
            self.temp.unlink(missing_ok=True)
            return
        try:
            os.replace(self.temp, self.path)
        except OSError as error:
            self.temp.unlink(missing_ok=True)
            raise ValidationError(f"cannot write {self.path}: {error.strerror}",
                                  field="--output") from None


def _write_csv(rows: Iterable[Mapping[str, Any]], handle: Any,
               columns: tuple[str, ...] | None = None) -> None:
    from outages.lifecycle import durations

    columns = columns or durations.EXPORT_COLUMNS
    writer = CsvWriter(handle, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row[c] is None else str(row[c]).lower()
                         if isinstance(row[c], bool) else row[c] for c in columns])


def _write_json(rows: Iterable[dict[str, Any]], handle: Any) -> None:
    """One JSON array, written row by row so millions of rows stay out of memory."""
    handle.write("[")
    for n, row in enumerate(rows):
        handle.write(("," if n else "") + "\n  " + json.dumps(row, ensure_ascii=False,
                                                              default=json_default))
    handle.write("\n]\n")



@outages_app.command("durations")
def durations_command(
    ctx: typer.Context,
    first: str | None = FROM,
    last: str | None = TO,
    fmt: str = typer.Option("table", "--format", help="table, csv or json."),
) -> None:
    """One row per outage: planned and actual times, customers, customer-minutes and, for
    cuts, the notice given."""
    from outages.lifecycle import durations

    context = cli_context(ctx)
    _check_format(fmt, ("table", "csv", "json"))
    with context.engine.connect() as conn:
        rows = durations.outage_durations(conn, context.settings,
                                          first=args.day(first, "--from"),
                                          last=args.day(last, "--to"))
    if fmt == "json":
        print_json(rows)
    elif fmt == "csv":
        _write_csv((r.as_json() for r in rows), sys.stdout, durations.DURATION_COLUMNS)
    else:
        _table(rows)


def _table(rows: Sequence[OutageDuration]) -> None:
    table = Table(title=f"Outage durations ({len(rows)})")
    for column in ("id", "area / source id", "type", "cause", "planned", "actual",
                   "customers", "cust-min", "notice h"):
        table.add_column(column, justify="right" if column in ("id", "customers", "cust-min",
                                                               "notice h") else "left")
    for r in rows:
        flag = " URGENT" if r.urgent else ""
        table.add_row(str(r.id), escape(r.area_name or r.external_id or "-"),
                      r.type + flag, escape(r.cause or "-"),
                      f"{short(r.planned_start)} -> {short(r.planned_end)}",
                      f"{short(r.actual_start)} -> {short(r.actual_end)}",
                      str(r.customers) + (f" ({r.still_out} out)" if r.still_out else ""),
                      f"{r.customer_minutes:.0f}",
                      "-" if r.notice_lead_hours is None else f"{r.notice_lead_hours:.1f}")
    console.print(table)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="interruptions")
    root.add_typer(outages_app, name="outages")
