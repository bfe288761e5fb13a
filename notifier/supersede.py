"""One message per customer per moment: of several notices for the same customer and channel
falling due together, send the most relevant and mark the rest superseded."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Row

MOMENT = timedelta(minutes=10)
# Higher wins. A change or cancellation says everything a reminder would.
RANK = {
    "restored": 90, "cancelled": 85, "changed": 80, "no_longer_affected": 75, "etr_passed": 70,
    "etr_update": 65, "fault_ack": 60, "started": 50, "announcement": 40, "reminder": 30,
    "fault_report_received": 20,
}
# Kinds that may be dropped for another outage's notice; others only within their outage.
REPEATS = {"reminder", "started", "etr_update", "etr_passed", "fault_report_received"}


def pick_superseded(rows: Sequence[Row[Any]]) -> list[Row[Any]]:
    groups: dict[tuple[Any, str], list[Row[Any]]] = defaultdict(list)
    for row in rows:
        if row.customer_id is not None:
            groups[(row.customer_id, row.channel)].append(row)
    losers: list[Row[Any]] = []
    for group in groups.values():
        if len(group) > 1:
            losers.extend(_losers(group))
    return losers


def _losers(group: list[Row[Any]]) -> list[Row[Any]]:
    ordered = sorted(group, key=lambda r: (RANK.get(r.kind, 0), r.revision or 0, r.id),
                     reverse=True)
    winner = ordered[0]
    return [
        row for row in ordered[1:]
        if abs(row.due_at - winner.due_at) <= MOMENT
        and (row.outage_id == winner.outage_id or row.kind in REPEATS)
    ]
