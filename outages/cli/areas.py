"""`outages areas import|list`: named polygons (districts, wards, feeder zones) to pick on
the console's map instead of drawing them."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from outages.cli.context import cli_actor, cli_context
from outages.cli.output import console, print_json, warn
from outages.enums import AreaKind

app = typer.Typer(help="Named areas: districts, wards and feeder zones.", no_args_is_help=True)


@app.command("import")
def import_areas(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="GeoJSON FeatureCollection of Polygon or "
                                "MultiPolygon features."),
    name_property: str = typer.Option(..., "--name-property", help="The feature property "
                                      "holding each area's name (e.g. name, NAME_3)."),
    kind: AreaKind = typer.Option(AreaKind.DISTRICT, "--kind"),
    repair: bool = typer.Option(False, "--repair", help="Repair invalid polygons "
                                "(shapely make_valid) and say what changed."),
    by: str | None = typer.Option(None, "--by", help="Who imports (for the audit log)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Store every feature of FILE as a named area; an area of the same name and kind is
    replaced. One bad feature stores nothing."""
    from outages.enums import Source
    from outages.registry import named_areas

    context = cli_context(ctx)
    areas = named_areas.read_features(context.settings, file, name_property=name_property,
                                      repair=repair)
    result = named_areas.store(context.engine, areas, kind=kind, actor=cli_actor(by),
                               source=Source.CLI)
    if as_json:
        print_json(result.as_json())
        return
    for note in result.repairs:
        warn(f"repaired {note}")
    console.print(f"{len(result.imported)} {kind} area(s) imported, {len(result.replaced)} "
                  "replaced")


@app.command("list")
def list_areas(
    ctx: typer.Context,
    kind: AreaKind | None = typer.Option(None, "--kind"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Named areas by kind and name, with their size."""
    from outages.registry import named_areas

    context = cli_context(ctx)
    with context.engine.connect() as conn:
        rows = named_areas.listing(conn, context.settings, kind=kind)
    if as_json:
        print_json([row.as_json() for row in rows])
        return
    table = Table("id", "kind", "name", "km²", "vertices", "updated")
    for row in rows:
        table.add_row(str(row.id), row.kind, row.name, f"{row.area_km2:.2f}", str(row.vertices),
                      f"{row.updated_at} {row.updated_by}")
    console.print(table)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="areas")
