"""The two ways customers_in_area reads candidates give the same customers in the same order:
rows (any backend), and grouped numpy columns (PostgreSQL), boundary, holes and unknown
places included; breakdowns count unknowns as '-' in first-seen order."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import numpy as np
import pytest
import shapely
from sqlalchemy import Engine

from geo import Area
from outages.registry import matching
from outages.registry.matching import Affected, customers_in_area
from tests.geo.test_area import HOLE, OUTER

AREA = Area(shapely.Polygon(OUTER, [HOLE]), "Phố cổ")


def _customers() -> list[dict[str, Any]]:
    rng = np.random.default_rng(3)
    rows = [{"code": f"R{k:04d}", "lon": float(x), "lat": float(y),
             "region": ["Hà Nội", None][k % 7 == 0],
             "district": ["Hoàn Kiếm", "Ba Đình", None][k % 3],
             "feeder": f"HK-{471 + k % 5}", "priority": ["medical", None, None][k % 3],
             "connected_on": date(2020, 1, 1) if k % 11 else date(2030, 1, 1)}
            for k, (x, y) in enumerate(zip(rng.uniform(105.799, 105.811, 400),
                                           rng.uniform(20.999, 21.011, 400), strict=True))]
    edges = [(105.80, 21.005), (105.81, 21.01), (105.803, 21.005), (105.805, 21.007),
             (105.805, 21.005), (105.80, 21.00)]  # outer edge, corner, hole edges, hole inside
    rows += [{"code": f"E{k}", "lon": x, "lat": y, "region": "Hà Nội", "district": "Hoàn Kiếm",
              "feeder": "HK-471", "priority": None, "connected_on": None}
             for k, (x, y) in enumerate(edges)]
    return rows


def _both(engine: Engine, monkeypatch: pytest.MonkeyPatch, **options: Any) -> tuple[Affected,
                                                                                      Affected]:
    with engine.connect() as conn:
        columns = customers_in_area(conn, AREA, **options)
    monkeypatch.setattr(matching, "_columns", lambda conn, where: None)
    with engine.connect() as conn:
        rows = customers_in_area(conn, AREA, **options)
    return columns, rows


def _same(one: Affected, other: Affected) -> None:
    assert one.ids.tolist() == other.ids.tolist()
    for field in ("codes", "regions", "districts", "feeders", "priorities"):
        assert getattr(one, field) == getattr(other, field), field


@pytest.mark.postgres_only
def test_columns_and_rows_find_the_same_customers(engine: Engine, add_customers: Any,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    add_customers(_customers())
    for options in ({}, {"on": date(2026, 12, 7)}, {"feeders": ["HK-472", "HK-473"]}):
        columns, rows = _both(engine, monkeypatch, **options)
        monkeypatch.undo()
        _same(columns, rows)
        assert columns.count > 50
    columns, _ = _both(engine, monkeypatch)
    found = set(columns.codes)
    assert {"E0", "E1", "E2", "E3"} <= found  # edges and corners, the hole's edges
    assert not {"E4"} & found  # inside the hole
    assert columns.ids.tolist() == sorted(columns.ids.tolist())


@pytest.mark.postgres_only
def test_a_code_holding_the_separator_is_read_by_rows(engine: Engine, add_customers: Any,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    add_customers([{"code": "A\x1fB", "lon": 105.801, "lat": 21.001},
                   {"code": "C", "lon": 105.802, "lat": 21.001}])
    with engine.connect() as conn:
        assert matching._columns(conn, [matching._c.lon > 0]) is None
        assert customers_in_area(conn, AREA).codes == ["A\x1fB", "C"]


def test_empty_area_on_any_backend(engine: Engine, add_customers: Any) -> None:
    add_customers([{"code": "FAR", "lon": 105.9, "lat": 21.1}])
    with engine.connect() as conn:
        affected = customers_in_area(conn, AREA)
    assert affected.count == 0 and affected.ids.dtype == np.int64


@pytest.mark.parametrize("values", [
    ["a", None, "b", "", "a", "-", None, "b", "c"],
    [None, "x", "y", "x", "y", None],
    ["", "z"],
    [],
])
def test_breakdown_counts_unknowns_as_a_dash_where_first_seen(values: list[Any]) -> None:
    affected = Affected(np.arange(len(values), dtype=np.int64), [""] * len(values),
                        values, values, values, values)
    expected = dict(Counter(v or "-" for v in values).most_common())
    assert affected.breakdown("district") == expected
    assert list(affected.breakdown("district")) == list(expected)
    assert affected.priority_count == sum(v is not None for v in values)
