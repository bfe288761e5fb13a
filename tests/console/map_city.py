"""The small city the map tests run on: a 21 x 21 grid of customers around the point the
console's map opens on, two named areas, and helpers to compare with the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import shapely

from geo import Area
from outages import db
from outages.enums import AreaKind
from outages.registry import named_areas
from outages.timeutil import to_local, utcnow
from tests.conftest import Cli, insert_customers
from tests.console.conftest import Console, start_console
from tests.lifecycle.conftest import square

WEST = square(105.815, 21.005, 105.839, 21.055)
EAST = square(105.839, 21.005, 105.865, 21.055)
BOTH = square(105.815, 21.005, 105.865, 21.055)


def grid() -> list[dict[str, Any]]:
    """21 x 21 customers 0.002 degrees apart around the map's centre, two districts."""
    rows = []
    for i in range(21):
        for j in range(21):
            lon, lat = 105.82 + i * 0.002, 21.01 + j * 0.002
            rows.append({"code": f"G{i:02d}{j:02d}", "lon": lon, "lat": lat,
                         "district": "Ba Đình" if lon < 105.84 else "Hoàn Kiếm",
                         "feeder": f"F{i // 7}", "phone": f"+84901{i:02d}{j:02d}00",
                         "language": "en" if (i + j) % 5 == 0 else "vi"})
    return rows


def city_console(console_db: str) -> Iterator[Console]:
    """A console server over the grid and two named areas, West and East."""
    engine = db.make_engine(console_db)
    insert_customers(engine, grid())
    named_areas.store(engine, {
        "West": Area(geometry=_shape(WEST)), "East": Area(geometry=_shape(EAST))},
        kind=AreaKind.DISTRICT, actor="setup", source="cli")
    engine.dispose()
    yield from start_console(console_db)


def report(console: Console, code: str, text: str = "mất điện") -> int:
    """A customer's fault report through the API; the incident it joined or opened."""
    with console.api("dispatcher") as api:
        answer = api.post("/faults/reports", json={"customer": code, "text": text})
    assert answer.status_code in (200, 201), answer.text
    return int(answer.json()["outage_id"])


def _shape(geometry: dict[str, Any]) -> Any:
    return shapely.from_geojson(json.dumps(geometry))


def cli_preview(console: Console, geojson: str, tmp_path: Path) -> dict[str, Any]:
    """`outages area preview --json` of the area, on the console's database."""
    path = tmp_path / "drawn.geojson"
    path.write_text(geojson)
    result = Cli(console.env)("area", "preview", str(path), "--json")
    assert result.exit_code == 0, result.output
    answer: dict[str, Any] = json.loads(result.output)
    return answer


def cli_count(console: Console, geojson: str, tmp_path: Path) -> int:
    return int(cli_preview(console, geojson, tmp_path)["count"])


def local_input(days: float, hour: int) -> str:
    moment = to_local(utcnow() + timedelta(days=days), _tz()).replace(hour=hour, minute=0)
    return moment.strftime("%Y-%m-%dT%H:%M")


def _tz() -> ZoneInfo:
    return ZoneInfo("Asia/Ho_Chi_Minh")


