"""Test data written straight into the tables with Core: customers, outages, interruptions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, select

from outages.models import Customer, Interruption, Outage

T0 = datetime(2025, 3, 10, 1, 0, tzinfo=UTC)  # 08:00 in Hanoi


def customers(engine: Engine, count: int, *, district: str = "D1", feeder: str = "F1",
              region: str = "R1", connected_on: date | None = None,
              disconnected_on: date | None = None, prefix: str = "C") -> list[int]:
    """Insert `count` customers and return their ids in order."""
    rows = [{"code": f"{prefix}{district}{feeder}{i:06d}", "lon": 105.8, "lat": 21.0,
             "region": region, "district": district, "feeder": feeder,
             "connected_on": connected_on, "disconnected_on": disconnected_on}
            for i in range(count)]
    table = Customer.__table__
    with engine.begin() as conn:
        conn.execute(insert(table), rows)
        codes = [row["code"] for row in rows]
        found = dict(conn.execute(select(table.c.code, table.c.id)
                                  .where(table.c.code.like(f"{prefix}{district}{feeder}%"))).all())
    return [found[code] for code in codes]


def outage(engine: Engine, *, kind: str = "fault", cause: str | None = None) -> int:
    with engine.begin() as conn:
        return int(conn.execute(insert(Outage.__table__).values(
            kind=kind, status="completed", cause=cause)).inserted_primary_key[0])


def interruptions(engine: Engine, outage_id: int, customer_ids: Iterable[int],
                  start: datetime | None, minutes: float | None, *, planned: bool = False,
                  cause: str | None = None) -> None:
    """One interruption per customer, all from `start` lasting `minutes` (None: still out)."""
    end = None if start is None or minutes is None else start + timedelta(minutes=minutes)
    rows = [{"outage_id": outage_id, "customer_id": cid, "planned": planned, "cause": cause,
             "start_at": start, "end_at": end} for cid in customer_ids]
    if rows:
        with engine.begin() as conn:
            conn.execute(insert(Interruption.__table__), rows)


def rows(engine: Engine, items: Sequence[dict[str, Any]]) -> None:
    with engine.begin() as conn:
        conn.execute(insert(Interruption.__table__), list(items))
