"""The synthetic city: same seed, same bytes; plausible content; areas of the promised size."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from geo import BBox, covered_mask, parse_area
from outages.demo import city as demo_city


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    first = demo_city.write_city(tmp_path / "a", customers=3000, seed=7)
    second = demo_city.write_city(tmp_path / "b", customers=3000, seed=7)
    other = demo_city.write_city(tmp_path / "c", customers=3000, seed=8)
    for key in first:
        assert first[key].read_bytes() == second[key].read_bytes(), key
    assert first["customers"].read_bytes() != other["customers"].read_bytes()


def test_rows_are_lazy_and_realistic() -> None:
    rows = demo_city.customer_rows(4000, seed=3)
    assert not isinstance(rows, list)
    sample = list(rows)
    districts = Counter(r[8] for r in sample)
    assert set(districts) == {d[0] for d in demo_city.DISTRICTS}
    prefix = {d[0]: d[1] for d in demo_city.DISTRICTS}
    assert all(r[9].startswith(prefix[r[8]] + "-") for r in sample)  # feeder of its district
    emails = sum(1 for r in sample if r[3]) / len(sample)
    english = sum(1 for r in sample if r[10] == "en") / len(sample)
    assert 0.25 < emails < 0.35 and 0.03 < english < 0.07
    assert any("ễ" in r[1] or "ư" in r[1] or "ị" in r[1] for r in sample)  # diacritics
    assert sum(1 for r in sample if r[2].startswith("+84")) > 0


def test_demo_import_shows_rejects_and_areas_have_the_promised_size(
    engine: Any, settings: Any, tmp_path: Path
) -> None:
    from outages.registry.importer import import_customers

    files = demo_city.write_city(tmp_path / "city", customers=24_000, seed=7)
    result = import_customers(engine, settings, files["customers"])
    assert result.imported > 23_900 and result.rejected >= 10
    reasons = " ".join(r["reason"] for r in csv.DictReader(
        result.rejects_file.open(encoding="utf-8")))  # type: ignore[union-attr]
    for expected in ("look swapped", "missing code", "duplicate code", "email", "phone"):
        assert expected in reasons
    with files["customers"].open(encoding="utf-8") as handle:
        points = [(float(r["lon"]), float(r["lat"])) for r in csv.DictReader(handle)
                  if r["lon"] and float(r["lat"]) < 90]
    lons, lats = np.array(points).T
    counts = {}
    for key in ("preview", "cut", "districts"):
        document = json.loads(files[key].read_text(encoding="utf-8"))
        area = parse_area(document, territory=BBox(102, 8, 110, 24))
        counts[key] = int(covered_mask(area.geometry, lons, lats).sum())
        assert area.name
    assert 2000 <= counts["preview"] <= 6000
    assert 300 <= counts["cut"] <= 1500
    assert counts["districts"] == len(points)  # every customer is in some district
