"""Call lists over HTTP: the priority customers a cut or an incident affects, and each
call's outcome. Priority status is personal data: only roles that see it get the list."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Path
from pydantic import Field

from outages.access.auth import Principal
from outages.api.bodies import Body, json_router
from outages.api.deps import Dispatcher, EngineDep, SettingsDep, reading, require
from outages.enums import OutageKind, Source
from outages.lifecycle import calls
from outages.lifecycle.results import CallList, PriorityCallEntry

router = json_router(tags=["calls"])
OutageId = Path(ge=1, le=2**31 - 1, alias="id")
PersonalReader = Annotated[Principal, Depends(require("personal_data"))]


class Call(Body):
    code: str = Field(min_length=1, max_length=64, description="the customer's code")
    outcome: Literal["reached", "no_answer", "wrong_number"]
    note: str | None = Field(None, max_length=500)


@router.get("/cuts/{id}/calls", summary="The priority customers a cut affects, to call")
def cut_calls(_user: PersonalReader, engine: EngineDep, settings: SettingsDep,
              outage_id: int = OutageId) -> CallList:
    with reading(engine) as conn:
        return calls.call_list(conn, settings, outage_id, kind=OutageKind.PLANNED)


@router.post("/cuts/{id}/calls", status_code=201,
             summary="Record a call to a priority customer about a cut (audited)")
def cut_call(body: Call, user: Dispatcher, engine: EngineDep, settings: SettingsDep,
             outage_id: int = OutageId) -> PriorityCallEntry:
    return _record(body, user, engine, settings, outage_id, OutageKind.PLANNED)


@router.get("/faults/{id}/calls",
            summary="The priority customers a fault incident affects, to call")
def fault_calls(_user: PersonalReader, engine: EngineDep, settings: SettingsDep,
                outage_id: int = OutageId) -> CallList:
    with reading(engine) as conn:
        return calls.call_list(conn, settings, outage_id, kind=OutageKind.FAULT)


@router.post("/faults/{id}/calls", status_code=201,
             summary="Record a call to a priority customer about a fault incident (audited)")
def fault_call(body: Call, user: Dispatcher, engine: EngineDep, settings: SettingsDep,
               outage_id: int = OutageId) -> PriorityCallEntry:
    return _record(body, user, engine, settings, outage_id, OutageKind.FAULT)


def _record(body: Call, user: Principal, engine: EngineDep, settings: SettingsDep,
            outage_id: int, kind: str) -> PriorityCallEntry:
    return calls.record_call(engine, settings, outage_id=outage_id, kind=kind, code=body.code,
                             outcome=body.outcome, note=body.note, actor=user.name,
                             source=Source.HTTP)
