"""The audit log (admins and engineers; personal data blanked for engineers)."""

from __future__ import annotations

from typing import Any

from fastapi import Query

from outages.access import audit
from outages.access.auth import Principal
from outages.access.results import AuditPage
from outages.api.bodies import json_router
from outages.api.deps import Auditor, ReadConn, SettingsDep, redact

router = json_router(tags=["audit"])


@router.get("/audit", summary="Who changed what and when, newest first",
            response_model=AuditPage)
def list_audit(
    user: Auditor,
    conn: ReadConn,
    settings: SettingsDep,
    first: str | None = Query(None, alias="from", max_length=40,
                              description="local date (whole day) or ISO time"),
    last: str | None = Query(None, alias="to", max_length=40,
                             description="local date (inclusive) or ISO time"),
    actor: str | None = Query(None, max_length=100),
    entity: str | None = Query(None, max_length=32),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=10_000_000),
) -> Any:
    start, end = audit.period(first, last, settings.tz)
    entries = audit.search(conn, start=start, end=end, actor=actor, entity=entity,
                           limit=limit + 1, offset=offset)
    more = len(entries) > limit
    page = [_redacted(entry, user) for entry in entries[:limit]]
    return {"entries": page, "next_offset": offset + limit if more else None}


# Entries that name a person beyond the fields redact() knows: a number that said STOP is
# the entry's own id, and a priority call says which customer is one and what was said.
PERSONAL_ENTITIES = frozenset({"phone"})
PERSONAL_DETAILS = {"priority.call": frozenset({"customer", "note"})}


def _redacted(entry: Any, user: Principal) -> Any:
    shown = redact(entry, user)
    if user.can("personal_data"):
        return shown
    shown = dict(shown.as_json() if hasattr(shown, "as_json") else shown)
    if shown.get("entity") in PERSONAL_ENTITIES:
        shown["entity_id"] = None
    hidden = PERSONAL_DETAILS.get(shown.get("action", ""), frozenset())
    for side in ("before", "after"):
        if hidden and isinstance(shown.get(side), dict):
            shown[side] = {k: (None if k in hidden else v) for k, v in shown[side].items()}
    return shown
