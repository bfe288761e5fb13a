"""The console map's two heavy answers, on a 1,000,000-customer registry (the demo city's
generator, so languages, contacts and feeders are realistic), on SQLite and PostgreSQL:

- the New cut page's preview of a ~50,000-customer area (customers by district and feeder,
  rules, warnings, the announcement per language with its cost), as the server computes and
  serialises it; target under 300 ms. Floor: the same match over lon/lat arrays already in
  memory (shapely over the bbox candidates, then per-district counts with numpy).
- the density layer at city zoom (zoom 12, 16-pixel cells over the whole city); target under
  500 ms and 200 KB. Floor: the bare GROUP BY in the driver's own SQL.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, select

from bench import POSTGRES_URL
from bench.customers import build_registry
from bench.scratch import scratch_database
from geo import Area, BBox, covered_mask, parse_area
from outages import db
from outages.models import Customer
from outages.notices import draft_preview
from outages.registry import density
from outages.registry.rows import territory_of
from outages.settings import Settings, load_settings
from outages.timeutil import utcnow

CITY = BBox(105.77, 20.96, 105.91, 21.09)  # the demo city and a margin
ZOOM = 12
PREVIEW_TARGET, DENSITY_TARGET, DENSITY_BYTES = 0.300, 0.500, 200_000
REPEATS = 5


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--affected", type=int, default=50_000)
    parser.add_argument("--db", type=Path, default=None,
                        help="SQLite file to keep (built when missing or empty)")
    parser.add_argument("--no-sqlite", dest="sqlite", action="store_false",
                        help="PostgreSQL only")
    parser.add_argument("--postgres-url", default=POSTGRES_URL,
                        help="server to create (and drop) a scratch database on; '' skips")


def run(args: argparse.Namespace) -> None:
    print(f"load before: {_uptime()}")
    if args.sqlite:
        with tempfile.TemporaryDirectory(prefix="bench-console-") as folder:
            path = args.db or Path(folder) / "console.db"
            _one("sqlite", f"sqlite:///{path}", args)
    if not args.postgres_url:
        print("[postgresql] skipped: give --postgres-url")
        return
    with scratch_database(args.postgres_url) as url:
        _one("postgresql", url, args)


def _one(backend: str, url: str, args: argparse.Namespace) -> None:
    engine = db.make_engine(url)
    db.ensure_schema(engine)
    if _count(engine) == 0:
        began = time.perf_counter()
        build_registry(url, args.customers)
        print(f"[{backend}] registry: {args.customers:,} customers built in "
              f"{time.perf_counter() - began:.0f} s", flush=True)
    if engine.dialect.name == "postgresql":
        # What autovacuum does to a registry in service: statistics and the visibility map
        # (which lets the lon/lat index answer without visiting the table).
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE customers")
    settings = load_settings(environ={"OUTAGES_DATABASE_URL": url})
    lons, lats, districts = _arrays(engine)
    print(f"[{backend}] {len(lons):,} customers; load {_uptime()}", flush=True)
    area = _area_holding(settings, lons, lats, args.affected)
    _preview(backend, engine, settings, area, (lons, lats, districts))
    _density(backend, engine)
    if engine.dialect.name == "postgresql":
        # A registry imported in account order has an area's customers on nearly every
        # page of the table; clustered on the lon/lat index they sit on few pages.
        began = time.perf_counter()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("CLUSTER customers USING ix_customers_lon_lat")
            conn.exec_driver_sql("VACUUM ANALYZE customers")
        label = f"{backend} after CLUSTER on the lon/lat index"
        print(f"[{label}] (took {time.perf_counter() - began:.0f} s)", flush=True)
        _preview(label, engine, settings, area, (lons, lats, districts))
        _density(label, engine)
    engine.dispose()


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT count(*) FROM customers").scalar_one())


def _arrays(engine: Engine) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    c = Customer.__table__.c
    with engine.connect() as conn:
        rows = conn.execute(select(c.lon, c.lat, c.district)).all()
    lons, lats, districts = zip(*rows, strict=True)
    return np.asarray(lons), np.asarray(lats), np.asarray(districts, dtype=object)


def _area_holding(settings: Settings, lons: np.ndarray, lats: np.ndarray, wanted: int) -> Area:
    """A 64-sided circle around the city's median point holding about `wanted` customers
    (a circle: the generator clamps customers onto district edges, which a square would
    take in all at once)."""
    cx, cy = float(np.median(lons)), float(np.median(lats))
    distance = np.hypot(lons - cx, lats - cy)
    radius = float(np.partition(distance, wanted)[wanted]) if wanted < len(lons) else 0.2
    angles = np.linspace(0, 2 * np.pi, 65)[:-1]
    ring = [[cx + radius * float(np.cos(a)), cy + radius * float(np.sin(a))] for a in angles]
    return parse_area({"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
                      territory=territory_of(settings))


def _best(work: Callable[[], Any]) -> tuple[float, Any]:
    work()  # warm the page cache and the query plan
    times, result = [], None
    for _ in range(REPEATS):
        began = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - began)
    return min(times), result


def _preview(backend: str, engine: Engine, settings: Settings, area: Area,
             arrays: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    start = utcnow() + timedelta(days=6)
    draft = draft_preview.Draft(area=area, start=start, end=start + timedelta(hours=8),
                                reason="bench")

    def answer() -> bytes:
        with engine.connect() as conn:
            shown = draft_preview.preview(conn, settings, draft)
        return json.dumps(shown.as_json(), ensure_ascii=False).encode()

    took, body = _best(answer)
    count = json.loads(body)["count"]
    lons, lats, districts = arrays

    def floor() -> int:
        min_lon, min_lat, max_lon, max_lat = area.bounds
        box = np.flatnonzero((lons >= min_lon) & (lons <= max_lon) & (lats >= min_lat)
                             & (lats <= max_lat))
        inside = box[covered_mask(area.geometry, lons[box], lats[box])]
        _names, counts = np.unique(districts[inside].astype(str), return_counts=True)
        return int(counts.sum())

    floor_took, floor_count = _best(floor)
    verdict = "ok" if took < PREVIEW_TARGET else "OVER TARGET"
    print(f"[{backend}] preview: {count:,} customers affected, {len(body):,} bytes, "
          f"{took * 1000:.0f} ms (target < {PREVIEW_TARGET * 1000:.0f} ms: {verdict})")
    print(f"[{backend}]   floor, the same match over arrays in memory ({floor_count:,}, "
          "connected or not): "
          f"{floor_took * 1000:.0f} ms", flush=True)


def _density(backend: str, engine: Engine) -> None:
    cell = density.cell_size(ZOOM)

    def answer() -> bytes:
        with engine.connect() as conn:
            grid = density.grid(conn, bbox=CITY, cell=cell)
        return json.dumps(grid.as_json(), separators=(",", ":")).encode()

    took, body = _best(answer)
    shown = json.loads(body)
    origin_lon, origin_lat = shown["origin"]
    cast = "floor(({v} - {o}) / {c})" if engine.dialect.name == "postgresql" \
        else "CAST(({v} - {o}) / {c} AS INTEGER)"
    rows = int((CITY.max_lat - origin_lat) // cell) + 2
    bare = (f"SELECT {cast.format(v='lon', o=origin_lon, c=cell)} * {rows} + "
            f"{cast.format(v='lat', o=origin_lat, c=cell)}, count(*) FROM customers "
            f"WHERE lon BETWEEN {CITY.min_lon} AND {CITY.max_lon} "
            f"AND lat BETWEEN {CITY.min_lat} AND {CITY.max_lat} GROUP BY 1")

    def floor() -> int:
        with engine.connect() as conn:
            return len(conn.exec_driver_sql(bare).all())

    floor_took, floor_cells = _best(floor)
    ok = took < DENSITY_TARGET and len(body) < DENSITY_BYTES
    print(f"[{backend}] density at zoom {ZOOM} (cell {cell:.5f} deg): {len(shown['cells']):,} "
          f"cells, {shown['total']:,} customers, {len(body):,} bytes, {took * 1000:.0f} ms "
          f"(target < {DENSITY_TARGET * 1000:.0f} ms and < {DENSITY_BYTES // 1000} KB: "
          f"{'ok' if ok else 'OVER TARGET'})")
    print(f"[{backend}]   floor, the bare GROUP BY ({floor_cells:,} cells): "
          f"{floor_took * 1000:.0f} ms", flush=True)


def _uptime() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1, 5, 15 min) on {os.cpu_count()} cores"
