"""Which notices an outage event leads to. The notification engine fills this in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Connection

from outages.settings import Settings

if TYPE_CHECKING:
    from outages.events import OutageEvent


def plan(conn: Connection, settings: Settings, event: OutageEvent) -> None:
    """Queue the notices for `event` (no notices are planned yet)."""
