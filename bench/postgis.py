"""PostGIS against the portable match, on the same areas of the same registry.

Portable (what the product does everywhere): the indexed bounding-box query on (lon, lat),
then one vectorised shapely covers-test over the candidates. PostGIS: a GiST index on the
point made from lon and lat, and ST_Covers(area, point) in the query, so only the covered
rows cross the driver. Both read the same columns the same way; both must find the same
customers.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import shapely
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from geo import Area
from outages.registry.matching import customers_in_area

POINT = "ST_SetSRID(ST_MakePoint(lon, lat), 4326)"
INDEX = "ix_bench_customers_point"


def by_postgis(conn: Any, polygon: Any) -> Any:
    """The customers ST_Covers finds, read as the product reads candidates (grouped numpy
    columns), in id order: only the covered rows cross the driver."""
    from outages.registry import matching

    covers = text(f"ST_Covers(ST_GeomFromText(:area, 4326), {POINT})").bindparams(
        area=shapely.to_wkt(polygon))
    candidates = matching._columns(conn, [covers])
    assert candidates is not None, "a code holds the separator: compare on other data"
    keep = np.argsort(candidates.ids, kind="stable")
    return candidates.affected(keep)


def compare(engine: Engine, areas: list[tuple[str, Any]]) -> None:
    if not _ready(engine):
        return
    for label, polygon in areas:
        portable, ours = _best(lambda conn, p=polygon: customers_in_area(conn, Area(p)), engine)
        postgis, theirs = _best(lambda conn, p=polygon: by_postgis(conn, p), engine)
        same = ours.ids.tolist() == theirs.ids.tolist() and ours.codes == theirs.codes
        winner = "PostGIS" if postgis < portable else "portable"
        print(f"postgis : {label}: {ours.count:,} customers; portable bbox + shapely "
              f"{portable:.3f} s, GiST ST_Covers {postgis:.3f} s (both read grouped columns): "
              f"{winner} faster by {max(portable, postgis) / min(portable, postgis):.2f}x; "
              f"same customers: {'yes' if same else 'NO'}", flush=True)


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
    except DBAPIError as exc:  # not installed, or not allowed: reported, skipped
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
