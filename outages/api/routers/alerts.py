"""The dispatch desk's alerts (customers still out after a restoration), for the console."""

from __future__ import annotations

from fastapi import Query

from outages.api.bodies import json_router
from outages.api.deps import EngineDep, Reader, SettingsDep, reading
from outages.lifecycle import alerts
from outages.lifecycle.results import AlertView

router = json_router(prefix="/alerts", tags=["alerts"])


@router.get("", summary="Partial restoration alerts, latest reply first")
def list_alerts(
    _user: Reader, engine: EngineDep, settings: SettingsDep,
    all_alerts: bool = Query(False, alias="all", description="closed alerts too"),
    limit: int = Query(100, ge=1, le=10_000),
) -> list[AlertView]:
    with reading(engine) as conn:
        return alerts.listing(conn, settings, open_only=not all_alerts, limit=limit)
