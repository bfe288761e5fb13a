"""Helpers for lifecycle tests: a small grid of customers, square areas, recorded events."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from outages.lifecycle.events import OutageEvent
from outages.models import Customer
from outages.notices import planner as notices
from outages.settings import Settings
from outages.timeutil import utcnow

LON0, LAT0 = 105.80, 21.00
STEP = 0.001  # about 100 m


def grid_rows(n: int, *, prefix: str = "C", feeder: str = "F1") -> list[dict[str, Any]]:
    """n customers on a 10-wide grid, 0.001 degrees apart, starting at (LON0, LAT0)."""
    return [{"code": f"{prefix}{i:03d}", "lon": LON0 + (i % 10) * STEP,
             "lat": LAT0 + (i // 10) * STEP, "district": "Ba Dinh" if i % 2 else "Dong Da",
             "feeder": feeder, "phone": f"+8490{i:07d}"} for i in range(n)]


def square(min_lon: float, min_lat: float, max_lon: float, max_lat: float) -> dict[str, Any]:
    ring = [[min_lon, min_lat], [max_lon, min_lat], [max_lon, max_lat], [min_lon, max_lat],
            [min_lon, min_lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def columns(first: int, last: int, rows: int = 10) -> dict[str, Any]:
    """An area covering grid columns first..last (inclusive) of the first `rows` rows."""
    half = STEP / 2
    return square(LON0 + first * STEP - half, LAT0 - half, LON0 + last * STEP + half,
                  LAT0 + (rows - 1) * STEP + half)


@pytest.fixture
def area_file(tmp_path: Path) -> Callable[..., str]:
    def write(geometry: dict[str, Any], name: str = "area") -> str:
        path = tmp_path / f"{name}.geojson"
        path.write_text(json.dumps(geometry))
        return str(path)

    return write


@pytest.fixture
def grid(add_customers: Callable[[Sequence[dict[str, Any]]], None]) -> list[dict[str, Any]]:
    rows = grid_rows(100)
    add_customers(rows)
    return rows


@pytest.fixture
def relaxed(make_settings: Callable[..., Settings]) -> Settings:
    """No notice period, so tests can schedule cuts minutes ahead."""
    return make_settings(OUTAGES_PLANNED_MIN_NOTICE="0s")


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[OutageEvent]:
    seen: list[OutageEvent] = []
    monkeypatch.setattr(notices, "plan", lambda conn, settings, event: seen.append(event))
    return seen


def ahead(**delta: float) -> datetime:
    return (utcnow() + timedelta(**delta)).replace(second=0, microsecond=0)


def ids_of(engine: Engine, codes: Sequence[str]) -> set[int]:
    table = Customer.__table__
    with engine.connect() as conn:
        query = select(table.c.id).where(table.c.code.in_(list(codes)))
        return set(conn.execute(query).scalars())


def public_refs(engine: Engine, settings: Settings) -> set[str | None]:
    """The outage references the public answers give now: the list, the feed items and the
    Atom entries."""
    from outages.lifecycle import public, public_feed

    with engine.connect() as conn:
        now = utcnow()
        return ({o.ref for o in public.current_outages(conn, settings)}
                | {i.ref for i in public_feed.items(conn, settings, now=now)}
                | {e.ref for e in public_feed.entries(conn)})
