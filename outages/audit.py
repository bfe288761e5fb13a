"""The audit log: who changed what, when, with the state before and after."""

from __future__ import annotations

import getpass
import os
from typing import Any

from sqlalchemy import Connection, insert

from outages.models import AuditEntry
from outages.timeutil import utcnow


def cli_actor(given: str | None = None) -> str:
    """Who is acting at the command line: --by, else $OUTAGES_ACTOR, else the OS user."""
    if given:
        return given
    return os.environ.get("OUTAGES_ACTOR") or f"cli:{getpass.getuser()}"


def record(
    conn: Connection,
    *,
    actor: str,
    source: str,
    action: str,
    entity: str,
    entity_id: object = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Write one audit entry inside the caller's transaction, so the change and its record
    commit or roll back together."""
    conn.execute(
        insert(AuditEntry.__table__).values(
            at=utcnow(),
            actor=actor,
            source=source,
            action=action,
            entity=entity,
            entity_id=None if entity_id is None else str(entity_id),
            before=before,
            after=after,
        )
    )
