"""What the outage lifecycle tells the rest of the domain after each change.

The lifecycle publishes an event inside the same transaction as the change, so the notices
it leads to are queued (outbox rows written) if and only if the change commits. The layer
above (`outages.notices`) subscribes when it is imported; the lifecycle never imports it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # the CLI imports this module at start-up: keep it light
    from shapely.geometry.base import BaseGeometry
    from sqlalchemy import Connection

    from outages.settings import Settings

EventKind = Literal[
    "cut_created",  # planned cut scheduled (revision 1): announcement + reminders
    "cut_rescheduled",  # window moved: change notice, reminders re-planned
    "cut_resized",  # area changed: added customers announced, dropped ones told
    "cut_cancelled",  # cancellation notice; pending reminders dropped
    "cut_started",  # actual start recorded ("work has started" when enabled); "running
    # late" planned for the announced end
    "cut_extended",  # a started cut's expected end (etr) set or moved
    "restored",  # a restoration step (cut or fault): customer_ids got power back
    "fault_reported",  # a customer report was recorded (report_id): "report received"
    "fault_confirmed",  # incident confirmed, affected set fixed: acknowledgement with ETR
    "etr_changed",  # estimated restoration time set or moved
    "fault_resized",  # a confirmed incident's area redrawn: added and dropped customers
    "fault_dismissed",  # a reported incident closed, no fault found: its reporters are told
    "fault_merged",  # a reported duplicate closed: its reports went to `merged_into`
    "customer_reopened",  # customer_ids said "still no power" after their restoration
    # (alert_id: the desk's alert; acknowledge: tell the customer by notice, not by reply)
]


@dataclass(frozen=True)
class OutageEvent:
    kind: EventKind
    outage_id: int
    revision: int
    at: datetime
    # For "restored": the customers restored in this step. Membership changes of a resize
    # are in outage_customers (added_revision / dropped_revision = this revision).
    customer_ids: Sequence[int] = field(default_factory=tuple)
    report_id: int | None = None
    # For "fault_reported": the duplicate incident the report came from by a merge.
    merged_from: int | None = None
    actor: str | None = None
    alert_id: int | None = None
    acknowledge: bool = False
    # For "restored": when power came back in this step (the dispatcher may record it
    # later than it happened); `at` is when the step was recorded.
    restored_at: datetime | None = None
    # For "restored": the area of a step given by area (callers' places are told by it).
    step_area: BaseGeometry | None = None


Subscriber = Callable[["Connection", "Settings", OutageEvent], None]
_subscribers: list[Subscriber] = []


class NoSubscriber(RuntimeError):
    """An outage changed while nothing was listening: its notices would be lost."""


def subscribe(handler: Subscriber) -> None:
    if handler not in _subscribers:
        _subscribers.append(handler)


def publish(conn: Connection, settings: Settings, event: OutageEvent) -> None:
    """Hand the event to every subscriber inside the caller's transaction.

    Refuses (and so rolls the change back) when nobody subscribed: a change whose notices
    were silently dropped would leave customers uninformed.
    """
    if not _subscribers:
        raise NoSubscriber("no notice planner subscribed to outage events; "
                           "import outages.notices before changing an outage")
    for handler in tuple(_subscribers):
        handler(conn, settings, event)
