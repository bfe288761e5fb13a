"""Probes for load balancers: the process is up; the database answers and is migrated."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse
from pydantic import Field
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from outages import db
from outages.api.bodies import json_router
from outages.api.deps import EngineDep
from outages.results import Result

router = json_router(tags=["health"])


class Health(Result):
    status: str = Field(description="ok, ready or unavailable")
    revision: str | None = Field(None, description="the schema revision, when ready")
    reason: str | None = Field(None, description="why not ready")


@router.get("/healthz", summary="The process is up")
def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", summary="The database is reachable and its schema is current",
            response_model=Health,
            responses={503: {"description": "not ready (reason given)", "model": Health}})
def readyz(engine: EngineDep) -> Any:
    head = db.head_revision()
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        current = db.current_revision(engine)
    except SQLAlchemyError as exc:
        # Not ready is an answer, not a failure of this endpoint: say why, with 503.
        reason = f"database unreachable: {type(getattr(exc, 'orig', None) or exc).__name__}"
        return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503)
    if current != head:
        reason = f"schema at {current or 'nothing'}, code needs {head}: run 'outages db upgrade'"
        return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503)
    return Health(status="ready", revision=current)
