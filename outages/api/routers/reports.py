"""Reliability indices (IEEE 1366) and service KPIs for engineers (and admins)."""

from __future__ import annotations

from typing import Literal

from fastapi import Query
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from outages.api import bodies, security
from outages.api.bodies import JsonResult, json_router
from outages.api.deps import EngineDep, Engineer, SettingsDep, reading
from outages.reliability import report
from outages.reliability.render import text
from outages.reliability.results import ReliabilityReport, ServiceReport
from outages.reliability.service import Window, service_report

router = json_router(prefix="/reports", tags=["reports"])


@router.get("/reliability", response_class=Response,
            summary="IEEE 1366 indices for local days from..to, with major event days",
            responses={200: {"model": ReliabilityReport,
                             "content": {"text/csv": {"schema": {"type": "string"}},
                                         "text/html": {"schema": {"type": "string"}}}}})
def reliability(
    _user: Engineer, engine: EngineDep, settings: SettingsDep,
    first: str = Query(alias="from", max_length=40, description="first local day"),
    last: str = Query(alias="to", max_length=40, description="last local day, inclusive"),
    by: str | None = Query(None, max_length=20,
                           description="region, district, feeder, cause or month"),
    planned: str | None = Query(None, max_length=20, description="include, exclude or only"),
    med: str | None = Query(None, max_length=20, description="include, exclude or only"),
    customers_served: str = Query("end", max_length=20, description="end or average"),
    format: Literal["json", "csv", "html"] = "json",
) -> Response:
    request = report.Request(bodies.required_day(first, "from"),
                             bodies.required_day(last, "to"), by, planned, med, customers_served)
    with reading(engine) as conn:
        result = report.compute(conn, settings, request, with_cause=format == "html")
        if format == "html":
            from outages.reliability.render import html  # matplotlib only when charts are asked for

            page = html.build(conn, settings, result)
            return HTMLResponse(page, headers={"Content-Security-Policy":
                                               security.content_security_policy(page)})
    if format == "csv":
        return PlainTextResponse(text.to_csv(result), media_type="text/csv")
    return JsonResult(result.to_json().as_json())


@router.get("/service",
            summary="Notice lead times, fault response, ETR accuracy and notice delivery")
def service(_user: Engineer, engine: EngineDep, settings: SettingsDep,
            first: str | None = Query(None, alias="from", max_length=40),
            last: str | None = Query(None, alias="to", max_length=40)) -> ServiceReport:
    window = Window(bodies.day(first, "from"), bodies.day(last, "to"), settings.tz)
    with reading(engine) as conn:
        return service_report(conn, settings, window)
