"""The outbox at a glance: pending by channel, the oldest pending, failures by provider
error (with the affected contacts for roles that may see personal data), today's rate."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from outages.api.deps import reading
from outages.console.pages import render
from outages.console.session import CanRead, engine_of, settings_of
from outages.notices import dashboard

router = APIRouter()


@router.get("/notices")
async def notices(request: Request, visitor: CanRead) -> Response:
    def read() -> dashboard.Overview:
        with reading(engine_of(request)) as conn:
            return dashboard.overview(conn, settings_of(request),
                                      contacts=visitor.can("personal_data"))

    return await render(request, "notices.html", visitor=visitor,
                        overview=await run_in_threadpool(read))
