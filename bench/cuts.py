"""Creating a planned cut over ~50,000 customers in a 1,000,000-customer SQLite registry.

Prints the time of `outages.lifecycle.cuts.create` (match, affected set, interruption placeholders,
revision, audit, event, summary) and, beside it, the raw floor: plain sqlite3 storing the
same rows with executemany + INSERT ... SELECT, and the bare match (bbox query + shapely).
"""

from __future__ import annotations

import argparse
import json
import math
import sqlite3
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import Engine

from geo import Area
from outages import db, notices  # noqa: F401  (notices: subscribes the notice planner)
from outages.lifecycle import core as lifecycle
from outages.lifecycle import cuts
from outages.lifecycle import history_import as interruption_import
from outages.registry.matching import customers_in_area
from outages.settings import Settings, load_settings
from outages.timeutil import utcnow

BOX = (105.78, 20.97, 105.90, 21.08)  # a Hanoi-sized city
BATCH = 50_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--customers", type=int, default=1_000_000,
                        help="registry size (default 1,000,000)")
    parser.add_argument("--affected", type=int, default=50_000,
                        help="target size of the cut's affected set (default 50,000)")
    parser.add_argument("--import-rows", type=int, default=0,
                        help="also time `interruptions import` of this many history rows "
                        "(default 0: skipped)")
    parser.add_argument("--db", type=Path, default=None,
                        help="SQLite file to use (default: a temporary one)")


def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-cuts-") as folder:
        path = args.db or Path(folder) / "cuts.db"
        path.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
        engine = db.make_engine(url)
        db.upgrade(engine)
        started = time.perf_counter()
        _fill(path, args.customers)
        print(f"registry: {args.customers:,} customers filled in "
              f"{time.perf_counter() - started:.1f} s")
        settings = load_settings(environ={"OUTAGES_DATABASE_URL": url,
                                          "OUTAGES_PLANNED_MIN_NOTICE": "0s"})
        geojson = _square(args.affected / args.customers)
        _measure(engine, settings, path, geojson)
        if args.import_rows:
            _measure_import(engine, settings, Path(folder), args.import_rows, args.customers)
        engine.dispose()


def _fill(path: Path, count: int) -> None:
    """Synthetic customers straight into SQLite: uniform over the box, seeded."""
    rng = np.random.default_rng(7)
    lons = rng.uniform(BOX[0], BOX[2], count)
    lats = rng.uniform(BOX[1], BOX[3], count)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA synchronous=OFF")
        for first in range(0, count, BATCH):
            rows = [(f"PE{i:08d}", float(lons[i]), float(lats[i]), f"D{i % 12}", f"F{i % 400}")
                    for i in range(first, min(first + BATCH, count))]
            conn.executemany("INSERT INTO customers (code, lon, lat, district, feeder) "
                             "VALUES (?, ?, ?, ?, ?)", rows)


def _square(fraction: float) -> str:
    side = math.sqrt(fraction)
    cx, cy = (BOX[0] + BOX[2]) / 2, (BOX[1] + BOX[3]) / 2
    dx, dy = (BOX[2] - BOX[0]) * side / 2, (BOX[3] - BOX[1]) * side / 2
    ring = [[cx - dx, cy - dy], [cx + dx, cy - dy], [cx + dx, cy + dy], [cx - dx, cy + dy],
            [cx - dx, cy - dy]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def _measure(engine: Engine, settings: Settings, path: Path, geojson: str) -> None:
    area = lifecycle.read_area(geojson, settings)
    start = utcnow() + timedelta(days=1)
    began = time.perf_counter()
    view = cuts.create(engine, settings, area=area, start=start,
                       end=start + timedelta(hours=8), reason="bench", actor="bench",
                       source="cli")
    took = time.perf_counter() - began
    match = _match_floor(engine, area)
    store = _store_floor(path, view.id)
    print(f"cuts create: {view.affected:,} affected customers in {took:.2f} s "
          f"(target < 3 s)")
    print(f"  floor, match only (bbox query + shapely):            {match:.2f} s")
    print(f"  floor, raw sqlite3 store (executemany + INSERT..SELECT): {store:.2f} s")
    print(f"  floor, both:                                          {match + store:.2f} s")


def _match_floor(engine: Engine, area: Area) -> float:
    began = time.perf_counter()
    with engine.connect() as conn:
        customers_in_area(conn, area)
    return time.perf_counter() - began


def _store_floor(path: Path, cut_id: int) -> float:
    """The same set stored again under a copy of the outage row, with nothing but sqlite3."""
    with sqlite3.connect(path, isolation_level=None) as conn:
        ids = [r[0] for r in conn.execute(
            "SELECT customer_id FROM outage_customers WHERE outage_id = ?", (cut_id,))]
        conn.execute("INSERT INTO outages (kind, status, revision, urgent) "
                     "VALUES ('planned', 'scheduled', 1, 0)")
        copy = conn.execute("SELECT max(id) FROM outages").fetchone()[0]
        began = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO outage_customers (outage_id, customer_id, added_revision) "
                         "VALUES (?, ?, 1)", [(copy, i) for i in ids])
        conn.execute("INSERT INTO interruptions (outage_id, customer_id, planned, cause) "
                     "SELECT outage_id, customer_id, 1, 'planned' FROM outage_customers "
                     "WHERE outage_id = ?", (copy,))
        conn.execute("COMMIT")
        return time.perf_counter() - began


def _measure_import(engine: Engine, settings: Settings, folder: Path, rows: int,
                    customers: int) -> None:
    """History in outages of 500 customers each, one shared start per outage."""
    csv_path = folder / "history.csv"
    with csv_path.open("w") as handle:
        handle.write("outage_id,customer_code,start,end,cause,planned\n")
        for n in range(rows):
            outage, k = divmod(n, 500)
            day = 1 + outage % 28
            handle.write(f"H{outage},PE{(outage * 997 + k * 7) % customers:08d},"
                         f"2025-03-{day:02d} 08:00,2025-03-{day:02d} 09:{k % 60:02d},"
                         "weather,false\n")
    began = time.perf_counter()
    result = interruption_import.import_csv(engine, settings, path=csv_path, actor="bench",
                                            source="cli")
    took = time.perf_counter() - began
    print(f"interruptions import: {result.imported:,} rows "
          f"({result.rejected} rejected) in {took:.1f} s, "
          f"{result.imported / took:,.0f} rows/s")
