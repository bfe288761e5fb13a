"""Alembic environment: the engine is handed in by outages.db (no alembic.ini needed)."""

from __future__ import annotations

from alembic import context

from notifier.store import metadata as notifier_metadata
from outages.models import Base

target_metadata = [Base.metadata, notifier_metadata]


def run_migrations_online() -> None:
    engine = context.config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
