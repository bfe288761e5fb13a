"""A file's connection date against the other one stored, when the file has only one of them.

An import keeps the stored value of a column the file does not have (store.py), so a file
with connected_on alone would store a customer connected after being disconnected, and one
with disconnected_on alone one disconnected before being connected. Such a row is refused
like any other bad row. A file with both dates, or neither, is checked within each row
(rows.py) and never reads the stored dates.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine, select

from outages.models import Customer
from outages.registry.rows import CODE, COLUMNS, Row

DATES = ("connected_on", "disconnected_on")
IN_CHUNK = 10_000  # codes a query: well under SQLite's limit of 32,766 parameters

_c = Customer.__table__.c


def stored_date_check(engine: Engine, present: Sequence[str]) -> StoredDateCheck | None:
    """The check a file with these columns needs: None unless it has exactly one date."""
    given = [name for name in DATES if name in present]
    return StoredDateCheck(engine, given[0]) if len(given) == 1 else None


class StoredDateCheck:
    """Refuses rows whose `given` date contradicts the stored other date of their code."""

    def __init__(self, engine: Engine, given: str) -> None:
        self.engine, self.given = engine, given
        self.other = DATES[1] if given == DATES[0] else DATES[0]
        self.index = COLUMNS.index(given)

    def refuse_rows(self, rows: Sequence[Row | None],
                    refused: dict[int, list[str]]) -> dict[int, list[str]]:
        """refuse() for checked rows (None where refused)."""
        index = self.index
        return self.refuse([row[CODE] if row is not None else "" for row in rows],
                           [row[index] if row is not None else None for row in rows], refused)

    def refuse(self, codes: Sequence[str], days: Sequence[str | None],
               refused: dict[int, list[str]]) -> dict[int, list[str]]:
        """`refused` with a reason added for each row whose date (YYYY-MM-DD, None for a
        refused row or an empty value) contradicts the stored other date of its code (a
        new dict when one does). One query per IN_CHUNK codes with a date."""
        given = [(k, day) for k, day in enumerate(days) if day is not None]
        if not given:
            return refused
        stored = self._stored(sorted({codes[k] for k, _ in given}))
        wrong = [(k, day, stored[codes[k]]) for k, day in given
                 if codes[k] in stored and self._contradicts(day, stored[codes[k]])]
        if not wrong:
            return refused
        refused = dict(refused)
        for k, day, other in wrong:
            refused[k] = [*refused.get(k, []), self._reason(day, other)]
        return refused

    def _stored(self, codes: list[str]) -> dict[str, str]:
        """The other date of the stored customers with these codes that have one, as
        YYYY-MM-DD."""
        other = _c[self.other]
        found: dict[str, str] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(codes), IN_CHUNK):
                part = codes[start:start + IN_CHUNK]
                query = select(_c.code, other).where(_c.code.in_(part), other.is_not(None))
                found.update((code, day.isoformat()) for code, day in conn.execute(query))
        return found

    def _contradicts(self, day: str, stored: str) -> bool:
        # ISO dates compare as text as they do as dates.
        return day > stored if self.given == DATES[0] else day < stored

    def _reason(self, day: str, stored: str) -> str:
        order = "after" if self.given == DATES[0] else "before"
        return (f"{self.given} {day} is {order} the stored {self.other} {stored}: correct "
                f"{self.given}, or put {self.other} in the file too (empty to clear it)")
