"""PostGIS against the portable match, on the same areas of the same registry.

Portable (what the product does everywhere): the indexed bounding-box query on (lon, lat),
then one vectorised shapely covers-test over the candidates. PostGIS: a GiST index on the
point made from lon and lat, and ST_Covers(area, point) in the query, so only the covered
rows cross the driver. Both fetch the same columns; both must find the same customers.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import shapely
from sqlalchemy import Engine, text

from geo import Area
from outages.registry.matching import customers_in_area

POINT = "ST_SetSRID(ST_MakePoint(lon, lat), 4326)"
INDEX = "ix_bench_customers_point"
QUERY = (f"SELECT id, code, lon, lat, region, district, feeder, priority FROM customers "
         f"WHERE ST_Covers(ST_GeomFromText(:area, 4326), {POINT}) ORDER BY id")


def compare(engine: Engine, areas: list[tuple[str, Any]]) -> None:
    if not _ready(engine):
        return
    for label, polygon in areas:
        portable, ids = _best(lambda conn, p=polygon: customers_in_area(conn, Area(p)).ids,
                              engine)
        postgis, found = _best(lambda conn, p=polygon: np.fromiter(
            (r[0] for r in conn.execute(text(QUERY), {"area": shapely.to_wkt(p)})),
            dtype=np.int64), engine)
        same = np.array_equal(np.sort(ids), np.sort(found))
        winner = "PostGIS" if postgis < portable else "portable"
        print(f"postgis : {label}: {len(ids):,} customers; portable bbox + shapely "
              f"{portable:.3f} s, GiST ST_Covers {postgis:.3f} s: {winner} faster by "
              f"{max(portable, postgis) / min(portable, postgis):.2f}x; same customers: "
              f"{'yes' if same else 'NO'}", flush=True)


def _best(run: Any, engine: Engine) -> tuple[float, Any]:
    timings, result = [], None
    for _ in range(3):
        started = time.perf_counter()
        with engine.connect() as conn:
            result = run(conn)
        timings.append(time.perf_counter() - started)
    return min(timings), result


def _ready(engine: Engine) -> bool:
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    except Exception as exc:  # noqa: BLE001 - reported, the comparison is skipped
        print(f"postgis : skipped, the extension cannot be created here ({exc})")
        return False
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text(f"CREATE INDEX IF NOT EXISTS {INDEX} ON customers USING gist "
                          f"(({POINT}))"))
        conn.execute(text("ANALYZE customers"))
    print(f"postgis : GiST index on the customers' points ready in "
          f"{time.perf_counter() - started:.0f} s", flush=True)
    return True
