"""Planned cuts: the `outages cuts ...` commands over HTTP (dispatchers and admins change)."""

from __future__ import annotations

from typing import Any

from fastapi import Path, Query
from pydantic import Field

from outages.api import bodies
from outages.api.bodies import Body, GeoJSON, TimeText, json_router
from outages.api.deps import Dispatcher, EngineDep, Reader, SettingsDep, reading
from outages.api.outage_pages import Based, RestoreBody, Shown, show
from outages.enums import CutStatus, Source
from outages.lifecycle import cuts
from outages.lifecycle import views as outage_views
from outages.lifecycle.results import OutageView

router = json_router(prefix="/cuts", tags=["cuts"])
CutId = Path(ge=1, le=2**31 - 1, alias="id")


class NewCut(Body):
    area: GeoJSON = Field(description="Polygon, MultiPolygon, Feature or FeatureCollection")
    start: str = TimeText
    end: str = TimeText
    reason: str = Field(min_length=1, max_length=500, description="as customers will read it")
    reason_en: str | None = Field(None, max_length=500, description="the reason in English "
                                  "(default: the wording of the cause 'planned')")
    work: str | None = Field(None, max_length=500)
    feeders: list[str] | None = Field(None, max_length=1000)
    urgent: bool = False
    urgent_reason: str | None = Field(None, max_length=500)
    allow_empty: bool = False


class Reschedule(Based):
    start: str = TimeText
    end: str = TimeText
    urgent: bool = False
    urgent_reason: str | None = Field(None, max_length=500)
    note: str | None = Field(None, max_length=500)


class Resize(Based):
    area: GeoJSON
    allow_empty: bool = False
    urgent: bool = Field(False, description="customers added may have less than the notice "
                                            "period")
    urgent_reason: str | None = Field(None, max_length=500)
    note: str | None = Field(None, max_length=500)


class Cancel(Based):
    reason: str = Field(min_length=1, max_length=500, description="customers are told")


class Extend(Based):
    end: str = TimeText
    note: str | None = Field(None, max_length=500)


class Start(Based):
    at: str | None = Field(None, min_length=1, max_length=40, description="default now")


@router.post("", status_code=201, summary="Schedule a planned cut over an area")
def create(body: NewCut, user: Dispatcher, engine: EngineDep,
           settings: SettingsDep) -> OutageView:
    return cuts.create(
        engine, settings, area=bodies.area(body.area, settings, "area"),
        start=bodies.when(body.start, settings, field="start"),
        end=bodies.when(body.end, settings, field="end"), reason=body.reason,
        reason_en=body.reason_en, work=body.work, feeders=body.feeders or None, urgent=body.urgent,
        urgent_reason=body.urgent_reason, allow_empty=body.allow_empty, actor=user.name,
        source=Source.HTTP)


@router.get("", summary="Cuts whose planned start falls in the given local days")
def list_cuts(
    _user: Reader, engine: EngineDep, settings: SettingsDep,
    status: CutStatus | None = None,
    first: str | None = Query(None, alias="from", max_length=40, description="YYYY-MM-DD"),
    last: str | None = Query(None, alias="to", max_length=40, description="inclusive"),
) -> list[OutageView]:
    with reading(engine) as conn:
        return outage_views.listing(conn, settings, kind="planned", status=status,
                                    first=bodies.day(first, "from"), last=bodies.day(last, "to"))


@router.get("/{id}", summary="One cut, optionally with its history and a page of customers",
            response_model=OutageView)
def show_cut(user: Reader, engine: EngineDep, settings: SettingsDep, options: Shown,
             cut_id: int = CutId) -> Any:
    return show(engine, settings, user, cut_id, "planned", options)


@router.post("/{id}/reschedule", summary="Move a scheduled cut to a new window")
def reschedule(body: Reschedule, user: Dispatcher, engine: EngineDep, settings: SettingsDep,
               cut_id: int = CutId) -> OutageView:
    return cuts.reschedule(
        engine, settings, cut_id=cut_id,
        start=bodies.when(body.start, settings, field="start"),
        end=bodies.when(body.end, settings, field="end"), note=body.note,
        urgent=body.urgent, urgent_reason=body.urgent_reason, actor=user.name, source=Source.HTTP,
        seen=body.revision)


@router.post("/{id}/resize", summary="Change the area of a scheduled cut")
def resize(body: Resize, user: Dispatcher, engine: EngineDep, settings: SettingsDep,
           cut_id: int = CutId) -> OutageView:
    return cuts.resize(engine, settings, cut_id=cut_id,
                       area=bodies.area(body.area, settings, "area"),
                       allow_empty=body.allow_empty, note=body.note, urgent=body.urgent,
                       urgent_reason=body.urgent_reason, actor=user.name, source=Source.HTTP,
                       seen=body.revision)


@router.post("/{id}/cancel", summary="Cancel a scheduled cut")
def cancel(body: Cancel, user: Dispatcher, engine: EngineDep, settings: SettingsDep,
           cut_id: int = CutId) -> OutageView:
    return cuts.cancel(engine, settings, cut_id=cut_id, reason=body.reason, actor=user.name,
                       source=Source.HTTP, seen=body.revision)


@router.post("/{id}/start", summary="Record that the power was cut (default now)")
def start(body: Start, user: Dispatcher, engine: EngineDep, settings: SettingsDep,
          cut_id: int = CutId) -> OutageView:
    return cuts.start(engine, settings, cut_id=cut_id,
                      at=bodies.instant(body.at, settings, "at"), actor=user.name,
                      source=Source.HTTP, seen=body.revision)


@router.post("/{id}/extend", summary="A new expected end for a started cut")
def extend(body: Extend, user: Dispatcher, engine: EngineDep, settings: SettingsDep,
           cut_id: int = CutId) -> OutageView:
    return cuts.extend(engine, settings, cut_id=cut_id,
                       end=bodies.when(body.end, settings, field="end"), note=body.note,
                       actor=user.name, source=Source.HTTP, seen=body.revision)


@router.post("/{id}/restore",
             summary="Power back for everyone left, or for a part (area or customer codes)")
def restore(body: RestoreBody, user: Dispatcher, engine: EngineDep, settings: SettingsDep,
            cut_id: int = CutId) -> OutageView:
    part, codes = bodies.restore_scope(settings, body.area, body.customers)
    return cuts.restore(engine, settings, cut_id=cut_id,
                        at=bodies.instant(body.at, settings, "at"), area=part, codes=codes,
                        actor=user.name, source=Source.HTTP, seen=body.revision)
