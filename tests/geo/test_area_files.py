"""Area files as Windows tools save them (a byte-order mark), and files that are not areas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SQUARE = {"type": "Polygon", "coordinates": [[[105.80, 21.00], [105.81, 21.00],
                                              [105.81, 21.01], [105.80, 21.01],
                                              [105.80, 21.00]]]}


def test_an_area_file_with_a_byte_order_mark_is_read(cli: Any, tmp_path: Path) -> None:
    # Notepad and several GIS exports on Windows save UTF-8 with a BOM; the customer import
    # accepts one in GeoJSON, the area reader does not.
    path = tmp_path / "cut.geojson"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(SQUARE).encode())
    result = cli("area", "preview", str(path), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["count"] == 0


def test_a_named_areas_file_with_a_byte_order_mark_is_read(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "districts.geojson"
    document = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "Ba Đình"}, "geometry": SQUARE}]}
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(document, ensure_ascii=False).encode())
    result = cli("areas", "import", str(path), "--name-property", "name", "--json")
    assert result.exit_code == 0, result.output


def test_a_deeply_nested_area_is_refused_not_a_traceback(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "broken.geojson"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    result = cli("area", "preview", str(path))
    assert result.exit_code == 2, result.output
