"""Public answers built once per change: an in-process cache keyed by the outage revision
watermark (and the minute, since "upcoming" and "kept 7 days" move with the clock), with
ETag and Last-Modified so a client that has the answer gets 304 Not Modified.

The watermark itself is read at most once per `public.recheck` (default 1 s) per process,
so a change reaches the feeds within that time (proxies may keep an answer for
http.public_max_age anyway)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from threading import Lock

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
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
# Per application: (when read, on the monotonic clock; the watermark then).
_MARK = "public_watermark"
# The last answer built for each (database, key), and the keys being built now; both are
# touched only in the event loop.
_LATEST: dict[tuple[str, Hashable], Built] = {}
_REFRESHING_SLOTS: set[tuple[str, Hashable]] = set()
_REFRESHING = "public_watermark_refreshing"


async def cached(request: Request, key: Hashable, media_type: str,
                 build: Callable[[Connection, datetime], bytes]) -> Response:
    """The answer `build(conn, now)` makes, reused until an outage changes or the minute
    turns; 304 when the client's If-None-Match holds its ETag. A hit is answered in the
    event loop without touching the database; reading the watermark and building go to a
    worker thread, so a rebuild never stalls the answers of the others."""
    state, settings = request.app.state, request.app.state.settings
    url, now = str(state.engine.url), utcnow()
    mark = _usable_mark(request, settings.public.recheck.total_seconds())
    built = None if mark is None else _ENTRIES.get((url, key, mark, now.timestamp() // 60))
    if built is None:
        built = await _refresh(request, (url, key), build)
    headers = {"ETag": built.etag, "Last-Modified": built.last_modified,
               **public_cache(settings)}
    if _matches(request.headers.get("if-none-match"), built.etag):
        return Response(status_code=304, headers=headers)
    return Response(built.body, media_type=media_type, headers=headers)


async def _refresh(request: Request, slot: tuple[str, Hashable],
                   build: Callable[[Connection, datetime], bytes]) -> Built:
    """Read the watermark again and build the answer if it is not cached yet. While one
    request does so for an answer, the others asking for it take its last version rather
    than wait (at a minute's turn every client of the page misses at once); that version
    is at most one build old."""
    state = request.app.state
    latest = _LATEST.get(slot)
    if latest is not None and slot in _REFRESHING_SLOTS:
        return latest
    _REFRESHING_SLOTS.add(slot)
    setattr(state, _REFRESHING, True)
    try:
        built = await run_in_threadpool(_load, request, slot[1], build)
    finally:
        _REFRESHING_SLOTS.discard(slot)
        setattr(state, _REFRESHING, False)
    _LATEST[slot] = built
    return built


def _load(request: Request, key: Hashable,
          build: Callable[[Connection, datetime], bytes]) -> Built:
    engine = request.app.state.engine
    url, now = str(engine.url), utcnow()
    with reading(engine) as conn:
        mark = public_feed.watermark(conn)
        setattr(request.app.state, _MARK, (time.monotonic(), mark))
        full_key = (url, key, mark, now.timestamp() // 60)
        # One thread builds a given answer; the others asking for it meanwhile wait and
        # take it (at a minute's turn, every client of a feed misses at once).
        with _building(full_key):
            built = _ENTRIES.get(full_key)
            if built is None:
                built = _build(conn, now, build)
                with _LOCK:
                    if len(_ENTRIES) >= _LIMIT:
                        _ENTRIES.clear()
                        _LATEST.clear()
                    _ENTRIES[full_key] = built
    return built


_BUILDERS: dict[Hashable, Lock] = {}


@contextmanager
def _building(key: Hashable) -> Iterator[None]:
    with _LOCK:
        lock = _BUILDERS.setdefault(key, Lock())
    with lock:
        yield
    with _LOCK:
        _BUILDERS.pop(key, None)


def _usable_mark(request: Request, recheck: float) -> public_feed.Watermark | None:
    """The watermark read less than public.recheck ago, or while another request is reading
    it again: under load the database is asked once per interval and process, not by every
    request that arrives while the answer is on its way."""
    state = request.app.state
    seen: tuple[float, public_feed.Watermark] | None = getattr(state, _MARK, None)
    if seen is None:
        return None
    if time.monotonic() - seen[0] < recheck or getattr(state, _REFRESHING, False):
        return seen[1]
    return None


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
