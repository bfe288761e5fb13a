"""The public page at /: a map of current outages and the planned cuts of the coming days
with a list under it; lookups by customer code, by district and date, and "near me".

Server-rendered and autoescaped, Vietnamese by default; every lookup but "near me" (which
needs the browser's location) works without JavaScript. The page's script and the map
library are files the service serves; only the base-map tiles (public.tile_url) come from
elsewhere, and the page's Content-Security-Policy names their host alone.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from typing import Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Connection

from outages.api.deps import EngineDep, SettingsDep, public_cache, public_rate_limit, reading
from outages.api.public.cached import cached
from outages.api.security import content_security_policy, tile_origin
from outages.errors import OutagesError, ValidationError
from outages.lifecycle import public, public_feed, reopen
from outages.settings import Settings
from outages.timeutil import parse_date, to_local, utcnow

router = APIRouter(tags=["public"], dependencies=[Depends(public_rate_limit)])
PAGE = {"content": {"text/html": {"schema": {"type": "string"}}}}


@router.get("/", response_class=HTMLResponse, summary="Public page (vi/en)",
            responses={200: PAGE, 304: {"description": "not modified"}})
async def page(
    request: Request,
    settings: SettingsDep,
    lang: Literal["vi", "en"] = "vi",
    district: str = Query("", max_length=100),
    day: str = Query("", alias="date", max_length=20),
    customer: str = Query("", max_length=64),
) -> Response:
    lookups = {"district": district.strip(), "date": day.strip(), "customer": customer.strip()}
    headers = {"Content-Security-Policy": page_policy(settings.public.tile_url)}
    if not any(lookups.values()):
        # The page everyone opens in a storm: built once per change of any outage.
        answer = await cached(request, ("page", lang), "text/html; charset=utf-8",
                        lambda conn, now: _render(request, conn, settings, now, lang=lang,
                                                  **lookups)[0].encode())
        answer.headers.update(headers)
        return answer
    html, status = await run_in_threadpool(_lookup, request, settings, lang, lookups)
    # An error page is not kept: the next try may succeed.
    if status == 200:
        headers.update(public_cache(settings))
    return HTMLResponse(html, status_code=status, headers=headers)


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


def _lookup(request: Request, settings: Settings, lang: str,
            lookups: dict[str, str]) -> tuple[str, int]:
    with reading(request.app.state.engine) as conn:
        return _render(request, conn, settings, utcnow(), lang=lang, **lookups)


@cache
def page_policy(tile_url: str) -> str:
    """The service's Content-Security-Policy, letting images come from the tile host too."""
    return content_security_policy(images=tile_origin(tile_url))


def _render(request: Request, conn: Connection, settings: Settings, now: datetime, *,
            lang: str, district: str, date: str, customer: str) -> tuple[str, int]:
    items = public_feed.items(conn, settings, now=now, days=settings.public.map_days,
                              cancelled=False)
    context: dict[str, Any] = {
        "lang": lang, "district": district, "customer": customer,
        "date": date or to_local(now, settings.tz).date().isoformat(),
        "districts": public.districts(conn), "tz": settings.tz,
        "current": [item for item in items if item.current],
        "upcoming": [item for item in items if not item.current],
        "cuts": None, "lookup": None, "lookup_outages": None, "error": None,
        "hotline": settings.notices.hotline, "map_days": settings.public.map_days,
        "tile_url": settings.public.tile_url,
        "tile_attribution": settings.public.tile_attribution,
        "root": request.scope.get("root_path", "").rstrip("/"),
        "other_query": urlencode({"lang": "en" if lang == "vi" else "vi",
                                  **{k: v for k, v in (("district", district),
                                                       ("date", date),
                                                       ("customer", customer)) if v}}),
    }
    status = 200
    try:
        if district:
            context["cuts"] = public.cuts_on_day(conn, settings, district=district,
                                                 day=_day(context["date"]))
        if customer:
            context["lookup"] = public.lookup_customer(conn, settings, code=customer, now=now)
            context["lookup_outages"] = public.current_for_customer(conn, settings,
                                                                    code=customer)
    except OutagesError as exc:
        context["error"] = exc.field  # the template words it in the page's language
        status = exc.http_status
    html = request.app.state.pages.get_template("index.html").render(**context)
    return html, status


def _day(text: str) -> date:
    try:
        return parse_date(text)
    except ValueError as exc:
        raise ValidationError(str(exc), field="date") from None
