"""Which customers an area affects: an indexed bounding-box query, then one vectorised
shapely test over the candidates. No ORM object per customer."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, and_, or_, select

from geo import Area, covered_mask
from outages.models import Customer

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
        return sum(p is not None for p in self.priorities)

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
        return dict(Counter(v or "-" for v in values).most_common())


def customers_in_area(
    conn: Connection,
    area: Area,
    *,
    feeders: Sequence[str] | None = None,
    on: date | None = None,
) -> Affected:
    """Customers covered by `area` (boundary included), optionally only on `feeders` and
    only those connected on day `on`."""
    min_lon, min_lat, max_lon, max_lat = area.bounds
    query = select(_c.id, _c.code, _c.lon, _c.lat, _c.region, _c.district, _c.feeder,
                   _c.priority).where(
        _c.lon.between(min_lon, max_lon), _c.lat.between(min_lat, max_lat)
    )
    if feeders:
        query = query.where(_c.feeder.in_(list(feeders)))
    if on is not None:
        query = query.where(
            or_(_c.connected_on.is_(None), _c.connected_on <= on),
            or_(_c.disconnected_on.is_(None), _c.disconnected_on > on),
        )
    rows = conn.execute(query.order_by(_c.id)).all()
    if not rows:
        return _empty()
    ids, codes, lons, lats, regions, districts, feeder_names, priorities = zip(*rows,
                                                                               strict=True)
    mask = covered_mask(area.geometry, lons, lats)
    keep = np.flatnonzero(mask)
    return Affected(
        ids=np.asarray(ids, dtype=np.int64)[keep],
        codes=[codes[i] for i in keep],
        regions=[regions[i] for i in keep],
        districts=[districts[i] for i in keep],
        feeders=[feeder_names[i] for i in keep],
        priorities=[priorities[i] for i in keep],
    )


def _empty() -> Affected:
    return Affected(np.empty(0, dtype=np.int64), [], [], [], [], [])


def connected_filter(on: date) -> object:
    """SQL condition: the customer is connected on local day `on`."""
    return and_(
        or_(_c.connected_on.is_(None), _c.connected_on <= on),
        or_(_c.disconnected_on.is_(None), _c.disconnected_on > on),
    )
