"""`outages alerts list`: the dispatch desk's alerts (customers still out after a
restoration), as the console shows them."""

from __future__ import annotations

import typer
from rich.table import Table

from outages.cli.context import cli_context
from outages.cli.lifecycle.render import short
from outages.cli.output import console, print_json

app = typer.Typer(help="Alerts for the dispatch desk: customers still out after a "
                  "restoration.", no_args_is_help=True)


@app.command("list")
def list_alerts(
    ctx: typer.Context,
    all_alerts: bool = typer.Option(False, "--all", help="Closed alerts too."),
    limit: int = typer.Option(100, "--limit", min=1, max=10_000, help="At most this many."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
) -> None:
    """Partial restoration alerts, latest reply first (open ones unless --all)."""
    from outages.lifecycle import alerts

    context = cli_context(ctx)
    with context.engine.connect() as conn:
        found = alerts.listing(conn, context.settings, open_only=not all_alerts, limit=limit)
    if as_json:
        print_json(found)
        return
    table = Table(title=f"Alerts ({len(found)})")
    for column in ("id", "outage", "status", "area", "still out", "replied", "first", "last"):
        table.add_column(column)
    for a in found:
        table.add_row(str(a.id), f"{a.outage_kind} #{a.outage_id}", a.outage_status,
                      a.area_name or "-", str(a.still_out), str(a.customers),
                      short(a.opened_at), short(a.last_at))
    console.print(table)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="alerts")
