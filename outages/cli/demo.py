"""`outages demo-data`: synthetic data for demos and benchmarks."""

from __future__ import annotations

from pathlib import Path

import typer

from outages.cli.output import console

app = typer.Typer(help="Synthetic data for demos and benchmarks.", no_args_is_help=True)


@app.command()
def city(
    out_dir: Path = typer.Argument(..., help="Folder to write into (created if missing)."),
    customers: int = typer.Option(24_000, "--customers", min=1, help="How many customers."),
    seed: int = typer.Option(7, "--seed", help="The same seed gives the same files."),
) -> None:
    """A Hanoi-like city: customers.csv (with a few bad rows) and areas/*.geojson."""
    from outages.demo import city as demo_city

    files = demo_city.write_city(out_dir, customers, seed)
    for key, path in files.items():
        console.print(f"{key:>9}: {path}")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="demo-data")
