"""What every command needs: settings and a migrated database, created on first use."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import typer
from sqlalchemy import Engine

from outages import db
from outages.settings import Settings, load_settings


@dataclass
class CliContext:
    config_path: Path | None = None
    _settings: Settings | None = field(default=None, repr=False)

    @cached_property
    def settings(self) -> Settings:
        return self._settings or load_settings(self.config_path)

    @cached_property
    def engine(self) -> Engine:
        engine = db.make_engine(self.settings.database.url)
        db.ensure_schema(engine)
        return engine

    def raw_engine(self) -> Engine:
        """The engine without the schema check (for `outages db` itself)."""
        return db.make_engine(self.settings.database.url)


def cli_context(ctx: typer.Context) -> CliContext:
    root = ctx.find_root()
    if not isinstance(root.obj, CliContext):
        root.obj = CliContext()
    return root.obj
