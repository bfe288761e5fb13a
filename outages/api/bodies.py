"""Turning request bodies into what the domain functions take, shared by the routers:
GeoJSON objects to areas, ISO 8601 text to instants, uploads to temporary files, and
domain results to JSON the same way the CLI prints them with --json."""

from __future__ import annotations

import io
import itertools
import json
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from geo import Area
from outages.api.deps import Handler, authenticate_first
from outages.errors import OutagesError, ValidationError
from outages.jsonable import json_default
from outages.lifecycle import core as lifecycle
from outages.settings import Settings
from outages.text import CsvWriter

GeoJSON = dict[str, Any]
TimeText = Field(min_length=1, max_length=40, examples=["2026-12-07 08:00"],
                 description="ISO 8601; without an offset it is local time")
# A rejects file is returned inline up to this size; beyond it, the first part is kept.
MAX_REJECTS_TEXT = 1_000_000


class Body(BaseModel):
    """Request bodies refuse unknown fields: a misspelt option must not be ignored."""

    model_config = ConfigDict(extra="forbid")


class JsonResult(JSONResponse):
    """JSON encoded like the CLI's --json output (dates ISO, numpy arrays as lists)."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, default=json_default,
                          separators=(",", ":")).encode("utf-8")


class JsonRoute(APIRoute):
    """A route answering with a typed result (its response model): optional keys the domain
    did not set stay out of the body, so it matches what the CLI prints with --json."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        kwargs["response_model_exclude_unset"] = True
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Handler:
        return authenticate_first(super().get_route_handler(), self.dependant)


def json_router(**kwargs: Any) -> APIRouter:
    return APIRouter(route_class=JsonRoute, default_response_class=JsonResult, **kwargs)


def area(source: GeoJSON, settings: Settings, field: str) -> Area:
    """An area from a GeoJSON object, with the vertex limit (http.max_area_vertices)."""
    return lifecycle.read_area(json.dumps(source), settings, field=field)


def when(text: str, settings: Settings, field: str) -> datetime:
    return lifecycle.parse_time(text, settings, field=field)


def instant(text: str | None, settings: Settings, field: str) -> datetime | None:
    return None if text is None else lifecycle.parse_time(text, settings, field=field)


day = lifecycle.parse_day  # the CLI and the API read days alike


def required_day(text: str, field: str) -> date:
    found = day(text, field)
    if found is None:
        raise ValidationError("a local date YYYY-MM-DD is required", field=field)
    return found


def restore_scope(settings: Settings, part: GeoJSON | None,
                  codes: Sequence[str] | None) -> tuple[Area | None, list[str] | None]:
    if part is not None and codes is not None:
        raise ValidationError("give either area or customers, not both", field="area")
    if codes is not None and not [c for c in codes if c.strip()]:
        raise ValidationError("customers lists no customer codes", field="customers")
    chosen = list(dict.fromkeys(c.strip() for c in codes if c.strip())) if codes else None
    return (area(part, settings, "area") if part is not None else None), chosen


def page(items: list[Any], limit: int, offset: int) -> dict[str, Any]:
    return {"total": len(items), "limit": limit, "offset": offset,
            "items": items[offset:offset + limit]}


@contextmanager
def uploaded(upload: UploadFile) -> Iterator[Path]:
    """The upload copied to a file in a private temporary folder (removed afterwards). A
    refusal that names the file names it as the client did: the server's folder is of no use
    to the client and tells an outsider about the server."""
    shown = Path(upload.filename or "").name[:255] or "the uploaded file"
    name = re.sub(r"[^A-Za-z0-9._-]", "_", shown).lstrip(".")
    with tempfile.TemporaryDirectory(prefix="outages-upload-") as folder:
        path = Path(folder) / (name or "upload")
        with path.open("wb") as out:
            shutil.copyfileobj(upload.file, out, 1 << 20)
        try:
            yield path
        except OutagesError as exc:
            exc.message = exc.message.replace(str(path), shown).replace(folder, "")
            raise


def rejects_text(path: str | Path | None) -> str | None:
    if path is None:
        return None
    with Path(path).open(encoding="utf-8") as handle:
        return handle.read(MAX_REJECTS_TEXT)


def csv_chunks(rows: Iterable[Mapping[str, Any]], columns: Sequence[str],
               every: int = 2000) -> Iterator[str]:
    """CSV text in chunks of `every` rows, cells written as the CLI's CSV export writes them."""
    buffer = io.StringIO()
    writer = CsvWriter(buffer, lineterminator="\n")
    writer.writerow(columns)
    for n, row in enumerate(rows, 1):
        writer.writerow(["" if row[c] is None else str(row[c]).lower()
                         if isinstance(row[c], bool) else row[c] for c in columns])
        if n % every == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def json_chunks(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """One JSON array, a row at a time, so a large export stays out of memory. The opening
    bracket goes out with the first row, so the first chunk has run the query."""
    opening = "["
    for row in rows:
        yield opening + "\n  " + json.dumps(row, ensure_ascii=False, default=json_default)
        opening = ","
    yield ("[" if opening == "[" else "") + "\n]\n"


def streamed(chunks: Iterator[str], media_type: str,
             headers: Mapping[str, str] | None = None) -> StreamingResponse:
    """A streamed answer whose first chunk is made before the status goes out: a refusal or
    a failure in the query then answers 4xx/5xx instead of a 200 cut off after a few bytes."""
    first = next(chunks, "")
    return StreamingResponse(itertools.chain((first,), chunks), media_type=media_type,
                             headers=headers)
