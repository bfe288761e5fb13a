"""Fault reports and incidents: the `outages faults ...` commands over HTTP."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Path, Query
from pydantic import Field

from outages.api import bodies
from outages.api.bodies import Body, GeoJSON, TimeText, json_router
from outages.api.deps import Dispatcher, EngineDep, Reader, SettingsDep, reading, redact
from outages.api.outage_pages import Based, RestoreBody, Shown, show
from outages.enums import IncidentStatus, ReplyVia, ReportSource, Source
from outages.errors import ValidationError
from outages.lifecycle import fault_merge, fault_reports, faults, reopen
from outages.lifecycle import views as outage_views
from outages.lifecycle.results import AreaProposal, FaultReport, OutageView, StillOut

router = json_router(prefix="/faults", tags=["faults"])
FaultId = Path(ge=1, le=2**31 - 1, alias="id")


class NewReport(Body):
    customer: str | None = Field(None, min_length=1, max_length=64, description="customer code")
    phone: str | None = Field(None, min_length=1, max_length=32)
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    text: str | None = Field(None, max_length=1000, description="what the customer said")
    source: ReportSource = ReportSource.CALL


class Confirm(Based):
    area: GeoJSON | None = Field(None, description="the area without power")
    feeders: list[str] | None = Field(None, max_length=1000, description="feeders that are down")
    auto: bool = Field(False, description="propose an area around the reports")
    confirm: bool = Field(False, description="with auto: save the proposal (otherwise it is "
                          "only returned)")
    started_at: str | None = Field(None, min_length=1, max_length=40,
                                   description="when power went (default: first report)")
    cause: str | None = Field(None, max_length=64, description="a cause code from settings; "
                              "customers read its wording unless a reason is given")
    reason: str | None = Field(None, max_length=500, description="the reason customers read, "
                               "in the default language")
    reason_en: str | None = Field(None, max_length=500,
                                  description="the reason customers read in English")


class Resize(Based):
    area: GeoJSON = Field(description="the new area without power")
    note: str | None = Field(None, max_length=500)


class Dismiss(Based):
    reason: str = Field(min_length=1, max_length=500, description="what the crew found (kept "
                        "with the incident): the customer's own installation, a prank...")


class Merge(Based):
    into: int = Field(ge=1, le=2**31 - 1, description="the open incident that stands for the "
                      "same fault; the duplicate's reports join it")


class StillOutReply(Body):
    customer: str = Field(min_length=1, max_length=64, description="customer code")
    at: str | None = Field(None, min_length=1, max_length=40,
                           description="when the customer said so (default now)")


class Etr(Based):
    at: str = TimeText
    note: str | None = Field(None, max_length=500)


@router.post("/reports", status_code=201,
             summary="Record a fault report; it joins a nearby open incident or opens one",
             response_model=FaultReport)
def report(body: NewReport, user: Dispatcher, engine: EngineDep,
           settings: SettingsDep) -> Any:
    if (body.lon is None) != (body.lat is None):
        raise ValidationError("give both lon and lat, or neither", field="lon")
    point = (body.lon, body.lat) if body.lon is not None and body.lat is not None else None
    result = fault_reports.report(engine, settings, customer=body.customer, phone=body.phone,
                                  point=point, text=body.text, channel=body.source,
                                  actor=user.name, source=Source.HTTP)
    return redact(result, user)


@router.post("/still-out", summary="A customer told 'restored' still has no power",
             description="Within faults.still_out_window of the customer's restoration they "
             "are reopened in that outage (and the desk alerted); otherwise a new fault "
             "report is filed.", response_model=StillOut)
def still_out(body: StillOutReply, user: Dispatcher, engine: EngineDep,
              settings: SettingsDep) -> Any:
    return reopen.report(engine, settings, customer=body.customer, via=ReplyVia.API,
                         at=bodies.instant(body.at, settings, "at"), actor=user.name,
                         source=Source.HTTP)


@router.get("", summary="Incidents that began in the given local days")
def list_faults(
    _user: Reader, engine: EngineDep, settings: SettingsDep,
    status: IncidentStatus | None = None,
    first: str | None = Query(None, alias="from", max_length=40, description="YYYY-MM-DD"),
    last: str | None = Query(None, alias="to", max_length=40, description="inclusive"),
    overdue: bool = Query(False, description="only open incidents whose ETR has passed"),
) -> list[OutageView]:
    with reading(engine) as conn:
        return outage_views.listing(conn, settings, kind="fault", status=status,
                                    first=bodies.day(first, "from"), last=bodies.day(last, "to"),
                                    overdue=overdue)


@router.get("/{id}", summary="One incident with its reports, optionally history and customers",
            response_model=OutageView)
def show_fault(user: Reader, engine: EngineDep, settings: SettingsDep, options: Shown,
               fault_id: int = FaultId) -> Any:
    return show(engine, settings, user, fault_id, "fault", options)


@router.post("/{id}/confirm",
             summary="Confirm an incident: by area, feeders, or an automatic proposal")
def confirm(body: Confirm, user: Dispatcher, engine: EngineDep, settings: SettingsDep,
            fault_id: int = FaultId) -> OutageView | AreaProposal:
    chosen = bodies.area(body.area, settings, "area") if body.area is not None else None
    if body.auto:
        if chosen is not None:
            raise ValidationError("give either area or auto, not both", field="auto")
        with reading(engine) as conn:
            chosen, count = faults.proposed(conn, settings, fault_id)
        if not body.confirm:
            return AreaProposal(
                proposed=True, area=json.loads(chosen.to_geojson()),
                area_km2=round(chosen.area_km2(), 3), customers=count,
                hint="send the same request with confirm: true to save this area")
    return faults.confirm(
        engine, settings, fault_id=fault_id, area=chosen, feeders=body.feeders or None,
        auto=body.auto, started_at=bodies.instant(body.started_at, settings, "started_at"),
        cause=body.cause, reason=body.reason, reason_en=body.reason_en, actor=user.name,
        source=Source.HTTP, seen=body.revision)


@router.post("/{id}/resize", summary="Redraw a confirmed incident's area")
def resize(body: Resize, user: Dispatcher, engine: EngineDep, settings: SettingsDep,
           fault_id: int = FaultId) -> OutageView:
    return faults.resize(engine, settings, fault_id=fault_id,
                         area=bodies.area(body.area, settings, "area"), note=body.note,
                         actor=user.name, source=Source.HTTP, seen=body.revision)


@router.post("/{id}/etr", summary="Set or move the estimated restoration time")
def etr(body: Etr, user: Dispatcher, engine: EngineDep, settings: SettingsDep,
        fault_id: int = FaultId) -> OutageView:
    return faults.set_etr(engine, settings, fault_id=fault_id,
                          at=bodies.when(body.at, settings, "at"), note=body.note,
                          actor=user.name, source=Source.HTTP, seen=body.revision)


@router.post("/{id}/restore", summary="Power back for everyone left, or for a part")
def restore(body: RestoreBody, user: Dispatcher, engine: EngineDep, settings: SettingsDep,
            fault_id: int = FaultId) -> OutageView:
    part, codes = bodies.restore_scope(settings, body.area, body.customers)
    return faults.restore(engine, settings, fault_id=fault_id,
                          at=bodies.instant(body.at, settings, "at"), area=part, codes=codes,
                          actor=user.name, source=Source.HTTP, seen=body.revision)


@router.post("/{id}/dismiss",
             summary="Close a reported incident the crew found no fault on the network for",
             description="Its reporters are told no fault was found. A confirmed incident is "
             "refused (409): it ends with its restoration.")
def dismiss(body: Dismiss, user: Dispatcher, engine: EngineDep, settings: SettingsDep,
            fault_id: int = FaultId) -> OutageView:
    return faults.dismiss(engine, settings, fault_id=fault_id, reason=body.reason,
                          actor=user.name, source=Source.HTTP, seen=body.revision)


@router.post("/{id}/merge",
             summary="Merge a reported duplicate into the incident that stands",
             description="Its reports join `into` (their reporters hear what joining it tells "
             "them) and it closes as `merged`. `revision` is the duplicate's. A confirmed, "
             "restored, dismissed or merged duplicate, or a closed target, is refused (409); "
             "merging into itself or into a planned cut is refused (422).")
def merge(body: Merge, user: Dispatcher, engine: EngineDep, settings: SettingsDep,
          fault_id: int = FaultId) -> OutageView:
    return fault_merge.merge(engine, settings, fault_id=fault_id, into=body.into,
                             actor=user.name, source=Source.HTTP, seen=body.revision)
