"""Customer density for the map: counts per grid cell, aggregated by the database, so the
browser gets a few hundred cells instead of a million points. Staff only (the console):
small counts are shown as they are."""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import Connection, Integer, cast, func, select
from sqlalchemy.sql.elements import ColumnElement

from geo import BBox
from outages.errors import ValidationError
from outages.models import Customer
from outages.registry.results import DensityGrid

_c = Customer.__table__.c
TILE_PX = 256
MAX_CELLS = 40_000  # a bbox and cell size asking for more are refused, not truncated


def cell_size(zoom: int, cell_px: int = 16) -> float:
    """Degrees of longitude `cell_px` screen pixels cover at a web-map zoom level."""
    if not 0 <= zoom <= 22:
        raise ValidationError(f"zoom {zoom} is outside 0..22", field="zoom")
    return 360.0 / (2 ** zoom) / TILE_PX * cell_px


def grid(conn: Connection, *, bbox: BBox, cell: float) -> DensityGrid:
    """Customers per `cell`-degree square inside `bbox`. Cells are aligned on multiples of
    `cell` from (0, 0), so panning keeps them in place; column i, row j spans
    lon origin_lon + i*cell .. +cell, and lat the same way."""
    if not (cell > 0 and math.isfinite(cell)):
        raise ValidationError(f"cell size {cell} must be a positive number of degrees",
                              field="cell")
    origin_lon = math.floor(bbox.min_lon / cell) * cell
    origin_lat = math.floor(bbox.min_lat / cell) * cell
    columns = math.ceil((bbox.max_lon - origin_lon) / cell)
    rows = math.ceil((bbox.max_lat - origin_lat) / cell)
    if columns * rows > MAX_CELLS:
        raise ValidationError(f"{columns} x {rows} cells is more than {MAX_CELLS}: zoom in or "
                              "use a larger cell", field="cell")
    # One integer key per cell (column * rows + row): grouping on one small key is about a
    # third cheaper than on two.
    key = (_index(conn, (_c.lon - origin_lon) / cell) * (rows + 1)
           + _index(conn, (_c.lat - origin_lat) / cell))
    query = (select(key, func.count())
             .where(_c.lon.between(bbox.min_lon, bbox.max_lon),
                    _c.lat.between(bbox.min_lat, bbox.max_lat))
             .group_by(key))
    cells = [(int(k) // (rows + 1), int(k) % (rows + 1), int(n)) for k, n in conn.execute(query)]
    return DensityGrid(cell=cell, origin=[origin_lon, origin_lat], cells=cells,
                       total=sum(n for _, _, n in cells),
                       max=max((n for _, _, n in cells), default=0))


def _index(conn: Connection, offset: ColumnElement[Any]) -> ColumnElement[int]:
    # Offsets are never negative (origin <= bbox minimum), so SQLite's truncating CAST is a
    # floor; PostgreSQL rounds on CAST, hence floor() there.
    if conn.dialect.name == "postgresql":
        return cast(func.floor(offset), Integer)
    return cast(offset, Integer)
