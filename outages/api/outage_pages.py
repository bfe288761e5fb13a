"""Reading one outage over HTTP, shared by the cuts and faults routers: the same view as
`cuts show --json` / `faults show --json`, with history and a page of customers on request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query
from pydantic import Field
from sqlalchemy import Engine

from outages.access.auth import Principal
from outages.api.bodies import Body, GeoJSON, page
from outages.api.deps import reading, redact
from outages.lifecycle import core as lifecycle
from outages.lifecycle import faults
from outages.lifecycle import views as outage_views
from outages.lifecycle.results import CustomersPage
from outages.settings import Settings


@dataclass(frozen=True)
class ShowOptions:
    history: bool
    customers: bool
    limit: int
    offset: int


async def show_options(
    history: bool = Query(False, description="include every revision"),
    customers: bool = Query(False, description="include a page of the affected customers"),
    limit: int = Query(100, ge=1, le=10_000, description="customers per page"),
    offset: int = Query(0, ge=0, le=100_000_000),
) -> ShowOptions:
    return ShowOptions(history, customers, limit, offset)


Shown = Annotated[ShowOptions, Depends(show_options)]


class Based(Body):
    """A change based on what the client last read of the outage."""

    revision: int | None = Field(None, ge=1, le=2**31 - 1, description=(
        "the outage's revision the change is based on: refused (409) when it has changed "
        "since (another dispatcher acted meanwhile)"))


class RestoreBody(Based):
    at: str | None = Field(None, min_length=1, max_length=40,
                           description="when power came back (default now; local time "
                           "without an offset)")
    area: GeoJSON | None = Field(None, description="only customers inside this part")
    customers: list[str] | None = Field(None, max_length=1_000_000,
                                        description="only these customer codes")


def show(engine: Engine, settings: Settings, user: Principal, outage_id: int, kind: str,
         options: ShowOptions) -> Any:
    with reading(engine) as conn:
        row = lifecycle.load(conn, outage_id, kind=kind)
        view = outage_views.describe(conn, settings, row)
        if kind == "fault":
            view.reports = faults.reports(conn, settings, outage_id)
        if options.history:
            view.history = outage_views.history(conn, settings, outage_id)
        if options.customers:
            people = page(outage_views.customers(conn, settings, outage_id), options.limit,
                          options.offset)
            view.customers = people.pop("items")
            view.customers_page = CustomersPage.model_validate(people)
    # The view, or its JSON with personal fields blanked for roles that may not read them.
    return redact(view, user)
