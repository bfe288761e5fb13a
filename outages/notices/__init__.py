"""What customers are told: planning, queueing, delivery, status callbacks and SMS keywords.

Importing this package subscribes the notice planner to the lifecycle's outage events, so
every front end that changes outages imports it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from outages.lifecycle import events

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from outages.settings import Settings


def _plan(conn: Connection, settings: Settings, event: events.OutageEvent) -> None:
    # Imported when the first event fires: read-only commands never load the templates.
    from outages.notices import planner

    planner.plan(conn, settings, event)


events.subscribe(_plan)
