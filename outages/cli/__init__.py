"""The `outages` command. Each module under outages/cli registers its own commands."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

import outages.notices  # noqa: F401  (subscribes the notice planner to outage events)
from outages.cli.context import CliContext
from outages.cli.errors import describe
from outages.cli.output import fail
from outages.errors import OutagesError

# One line per command module; a module exposes register(app).
COMMAND_MODULES = (
    "outages.cli.db",
    "outages.cli.customers",
    "outages.cli.area",
    "outages.cli.areas",
    "outages.cli.demo",
    "outages.cli.lifecycle.cuts",
    "outages.cli.lifecycle.faults",
    "outages.cli.alerts",
    "outages.cli.subscriptions",
    "outages.cli.lifecycle.interruptions",
    "outages.cli.notices",
    "outages.cli.worker",
    "outages.cli.server",
    "outages.cli.users",
    "outages.cli.report",
)

class _Commands(TyperGroup):
    """Turns a refused request into its message and exit code, for the console script and
    for in-process runs alike."""

    # typer vendors click in recent releases, so the context class depends on the version.
    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except OutagesError as exc:
            running = ctx.obj.command if isinstance(ctx.obj, CliContext) else None
            fail(describe(exc, [*ctx.command.params, *(running.params if running else [])]))
            ctx.exit(exc.exit_code)


app = typer.Typer(
    cls=_Commands,
    name="outages",
    help="Planned power cuts, fault outages, customer notices and reliability indices.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    ctx: typer.Context,
    config: Path | None = typer.Option(
        None, "--config", envvar="OUTAGES_CONFIG", help="TOML file layered over the defaults."
    ),
) -> None:
    ctx.obj = CliContext(config_path=config)


for _module in COMMAND_MODULES:
    importlib.import_module(_module).register(app)


def main() -> None:
    try:
        app()
    except OutagesError as exc:  # raised while loading settings, before any command runs
        fail(describe(exc))
        sys.exit(exc.exit_code)
