"""The audit log: who changed what, when, with the state before and after."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Table, insert, select

from outages.access.results import AuditRecord
from outages.errors import ValidationError
from outages.models import AuditEntry
from outages.timeutil import day_start, parse_date, parse_datetime, utcnow


def record(
    conn: Connection,
    *,
    actor: str,
    source: str,
    action: str,
    entity: str,
    entity_id: object = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Write one audit entry inside the caller's transaction, so the change and its record
    commit or roll back together."""
    conn.execute(
        insert(cast(Table, AuditEntry.__table__)).values(
            at=utcnow(),
            actor=actor,
            source=source,
            action=action,
            entity=entity,
            entity_id=None if entity_id is None else str(entity_id),
            before=before,
            after=after,
        )
    )


def period(first: str | None, last: str | None, tz: ZoneInfo) -> tuple[datetime | None,
                                                                        datetime | None]:
    """A from/to pair as a half-open UTC interval: a date means that whole local day, a time
    means that instant."""
    return _bound(first, tz, "from", end=False), _bound(last, tz, "to", end=True)


def _bound(text: str | None, tz: ZoneInfo, field: str, *, end: bool) -> datetime | None:
    if text is None or not text.strip():
        return None
    try:
        if len(text.strip()) == 10:
            day = parse_date(text)
            return day_start(day + timedelta(days=1) if end else day, tz)
        return parse_datetime(text, tz)
    except ValueError as exc:
        raise ValidationError(str(exc), field=field) from None


def search(
    conn: Connection,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    actor: str | None = None,
    entity: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[AuditRecord]:
    """Entries newest first, filtered; `limit`/`offset` page through them."""
    c = AuditEntry.__table__.c
    query = select(AuditEntry.__table__).order_by(c.at.desc(), c.id.desc())
    if start is not None:
        query = query.where(c.at >= start)
    if end is not None:
        query = query.where(c.at < end)
    if actor:
        query = query.where(c.actor == actor)
    if entity:
        query = query.where(c.entity == entity)
    rows = conn.execute(query.limit(limit).offset(offset)).all()
    return [AuditRecord.model_validate(dict(row._mapping)) for row in rows]
