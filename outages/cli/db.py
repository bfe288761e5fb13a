"""`outages db`: apply and inspect migrations."""

from __future__ import annotations

import typer

from outages.cli.context import cli_context
from outages.cli.output import console

app = typer.Typer(help="Database schema: apply and inspect migrations.", no_args_is_help=True)


@app.command()
def upgrade(ctx: typer.Context, revision: str = typer.Argument("head")) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    from alembic.util.exc import CommandError

    from outages import db
    from outages.errors import ValidationError

    engine = cli_context(ctx).raw_engine()
    before = db.current_revision(engine)
    try:
        db.upgrade(engine, revision)
    except CommandError as exc:  # a revision this code does not know (a newer release's)
        raise ValidationError(f"cannot upgrade the database from {before or 'empty'} to "
                          f"{revision}: {exc}; this code knows revisions up to "
                          f"{db.head_revision()}", field="revision") from None
    after = db.current_revision(engine)
    console.print(f"database at {after} (was {before or 'empty'})")


@app.command()
def current(ctx: typer.Context) -> None:
    """Print the schema revision of the database and of the code."""
    from outages import db

    engine = cli_context(ctx).raw_engine()
    console.print(f"database: {db.current_revision(engine) or 'empty'}; code: {db.head_revision()}")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="db")
