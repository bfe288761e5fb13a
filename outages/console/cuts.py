"""Planned cuts in the console: the list, the week calendar, a cut's page and its actions
(reschedule, cancel, start, extend, restore).

Each action calls the same domain function as the API router (outages/api/routers/cuts.py);
a refusal is shown beside the field it names and nothing is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import Engine

from outages.api import bodies
from outages.api.deps import reading
from outages.console.pages import console_root, refusal, render
from outages.console.session import CanDispatch, CanRead, Visitor, engine_of, settings_of
from outages.enums import CutStatus, OutageKind, Source
from outages.errors import OutagesError, ValidationError
from outages.lifecycle import board, cuts
from outages.lifecycle import core as lifecycle
from outages.lifecycle import views as outage_views
from outages.lifecycle.results import OutageView
from outages.notices import dashboard
from outages.settings import Settings
from outages.timeutil import to_local, utcnow

router = APIRouter()
Text = Annotated[str, Form(max_length=500)]
OptionalText = Annotated[str | None, Form(max_length=500)]
# The revision the page showed: an action on a cut another dispatcher changed since is refused.
Seen = Annotated[int | None, Form(alias="revision", ge=1, le=2**31 - 1)]
Filter = Annotated[str | None, Query(max_length=100)]
CSV_COLUMNS = ("code", "district", "feeder", "added_revision", "dropped_revision", "start",
               "end")


def _day(text: str | None, field: str) -> date | None:
    return bodies.day(text or None, field)


@router.get("/cuts")
async def cut_list(request: Request, visitor: CanRead, status: Filter = None,
                   district: Filter = None, first: Annotated[str | None, Query(
                       alias="from", max_length=10)] = None,
                   last: Annotated[str | None, Query(alias="to", max_length=10)] = None,
                   ) -> Response:
    filters = {"status": status or "", "district": district or "", "from": first or "",
               "to": last or ""}
    try:
        rows, districts = await run_in_threadpool(
            _listing, engine_of(request), settings_of(request), status or None,
            district or None, _day(first, "from"), _day(last, "to"))
        error = None
    except OutagesError as exc:
        rows, districts, error = [], {}, exc
    return await render(request, "cuts.html", visitor=visitor, cuts=rows, filters=filters,
                        statuses=list(CutStatus), district_names=districts.get(0, []),
                        by_cut=districts, error=error,
                        status_code=error.http_status if error else 200)


def _listing(engine: Engine, settings: Settings, status: str | None, district: str | None,
             first: date | None, last: date | None
             ) -> tuple[list[OutageView], dict[int, list[str]]]:
    """The cuts, their districts (key 0: every district, for the filter's choices)."""
    with reading(engine) as conn:
        rows = outage_views.listing(conn, settings, kind=OutageKind.PLANNED, status=status,
                                    first=first, last=last)
        districts = board.districts_by_outage(conn, [row.id for row in rows])
        districts[0] = board.all_districts(conn)
    if district:
        rows = [row for row in rows if district in districts.get(row.id, [])]
    return rows, districts


@router.get("/cuts/week")
async def week(request: Request, visitor: CanRead, start: Filter = None,
               district: Filter = None) -> Response:
    settings = settings_of(request)
    try:
        chosen = _day(start, "start") or to_local(utcnow(), settings.tz).date()
    except OutagesError:
        chosen = to_local(utcnow(), settings.tz).date()
    monday = chosen - timedelta(days=chosen.weekday())
    days = [monday + timedelta(days=n) for n in range(7)]
    rows, districts = await run_in_threadpool(
        _listing, engine_of(request), settings, None, district or None, days[0], days[-1])
    by_day: dict[date, list[OutageView]] = {day: [] for day in days}
    for row in rows:
        if row.start:
            by_day.setdefault(datetime.fromisoformat(row.start).date(), []).append(row)
    return await render(request, "week.html", visitor=visitor, days=days, by_day=by_day,
                        previous=(monday - timedelta(days=7)).isoformat(),
                        following=(monday + timedelta(days=7)).isoformat(),
                        district=district or "", district_names=districts.get(0, []))


def _cut(engine: Engine, settings: Settings, cut_id: int) -> dict[str, Any]:
    with reading(engine) as conn:
        row = lifecycle.load(conn, cut_id, kind=OutageKind.PLANNED)
        cut = outage_views.describe(conn, settings, row)
        return {"cut": cut, "history": outage_views.history(conn, settings, cut_id),
                "funnel": dashboard.funnel(conn, cut_id),
                "feeders": sorted(name for name in cut.by_feeder or {} if name != "-")}


async def cut_page(request: Request, visitor: Visitor, cut_id: int, *, status_code: int = 200,
                   errors: dict[str, dict[str, str]] | None = None,
                   values: dict[str, Any] | None = None) -> Response:
    data = await run_in_threadpool(_cut, engine_of(request), settings_of(request), cut_id)
    return await render(request, "cut.html", visitor=visitor, status_code=status_code,
                        errors=errors or {}, values=values or {}, done=request.query_params
                        .get("done", ""), **data)


@router.get("/cuts/{cut_id:int}")
async def show(request: Request, visitor: CanRead, cut_id: int) -> Response:
    return await cut_page(request, visitor, cut_id)


@router.get("/cuts/{cut_id:int}/area.geojson")
async def area(request: Request, _visitor: CanRead, cut_id: int) -> Response:
    def read() -> Any:
        with reading(engine_of(request)) as conn:
            lifecycle.load(conn, cut_id, kind=OutageKind.PLANNED)
            return board.area_geojson(conn, cut_id)

    return JSONResponse(await run_in_threadpool(read),
                        headers={"Cache-Control": "no-store"})


@router.get("/cuts/{cut_id:int}/customers.csv")
async def customers_csv(request: Request, _visitor: CanRead, cut_id: int) -> Response:
    def rows() -> Iterator[str]:
        with reading(engine_of(request)) as conn:
            lifecycle.load(conn, cut_id, kind=OutageKind.PLANNED)
            people = outage_views.customers(conn, settings_of(request), cut_id)
        return bodies.csv_chunks((person.model_dump() for person in people), CSV_COLUMNS)

    chunks = await run_in_threadpool(rows)
    return bodies.streamed(chunks, "text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="cut-{cut_id}-customers.csv"',
        "Cache-Control": "no-store"})


async def _act(request: Request, visitor: Visitor, cut_id: int, action: str,
               values: dict[str, Any], call: Callable[[Settings], OutageView]) -> Response:
    """Run `call` (a domain function); on success back to the cut's page, on a refusal the
    page again with the message beside the field, and the values as typed."""
    settings = settings_of(request)
    try:
        await run_in_threadpool(call, settings)
    except OutagesError as exc:
        field = exc.field or "form"
        return await cut_page(request, visitor, cut_id, status_code=exc.http_status,
                              errors={action: {field: refusal(exc, visitor.language)}},
                              values={action: values})
    return RedirectResponse(f"{console_root(request)}/cuts/{cut_id}?done={action}",
                            status_code=303)


@router.post("/cuts/{cut_id:int}/reschedule")
async def reschedule(request: Request, visitor: CanDispatch, cut_id: int, start: Text,
                     end: Text, note: OptionalText = None,
                     urgent: Annotated[bool, Form()] = False,
                     urgent_reason: OptionalText = None, seen: Seen = None) -> Response:
    engine = engine_of(request)

    def call(settings: Settings) -> OutageView:
        return cuts.reschedule(
            engine, settings, cut_id=cut_id, start=bodies.when(start, settings, field="start"),
            end=bodies.when(end, settings, field="end"), note=note or None, urgent=urgent,
            urgent_reason=urgent_reason or None, actor=visitor.name, source=Source.CONSOLE,
            seen=seen)

    return await _act(request, visitor, cut_id, "reschedule",
                      {"start": start, "end": end, "note": note or "", "urgent": urgent,
                       "urgent_reason": urgent_reason or ""}, call)


@router.post("/cuts/{cut_id:int}/cancel")
async def cancel(request: Request, visitor: CanDispatch, cut_id: int,
                 reason: Annotated[str, Form(max_length=500)] = "", seen: Seen = None,
                 ) -> Response:
    engine = engine_of(request)

    def call(settings: Settings) -> OutageView:
        return cuts.cancel(engine, settings, cut_id=cut_id, reason=reason, actor=visitor.name,
                           source=Source.CONSOLE, seen=seen)

    return await _act(request, visitor, cut_id, "cancel", {"reason": reason}, call)


@router.post("/cuts/{cut_id:int}/start")
async def start(request: Request, visitor: CanDispatch, cut_id: int,
                at: Annotated[str, Form(max_length=40)] = "", seen: Seen = None) -> Response:
    engine = engine_of(request)

    def call(settings: Settings) -> OutageView:
        return cuts.start(engine, settings, cut_id=cut_id,
                          at=bodies.instant(at or None, settings, "at"), actor=visitor.name,
                          source=Source.CONSOLE, seen=seen)

    return await _act(request, visitor, cut_id, "start", {"at": at}, call)


@router.post("/cuts/{cut_id:int}/extend")
async def extend(request: Request, visitor: CanDispatch, cut_id: int, end: Text,
                 note: OptionalText = None, seen: Seen = None) -> Response:
    engine = engine_of(request)

    def call(settings: Settings) -> OutageView:
        return cuts.extend(engine, settings, cut_id=cut_id,
                           end=bodies.when(end, settings, field="end"), note=note or None,
                           actor=visitor.name, source=Source.CONSOLE, seen=seen)

    return await _act(request, visitor, cut_id, "extend", {"end": end, "note": note or ""},
                      call)


@router.post("/cuts/{cut_id:int}/restore")
async def restore(request: Request, visitor: CanDispatch, cut_id: int,
                  scope: Annotated[str, Form(max_length=10)] = "all",
                  feeder: Annotated[list[str] | None, Form(max_length=1000)] = None,
                  at: Annotated[str, Form(max_length=40)] = "", seen: Seen = None) -> Response:
    engine = engine_of(request)

    def call(settings: Settings) -> OutageView:
        codes = _feeder_codes(engine, settings, cut_id, feeder or []) \
            if scope == "feeders" else None
        return cuts.restore(engine, settings, cut_id=cut_id,
                            at=bodies.instant(at or None, settings, "at"), codes=codes,
                            actor=visitor.name, source=Source.CONSOLE, seen=seen)

    return await _act(request, visitor, cut_id, "restore",
                      {"scope": scope, "feeders": feeder or [], "at": at}, call)


def _feeder_codes(engine: Engine, settings: Settings, cut_id: int,
                  feeders: list[str]) -> list[str]:
    """The codes of the cut's customers on `feeders` still without power."""
    if not feeders:
        raise ValidationError("choose at least one feeder to restore", field="feeders")
    with reading(engine) as conn:
        people = outage_views.customers(conn, settings, cut_id)
    codes = [p.code for p in people if p.feeder in feeders and p.dropped_revision is None
             and p.end is None]
    if not codes:
        raise ValidationError("no customer of these feeders is still without power",
                              field="feeders")
    return codes
