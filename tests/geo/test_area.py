"""Area semantics: edges count, holes do not (their edges do), parts count once, bad shapes
are refused with the place, --repair says what changed."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from geo import AreaError, BBox, covered_mask, load_area, parse_area
from outages.registry.matching import customers_in_area

VN = BBox(102.0, 8.0, 110.0, 24.0)


def square(x0: float, y0: float, x1: float, y1: float) -> list[list[float]]:
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]


def polygon(*rings: list[list[float]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": list(rings)}


OUTER = square(105.80, 21.00, 105.81, 21.01)
HOLE = square(105.803, 21.003, 105.807, 21.007)


def covered(area: dict[str, Any], points: list[tuple[float, float]]) -> list[bool]:
    shape = parse_area(area, territory=VN)
    lons, lats = zip(*points, strict=True)
    return [bool(v) for v in covered_mask(shape.geometry, np.array(lons), np.array(lats))]


def test_boundary_and_corners_count_outside_does_not() -> None:
    assert covered(polygon(OUTER), [(105.805, 21.00), (105.80, 21.00), (105.805, 21.005),
                                    (105.8101, 21.005)]) == [True, True, True, False]


def test_hole_is_excluded_but_its_edge_counts() -> None:
    assert covered(polygon(OUTER, HOLE), [(105.805, 21.005), (105.803, 21.005),
                                          (105.801, 21.001)]) == [False, True, True]


def test_parts_and_features_overlapping_count_a_customer_once(engine: Any,
                                                             add_customers: Any) -> None:
    add_customers([{"code": "IN_BOTH", "lon": 105.805, "lat": 21.005},
                   {"code": "IN_ONE", "lon": 105.801, "lat": 21.001},
                   {"code": "OUT", "lon": 105.9, "lat": 21.1}])
    other = square(105.804, 21.004, 105.82, 21.02)
    multi = {"type": "MultiPolygon", "coordinates": [[OUTER], [other]]}
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "a"}, "geometry": polygon(OUTER)},
        {"type": "Feature", "properties": {"name": "b"}, "geometry": polygon(other)}]}
    with engine.connect() as conn:
        for document in (multi, collection):
            affected = customers_in_area(conn, parse_area(document, territory=VN))
            assert sorted(affected.codes) == ["IN_BOTH", "IN_ONE"]


@pytest.mark.parametrize(
    ("document", "message", "location"),
    [
        (polygon(OUTER[:-1]), "ring is not closed", "Polygon ring 0 (exterior)"),
        (polygon([[105.8, 21.0], [105.81, 21.0], [105.8, 21.0]]), "ring has 3 positions",
         "Polygon ring 0 (exterior)"),
        (polygon([[105.80, 21.00], [105.81, 21.01], [105.81, 21.00], [105.80, 21.01],
                  [105.80, 21.00]]),
         "self-intersection at (lon 105.805, lat 21.005)", "Polygon"),
        (polygon(OUTER, square(105.9, 21.1, 105.91, 21.11)), "hole lies outside shell",
         "Polygon"),
        (polygon([[21.0, 105.8], [21.0, 105.81], [21.01, 105.81], [21.0, 105.8]]),
         "lon and lat look swapped", "Polygon ring 0 (exterior) position 0"),
        ({"type": "Point", "coordinates": [105.8, 21.0]}, "unsupported GeoJSON type", None),
        ({"type": "MultiPolygon", "coordinates": []}, "polygons have no coordinates", None),
        (polygon([[10 ** 400, 21.0], [105.81, 21.0], [105.81, 21.01], [10 ** 400, 21.0]]),
         "[lon, lat] out of range", "Polygon ring 0 (exterior) position 0"),
    ],
)
def test_bad_areas_are_refused_with_the_place(document: dict[str, Any], message: str,
                                              location: str | None) -> None:
    with pytest.raises(AreaError) as caught:
        parse_area(document, territory=VN)
    assert message in caught.value.message
    assert caught.value.location == location


def test_repair_says_what_changed() -> None:
    bow_tie = polygon([[105.80, 21.00], [105.81, 21.01], [105.81, 21.00], [105.80, 21.01],
                       [105.80, 21.00]])
    area = parse_area(bow_tie, territory=VN, repair=True)
    assert area.geometry.is_valid
    [note] = area.repairs
    assert "self-intersection" in note and "repaired into 2 part(s)" in note
    assert bool(covered_mask(area.geometry, [105.801], [21.005])[0]) is True


def test_max_vertices_and_inline_source() -> None:
    text = json.dumps(polygon(OUTER))
    assert load_area(text, territory=VN).vertex_count == 5
    with pytest.raises(AreaError, match="5 vertices, more than the limit of 4"):
        load_area(text, territory=VN, max_vertices=4)
