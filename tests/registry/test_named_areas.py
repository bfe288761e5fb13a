"""Named areas: import (validated, replaced by name and kind, audited), list, union."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from outages.models import AuditEntry, NamedArea
from outages.registry import named_areas
from tests.lifecycle.conftest import square


def feature(name: str, geometry: dict[str, Any], key: str = "NAME_3") -> dict[str, Any]:
    return {"type": "Feature", "properties": {key: name}, "geometry": geometry}


def write(tmp_path: Path, *features: dict[str, Any], name: str = "areas") -> str:
    path = tmp_path / f"{name}.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": list(features)},
                               ensure_ascii=False), encoding="utf-8")
    return str(path)


WEST = square(105.80, 21.00, 105.81, 21.01)
EAST = square(105.81, 21.00, 105.82, 21.01)


def test_import_list_and_replace(cli: Any, tmp_path: Path, engine: Engine) -> None:
    # A GADM-style name with the Icelandic eth is stored with Đ.
    path = write(tmp_path, feature("\u00d0\u1ed1ng \u00d0a", WEST), feature("Ba Đình", EAST))
    result = cli("areas", "import", path, "--name-property", "NAME_3", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"kind": "district", "imported": ["Đống Đa", "Ba Đình"],
                                         "replaced": [], "repairs": []}
    bigger = square(105.80, 21.00, 105.815, 21.01)
    again = cli("areas", "import", write(tmp_path, feature("Đống Đa", bigger), name="b"),
                "--name-property", "NAME_3", "--json")
    assert json.loads(again.output)["replaced"] == ["Đống Đa"]
    listed = json.loads(cli("areas", "list", "--json").output)
    assert [(a["name"], a["kind"], a["bbox"]) for a in listed] == [
        ("Ba Đình", "district", [105.81, 21.0, 105.82, 21.01]),
        ("Đống Đa", "district", [105.8, 21.0, 105.815, 21.01])]
    with engine.connect() as conn:
        actions = [a for (a,) in conn.execute(select(AuditEntry.action)
                                              .where(AuditEntry.entity == "named_area"))]
    assert sorted(actions) == ["named_area.imported", "named_area.imported",
                               "named_area.replaced"]


def test_same_name_other_kind_is_another_area(cli: Any, tmp_path: Path) -> None:
    path = write(tmp_path, feature("Trung Liệt", WEST))
    cli("areas", "import", path, "--name-property", "NAME_3")
    cli("areas", "import", path, "--name-property", "NAME_3", "--kind", "ward")
    listed = json.loads(cli("areas", "list", "--json").output)
    assert sorted(a["kind"] for a in listed) == ["district", "ward"]


def test_one_bad_feature_stores_nothing(cli: Any, tmp_path: Path, engine: Engine) -> None:
    bowtie = {"type": "Polygon", "coordinates": [[[105.80, 21.00], [105.81, 21.01],
                                                  [105.81, 21.00], [105.80, 21.01],
                                                  [105.80, 21.00]]]}
    path = write(tmp_path, feature("Good", WEST), feature("Bowtie", bowtie))
    result = cli("areas", "import", path, "--name-property", "NAME_3")
    assert result.exit_code == 2
    assert "feature 1 (Bowtie)" in result.output and "self-intersection" in result.output
    missing = cli("areas", "import", path, "--name-property", "name")
    assert missing.exit_code == 2 and "feature 0: property 'name' is missing" in missing.output
    outside = write(tmp_path, feature("Far", square(2.0, 48.0, 2.1, 48.1)), name="far")
    far = cli("areas", "import", outside, "--name-property", "NAME_3")
    assert far.exit_code == 2 and "outside the service territory" in far.output
    with engine.connect() as conn:
        assert conn.execute(select(NamedArea.id)).first() is None


def test_features_sharing_a_name_are_one_area(cli: Any, tmp_path: Path, engine: Engine) -> None:
    path = write(tmp_path, feature("Long Biên", WEST), feature("Long Biên", EAST))
    assert cli("areas", "import", path, "--name-property", "NAME_3").exit_code == 0
    listed = json.loads(cli("areas", "list", "--json").output)
    assert [(a["name"], a["bbox"]) for a in listed] == [("Long Biên",
                                                         [105.8, 21.0, 105.82, 21.01])]


def test_union_of_named_areas(cli: Any, tmp_path: Path, engine: Engine) -> None:
    cli("areas", "import", write(tmp_path, feature("A", WEST), feature("B", EAST)),
        "--name-property", "NAME_3")
    with engine.connect() as conn:
        ids = [i for (i,) in conn.execute(select(NamedArea.id).order_by(NamedArea.id))]
        both = named_areas.union(conn, ids)
        layer = named_areas.feature_collection(conn)
    assert both.name == "A, B"
    assert both.bounds == (105.80, 21.00, 105.82, 21.01)
    assert abs(both.geometry.area - 0.0002) < 1e-9
    assert [f["properties"]["name"] for f in layer["features"]] == ["A", "B"]


def test_union_refuses_unknown_ids(engine: Engine) -> None:
    import pytest

    from outages.errors import NotFound, ValidationError

    with engine.connect() as conn, pytest.raises(NotFound, match="no named area with id 99"):
        named_areas.union(conn, [99])
    with engine.connect() as conn, pytest.raises(ValidationError, match="at least one"):
        named_areas.union(conn, [])
