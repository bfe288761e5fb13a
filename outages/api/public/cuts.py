"""Public endpoints: no login, no personal data, rate-limited per client address."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from outages.api.bodies import required_day
from outages.api.deps import EngineDep, SettingsDep, public_cache, public_rate_limit, reading
from outages.errors import ValidationError
from outages.lifecycle import privacy, public
from outages.lifecycle.results import PublicDay, PublicLookup, PublicOutages
from outages.timeutil import utcnow

router = APIRouter(prefix="/public", tags=["public"], dependencies=[Depends(public_rate_limit)],
                   responses={429: {"description": "too many requests; see Retry-After"}})

# These answers are returned as ready JSONResponses (their response_model documents them):
# for a plain `def` endpoint FastAPI would otherwise validate the returned result again in
# another thread-pool hop, which on this hot path costs more than building it.


@router.get("/cuts", summary="Planned cuts on a local day touching a district",
            response_model=PublicDay)
def cuts(
    engine: EngineDep,
    settings: SettingsDep,
    district: str = Query(min_length=1, max_length=100, examples=["Hoan Kiem"]),
    text: str = Query(alias="date", min_length=1, max_length=20, examples=["2026-12-07"],
                      description="local date, YYYY-MM-DD"),
) -> JSONResponse:
    day = required_day(text, "date")
    with reading(engine) as conn:
        found = public.cuts_on_day(conn, settings, district=district, day=day)
    answer = PublicDay(district=district, date=day.isoformat(), cuts=found)
    return JSONResponse(privacy.checked(answer.as_json()), headers=public_cache(settings))


@router.get("/cuts/lookup", summary="Is a cut planned for me? By customer code or by location",
            response_model=PublicLookup)
async def lookup(
    engine: EngineDep,
    settings: SettingsDep,
    customer: str | None = Query(None, min_length=1, max_length=64,
                                 description="customer code from the bill"),
    lon: float | None = Query(None, ge=-180, le=180),
    lat: float | None = Query(None, ge=-90, le=90),
) -> JSONResponse:
    # An async endpoint that blocks the event loop for its one or two short, index-backed
    # queries (well under a millisecond each): measured under 200 concurrent clients, that
    # beats the thread-pool hop of a `def` endpoint, whose threads then fight over the GIL and
    # the connection pool, by about 1.6x in requests per second. Not a pattern for slow
    # work: reports and exports stay `def`. The connection is opened here rather than by a
    # dependency for the same reason.
    if customer is not None and (lon is not None or lat is not None):
        raise ValidationError("give ?customer=CODE or ?lon= and ?lat=, not both: they may "
                              "name different places", field="customer")
    with reading(engine) as conn:
        if customer is not None:
            found = public.lookup_customer(conn, settings, code=customer, now=utcnow())
            return JSONResponse(privacy.checked(PublicLookup(cuts=found).as_json()),
                                headers=public_cache(settings))
        if lon is not None and lat is not None:
            found = public.lookup_point(conn, settings, lon=lon, lat=lat, now=utcnow())
            return JSONResponse(privacy.checked(PublicLookup(cuts=found).as_json()),
                                headers=public_cache(settings))
    raise ValidationError("give ?customer=CODE, or both ?lon= and ?lat=", field="customer")


class Place(BaseModel):
    """A point, as the page's "near me" sends the browser's location."""

    model_config = ConfigDict(extra="forbid")
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)


@router.post("/cuts/near", summary="Cuts near me: the browser's location, sent once",
             response_model=PublicLookup)
def near(place: Place, engine: EngineDep, settings: SettingsDep) -> JSONResponse:
    """The same answer as /public/cuts/lookup?lon=&lat=, for the page's "near me" button:
    the location travels in the body, so it is in no URL, access log, proxy log or browser
    history, and it is neither stored nor logged here. Never cached."""
    with reading(engine) as conn:
        found = public.lookup_point(conn, settings, lon=place.lon, lat=place.lat, now=utcnow())
    return JSONResponse(privacy.checked(PublicLookup(cuts=found).as_json()),
                        headers={"Cache-Control": "no-store"})


@router.get("/outages", summary="Current outages: area, customers affected, expected restoration",
            response_model=PublicOutages)
def outages(engine: EngineDep, settings: SettingsDep) -> JSONResponse:
    with reading(engine) as conn:
        answer = PublicOutages(outages=public.current_outages(conn, settings))
    return JSONResponse(privacy.checked(answer.as_json()), headers=public_cache(settings))
