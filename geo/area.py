"""Parse and validate an area (Polygon, MultiPolygon, Feature, FeatureCollection of those).

Errors say what is wrong and where: feature, polygon, ring and position, with coordinates.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from geo.territory import BBox, point_problem

POLYGONAL = ("Polygon", "MultiPolygon")


class AreaError(ValueError):
    """An area that cannot be used, with the reason and the place in the input; `hint`
    names a way out ("repair": make_valid can fix it) for the caller to word."""

    def __init__(self, message: str, *, location: str | None = None,
                 hint: str | None = None) -> None:
        super().__init__(f"{location}: {message}" if location else message)
        self.message = message
        self.location = location
        self.hint = hint


@dataclass
class Area:
    geometry: Polygon | MultiPolygon
    name: str | None = None
    repairs: list[str] = field(default_factory=list)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        minx, miny, maxx, maxy = self.geometry.bounds
        return float(minx), float(miny), float(maxx), float(maxy)

    @property
    def vertex_count(self) -> int:
        return int(shapely.get_num_coordinates(self.geometry))

    def area_km2(self) -> float:
        return approx_area_km2(self.geometry)

    def to_geojson(self) -> str:
        return shapely.to_geojson(self.geometry)


def approx_area_km2(geometry: BaseGeometry) -> float:
    """Area on an equirectangular projection at the centroid latitude: good to about 1%
    for city-sized areas, enough to tell a person what changed."""
    if geometry.is_empty:
        return 0.0
    lat = geometry.centroid.y
    km_per_deg = 111.32
    return float(geometry.area) * km_per_deg * km_per_deg * math.cos(math.radians(lat))


def load_area(
    source: str | Path,
    *,
    territory: BBox,
    repair: bool = False,
    max_vertices: int | None = None,
) -> Area:
    """Read an area from a file path or an inline GeoJSON string."""
    text = _read_source(source)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AreaError(f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
                        location=_label(source)) from None
    except RecursionError:
        raise AreaError("not GeoJSON: arrays or objects nested thousands deep",
                        location=_label(source)) from None
    return parse_area(document, territory=territory, repair=repair, max_vertices=max_vertices)


def _read_source(source: str | Path) -> str:
    if isinstance(source, Path):
        return _read_file(source)
    stripped = source.lstrip()
    if stripped.startswith(("{", "[")):
        return source
    return _read_file(Path(source))


def _read_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")  # Notepad and GIS tools may add a BOM
    except FileNotFoundError:
        raise AreaError(f"area file {path} does not exist (give a GeoJSON file path or "
                        "an inline GeoJSON object)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AreaError(f"cannot read area file {path}: {exc}") from None


def _label(source: str | Path) -> str:
    return "inline GeoJSON" if isinstance(source, str) and source.lstrip().startswith("{") \
        else str(source)


def parse_area(
    document: Any,
    *,
    territory: BBox,
    repair: bool = False,
    max_vertices: int | None = None,
) -> Area:
    """Validate a decoded GeoJSON object and build the area (parts unioned)."""
    parts, name = _polygonal_parts(document)
    if not parts:
        raise AreaError("no Polygon or MultiPolygon found: an area needs at least one polygon")
    labelled = [item for where, geometry in parts for item in _build(where, geometry, territory)]
    if not labelled:
        raise AreaError("the area's polygons have no coordinates: an area needs at least one "
                        "polygon with a closed ring of [lon, lat] positions")
    count = sum(int(shapely.get_num_coordinates(polygon)) for _, polygon in labelled)
    if max_vertices is not None and count > max_vertices:
        raise AreaError(f"area has {count} vertices, more than the limit of {max_vertices}: "
                        "simplify the polygon")
    repairs: list[str] = []
    checked = [_check_valid(where, polygon, repair, repairs) for where, polygon in labelled]
    merged = shapely.union_all(checked) if len(checked) > 1 else checked[0]
    geometry = _polygonal(merged)
    if geometry.is_empty:
        raise AreaError("the area is empty after repair: draw it again")
    return Area(geometry=geometry, name=name, repairs=repairs)


def _polygonal_parts(document: Any) -> tuple[list[tuple[str, dict[str, Any]]], str | None]:
    if not isinstance(document, dict) or "type" not in document:
        raise AreaError("expected a GeoJSON object with a \"type\" member")
    kind = document["type"]
    if kind in POLYGONAL:
        return [(kind, document)], None
    if kind == "Feature":
        return [_feature_geometry(document, "feature")], _feature_name(document)
    if kind == "FeatureCollection":
        features = document.get("features")
        if not isinstance(features, list):
            raise AreaError("FeatureCollection without a \"features\" array")
        parts = [_feature_geometry(f, f"feature {i}") for i, f in enumerate(features)]
        names = [n for n in (_feature_name(f) for f in features) if n]
        return parts, ", ".join(names) if names else None
    raise AreaError(f"unsupported GeoJSON type {kind!r}: use Polygon, MultiPolygon, Feature "
                    "or FeatureCollection of those")


def _feature_name(feature: Any) -> str | None:
    props = feature.get("properties") if isinstance(feature, dict) else None
    name = props.get("name") if isinstance(props, dict) else None
    return str(name) if name else None


def _feature_geometry(feature: Any, where: str) -> tuple[str, dict[str, Any]]:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise AreaError("expected a Feature object", location=where)
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict) or geometry.get("type") not in POLYGONAL:
        got = geometry.get("type") if isinstance(geometry, dict) else geometry
        raise AreaError(f"geometry must be Polygon or MultiPolygon, got {got!r}", location=where)
    return where, geometry


def _build(
    where: str, geometry: dict[str, Any], territory: BBox
) -> list[tuple[str, Polygon]]:
    coordinates = geometry.get("coordinates")
    if not isinstance(coordinates, list):
        raise AreaError("missing \"coordinates\" array", location=where)
    if geometry["type"] == "Polygon":
        return [(where, _polygon(where, coordinates, territory))]
    return [(f"{where} polygon {i}", _polygon(f"{where} polygon {i}", rings, territory))
            for i, rings in enumerate(coordinates)]


def _polygon(where: str, rings: Any, territory: BBox) -> Polygon:
    if not isinstance(rings, list) or not rings:
        raise AreaError("a polygon needs at least an exterior ring", location=where)
    checked = [_ring(f"{where} ring {i}" + (" (exterior)" if i == 0 else " (hole)"), ring,
                     territory)
               for i, ring in enumerate(rings)]
    return Polygon(checked[0], checked[1:])


def _ring(where: str, ring: Any, territory: BBox) -> list[tuple[float, float]]:
    if not isinstance(ring, list):
        raise AreaError("a ring must be an array of [lon, lat] positions", location=where)
    points = [_position(f"{where} position {i}", p, territory) for i, p in enumerate(ring)]
    if len(points) < 4:
        raise AreaError(f"ring has {len(points)} positions; a closed ring needs at least 4 "
                        "(3 corners and the first repeated at the end)", location=where)
    if points[0] != points[-1]:
        raise AreaError(f"ring is not closed: first position {points[0]} differs from last "
                        f"{points[-1]}; repeat the first position at the end", location=where)
    return points


def _position(where: str, position: Any, territory: BBox) -> tuple[float, float]:
    if (not isinstance(position, list) or len(position) < 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool)
                       for v in position[:2])):
        raise AreaError(f"expected [lon, lat] numbers, got {json.dumps(position)}", location=where)
    try:
        lon, lat = float(position[0]), float(position[1])
    except OverflowError:  # an integer too long for a float: no longitude or latitude
        raise AreaError(f"[lon, lat] out of range: lon is -180..180, lat -90..90, got "
                        f"{str(position[:2])[:60]}", location=where) from None
    problem = point_problem(lon, lat, territory)
    if problem:
        raise AreaError(problem, location=where)
    return lon, lat


def _check_valid(where: str, polygon: Polygon, repair: bool, repairs: list[str]) -> BaseGeometry:
    if polygon.is_valid:
        return polygon
    reason = shapely.is_valid_reason(polygon)
    if not repair:
        raise AreaError(f"invalid polygon: {_explain(reason)}; fix the drawing",
                        location=where, hint="repair")
    fixed = _polygonal(shapely.make_valid(polygon))
    before, after = approx_area_km2(polygon), approx_area_km2(fixed)
    parts = len(fixed.geoms) if isinstance(fixed, MultiPolygon) else 1
    repairs.append(f"{where}: {_explain(reason)}; repaired into {parts} part(s), "
                   f"area {before:.3f} km² -> {after:.3f} km²")
    return fixed


def _explain(reason: str) -> str:
    """shapely says 'Self-intersection[105.8 21.02]'; say it as a person would."""
    label, _, rest = reason.partition("[")
    where = rest.rstrip("]").split()
    text = label.strip().lower()
    if len(where) == 2:
        return f"{text} at (lon {float(where[0]):g}, lat {float(where[1]):g})"
    return text


def _polygonal(geometry: BaseGeometry) -> Polygon | MultiPolygon:
    """Keep the polygonal parts (make_valid may add lines or points along the way)."""
    if isinstance(geometry, Polygon | MultiPolygon):
        return geometry
    polygons: list[Polygon] = []
    for part in getattr(geometry, "geoms", []):
        if isinstance(part, Polygon):
            polygons.append(part)
        elif isinstance(part, MultiPolygon):
            polygons.extend(part.geoms)
    return MultiPolygon(polygons) if len(polygons) != 1 else polygons[0]
