"""`outages report`: reliability indices and service KPIs; `outages demo-history`."""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from outages.cli.context import cli_context
from outages.cli.output import console, dumps, print_json
from outages.errors import ValidationError
from outages.timeutil import parse_date, utcnow

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from outages.reliability import report
    from outages.settings import Settings

app = typer.Typer(help="Reliability indices (IEEE 1366) and service KPIs.", no_args_is_help=True)
FORMATS = ("table", "json", "csv", "html")


def _date(value: str, option: str) -> date:
    try:
        return parse_date(value)
    except ValueError as exc:
        raise ValidationError(str(exc), field=option) from None


def _write(text: str, out: Path | None) -> None:
    if out is None:
        print(text, end="" if text.endswith("\n") else "\n")
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ValidationError(f"cannot write {out}: {exc.strerror}", field="--out") from None
    console.print(f"wrote {out}")


@app.command()
def reliability(
    ctx: typer.Context,
    first: str = typer.Option(..., "--from", help="First local day, YYYY-MM-DD."),
    last: str = typer.Option(..., "--to", help="Last local day (inclusive), YYYY-MM-DD."),
    by: str | None = typer.Option(None, help="region, district, feeder, cause or month."),
    planned: str | None = typer.Option(
        None, help="include, exclude or only (default: all three side by side; JSON/CSV: "
        "include)."),
    med: str | None = typer.Option(
        None, help="include, exclude or only major event days (default: with and without; "
        "JSON/CSV: include)."),
    customers_served: str = typer.Option("end", help="end (connected on the last day) or "
                                         "average (daily average)."),
    fmt: str = typer.Option("table", "--format", help="table, json, csv or html."),
    out: Path | None = typer.Option(None, help="Write to this file instead of the terminal."),
    charts_dir: Path | None = typer.Option(None, help="Also write one PNG per chart here."),
) -> None:
    """IEEE 1366 indices for local days FROM..TO with major event days (2.5 beta)."""
    from outages.reliability import report
    from outages.reliability.render import text

    if fmt not in FORMATS:
        raise ValidationError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}",
                              field="--format")
    request = report.Request(_date(first, "--from"), _date(last, "--to"), by, planned, med,
                             customers_served)
    context = cli_context(ctx)
    with context.engine.connect() as conn:
        result = report.compute(conn, context.settings, request,
                                with_cause=fmt == "html" or charts_dir is not None)
        if fmt == "html" or charts_dir is not None:
            _html(conn, context.settings, result, fmt, out, charts_dir)
    if fmt == "json":
        _write(dumps(result.to_json()), out)
    elif fmt == "csv":
        _write(text.to_csv(result), out)
    elif fmt == "table":
        _table(result, context.settings, out)


def _html(conn: Connection, settings: Settings, result: report.Result, fmt: str,
          out: Path | None, charts_dir: Path | None) -> None:
    from outages.reliability.render import html  # matplotlib only when charts are asked for

    page = html.build(conn, settings, result, charts_dir=charts_dir)
    if fmt == "html":
        _write(page, out)


def _table(result: report.Result, settings: Settings, out: Path | None) -> None:
    from outages.reliability.render import text

    renderables = text.renderables(result, settings)
    if out is None:
        # Wide enough for six columns of ASAI even when stdout is a pipe (rich assumes 80).
        wide = Console(highlight=False, width=max(console.width, 110))
        for item in renderables:
            wide.print(item)
        return
    # Rendered to text first, so a file that cannot be written is reported as for the
    # other formats (_write), not as a traceback.
    buffer = io.StringIO()
    file_console = Console(file=buffer, width=160, highlight=False)
    for item in renderables:
        file_console.print(item)
    _write(buffer.getvalue(), out)


@app.command()
def service(
    ctx: typer.Context,
    first: str | None = typer.Option(None, "--from", help="First local day (default: all)."),
    last: str | None = typer.Option(None, "--to", help="Last local day, inclusive."),
    fmt: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """Notice lead times, fault response times, ETR accuracy and notice delivery."""
    from outages.reliability.render import service_text
    from outages.reliability.service import Window, service_report

    if fmt not in ("table", "json"):
        raise ValidationError(f"unknown format {fmt!r}: use table or json", field="--format")
    context = cli_context(ctx)
    window = Window(_date(first, "--from") if first else None,
                    _date(last, "--to") if last else None, context.settings.tz)
    with context.engine.connect() as conn:
        kpis = service_report(conn, context.settings, window)
    if fmt == "json":
        print_json(kpis)
        return
    for item in service_text.renderables(kpis):
        console.print(item)


def demo_history(
    ctx: typer.Context,
    out: Path = typer.Argument(..., help="CSV to write (outages interruptions import format)."),
    years: int = typer.Option(5, help="Years of history, ending yesterday."),
    seed: int = typer.Option(3, help="Random seed: the same seed gives the same history."),
) -> None:
    """Write plausible interruption history for the customers in the database."""
    from outages.demo import history

    context = cli_context(ctx)
    yesterday = utcnow().astimezone(context.settings.tz).date() - timedelta(days=1)
    with context.engine.connect() as conn:
        summary = history.generate(conn, context.settings, out, years=years, seed=seed,
                                   last=yesterday)
    console.print(f"wrote {summary['rows']:,} interruptions of {summary['outages']:,} outages "
                  f"for {summary['customers']:,} customers on {summary['feeders']:,} feeders, "
                  f"{summary['from']} to {summary['to']}, to {out}")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="report")
    root.command("demo-history")(demo_history)
