"""One message per recipient per moment: of several notices for the same outage, recipient
and channel falling due together, send the most relevant and mark the rest superseded. The
recipient is the customer, else the subscription (a relative following a house), else the
address itself (a caller without an account).

Which notice is more relevant is the domain's knowledge: it passes the ranks in. Notices of
different outages never supersede each other: each says something the other does not (a
"changed" notice of one cut is no answer to an ETR update of a fault)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Row


@dataclass(frozen=True)
class SupersedePolicy:
    ranks: Mapping[str, int]  # notice kind -> rank; higher wins, unknown kinds rank 0
    moment: timedelta = timedelta(minutes=10)

    def losers(self, rows: Sequence[Row[Any]]) -> list[Row[Any]]:
        groups: dict[tuple[Any, Any, str], list[Row[Any]]] = defaultdict(list)
        for row in rows:
            if row.outage_id is not None:
                groups[(row.outage_id, _recipient(row), row.channel)].append(row)
        losers: list[Row[Any]] = []
        for group in groups.values():
            if len(group) > 1:
                losers.extend(self._losers(group))
        return losers

    def _losers(self, group: list[Row[Any]]) -> list[Row[Any]]:
        ordered = sorted(group, key=lambda r: (self.ranks.get(r.kind, 0), r.revision or 0, r.id),
                         reverse=True)
        winner = ordered[0]
        return [row for row in ordered[1:] if abs(row.due_at - winner.due_at) <= self.moment]


def _recipient(row: Row[Any]) -> tuple[str, Any]:
    if row.customer_id is not None:
        return ("customer", row.customer_id)
    subscription = getattr(row, "subscription_id", None)
    if subscription is not None:
        return ("subscription", subscription)
    return ("address", row.recipient)
