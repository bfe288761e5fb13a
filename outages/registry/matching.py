"""Which customers an area affects: an indexed bounding-box query, then one vectorised
shapely test over the candidates. No ORM object per customer."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, and_, or_, select

from geo import Area, covered_mask
from outages.models import Customer
from outages.registry import pgcolumns

_c = Customer.__table__.c


@dataclass(frozen=True)
class Affected:
    """The customers inside an area, as parallel columns."""

    ids: npt.NDArray[np.int64]
    codes: list[str]
    regions: list[str | None]
    districts: list[str | None]
    feeders: list[str | None]
    priorities: list[str | None]

    @property
    def count(self) -> int:
        return len(self.codes)

    @property
    def priority_count(self) -> int:
        """Priority customers (life support, medical, critical facility) among them."""
        return len(self.priorities) - self.priorities.count(None)

    def place_name(self, most: int = 3) -> str | None:
        """How customers know the place: its districts, largest first ('Đống Đa, Hai Bà
        Trưng'). Used for areas drawn without a name."""
        districts = [d for d in self.breakdown("district") if d != "-"]
        if not districts:
            return None
        shown = ", ".join(districts[:most])
        return shown if len(districts) <= most else f"{shown} +{len(districts) - most}"

    def breakdown(self, column: str) -> dict[str, int]:
        """Counts per region, district or feeder, largest first; '-' for unknown."""
        values = {"region": self.regions, "district": self.districts, "feeder": self.feeders}[
            column
        ]
        counts = Counter(values)  # counted in C; unknowns merged after, where first seen
        merged: dict[str, int] = {}
        for value, count in counts.items():
            merged[value or "-"] = merged.get(value or "-", 0) + count
        return dict(Counter(merged).most_common())


def customers_in_area(
    conn: Connection,
    area: Area,
    *,
    feeders: Sequence[str] | None = None,
    on: date | None = None,
) -> Affected:
    """Customers covered by `area` (boundary included), optionally only on `feeders` and
    only those connected on day `on`; in id order."""
    min_lon, min_lat, max_lon, max_lat = area.bounds
    where: list[Any] = []
    if feeders:
        where.append(_c.feeder.in_(list(feeders)))
    if on is not None:
        where.append(connected_filter(on))
    where += [_c.lon.between(min_lon, max_lon), _c.lat.between(min_lat, max_lat)]
    found = _columns(conn, where) if conn.dialect.name == "postgresql" else None
    candidates = found if found is not None else _rows(conn, where)
    if not len(candidates.ids):
        return _empty()
    keep = np.flatnonzero(covered_mask(area.geometry, candidates.lons, candidates.lats))
    keep = keep[np.argsort(candidates.ids[keep], kind="stable")]
    return candidates.affected(keep)


@dataclass(frozen=True)
class _Candidates:
    """Customers in the area's bounding box, in any order; each customer's region, district,
    feeder and priority are `names[group]`."""

    ids: npt.NDArray[np.int64]
    lons: npt.NDArray[np.float64]
    lats: npt.NDArray[np.float64]
    codes: npt.NDArray[np.object_]
    group: npt.NDArray[np.int64]
    names: list[tuple[str | None, ...]]

    def affected(self, keep: npt.NDArray[np.int64]) -> Affected:
        group = self.group[keep]
        names = [np.array([n[k] for n in self.names] or [None], dtype=object)[group].tolist()
                 for k in range(4)]
        return Affected(ids=self.ids[keep], codes=self.codes[keep].tolist(), regions=names[0],
                        districts=names[1], feeders=names[2], priorities=names[3])


_GROUPS = (_c.region, _c.district, _c.feeder, _c.priority)


def _rows(conn: Connection, where: list[Any]) -> _Candidates:
    rows = conn.execute(select(_c.id, _c.code, _c.lon, _c.lat, *_GROUPS).where(*where)).all()
    if not rows:
        return _no_candidates()
    ids, codes, lons, lats, *values = zip(*rows, strict=True)
    keys = list(zip(*values, strict=True))
    names = list(dict.fromkeys(keys))
    number = {name: k for k, name in enumerate(names)}
    return _Candidates(np.asarray(ids, dtype=np.int64), np.asarray(lons, dtype=np.float64),
                       np.asarray(lats, dtype=np.float64), _objects(codes),
                       np.fromiter((number[k] for k in keys), dtype=np.int64, count=len(keys)),
                       names)


def _columns(conn: Connection, where: list[Any]) -> _Candidates | None:
    """The candidates through pgcolumns.grouped; None when a code holds the separator (the
    row path then answers)."""
    groups = pgcolumns.grouped(conn, {"id": _c.id, "lon": _c.lon, "lat": _c.lat,
                                      "code": _c.code}, list(_GROUPS), where)
    if not groups:
        return _no_candidates()
    sizes = [len(g[4]) for g in groups]
    codes = [code for g in groups for code in g[7].split(pgcolumns.CODE_SEPARATOR)]
    if len(codes) != sum(sizes):
        return None
    return _Candidates(np.concatenate([g[4] for g in groups]),
                       np.concatenate([g[5] for g in groups]),
                       np.concatenate([g[6] for g in groups]), _objects(codes),
                       np.repeat(np.arange(len(groups), dtype=np.int64), sizes),
                       [tuple(g[:4]) for g in groups])


def _objects(values: Sequence[Any]) -> npt.NDArray[np.object_]:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _no_candidates() -> _Candidates:
    return _Candidates(np.empty(0, dtype=np.int64), np.empty(0), np.empty(0),
                       np.empty(0, dtype=object), np.empty(0, dtype=np.int64), [])


def _empty() -> Affected:
    return Affected(np.empty(0, dtype=np.int64), [], [], [], [], [])


def connected_filter(on: date) -> object:
    """SQL condition: the customer is connected on local day `on`."""
    return and_(
        or_(_c.connected_on.is_(None), _c.connected_on <= on),
        or_(_c.disconnected_on.is_(None), _c.disconnected_on > on),
    )
