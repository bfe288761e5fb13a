"""PostGIS's ST_Covers and the product's match (bounding box, then shapely) agree on who is
inside an area: edges, corners, holes, several parts. `make bench BENCH_ARGS=scale` compares
their speed on these grounds; the product keeps the portable match (it was as fast)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import numpy as np
import pytest
import shapely
from sqlalchemy import Engine, insert, text

from geo import Area
from outages import db
from outages.models import Customer
from outages.registry.matching import customers_in_area
from tests.geo.test_area import HOLE, OUTER
from tests.support.postgis import create_extension, install_postgis

pytestmark = pytest.mark.postgres_only

AREAS = {
    "with a hole": shapely.Polygon(OUTER, [HOLE]),
    "two parts": shapely.MultiPolygon([shapely.Polygon(OUTER),
                                       shapely.box(105.812, 21.0, 105.815, 21.004)]),
    "a triangle": shapely.Polygon([(105.80, 21.00), (105.81, 21.00), (105.80, 21.01)]),
}


@pytest.fixture
def gis_engine(empty_db_url: str) -> Iterator[Engine]:
    """A database of its own with PostGIS (the shared test database stays without)."""
    why = install_postgis()
    if why:
        pytest.skip(why)
    engine = db.make_engine(empty_db_url)
    why = create_extension(engine)
    if why:
        engine.dispose()
        pytest.skip(why)
    db.upgrade(engine)
    yield engine
    engine.dispose()


def _customers() -> list[dict[str, Any]]:
    rng = np.random.default_rng(5)
    points = list(zip(rng.uniform(105.798, 105.816, 600).tolist(),
                      rng.uniform(20.998, 21.012, 600).tolist(), strict=True))
    points += [(105.80, 21.005), (105.81, 21.01), (105.803, 21.005), (105.805, 21.007),
               (105.805, 21.005), (105.80, 21.00), (105.805, 21.005), (105.812, 21.002),
               (105.805, 21.0050000001), (105.8, 21.01)]  # edges, corners, hole, near-edge
    return [{"code": f"G{k:04d}", "lon": x, "lat": y, "region": "Hà Nội",
             "district": ("Hoàn Kiếm", "Ba Đình", None)[k % 3], "feeder": f"HK-{471 + k % 4}",
             "priority": "medical" if k % 17 == 0 else None, "language": "vi",
             "connected_on": date(2020, 1, 1) if k % 13 else date(2031, 1, 1)}
            for k, (x, y) in enumerate(points)]


COVERS = text("SELECT id FROM customers WHERE ST_Covers(ST_GeomFromWKB(:area, 4326), "
              "ST_SetSRID(ST_MakePoint(lon, lat), 4326)) ORDER BY id")


def test_postgis_and_the_product_find_the_same_customers(gis_engine: Engine) -> None:
    with gis_engine.begin() as conn:
        conn.execute(insert(Customer.__table__), _customers())
    with gis_engine.connect() as conn:
        codes = dict(conn.execute(text("SELECT id, code FROM customers")).all())
        for name, area in AREAS.items():
            ours = customers_in_area(conn, Area(area))
            theirs = conn.execute(COVERS, {"area": shapely.to_wkb(area)}).scalars().all()
            assert ours.ids.tolist() == list(theirs), name
            assert ours.count > 10
        hole = {codes[i] for i in customers_in_area(conn, Area(AREAS["with a hole"])).ids}
    assert "G0604" not in hole and "G0606" not in hole  # inside the hole
    assert {"G0600", "G0601", "G0602", "G0603", "G0605"} <= hole  # edges and corners
