"""The privacy rule of every public answer, in one place.

No public answer reveals an individual customer: it carries no point per customer, no name,
phone, email, address or priority. A planned cut's area is public as drawn (utilities publish
it). A current outage's area is widened by `public.blur_m` metres, and left out altogether
when it was drawn around fewer callers than `public.min_count`. Customers are only counted,
per outage and per district, and a count under `public.min_count` reads "<N" (N being that
minimum). An outage's total never gives such a district's count away by subtraction: when
the hidden districts add up to fewer than N, the total reads ">M", M being what the districts
shown exactly add up to. The public builders (`public`, `public_feed`) take counts and areas
from here only, and the public routes serialise through `checked`, which refuses any
personal field.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import shapely
from shapely.geometry import mapping, shape

from outages.settings import Settings

Count = int | str
# Metres per degree of latitude, and of longitude at the equator (WGS 84, close enough
# for a blur of a few hundred metres anywhere in Vietnam).
_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON = 111_320.0
# Keys no public answer may hold, at any depth.
PERSONAL = frozenset({"name", "phone", "email", "address", "priority", "customer", "code",
                      "lon", "lat", "customer_id", "customers", "contact"})


class PersonalDataRefused(RuntimeError):
    """A public answer was about to carry a personal field: a bug, never sent."""


def shown_count(count: int, settings: Settings) -> Count:
    """A count of customers as the public may read it."""
    least = settings.public.min_count
    return count if count >= least else f"<{least}"


def total_count(counts: Mapping[str, int], settings: Settings) -> Count:
    """An outage's customers from its counts per district, as the public may read it beside
    them: 7 houses, 6 in one district and 1 in another, read ">6", not 7 (7 - 6 = 1).

    Beside k districts shown as "<least", an exact total tells what they add up to: it is
    hidden when that sum is small (below `least`) or pins every one of them (k houses: one
    each; k x (least - 1): the most each can have). It then reads as the most a reader
    knows anyway: the exact counts shown plus one house in each hidden district, less one."""
    least = settings.public.min_count
    total = sum(counts.values())
    small = [n for n in counts.values() if n < least]
    hidden, k = sum(small), len(small)
    if total >= least and small and (hidden < least or hidden in (k, k * (least - 1))):
        return f">{total - hidden + k - 1}"
    return shown_count(total, settings)


def district_counts(counts: Mapping[str, int], settings: Settings) -> dict[str, Count]:
    return {district: shown_count(n, settings) for district, n in sorted(counts.items())}


def planned_area(area_geojson: str | None) -> dict[str, Any] | None:
    """A planned cut's area, published as drawn."""
    return None if area_geojson is None else dict(json.loads(area_geojson))


def current_area(area_geojson: str | None, area_points: int | None,
                 settings: Settings) -> dict[str, Any] | None:
    """A current outage's area widened by public.blur_m; none when drawn around fewer
    callers' homes than public.min_count (the districts then say where)."""
    if area_geojson is None or around_few(area_points, settings):
        return None
    return blurred(json.loads(area_geojson), settings.public.blur_m)


def around_few(points: int | None, settings: Settings) -> bool:
    """Whether an area drawn around `points` callers' homes (None: drawn by hand) would
    place them: fewer than public.min_count."""
    return points is not None and points < settings.public.min_count


def blurred(geometry: Mapping[str, Any], metres: float) -> dict[str, Any]:
    """`geometry` (GeoJSON, lon/lat) buffered by `metres`: computed in a local metric plane
    around its centre (degrees of longitude shrink with cos(latitude)), rounded to about a
    metre, with few vertices per corner so the answer stays small."""
    area = shape(geometry)
    centre = area.centroid
    lon0, lat0 = centre.x, centre.y
    x_scale = _M_PER_DEG_LON * math.cos(math.radians(lat0))

    def to_metres(coords: Any) -> Any:
        return (coords - (lon0, lat0)) * (x_scale, _M_PER_DEG_LAT)

    def to_degrees(coords: Any) -> Any:
        return coords / (x_scale, _M_PER_DEG_LAT) + (lon0, lat0)

    plane = shapely.transform(area, to_metres)
    # A rounded corner drawn with 4 segments per quarter dips inside the true circle by
    # 1 - cos(pi/16); rounding to 1e-5 degrees moves a vertex by under a metre more.
    wide = shapely.buffer(plane, metres / math.cos(math.pi / 16) + 2, quad_segs=4)
    back = shapely.set_precision(shapely.transform(wide, to_degrees), 1e-5)
    # RFC 7946: exterior rings counterclockwise (GEOS gives a buffer clockwise), or strict
    # readers take the ring for the whole world but the area.
    return dict(mapping(shapely.orient_polygons(back)))


def checked(answer: Any) -> Any:
    """`answer` (JSON-ready) unchanged, after making sure no key at any depth is personal."""
    _walk(answer)
    return answer


def _walk(value: Any) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key in PERSONAL:
                raise PersonalDataRefused(f"a public answer carried {key!r}")
            _walk(item)
    elif isinstance(value, list | tuple):
        for item in value:
            if isinstance(item, Mapping | list | tuple):
                _walk(item)
