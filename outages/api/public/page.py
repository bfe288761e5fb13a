"""The public page at /: planned cuts by district and date, lookup by customer code, and
current outages. Server-rendered, autoescaped, Vietnamese by default."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import Connection

from outages.api.deps import (
    EngineDep,
    ReadConn,
    SettingsDep,
    public_cache,
    public_rate_limit,
)
from outages.errors import OutagesError, ValidationError
from outages.lifecycle import public, reopen
from outages.settings import Settings
from outages.timeutil import parse_date, to_local, utcnow

router = APIRouter(tags=["public"], dependencies=[Depends(public_rate_limit)])


@router.get("/", response_class=HTMLResponse, summary="Public page (vi/en)")
def page(
    request: Request,
    conn: ReadConn,
    settings: SettingsDep,
    lang: Literal["vi", "en"] = "vi",
    district: str = Query("", max_length=100),
    day: str = Query("", alias="date", max_length=20),
    customer: str = Query("", max_length=64),
) -> HTMLResponse:
    return _render(request, conn, settings, lang=lang, district=district, day=day,
                   customer=customer)


@router.post("/still-out", response_class=HTMLResponse,
             summary="The page's 'I still have no power' button")
def still_out(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    lang: Literal["vi", "en"] = Form("vi"),
    customer: str = Form(max_length=64),
) -> HTMLResponse:
    """Within faults.still_out_window of the customer's restoration, reopens them and alerts
    the desk. Every code gets the same page, known or not, restored or not: the answer tells
    nothing about a customer, and the button files nothing for anyone else."""
    if customer.strip():
        reopen.public_reply(engine, settings, customer=customer)
    # A page of its own, without the current outages: a list that changed with the reply
    # would tell whether the code had just been restored.
    html = request.app.state.pages.get_template("still_out.html").render(
        lang=lang, hotline=settings.notices.hotline,
        root=request.scope.get("root_path", "").rstrip("/"))
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


def _render(request: Request, conn: Connection, settings: Settings, *, lang: str,
            district: str, day: str, customer: str) -> HTMLResponse:
    now = utcnow()
    context: dict[str, Any] = {
        "lang": lang, "district": district.strip(), "customer": customer.strip(),
        "date": day.strip() or to_local(now, settings.tz).date().isoformat(),
        "districts": public.districts(conn), "cuts": None, "lookup": None, "error": None,
        "outages": public.current_outages(conn, settings),
        "hotline": settings.notices.hotline,
    }
    status = 200
    try:
        if context["district"]:
            context["cuts"] = public.cuts_on_day(conn, settings, district=context["district"],
                                                 day=_day(context["date"]))
        if context["customer"]:
            context["lookup"] = public.lookup_customer(conn, settings,
                                                       code=context["customer"], now=now)
    except OutagesError as exc:
        context["error"] = exc.field  # the template words it in the page's language
        status = exc.http_status
    html = request.app.state.pages.get_template("index.html").render(**context)
    # An error page is not kept: the next try may succeed.
    return HTMLResponse(html, status_code=status,
                        headers=public_cache(settings) if status == 200 else None)


def _day(text: str) -> date:
    try:
        return parse_date(text)
    except ValueError as exc:
        raise ValidationError(str(exc), field="date") from None
