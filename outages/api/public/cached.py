"""Public answers built once per change: an in-process cache keyed by the outage revision
watermark (and the minute, since "upcoming" and "kept 7 days" move with the clock), with
ETag and Last-Modified so a client that has the answer gets 304 Not Modified."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from threading import Lock

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import Connection

from outages.api.deps import public_cache, reading
from outages.lifecycle import public_feed
from outages.timeutil import utcnow

_LIMIT = 512


@dataclass(frozen=True)
class Built:
    body: bytes
    etag: str
    last_modified: str


_ENTRIES: dict[Hashable, Built] = {}
_LOCK = Lock()


def cached(request: Request, key: Hashable, media_type: str,
           build: Callable[[Connection, datetime], bytes]) -> Response:
    """The answer `build(conn, now)` makes, reused until an outage changes or the minute
    turns; 304 when the client's If-None-Match holds its ETag."""
    engine = request.app.state.engine
    settings = request.app.state.settings
    with reading(engine) as conn:
        now = utcnow()
        full_key = (str(engine.url), key, public_feed.watermark(conn),
                    int(now.timestamp() // 60))
        built = _ENTRIES.get(full_key)
        if built is None:
            built = _build(conn, now, build)
            with _LOCK:
                if len(_ENTRIES) >= _LIMIT:
                    _ENTRIES.clear()
                _ENTRIES[full_key] = built
    headers = {"ETag": built.etag, "Last-Modified": built.last_modified,
               **public_cache(settings)}
    if _matches(request.headers.get("if-none-match"), built.etag):
        return Response(status_code=304, headers=headers)
    return Response(built.body, media_type=media_type, headers=headers)


def _build(conn: Connection, now: datetime, build: Callable[[Connection, datetime], bytes]
           ) -> Built:
    body = build(conn, now)
    changed = public_feed.last_change(conn) or now
    return Built(body=body, etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"',
                 last_modified=format_datetime(changed.astimezone(UTC), usegmt=True))


def _matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in tags or etag in tags
