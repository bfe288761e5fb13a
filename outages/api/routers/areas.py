"""Area preview: who an area would affect, before any cut is made."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Body, Query

from outages.api.bodies import GeoJSON, json_router
from outages.api.deps import EngineDep, Reader, SettingsDep, reading, redact
from outages.registry import preview as area_preview
from outages.registry.results import AreaPreview

router = json_router(prefix="/areas", tags=["areas"])


@router.post("/preview", summary="Count the customers connected today inside a GeoJSON area",
             response_model=AreaPreview)
def preview(
    user: Reader, engine: EngineDep, settings: SettingsDep,
    area: GeoJSON = Body(description="Polygon, MultiPolygon, Feature or FeatureCollection"),
    repair: bool = Query(False, description="repair an invalid polygon and say what changed"),
    feeder: list[str] = Query([], max_length=1000, description="only customers on this feeder"),
) -> Any:
    shape = area_preview.read_area(settings, json.dumps(area), repair=repair,
                                   max_vertices=settings.http.max_area_vertices)
    with reading(engine) as conn:
        affected = area_preview.affected_today(conn, settings, shape, feeders=feeder)
    return redact(area_preview.preview_json(shape, affected), user)
