"""What every command needs: settings and a migrated database, created on first use."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

# audit_log.actor, outages.created_by and revisions.actor hold 100 characters.
ACTOR_MAX = 100

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from outages.settings import Settings


# Ids, limits and offsets are 32-bit integers in the database, as the HTTP API bounds them:
# a larger number is refused as bad input, not met by a database error.
ID_MAX = 2**31 - 1


@dataclass
class CliContext:
    config_path: Path | None = None
    _settings: Settings | None = field(default=None, repr=False)
    # The command that asked for the context: its options name the fields of a refusal.
    command: Any = field(default=None, repr=False)

    @cached_property
    def settings(self) -> Settings:
        # Settings, the database and the domain load when a command runs, not for --help.
        from outages.settings import load_settings

        return self._settings or load_settings(self.config_path)

    @cached_property
    def engine(self) -> Engine:
        from outages import db

        engine = db.make_engine(self.settings.database.url)
        db.ensure_schema(engine)
        return engine

    def raw_engine(self) -> Engine:
        """The engine without the schema check (for `outages db` itself)."""
        from outages import db

        return db.make_engine(self.settings.database.url)


def cli_context(ctx: typer.Context) -> CliContext:
    root = ctx.find_root()
    if not isinstance(root.obj, CliContext):
        root.obj = CliContext()
    root.obj.command = ctx.command
    return root.obj


def cli_actor(given: str | None = None) -> str:
    """Who is acting: --by, else $OUTAGES_ACTOR, else the OS user; a name the audit log
    can hold (one line, no control characters, ACTOR_MAX characters)."""
    from outages import text
    from outages.errors import ValidationError

    actor, field = (given, "--by") if given else (os.environ.get("OUTAGES_ACTOR"),
                                                   "OUTAGES_ACTOR")
    if not actor:
        return f"cli:{getpass.getuser()}"
    wrong = text.problem(actor, limit=ACTOR_MAX, multiline=False)
    if wrong:
        raise ValidationError(f"{field}: the name {wrong}", field=field)
    return actor
