"""Customer notices: preview what would be sent, list the outbox, delivery statistics."""

from __future__ import annotations

from typing import Any

from fastapi import Query

from outages.api.bodies import json_router
from outages.api.deps import EngineDep, Reader, SettingsDep, reading, redact
from outages.errors import ValidationError
from outages.notices import report as notice_report
from outages.notices.queue import LANGUAGES
from outages.notices.results import Notice, NoticePreview, NoticeStats

router = json_router(prefix="/notices", tags=["notices"])


def _outage_id() -> Any:
    # A fresh Query per parameter: FastAPI binds a shared one to the first parameter's name.
    return Query(None, ge=1, le=2**31 - 1)


@router.get("/preview", summary="Each rendered message and the cost of sending it to everyone")
def preview(
    _user: Reader, engine: EngineDep, settings: SettingsDep,
    cut: int | None = _outage_id(), fault: int | None = _outage_id(),
    kind: str | None = Query(None, max_length=40, description="notice kind (default: first)"),
    language: str | None = Query(None, max_length=8, description="vi or en (default both)"),
) -> NoticePreview:
    if (cut is None) == (fault is None):
        raise ValidationError("give exactly one of ?cut=ID or ?fault=ID", field="cut")
    if language is not None and language not in LANGUAGES:
        raise ValidationError(f"unknown language {language!r}: use vi or en", field="language")
    with reading(engine) as conn:
        return notice_report.preview(
            conn, settings, outage_id=cut if cut is not None else fault or 0,
            expect="planned" if cut is not None else "fault", kind=kind, language=language)


@router.get("", summary="Notices still to send, soonest due first; then the others, latest first",
            response_model=list[Notice])
def list_notices(
    user: Reader, engine: EngineDep, settings: SettingsDep,
    outage: int | None = _outage_id(),
    status: str | None = Query(None, max_length=20),
    limit: int = Query(100, ge=1, le=10_000),
) -> Any:
    with reading(engine) as conn:
        rows = notice_report.listing(conn, settings, outage_id=outage, status=status,
                                     limit=limit)
    return redact(rows, user)


@router.get("/stats", summary="Counts by status and channel, delivery rate, median delay")
def stats(_user: Reader, engine: EngineDep) -> NoticeStats:
    with reading(engine) as conn:
        return notice_report.stats(conn)
