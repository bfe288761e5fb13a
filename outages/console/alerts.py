"""The desk's alerts (customers still out after a restoration) and the nav badge's list."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from outages.api.deps import reading
from outages.console.pages import render
from outages.console.session import CanRead, engine_of, settings_of
from outages.lifecycle import alerts
from outages.lifecycle.results import AlertView

router = APIRouter()


@router.get("/alerts")
async def alert_list(request: Request, visitor: CanRead, all: bool = False) -> Response:
    def read() -> list[AlertView]:
        with reading(engine_of(request)) as conn:
            return alerts.listing(conn, settings_of(request), open_only=not all, limit=500)

    return await render(request, "alerts.html", visitor=visitor,
                        alerts=await run_in_threadpool(read), show_all=all)
