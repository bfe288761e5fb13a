"""The density grid: counts per cell from the database, aligned cells, refusals."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy import Engine

from geo import BBox
from outages.errors import ValidationError
from outages.registry import density


def test_counts_per_cell_match_a_python_count(engine: Engine, add_customers: Any) -> None:
    points = [(105.8001 + 0.0013 * (i % 17), 21.0002 + 0.0009 * (i // 17)) for i in range(200)]
    add_customers([{"code": f"D{i}", "lon": lon, "lat": lat} for i, (lon, lat)
                   in enumerate(points)])
    cell = 0.005
    box = BBox(105.79, 20.99, 105.83, 21.03)
    with engine.connect() as conn:
        grid = density.grid(conn, bbox=box, cell=cell)
    expected = Counter((int((lon - grid.origin[0]) // cell), int((lat - grid.origin[1]) // cell))
                       for lon, lat in points)
    assert {(i, j): n for i, j, n in grid.cells} == dict(expected)
    assert (grid.total, grid.max) == (200, max(expected.values()))
    assert grid.origin == [pytest.approx(105.79), pytest.approx(20.99)]


def test_bbox_limits_the_customers(engine: Engine, add_customers: Any) -> None:
    add_customers([{"code": "IN", "lon": 105.801, "lat": 21.001},
                   {"code": "OUT", "lon": 105.901, "lat": 21.001}])
    with engine.connect() as conn:
        grid = density.grid(conn, bbox=BBox(105.80, 21.00, 105.85, 21.05), cell=0.01)
    assert grid.total == 1


def test_cells_are_aligned_whatever_the_bbox(engine: Engine, add_customers: Any) -> None:
    add_customers([{"code": "A", "lon": 105.8123, "lat": 21.0123}])
    with engine.connect() as conn:
        one = density.grid(conn, bbox=BBox(105.80, 21.00, 105.85, 21.05), cell=0.01)
        other = density.grid(conn, bbox=BBox(105.8071, 21.0033, 105.85, 21.05), cell=0.01)
    corner = [(one.origin[0] + i * one.cell, one.origin[1] + j * one.cell) for i, j, _ in one.cells]
    again = [(other.origin[0] + i * other.cell, other.origin[1] + j * other.cell)
             for i, j, _ in other.cells]
    assert corner == [pytest.approx((105.81, 21.01))] == again


def test_refusals(engine: Engine) -> None:
    with engine.connect() as conn:
        with pytest.raises(ValidationError, match="more than 40000"):
            density.grid(conn, bbox=BBox(102, 8, 110, 24), cell=0.001)
        with pytest.raises(ValidationError, match="positive"):
            density.grid(conn, bbox=BBox(105, 21, 106, 22), cell=0)
    with pytest.raises(ValidationError, match="zoom 30"):
        density.cell_size(30)
    assert density.cell_size(12) == pytest.approx(360 / 4096 / 16)
