"""Priority call lists of a cut or an incident, and recording a call's outcome (audited).
The list is personal data: only roles that may see it get the page."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from outages.api.deps import reading
from outages.console.pages import console_root, render
from outages.console.session import CanDispatch, CanSeePersonal, Visitor, engine_of, settings_of
from outages.enums import OutageKind, Source
from outages.errors import OutagesError
from outages.lifecycle import calls
from outages.lifecycle.results import CallList

router = APIRouter()
PATHS: dict[str, str] = {OutageKind.PLANNED: "cuts", OutageKind.FAULT: "incidents"}


async def _page(request: Request, visitor: Visitor, outage_id: int, kind: str, *,
                status_code: int = 200, error: OutagesError | None = None,
                code: str = "") -> Response:
    def read() -> CallList:
        with reading(engine_of(request)) as conn:
            return calls.call_list(conn, settings_of(request), outage_id, kind=kind)

    return await render(request, "calls.html", visitor=visitor, status_code=status_code,
                        calls=await run_in_threadpool(read), kind=kind, base=PATHS[kind],
                        error=error, error_code=code, done=request.query_params.get("done"))


async def _record(request: Request, visitor: Visitor, outage_id: int, kind: str, code: str,
                  outcome: str, note: str | None) -> Response:
    def call() -> None:
        calls.record_call(engine_of(request), settings_of(request), outage_id=outage_id,
                          kind=kind, code=code, outcome=outcome, note=note or None,
                          actor=visitor.name, source=Source.CONSOLE)

    try:
        await run_in_threadpool(call)
    except OutagesError as exc:
        return await _page(request, visitor, outage_id, kind, status_code=exc.http_status,
                           error=exc, code=code)
    return RedirectResponse(f"{console_root(request)}/{PATHS[kind]}/{outage_id}/calls"
                            f"?done=1", status_code=303)


Outcome = Annotated[Literal["reached", "no_answer", "wrong_number"], Form()]
Code = Annotated[str, Form(min_length=1, max_length=64)]
Note = Annotated[str | None, Form(max_length=500)]


@router.get("/cuts/{outage_id:int}/calls")
async def cut_calls(request: Request, visitor: CanSeePersonal, outage_id: int) -> Response:
    return await _page(request, visitor, outage_id, OutageKind.PLANNED)


@router.post("/cuts/{outage_id:int}/calls")
async def cut_call(request: Request, visitor: CanDispatch, outage_id: int, code: Code,
                   outcome: Outcome, note: Note = None) -> Response:
    return await _record(request, visitor, outage_id, OutageKind.PLANNED, code, outcome, note)


@router.get("/incidents/{outage_id:int}/calls")
async def incident_calls(request: Request, visitor: CanSeePersonal, outage_id: int) -> Response:
    return await _page(request, visitor, outage_id, OutageKind.FAULT)


@router.post("/incidents/{outage_id:int}/calls")
async def incident_call(request: Request, visitor: CanDispatch, outage_id: int, code: Code,
                        outcome: Outcome, note: Note = None) -> Response:
    return await _record(request, visitor, outage_id, OutageKind.FAULT, code, outcome, note)
