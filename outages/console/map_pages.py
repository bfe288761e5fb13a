"""The console's map: the New cut page (draw, upload, pick named areas or feeders; a live
preview; create), the Incidents page (reports as they arrive, confirm, ETR, restore in
steps, dismiss, merge a duplicate into another), and the JSON the map's layers and panels
read.

Every action calls the same domain function as the API (cuts.create, faults.confirm,
faults.set_etr, faults.restore, faults.dismiss, fault_merge.merge) with source `console`.
The JSON answers refuse with `{"detail", "field", "errors"}` like the API, so the page shows
a refusal next to its field.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as BodyError
from sqlalchemy import Connection, Engine

from geo import Area, BBox
from outages.api import bodies
from outages.api.deps import COORDINATE_DECIMALS, reading
from outages.console.pages import console_root, refusal, render
from outages.console.session import CanDispatch, CanRead, Visitor, engine_of, settings_of
from outages.enums import INCIDENT_OPEN, OutageKind, Source
from outages.errors import OutagesError, ValidationError
from outages.lifecycle import core as lifecycle
from outages.lifecycle import cuts, fault_merge, faults, map_layers
from outages.lifecycle import views as outage_views
from outages.notices import draft_preview
from outages.registry import density, named_areas
from outages.settings import Settings
from outages.timeutil import show_local, to_local, utcnow

router = APIRouter()
BodyT = TypeVar("BodyT", bound=BaseModel)
NO_STORE = {"Cache-Control": "no-store"}


AreaId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DraftBody(_Body):
    """A cut as the New cut page has it: the area from any mix of drawn or uploaded shapes
    and named areas (their union), or feeders alone."""

    area: dict[str, Any] | None = None
    named_areas: list[AreaId] = Field(default_factory=list, max_length=200)
    feeders: list[str] = Field(default_factory=list, max_length=1000)
    start: str | None = Field(None, max_length=40)
    end: str | None = Field(None, max_length=40)
    reason: str = Field("", max_length=500)
    reason_en: str | None = Field(None, max_length=500)
    work: str | None = Field(None, max_length=500)
    urgent: bool = False
    urgent_reason: str | None = Field(None, max_length=500)


class _Seen(_Body):
    # The incident's revision the page showed: refused when another dispatcher acted since.
    revision: int | None = Field(None, ge=1, le=2**31 - 1)


class ConfirmBody(_Seen):
    area: dict[str, Any] | None = None
    feeders: list[str] = Field(default_factory=list, max_length=1000)
    cause: str | None = Field(None, max_length=40)
    reason: str | None = Field(None, max_length=500)


class EtrBody(_Seen):
    at: str = Field(max_length=40)
    note: str | None = Field(None, max_length=500)


class RestoreBody(_Seen):
    area: dict[str, Any] | None = None


class DismissBody(_Seen):
    reason: str = Field("", max_length=500)


class MergeBody(_Seen):
    # The incident that stands; the revision is the duplicate's, as shown.
    into: int | None = Field(None, ge=1, le=2**31 - 1)


def refused(exc: OutagesError, language: str | None = None) -> JSONResponse:
    """The refusal as JSON; with the visitor's `language`, what the page shows (the detail,
    and each error beside its field) ends with the way out its hint names, in that language
    (as the cut pages show it)."""
    detail = refusal(exc, language) if language else exc.message
    return JSONResponse({"detail": detail, "field": exc.field,
                         "errors": [{"field": exc.field, "reason": detail}]},
                        status_code=exc.http_status, headers=NO_STORE)


async def _parse(request: Request, model: type[BodyT]) -> BodyT:
    try:
        return model.model_validate(await request.json())
    except BodyError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "body"
        raise ValidationError(f"{field}: {first['msg']}", field=field) from None
    except ValueError:
        raise ValidationError("the body is not JSON", field="body") from None


async def _answer(call: Callable[[], Any], status_code: int = 200,
                  language: str | None = None) -> Response:
    try:
        result = await run_in_threadpool(call)
    except OutagesError as exc:
        return refused(exc, language)
    return JSONResponse(result, status_code=status_code, headers=NO_STORE)


# --- pages ---------------------------------------------------------------------------------

def _map_context(request: Request, visitor: Visitor) -> dict[str, Any]:
    settings = settings_of(request)
    with reading(engine_of(request)) as conn:
        areas = named_areas.listing(conn, settings)
    return {"named": areas, "offset": to_local(utcnow(), settings.tz).strftime("%z"),
            "causes": list(settings.faults.causes), "can_dispatch": visitor.can("dispatch")}


@router.get("/cuts/new")
async def new_cut(request: Request, visitor: CanDispatch) -> Response:
    context = await run_in_threadpool(_map_context, request, visitor)
    return await render(request, "map_new_cut.html", visitor=visitor, **context)


@router.get("/incidents")
async def incidents_page(request: Request, visitor: CanRead) -> Response:
    context = await run_in_threadpool(_map_context, request, visitor)
    return await render(request, "map_incidents.html", visitor=visitor, **context)


# --- layers --------------------------------------------------------------------------------

def _read(request: Request, work: Callable[[Connection, Settings], Any]) -> Callable[[], Any]:
    def call() -> Any:
        with reading(engine_of(request)) as conn:
            return work(conn, settings_of(request))
    return call


@router.get("/map/areas.geojson")
async def areas_layer(request: Request, _visitor: CanRead) -> Response:
    return await _answer(_read(request, lambda conn, _s: named_areas.feature_collection(conn)))


@router.get("/map/outages.geojson")
async def outages_layer(request: Request, visitor: CanRead) -> Response:
    personal = visitor.can("personal_data")
    return await _answer(_read(request, lambda conn, s: map_layers.outages_layer(
        conn, s, personal=personal)))


@router.get("/map/reports.geojson")
async def reports_layer(request: Request, visitor: CanRead) -> Response:
    decimals = None if visitor.can("personal_data") else COORDINATE_DECIMALS
    return await _answer(_read(request, lambda conn, s: map_layers.reports_layer(
        conn, s, decimals=decimals)))


@router.get("/map/density.json")
async def density_layer(request: Request, _visitor: CanRead,
                        bbox: Annotated[str, Query(max_length=200)],
                        zoom: Annotated[int, Query(ge=0, le=22)]) -> Response:
    def work(conn: Connection, _settings: Settings) -> Any:
        return density.grid(conn, bbox=_bbox(bbox), cell=density.cell_size(zoom)).as_json()
    return await _answer(_read(request, work))


def _bbox(text: str) -> BBox:
    try:
        west, south, east, north = (float(v) for v in text.split(","))
    except ValueError:
        raise ValidationError("bbox must be west,south,east,north in degrees",
                              field="bbox") from None
    if not (west < east and south < north):
        raise ValidationError("bbox must be west,south,east,north with west < east and "
                              "south < north", field="bbox")
    return BBox(max(west, -180), max(south, -90), min(east, 180), min(north, 90))


# --- New cut: preview and create -------------------------------------------------------------

def _area(conn: Connection, settings: Settings, body: DraftBody, when: datetime | None) -> Area:
    parts = []
    if body.area is not None:
        parts.append(bodies.area(body.area, settings, "area"))
    if body.named_areas:
        parts.append(named_areas.union(conn, body.named_areas))
    if parts:
        return named_areas.combine(parts)
    if body.feeders:
        day = to_local(when or utcnow(), settings.tz).date()
        return named_areas.feeder_zone(conn, body.feeders, on=day)
    raise ValidationError("draw an area, upload one, pick named areas or choose feeders",
                          field="area")


def _time(text: str | None, settings: Settings, field: str) -> datetime | None:
    return bodies.when(text, settings, field=field) if text else None


@router.post("/map/preview")
async def preview(request: Request, visitor: CanRead) -> Response:
    try:
        body = await _parse(request, DraftBody)
    except OutagesError as exc:
        return refused(exc)
    settings = settings_of(request)

    def work(conn: Connection, _s: Settings) -> Any:
        problems = []
        try:
            start, end = _time(body.start, settings, "start"), _time(body.end, settings, "end")
        except ValidationError as exc:
            start = end = None
            problems.append({"field": exc.field, "message": exc.message})
        area = _area(conn, settings, body, start)
        shown = draft_preview.preview(conn, settings, draft_preview.Draft(
            area=area, feeders=body.feeders or None, start=start, end=end,
            reason=body.reason, reason_en=body.reason_en, work=body.work, urgent=body.urgent,
            urgent_reason=body.urgent_reason),
            personal=visitor.can("personal_data"))
        answer = shown.as_json()
        answer["problems"] = problems + answer["problems"]
        answer["earliest_legal_start_shown"] = show_local(
            datetime.fromisoformat(shown.earliest_legal_start), settings.tz)
        answer["area"] = json.loads(area.to_geojson())
        return answer

    return await _answer(_read(request, work))


@router.post("/cuts/new")
async def create_cut(request: Request, visitor: CanDispatch) -> Response:
    try:
        body = await _parse(request, DraftBody)
    except OutagesError as exc:
        return refused(exc)
    engine, settings = engine_of(request), settings_of(request)

    def call() -> Any:
        if not body.start:
            raise ValidationError("give the start", field="start")
        if not body.end:
            raise ValidationError("give the end", field="end")
        start = bodies.when(body.start, settings, field="start")
        end = bodies.when(body.end, settings, field="end")
        with reading(engine) as conn:
            area = _area(conn, settings, body, start)
        view = cuts.create(engine, settings, area=area, start=start, end=end,
                           reason=body.reason, reason_en=body.reason_en or None,
                           work=body.work or None, feeders=body.feeders or None,
                           urgent=body.urgent, urgent_reason=body.urgent_reason or None,
                           actor=visitor.name, source=Source.CONSOLE)
        return {"id": view.id, "url": f"{console_root(request)}/cuts/{view.id}?done=create"}

    return await _answer(call, status_code=201, language=visitor.language)


# --- Incidents -----------------------------------------------------------------------------

@router.get("/map/incidents.json")
async def incidents(request: Request, visitor: CanRead) -> Response:
    personal = visitor.can("personal_data")

    def work(conn: Connection, settings: Settings) -> Any:
        now = utcnow()
        shown = []
        open_ones = [view for status in INCIDENT_OPEN
                     for view in outage_views.listing(conn, settings, kind=OutageKind.FAULT,
                                                      status=status)]
        for view in open_ones:
            row = lifecycle.load(conn, view.id)
            reports = faults.reports(conn, settings, view.id)
            shown.append({**view.as_json(), "shown": _shown(settings, view),
                          "reports": [_report(r, now, personal) for r in reports],
                          "area": map_layers.area(conn, settings, row, personal=personal)[0]})
        shown.sort(key=lambda i: min((r["first_at"] or "" for r in i["reports"]), default=""),
                   reverse=True)
        return {"incidents": shown, "now": show_local(now, settings.tz)}

    return await _answer(_read(request, work))


def _shown(settings: Settings, view: Any) -> dict[str, str | None]:
    """Times as people read them (local, with the zone)."""
    def local(text: str | None) -> str | None:
        return show_local(datetime.fromisoformat(text), settings.tz) if text else None
    suggested = view.suggested_etr.at if view.suggested_etr else None
    return {"start": local(view.start), "etr": local(view.etr),
            "suggested_etr": local(suggested),
            "suggested_etr_input": suggested[:16] if suggested else None}


def _report(report: Any, now: datetime, personal: bool) -> dict[str, Any]:
    first = datetime.fromisoformat(report.first_at)
    lon, lat = report.lon, report.lat
    if not personal and lon is not None:  # a caller's home, to about a kilometre (as the API)
        lon, lat = round(lon, COORDINATE_DECIMALS), round(lat, COORDINATE_DECIMALS)
    return {"id": report.id, "source": report.source, "reports": report.reports,
            "lon": lon, "lat": lat, "first_at": report.first_at,
            "age_minutes": int((now - first).total_seconds() // 60),
            "text": report.text if personal else None}


async def _incident_action(request: Request, visitor: Visitor, fault_id: int,
                           model: type[BodyT],
                           act: Callable[[Engine, Settings, BodyT, str], Any]) -> Response:
    """Parse the body as `model`, run `act` (a faults function) as the visitor, and answer
    the incident's status, customers left and warnings; a refusal as JSON."""
    try:
        body = await _parse(request, model)
    except OutagesError as exc:
        return refused(exc)
    engine, settings = engine_of(request), settings_of(request)

    def call() -> Any:
        view = act(engine, settings, body, visitor.name)
        return {"id": fault_id, "status": view.status, "remaining": view.remaining,
                "warnings": [w.message for w in view.warnings or []]}

    return await _answer(call, language=visitor.language)


@router.post("/incidents/{fault_id:int}/confirm")
async def confirm(request: Request, visitor: CanDispatch, fault_id: int) -> Response:
    def act(engine: Engine, settings: Settings, body: ConfirmBody, actor: str) -> Any:
        area = bodies.area(body.area, settings, "area") if body.area is not None else None
        return faults.confirm(engine, settings, fault_id=fault_id, area=area,
                              feeders=body.feeders or None, cause=body.cause or None,
                              reason=body.reason or None, actor=actor, source=Source.CONSOLE,
                              seen=body.revision)

    return await _incident_action(request, visitor, fault_id, ConfirmBody, act)


@router.post("/incidents/{fault_id:int}/etr")
async def set_etr(request: Request, visitor: CanDispatch, fault_id: int) -> Response:
    def act(engine: Engine, settings: Settings, body: EtrBody, actor: str) -> Any:
        return faults.set_etr(engine, settings, fault_id=fault_id,
                              at=bodies.when(body.at, settings, field="at"),
                              note=body.note or None, actor=actor, source=Source.CONSOLE,
                              seen=body.revision)

    return await _incident_action(request, visitor, fault_id, EtrBody, act)


@router.post("/incidents/{fault_id:int}/restore")
async def restore(request: Request, visitor: CanDispatch, fault_id: int) -> Response:
    def act(engine: Engine, settings: Settings, body: RestoreBody, actor: str) -> Any:
        part = bodies.area(body.area, settings, "area") if body.area is not None else None
        return faults.restore(engine, settings, fault_id=fault_id, at=None, area=part,
                              actor=actor, source=Source.CONSOLE, seen=body.revision)

    return await _incident_action(request, visitor, fault_id, RestoreBody, act)


@router.post("/incidents/{fault_id:int}/dismiss")
async def dismiss(request: Request, visitor: CanDispatch, fault_id: int) -> Response:
    def act(engine: Engine, settings: Settings, body: DismissBody, actor: str) -> Any:
        return faults.dismiss(engine, settings, fault_id=fault_id, reason=body.reason,
                              actor=actor, source=Source.CONSOLE, seen=body.revision)

    return await _incident_action(request, visitor, fault_id, DismissBody, act)


@router.post("/incidents/{fault_id:int}/merge")
async def merge(request: Request, visitor: CanDispatch, fault_id: int) -> Response:
    def act(engine: Engine, settings: Settings, body: MergeBody, actor: str) -> Any:
        if body.into is None:
            raise ValidationError("choose the incident that stands for the same fault",
                                  field="into")
        return fault_merge.merge(engine, settings, fault_id=fault_id, into=body.into,
                                 actor=actor, source=Source.CONSOLE, seen=body.revision)

    return await _incident_action(request, visitor, fault_id, MergeBody, act)
