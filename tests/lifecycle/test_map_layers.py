"""The console map's layers: open cuts and incidents with their status, reports as points."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine

from outages.lifecycle import core as lifecycle
from outages.lifecycle import cuts, fault_reports, faults, map_layers
from outages.settings import Settings
from outages.timeutil import utcnow
from tests.lifecycle.conftest import LAT0, LON0, STEP, ahead, columns


def test_layers(engine: Engine, relaxed: Settings, grid: Any, published: Any) -> None:
    area = lifecycle.read_area(json.dumps(columns(0, 2)), relaxed)
    cut = cuts.create(engine, relaxed, area=area, start=ahead(hours=2), end=ahead(hours=4),
                      reason="x", actor="t", source="cli")
    gone = cuts.create(engine, relaxed, area=area, start=ahead(days=3), end=ahead(days=3, hours=1),
                       reason="y", actor="t", source="cli")
    cuts.cancel(engine, relaxed, cut_id=gone.id, reason="no", actor="t", source="cli")
    first = fault_reports.report(engine, relaxed, actor="t", source="cli",
                                 point=(LON0 + 8 * STEP, LAT0 + 8 * STEP),
                                 at=utcnow() - timedelta(minutes=30))
    fault_reports.report(engine, relaxed, actor="t", source="cli", customer="C099")
    with engine.connect() as conn:
        outages = map_layers.outages_layer(conn, relaxed)
        reports = map_layers.reports_layer(conn, relaxed)
    shown = {f["id"]: f["properties"] for f in outages["features"]}
    assert set(shown) == {cut.id, first.outage_id}
    assert (shown[cut.id]["status"], shown[cut.id]["affected"]) == ("scheduled", 30)
    assert (shown[first.outage_id]["status"], shown[first.outage_id]["proposed"]) == (
        "reported", True)
    points = [(f["properties"]["incident"], f["properties"]["age_minutes"])
              for f in reports["features"]]
    assert points == [(first.outage_id, 0), (first.outage_id, 30)]
    assert all("phone" not in f["properties"] and "text" not in f["properties"]
               for f in reports["features"])
    faults.confirm(engine, relaxed, fault_id=first.outage_id, area=area, actor="t",
                   source="cli")
    with engine.connect() as conn:
        confirmed = {f["id"]: f for f in map_layers.outages_layer(conn, relaxed)["features"]}
    assert confirmed[first.outage_id]["properties"]["proposed"] is False
    assert confirmed[first.outage_id]["geometry"] == json.loads(area.to_geojson())
