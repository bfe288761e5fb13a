"""Reports for engineers: the reliability report (IEEE 1366) for chosen days, as the API's
/reports/reliability builds it."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from outages.api import bodies, security
from outages.api.deps import reading
from outages.console.pages import render
from outages.console.session import CanReport, engine_of, settings_of
from outages.errors import OutagesError, ValidationError
from outages.reliability import report
from outages.reliability.render import text
from outages.timeutil import to_local, utcnow

router = APIRouter()
Day = Annotated[str | None, Query(max_length=10)]
FORMATS = ("html", "csv")


@router.get("/reports")
async def reports(request: Request, visitor: CanReport, first: Annotated[
        str | None, Query(alias="from", max_length=10)] = None, last: Annotated[
        str | None, Query(alias="to", max_length=10)] = None) -> Response:
    today = to_local(utcnow(), settings_of(request).tz).date()
    return await render(request, "reports.html", visitor=visitor,
                        first=first or (today - timedelta(days=30)).isoformat(),
                        last=last or today.isoformat())


@router.get("/reports/reliability")
async def reliability(request: Request, visitor: CanReport, first: Annotated[
        str, Query(alias="from", max_length=10)], last: Annotated[
        str, Query(alias="to", max_length=10)], format: Annotated[
        str, Query(max_length=10)] = "html") -> Response:
    settings = settings_of(request)

    def build() -> Response:
        if format not in FORMATS:  # not a CSV download in place of what was asked for
            raise ValidationError(f"unknown format {format!r}: use {' or '.join(FORMATS)}",
                                  field="format")
        wanted = report.Request(bodies.required_day(first, "from"),
                                bodies.required_day(last, "to"), None, None, None, "end")
        with reading(engine_of(request)) as conn:
            result = report.compute(conn, settings, wanted, with_cause=format == "html")
            if format == "html":
                from outages.reliability.render import html

                page = html.build(conn, settings, result)
                return HTMLResponse(page, headers={
                    "Content-Security-Policy": security.content_security_policy(page)})
        return PlainTextResponse(text.to_csv(result), media_type="text/csv")

    try:
        return await run_in_threadpool(build)
    except OutagesError as exc:
        return await render(request, "reports.html", visitor=visitor, first=first, last=last,
                            error=exc, status_code=exc.http_status)
