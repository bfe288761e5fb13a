"""Turning command-line text into what the lifecycle functions take, shared by `cuts` and
`faults`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from outages.cli.lifecycle import render as outage_render
from outages.cli.output import print_json
from outages.errors import ValidationError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from geo import Area
    from outages.lifecycle.results import OutageCustomer, OutageView, Revision
    from outages.settings import Settings


def at(settings: Settings, text: str | None, field: str = "--at") -> datetime | None:
    from outages.lifecycle import core as lc

    return None if text is None else lc.parse_time(text, settings, field=field)


def day(text: str | None, field: str) -> date | None:
    from outages.lifecycle import core as lc  # the CLI and the API read days alike

    return lc.parse_day(text, field)


def restore_scope(
    settings: Settings, area: str | None, customers: Path | None
) -> tuple[Area | None, list[str] | None]:
    from outages.lifecycle import core as lc
    from outages.lifecycle import restoration

    if area and customers:
        raise ValidationError("give either --area or --customers, not both", field="--area")
    return (lc.read_area(area, settings) if area else None,
            restoration.read_codes(customers) if customers else None)


def emit(view: OutageView, as_json: bool) -> None:
    if as_json:
        print_json(view)
    else:
        outage_render.outage(view)


def list_outages(engine: Engine, settings: Settings, *, kind: str, status: str | None,
                 first: str | None, last: str | None, as_json: bool,
                 overdue: bool = False) -> None:
    """`cuts list` and `faults list`: the outages of one kind on the given local days."""
    from outages.lifecycle import views

    with engine.connect() as conn:
        found = views.listing(conn, settings, kind=kind, status=status,
                              first=day(first, "--from"), last=day(last, "--to"),
                              overdue=overdue)
    if as_json:
        print_json(found)
    else:
        outage_render.listing(found, kind=kind)


def load_view(engine: Engine, settings: Settings, outage_id: int, *, kind: str,
              history: bool, customers: bool
              ) -> tuple[OutageView, list[Revision] | None, list[OutageCustomer] | None]:
    """`cuts show` and `faults show`: one outage, with its history and customers if asked."""
    from outages.lifecycle import core as lc
    from outages.lifecycle import faults, views

    with engine.connect() as conn:
        view = views.describe(conn, settings, lc.load(conn, outage_id, kind=kind))
        if kind == "fault":
            view.reports = faults.reports(conn, settings, outage_id)
        past = views.history(conn, settings, outage_id) if history else None
        people = views.customers(conn, settings, outage_id) if customers else None
    return view, past, people


def show(view: OutageView, *, as_json: bool, history: Sequence[Revision] | None,
         customers: Sequence[OutageCustomer] | None) -> None:
    if as_json:
        extra: dict[str, Sequence[Revision] | Sequence[OutageCustomer]] = {}
        if history is not None:
            extra["history"] = history
        if customers is not None:
            extra["customers"] = customers
        print_json({**view.as_json(), **extra})
        return
    outage_render.outage(view)
    if history is not None:
        outage_render.history(history)
    if customers is not None:
        outage_render.customers(customers)
