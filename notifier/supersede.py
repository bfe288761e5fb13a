"""One message per customer per moment: of several notices for the same customer and channel
falling due together, send the most relevant and mark the rest superseded.

Which notice is more relevant is the domain's knowledge: it passes the ranks in."""

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
    # Kinds that may be dropped for another outage's notice; others only within their outage.
    repeats: frozenset[str] = frozenset()
    moment: timedelta = timedelta(minutes=10)

    def losers(self, rows: Sequence[Row[Any]]) -> list[Row[Any]]:
        groups: dict[tuple[Any, str], list[Row[Any]]] = defaultdict(list)
        for row in rows:
            if row.customer_id is not None:
                groups[(row.customer_id, row.channel)].append(row)
        losers: list[Row[Any]] = []
        for group in groups.values():
            if len(group) > 1:
                losers.extend(self._losers(group))
        return losers

    def _losers(self, group: list[Row[Any]]) -> list[Row[Any]]:
        ordered = sorted(group, key=lambda r: (self.ranks.get(r.kind, 0), r.revision or 0, r.id),
                         reverse=True)
        winner = ordered[0]
        return [
            row for row in ordered[1:]
            if abs(row.due_at - winner.due_at) <= self.moment
            and (row.outage_id == winner.outage_id or row.kind in self.repeats)
        ]

