"""`outages area preview`: who an area would affect, before any cut is made."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from outages.cli.context import cli_context
from outages.cli.output import console, print_json, warn

if TYPE_CHECKING:
    from outages.registry.matching import Affected

app = typer.Typer(help="Areas on the map: which customers they contain.", no_args_is_help=True)


@app.command()
def preview(
    ctx: typer.Context,
    area: str = typer.Argument(..., help="GeoJSON file (Polygon, MultiPolygon, Feature or "
                               "FeatureCollection) or inline GeoJSON."),
    feeder: list[str] = typer.Option([], "--feeder", help="Only customers on this feeder "
                                     "(repeatable)."),
    repair: bool = typer.Option(False, "--repair", help="Repair an invalid polygon "
                                "(shapely make_valid) and say what changed."),
    as_json: bool = typer.Option(False, "--json"),
    customers_out: Path | None = typer.Option(None, "--customers-out", help="Write the "
                                              "affected customers to this CSV file."),
) -> None:
    """Count the customers connected today inside AREA (its edge included)."""
    from outages.registry import preview as area_preview

    context = cli_context(ctx)
    shape = area_preview.read_area(context.settings, area, repair=repair)
    with context.engine.connect() as conn:
        affected = area_preview.affected_today(conn, context.settings, shape, feeders=feeder)
        if customers_out:
            area_preview.write_customers_csv(conn, affected.ids, customers_out)
    if as_json:
        print_json(area_preview.preview_json(shape, affected))
        return
    for note in shape.repairs:
        warn(f"repaired {note}")
    name = f" {shape.name!r}" if shape.name else ""
    console.print(f"area{name}: {shape.area_km2():.2f} km², {affected.count} customer(s) "
                  "affected")
    if affected.priority_count:
        warn(f"{affected.priority_count} priority customer(s) (life support, medical, critical "
             "facility) in the area: they need planned.priority_min_notice and a call")
    _breakdowns(affected)
    if customers_out:
        console.print(f"affected customers written to {customers_out}")


def _breakdowns(affected: Affected) -> None:
    if not affected.count:
        return
    for column in ("region", "district", "feeder"):
        table = Table(column, "customers")
        for value, count in affected.breakdown(column).items():
            table.add_row(value, str(count))
        console.print(table)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="area")
