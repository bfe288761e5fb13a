"""With PostGIS (and the GiST index migration 0015 makes when the extension is there), area
matching asks ST_Covers; without, the bounding box and shapely. Both find the same customers
in the same order: edges, corners, holes, several parts, feeder and date filters."""

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
from outages.registry import matching, pgcolumns
from outages.registry.matching import Affected, customers_in_area
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
    """A database of its own with PostGIS, migrated afterwards: 0015 makes the index."""
    why = install_postgis()
    if why:
        pytest.skip(why)
    engine = db.make_engine(empty_db_url)
    why = create_extension(engine)
    if why:
        engine.dispose()
        pytest.skip(why)
    db.upgrade(engine)
    pgcolumns._point_index.clear()
    yield engine
    pgcolumns._point_index.clear()
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


def _match(engine: Engine, area: Any, **options: Any) -> Affected:
    with engine.connect() as conn:
        return customers_in_area(conn, Area(area), **options)


def test_postgis_and_portable_find_the_same_customers(gis_engine: Engine,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    with gis_engine.begin() as conn:
        conn.execute(insert(Customer.__table__), _customers())
        assert conn.execute(text("SELECT 1 FROM pg_indexes WHERE indexname = :n"),
                            {"n": pgcolumns.POINT_INDEX}).first()
    options: list[dict[str, Any]] = [{}, {"on": date(2026, 12, 7)},
                                     {"feeders": ["HK-471", "HK-473"]}]
    found = {}
    with monkeypatch.context() as patch:  # the PostGIS path never calls shapely
        patch.setattr(matching, "covered_mask", _refuse)
        for name, area in AREAS.items():
            for k, option in enumerate(options):
                found[name, k] = _match(gis_engine, area, **option)
    monkeypatch.setattr(pgcolumns, "has_point_index", lambda conn: False)
    for (name, k), by_postgis in found.items():
        portable = _match(gis_engine, AREAS[name], **options[k])
        assert by_postgis.ids.tolist() == portable.ids.tolist(), (name, options[k])
        for field in ("codes", "regions", "districts", "feeders", "priorities"):
            assert getattr(by_postgis, field) == getattr(portable, field), (name, field)
        assert portable.count > 10
    hole = found["with a hole", 0].codes
    assert "G0604" not in hole and "G0606" not in hole  # inside the hole
    assert {"G0600", "G0601", "G0602", "G0603", "G0605"} <= set(hole)  # edges and corners


def test_without_the_index_shapely_decides(engine: Engine, add_customers: Any) -> None:
    add_customers(_customers()[:50])
    pgcolumns._point_index.clear()
    with engine.connect() as conn:
        assert not pgcolumns.has_point_index(conn)
    assert _match(engine, AREAS["with a hole"]).count > 0


def _refuse(*_args: Any) -> Any:
    raise AssertionError("shapely was asked although PostGIS decides")
