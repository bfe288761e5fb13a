"""The interruption log and outage durations for reliability engineers: streamed exports,
and the history import (admins: it creates outages)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any, Literal

from fastapi import File, Query, UploadFile
from fastapi.responses import StreamingResponse
from sqlalchemy import Engine

from outages.api import bodies
from outages.api.bodies import json_router
from outages.api.deps import Admin, EngineDep, Engineer, SettingsDep, reading
from outages.enums import Source
from outages.lifecycle import durations
from outages.lifecycle import history_import as interruption_import
from outages.lifecycle.results import HistoryImport, OutageDuration
from outages.settings import Settings

router = json_router(tags=["interruptions"])
First = Query(None, alias="from", max_length=40, description="first local day, YYYY-MM-DD")
Last = Query(None, alias="to", max_length=40, description="last local day, inclusive")
MEDIA = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


@router.get("/interruptions/export", response_class=StreamingResponse,
            summary="Interruptions that began in the given local days (streamed)",
            responses={200: {"description": "CSV (the default) or a JSON array, streamed",
                             "content": {"text/csv": {"schema": {"type": "string"}},
                                         "application/json": {"schema": {
                                             "type": "array", "items": {"type": "object"}}}}}})
def export(_user: Engineer, engine: EngineDep, settings: SettingsDep,
           first: str | None = First, last: str | None = Last,
           format: Literal["csv", "json"] = "csv") -> StreamingResponse:
    days = bodies.day(first, "from"), bodies.day(last, "to")
    return bodies.streamed(_export(engine, settings, *days, format), MEDIA[format],
                           {"Content-Disposition":
                            f'attachment; filename="interruptions.{format}"'})


def _export(engine: Engine, settings: Settings, first: date | None, last: date | None,
            fmt: str) -> Iterator[str]:
    # A transaction, not `reading`'s autocommit: PostgreSQL streams the rows through a
    # server-side cursor, which exists only inside one.
    with engine.connect() as conn:
        rows = durations.export_rows(conn, settings, first=first, last=last)
        yield from (bodies.csv_chunks(rows, durations.EXPORT_COLUMNS) if fmt == "csv"
                    else bodies.json_chunks(rows))


@router.post("/interruptions/import",
             summary="Load interruption history (CSV: outage_id,customer_code,start,end,cause,"
             "planned); bad rows come back in rejects_csv")
def import_file(user: Admin, engine: EngineDep, settings: SettingsDep,
                file: UploadFile = File(description="the CSV file")) -> HistoryImport:
    with bodies.uploaded(file) as path:
        result = interruption_import.import_csv(engine, settings, path=path, actor=user.name,
                                                source=Source.HTTP)
        rejects = bodies.rejects_text(result.rejects_file)
    result.rejects_file, result.rejects_csv = None, rejects
    return result


@router.get("/outages/durations",
            summary="One row per outage: times, customers, customer-minutes, notice given",
            response_model=list[OutageDuration],
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
def outage_durations(_user: Engineer, engine: EngineDep, settings: SettingsDep,
                     first: str | None = First, last: str | None = Last,
                     format: Literal["json", "csv"] = "json") -> Any:
    with reading(engine) as conn:
        rows = durations.outage_durations(conn, settings, first=bodies.day(first, "from"),
                                          last=bodies.day(last, "to"))
    if format == "csv":
        chunks = bodies.csv_chunks((r.as_json() for r in rows), durations.DURATION_COLUMNS)
        return bodies.streamed(chunks, MEDIA["csv"])
    return rows
