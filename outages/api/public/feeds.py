"""Open feeds under /public/feeds/: current outages and upcoming cuts for maps, calendars,
alert hubs and feed readers. No login; the privacy rule applies (see `privacy`)."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from jinja2 import Environment
from sqlalchemy import Connection

from notifier.render import text_environment
from outages import paths
from outages.api.deps import public_rate_limit
from outages.api.public import feed_formats
from outages.api.public.cached import cached
from outages.errors import ValidationError
from outages.lifecycle import public_feed
from outages.settings import Settings

# The handlers are async: a cached answer costs no thread-pool hop (a miss is built in a
# worker thread, once per outage change and minute per process).
router = APIRouter(prefix="/public/feeds", tags=["feeds"],
                   dependencies=[Depends(public_rate_limit)],
                   responses={304: {"description": "not modified (If-None-Match held the ETag)"},
                              429: {"description": "too many requests; see Retry-After"}})


def _body(media_type: str, description: str,
          schema: dict[str, object] | None = None) -> dict[int | str, dict[str, object]]:
    """The 200 answer as OpenAPI declares it: text (calendar, XML), or `schema`."""
    return {200: {"description": description,
                  "content": {media_type: {"schema": schema or {"type": "string"}}},
                  "headers": {"ETag": {"schema": {"type": "string"}},
                              "Last-Modified": {"schema": {"type": "string"}}}}}


@router.get("/cuts.geojson", summary="Current outages and upcoming cuts (GeoJSON)",
            response_class=Response,
            responses=_body("application/geo+json", "a FeatureCollection: one Feature per "
                            "outage; properties id, kind, status, area_name, start, end, etr, "
                            "reason, districts, customers_affected, revision, updated",
                            {"type": "object", "required": ["type", "features"], "properties": {
                                "type": {"const": "FeatureCollection"},
                                "features": {"type": "array", "items": {"type": "object"}}}}))
async def cuts_geojson(
    request: Request,
    days: int | None = Query(None, ge=1, le=60, description="only cuts starting within this "
                             "many days (current outages always)"),
) -> Response:
    settings: Settings = request.app.state.settings

    def build(conn: Connection, now: datetime) -> bytes:
        found = public_feed.items(conn, settings, now=now, days=days, cancelled=False)
        return feed_formats.geojson(found, settings.tz)

    return await cached(request, ("geojson", days), "application/geo+json", build)


@router.get("/cuts.ics", summary="Planned cuts of a district or a customer code (iCalendar)",
            response_class=Response,
            responses=_body("text/calendar", "RFC 5545 calendar: one VEVENT per cut, UID "
                            "stable per cut, SEQUENCE = revision, STATUS:CANCELLED for 7 days "
                            "after a cancellation; times in UTC. An unknown code gives the "
                            "same empty calendar as a code without cuts."))
async def cuts_ics(
    request: Request,
    district: str | None = Query(None, min_length=1, max_length=100),
    customer: str | None = Query(None, min_length=1, max_length=64,
                                 description="customer code from the bill"),
    lang: Literal["vi", "en"] = "vi",
) -> Response:
    if (district is None) == (customer is None):
        raise ValidationError("give one of ?district=NAME or ?customer=CODE", field="district")
    settings: Settings = request.app.state.settings
    page = _page(settings, lang)

    def build(conn: Connection, now: datetime) -> bytes:
        found = public_feed.items(conn, settings, now=now)
        chosen = (public_feed.in_district(conn, found, district) if district is not None
                  else public_feed.for_customer(conn, found, customer or ""))
        return feed_formats.calendar(chosen, _words(), lang=lang,
                                     tz=settings.tz, host=_host(settings), page=page)

    # A customer's calendar is cached too: the code is only a key, never in the answer.
    return await cached(request, ("ics", district, customer, lang),
                        "text/calendar; charset=utf-8", build)


@router.get("/cap.xml", summary="Common Alerting Protocol 1.2 alerts, in an Atom feed",
            response_class=Response,
            responses=_body("application/atom+xml", "Atom entries each holding one CAP 1.2 "
                            "alert (urn:oasis:names:tc:emergency:cap:1.2) per current "
                            "outage, upcoming cut, or cut cancelled in the last 7 days"))
async def cap(request: Request) -> Response:
    settings: Settings = request.app.state.settings

    def build(conn: Connection, now: datetime) -> bytes:
        found = public_feed.items(conn, settings, now=now)
        return feed_formats.cap_feed(found, _words(), tz=settings.tz,
                                     sender=_sender(settings),
                                     pages={lang: _page(settings, lang) for lang in ("vi", "en")},
                                     now=now)

    return await cached(request, ("cap",), "application/atom+xml; charset=utf-8", build)


@router.get("/atom.xml", summary="Announcements, changes, cancellations and restorations "
            "(Atom)", response_class=Response,
            responses=_body("application/atom+xml", "Atom 1.0 feed, newest first"))
async def atom(request: Request, lang: Literal["vi", "en"] = "vi") -> Response:
    settings: Settings = request.app.state.settings
    base = settings.http.public_base_url.rstrip("/") or str(request.base_url).rstrip("/")

    def build(conn: Connection, now: datetime) -> bytes:
        return feed_formats.atom(public_feed.entries(conn), _words(),
                                 lang=lang, tz=settings.tz,
                                 feed_id=f"urn:outage-notify:{_host(settings)}:atom:{lang}",
                                 page=f"{base}/?lang={lang}",
                                 self_url=f"{base}/public/feeds/atom.xml?lang={lang}", now=now)

    return await cached(request, ("atom", lang, base), "application/atom+xml; charset=utf-8",
                        build)


@cache
def _words() -> Environment:
    """The feeds' words (templates/web/<lang>/feed.txt), plain text: not HTML-escaped."""
    return text_environment(paths.templates_dir() / "web")


def _host(settings: Settings) -> str:
    return urlsplit(settings.http.public_base_url).hostname or "outage-notify.invalid"


def _sender(settings: Settings) -> str:
    return f"outages@{_host(settings)}"


def _page(settings: Settings, lang: str) -> str:
    base = settings.http.public_base_url.rstrip("/")
    return f"{base}/?lang={lang}" if base else ""
