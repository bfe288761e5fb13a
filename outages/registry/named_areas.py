"""Named areas: districts, wards and feeder zones stored as polygons, so a dispatcher picks
"Đống Đa" (or several: their union) instead of drawing it."""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any, cast

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from sqlalchemy import ColumnElement, Connection, Engine, Table, insert, select, update

from geo import Area, AreaError, parse_area
from outages import text
from outages.access import audit
from outages.db import write_transaction
from outages.enums import AreaKind
from outages.errors import NotFound, ValidationError
from outages.models import Customer, NamedArea
from outages.registry.matching import connected_filter
from outages.registry.results import AreaImport, NamedAreaView
from outages.registry.rows import territory_of
from outages.settings import Settings
from outages.timeutil import iso_local, utcnow

TABLE = cast(Table, NamedArea.__table__)
_n = TABLE.c
NAME_MAX = text.NAME_MAX  # as outages.area_name, which customers read


def normal_name(name: str) -> str:
    """NFC, with the Icelandic eth some boundary files use for Đ ('Ðống Ða') made Đ."""
    return unicodedata.normalize("NFC", name.strip()).replace("\u00d0", "\u0110").replace(
        "\u00f0", "\u0111")


def read_features(settings: Settings, path: Path, *, name_property: str,
                  repair: bool = False) -> dict[str, Area]:
    """The polygons of a GeoJSON FeatureCollection by name, each validated like any area.
    Features sharing a name (a district and its islands) become one area."""
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))  # a BOM is fine
    except FileNotFoundError:
        raise ValidationError(f"file {path} does not exist", field="file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"cannot read {path}: {exc}", field="file") from None
    except json.JSONDecodeError as exc:
        raise ValidationError(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno} column "
                              f"{exc.colno}", field="file") from None
    except RecursionError:
        raise ValidationError(f"{path}: not GeoJSON: arrays or objects nested thousands deep",
                              field="file") from None
    features = document.get("features") if isinstance(document, dict) else None
    if not isinstance(features, list) or not features:
        raise ValidationError(f"{path}: expected a FeatureCollection with at least one "
                              "feature", field="file")
    parts: dict[str, list[Area]] = {}
    for index, feature in enumerate(features):
        name = _name_of(feature, index, name_property)
        parts.setdefault(name, []).append(_area_of(settings, feature, index, name, repair))
    return {name: _joined(name, areas) for name, areas in parts.items()}


def _name_of(feature: Any, index: int, name_property: str) -> str:
    props = feature.get("properties") if isinstance(feature, dict) else None
    value = props.get(name_property) if isinstance(props, dict) else None
    if not isinstance(value, str | int) or not str(value).strip():
        raise ValidationError(f"feature {index}: property {name_property!r} is missing or "
                              "empty (choose the property holding the name with "
                              "--name-property)", field="name_property")
    name = normal_name(str(value))
    wrong = text.problem(name, limit=NAME_MAX, multiline=False)
    if wrong:
        raise ValidationError(f"feature {index}: the name {wrong}", field="name_property")
    return name


def _area_of(settings: Settings, feature: Any, index: int, name: str, repair: bool) -> Area:
    try:
        return parse_area(feature, territory=territory_of(settings), repair=repair)
    except AreaError as exc:
        raise ValidationError(f"feature {index} ({name}): {exc}", field="file",
                              hint=exc.hint) from None


def _joined(name: str, areas: list[Area]) -> Area:
    geometry = areas[0].geometry if len(areas) == 1 else shapely.union_all(
        [a.geometry for a in areas])
    repairs = [note for a in areas for note in a.repairs]
    return Area(geometry=_polygonal(geometry), name=name, repairs=repairs)


def _polygonal(geometry: Any) -> Polygon | MultiPolygon:
    if isinstance(geometry, Polygon | MultiPolygon):
        return geometry
    polygons = [p for part in getattr(geometry, "geoms", [])
                for p in (part.geoms if isinstance(part, MultiPolygon) else [part])
                if isinstance(p, Polygon)]
    return MultiPolygon(polygons)


def store(engine: Engine, areas: dict[str, Area], *, kind: AreaKind, actor: str,
          source: str) -> AreaImport:
    """Insert the areas, replacing those of the same name and kind; one transaction, one
    audit entry per area."""
    imported: list[str] = []
    replaced: list[str] = []
    now = utcnow()
    with write_transaction(engine) as conn:
        for name, area in areas.items():
            values = _values(area, now=now, actor=actor)
            old = conn.execute(select(TABLE).where(_n.name == name, _n.kind == kind)).first()
            if old is None:
                new_id = conn.execute(insert(TABLE).values(name=name, kind=kind, **values)
                                      .returning(_n.id)).scalar_one()
                imported.append(name)
            else:
                new_id = old.id
                conn.execute(update(TABLE).where(_n.id == old.id).values(**values))
                replaced.append(name)
            audit.record(conn, actor=actor, source=source,
                         action="named_area.replaced" if old else "named_area.imported",
                         entity="named_area", entity_id=new_id,
                         before=_summary(old.name, kind, _stored(old.geometry)) if old else None,
                         after=_summary(name, kind, area.geometry))
    return AreaImport(kind=kind, imported=imported, replaced=replaced,
                      repairs=[n for a in areas.values() for n in a.repairs])


def _values(area: Area, *, now: Any, actor: str) -> dict[str, Any]:
    min_lon, min_lat, max_lon, max_lat = area.bounds
    return {"geometry": area.to_geojson(), "min_lon": min_lon, "min_lat": min_lat,
            "max_lon": max_lon, "max_lat": max_lat, "updated_at": now, "updated_by": actor}


def _summary(name: str, kind: str, geometry: Any) -> dict[str, Any]:
    """What the audit log keeps of a polygon: enough to see it changed, not its vertices."""
    minx, miny, maxx, maxy = (round(float(v), 6) for v in geometry.bounds)
    return {"name": name, "kind": kind, "vertices": int(shapely.get_num_coordinates(geometry)),
            "area_km2": round(Area(geometry=geometry).area_km2(), 3),
            "bbox": [minx, miny, maxx, maxy]}


def _stored(text: str) -> Polygon | MultiPolygon:
    return _polygonal(shapely.from_geojson(text))


def listing(conn: Connection, settings: Settings, *,
            kind: AreaKind | None = None) -> list[NamedAreaView]:
    query = select(TABLE).order_by(_n.kind, _n.name)
    if kind is not None:
        query = query.where(_n.kind == kind)
    return [NamedAreaView(id=row.id, name=row.name, kind=row.kind,
                          bbox=[row.min_lon, row.min_lat, row.max_lon, row.max_lat],
                          vertices=(s := _summary(row.name, row.kind,
                                                  _stored(row.geometry)))["vertices"],
                          area_km2=s["area_km2"],
                          updated_at=iso_local(row.updated_at, settings.tz) or "",
                          updated_by=row.updated_by)
            for row in conn.execute(query)]


def union(conn: Connection, ids: Sequence[int]) -> Area:
    """One area made of the named areas with these ids (their union), named after them."""
    wanted = list(dict.fromkeys(int(i) for i in ids))
    if not wanted:
        raise ValidationError("pick at least one named area", field="named_areas")
    rows = {row.id: row for row in conn.execute(
        select(_n.id, _n.name, _n.geometry).where(_n.id.in_(wanted)))}
    missing = [i for i in wanted if i not in rows]
    if missing:
        raise NotFound(f"no named area with id {', '.join(map(str, missing))}",
                       field="named_areas")
    shapes = [_stored(rows[i].geometry) for i in wanted]
    geometry = shapes[0] if len(shapes) == 1 else _polygonal(shapely.union_all(shapes))
    names = [rows[i].name for i in wanted]
    joined = ", ".join(names)
    if len(joined) > NAME_MAX:  # customers read it: the first and how many more
        more = f" and {len(names) - 1} more"
        joined = names[0][:NAME_MAX - len(more)] + more
    return Area(geometry=geometry, name=joined)


def feature_collection(conn: Connection, *, kind: AreaKind | None = None) -> dict[str, Any]:
    """Every named area as GeoJSON, for the map's layer."""
    query = select(_n.id, _n.name, _n.kind, _n.geometry).order_by(_n.kind, _n.name)
    if kind is not None:
        query = query.where(_n.kind == kind)
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": row.id,
         "properties": {"id": row.id, "name": row.name, "kind": row.kind},
         "geometry": json.loads(row.geometry)} for row in conn.execute(query)]}


def combine(areas: Sequence[Area]) -> Area:
    """One area covering all of `areas` (drawn, uploaded and picked parts together)."""
    if len(areas) == 1:
        return areas[0]
    names = [a.name for a in areas if a.name]
    return Area(geometry=_polygonal(shapely.union_all([a.geometry for a in areas])),
                name=", ".join(names) or None, repairs=[n for a in areas for n in a.repairs])


FEEDER_MARGIN_M = 100.0
M_PER_DEG = 111_320.0


def feeder_zone(conn: Connection, feeders: Sequence[str], *, on: date) -> Area:
    """The area a choice of feeders serves: the convex hull of their customers connected on
    `on`, widened by 100 m so those on the hull's edge are well inside. A cut over it is
    restricted to the feeders, so the margin adds nobody. Unnamed: customers read the
    districts."""
    c = Customer.__table__.c
    query = select(c.lon, c.lat).where(c.feeder.in_(list(feeders)),
                                       cast(ColumnElement[bool], connected_filter(on)))
    points = np.asarray(conn.execute(query).all(), dtype=float)
    if not len(points):
        raise ValidationError(f"no customer is connected on feeder(s) {', '.join(feeders)}: "
                              "check the names", field="feeders")
    scale = np.array([math.cos(math.radians(float(points[:, 1].mean()))) * M_PER_DEG,
                      M_PER_DEG])
    hull = shapely.MultiPoint(points * scale).convex_hull.buffer(FEEDER_MARGIN_M, quad_segs=8)
    return Area(geometry=_polygonal(shapely.transform(hull, lambda xy: xy / scale)))
