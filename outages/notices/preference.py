"""A customer's channel preference as it is when a notice goes out.

Notices are queued on the channels each customer prefers when the outage changes, a reminder
days before it falls due. A customer who has changed their preference since hears it on the
channels they prefer now: a row on a channel they no longer use is skipped, and the notice
is queued on their channels as a refused one falls back (the same keys, so a notice queued
there already is not queued twice). A row on such a channel because the preferred one could
not carry the notice (it failed for good there, or was skipped) is that notice's fallback,
and still goes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row

from notifier import outbox
from notifier.channels import REGISTRY
from notifier.enums import ACCEPTED, ACTIVE, OutboxStatus
from outages.notices.queue import CHANNELS, channel_key, prefers
from outages.notices.refusals import CHANNEL_CHANGED, fall_back
from outages.settings import Settings


class _Sibling(Enum):
    """What became of the same notice on a channel the customer prefers."""

    HEARD = "heard"  # queued, sent, or a more relevant notice went there instead
    LOST = "lost"  # failed for good or skipped there: this row is its fallback


_HEARD = (*ACTIVE, *ACCEPTED, OutboxStatus.SUPERSEDED)


def columns(settings: Settings) -> list[ColumnElement[bool]]:
    """For the recheck's read of the customers: whether their preference uses each channel
    now (queue.prefers, so Zalo is passed over while it cannot reach them)."""
    return [prefers(settings, channel).label(_label(channel)) for channel in CHANNELS]


def channel_changed(conn: Connection, settings: Settings, rows: Sequence[Row[Any]],
                    customers: Mapping[int, Row[Any]], skip: Mapping[int, str],
                    ) -> dict[int, str]:
    """The rows of `rows` on a channel their customer (read with `columns`) no longer
    prefers, and not the fallback of the notice on one they do (id -> CHANNEL_CHANGED).
    Those the customer hears on no preferred channel are queued there. `skip`: the rows of
    the batch skipped already, which carry nothing."""
    moved = [row for row in rows if _moved(row, customers)]
    if not moved:  # the common case: no read at all
        return {}
    wanted = {row.id: [ch for ch in CHANNELS if getattr(customers[row.customer_id], _label(ch))]
              for row in moved}
    siblings = _siblings(conn, moved, wanted, skip)
    found: dict[int, str] = {}
    requeue: dict[str, list[Row[Any]]] = defaultdict(list)
    for row in moved:
        states = {siblings.get(channel_key(row.key, ch)) for ch in wanted[row.id]}
        if _Sibling.HEARD not in states and _Sibling.LOST in states:
            continue  # its fallback
        found[row.id] = CHANNEL_CHANGED
        if _Sibling.HEARD not in states:
            for channel in wanted[row.id]:
                requeue[channel].append(row)
    for channel, lost in requeue.items():
        fall_back(conn, settings, lost, to=channel)
    return found


def _label(channel: str) -> str:
    return f"prefers_{channel}"


def _moved(row: Row[Any], customers: Mapping[int, Row[Any]]) -> bool:
    """A customer's notice about an outage, on a channel they no longer prefer."""
    customer = customers.get(row.customer_id) if row.customer_id is not None else None
    return (customer is not None and row.outage_id is not None and row.channel in REGISTRY
            and not getattr(customer, _label(row.channel)))


def _siblings(conn: Connection, rows: Sequence[Row[Any]], wanted: Mapping[int, list[str]],
              skip: Mapping[int, str]) -> dict[str, _Sibling]:
    """Key -> what became of the notices of `rows` on the channels `wanted` for each. One
    skipped there for the preference of the time does not count: a fallback revives it."""
    keys = {channel_key(row.key, ch) for row in rows for ch in wanted[row.id]}
    found: dict[str, _Sibling] = {}
    for row in outbox.by_keys(conn, keys):
        if row.status == OutboxStatus.SKIPPED and row.last_error_code == CHANNEL_CHANGED:
            continue
        heard = row.status in _HEARD and row.id not in skip
        found[row.key] = _Sibling.HEARD if heard else _Sibling.LOST
    return found
