"""Subscriptions as stored: a phone or an email that hears of a customer code's or a
district's outages once confirmed, the hashed confirmation codes, the requests the limits
count, and the audited changes (confirm, end).

Contacts never reach the audit log in clear: it records them masked.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Connection, Table, delete, func, insert, or_, select, update

from outages import db
from outages.access import audit
from outages.errors import NotFound
from outages.logs import mask
from outages.models import Customer, Subscription, SubscriptionRequest
from outages.results import Result
from outages.timeutil import utcnow

SUBSCRIPTIONS = cast(Table, Subscription.__table__)
REQUESTS = cast(Table, SubscriptionRequest.__table__)
_s = SUBSCRIPTIONS.c
_c = Customer.__table__.c
# Requests are counted over a day at most, and a request is confirmed within minutes: older
# ones are dropped as new ones come.
KEEP_REQUESTS = timedelta(days=1)
# Seed of the contact locks' hash (hold_contact), apart from other advisory locks on the database.
CONTACT_LOCKS = 0x5AB5


class Status(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    ENDED = "ended"


class TargetKind(StrEnum):
    CUSTOMER = "customer"
    DISTRICT = "district"


class Scope(StrEnum):
    """What a counted request is counted against."""

    CONTACT = "contact"  # a confirmation code sent to a phone or an email
    CLIENT = "client"  # a page request from one client address
    ALL = "all"  # any confirmation code sent
    SMS = "sms"  # an SMS "DK" request from one phone


class SubscriptionView(Result):
    """A subscription for staff: `contact` is personal data (blanked for roles without
    personal_data); `matched` says whether a code names a customer in the registry."""

    id: int
    channel: str
    contact: str | None
    target_kind: str
    target: str
    matched: bool
    language: str
    status: str
    via: str
    created_at: str
    confirmed_at: str | None = None
    ended_at: str | None = None


@dataclass(frozen=True)
class NewSubscription:
    channel: str
    contact: str
    target_kind: str
    target: str
    keyword: str
    customer_id: int | None
    district: str | None
    language: str
    via: str


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def code_hash(token: str, code: str) -> str:
    """The code keyed with its request's token: the stored hash alone cannot be matched
    against the million possible codes."""
    return hmac.new(token.encode(), code.encode(), hashlib.sha256).hexdigest()


def new_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def customer_id(conn: Connection, code: str) -> int | None:
    """The customer a code names, as typed or in upper case (codes are stored as issued)."""
    given = code.strip()
    found: int | None = conn.execute(
        select(_c.id).where(_c.code.in_({given, given.upper()})).order_by(_c.id).limit(1)
    ).scalar()
    return found


def count(conn: Connection, scope: Scope, key: str, *, since: datetime) -> int:
    r = REQUESTS.c
    query = select(func.count()).where(r.scope == scope, r.key == digest(key), r.at > since)
    return int(conn.execute(query).scalar_one())


def hold_contact(conn: Connection, contact: str) -> None:
    """Wait until no other transaction is checking this contact's limits (PostgreSQL; on
    SQLite a write transaction already holds the database's one write lock). Without it, two
    requests at the same moment both count one below a limit and both pass."""
    db.hold(conn, digest(contact), seed=CONTACT_LOCKS)


def note(conn: Connection, scope: Scope, key: str, *, at: datetime) -> None:
    conn.execute(delete(REQUESTS).where(REQUESTS.c.at < at - KEEP_REQUESTS))
    conn.execute(insert(REQUESTS).values(scope=scope, key=digest(key), at=at))


def create(conn: Connection, new: NewSubscription, *, status: Status,
           request_hash: str | None = None) -> int:
    """A new subscription; requests never confirmed are dropped a day after they were made."""
    now = utcnow()
    conn.execute(delete(SUBSCRIPTIONS).where(_s.status == Status.PENDING,
                                             _s.created_at < now - KEEP_REQUESTS))
    return int(conn.execute(insert(SUBSCRIPTIONS).values(
        channel=new.channel, contact=new.contact, target_kind=new.target_kind,
        target=new.target, keyword=new.keyword, customer_id=new.customer_id, district=new.district,
        language=new.language, status=status, via=new.via, request_hash=request_hash,
        attempts=0, codes_sent=0, created_at=now,
    ).returning(_s.id)).scalar_one())


def set_code(conn: Connection, subscription_id: int, *, hashed: str, expires_at: datetime,
             at: datetime) -> None:
    conn.execute(update(SUBSCRIPTIONS).where(_s.id == subscription_id).values(
        code_hash=hashed, code_expires_at=expires_at, code_sent_at=at, attempts=0,
        codes_sent=_s.codes_sent + 1))


def by_request(conn: Connection, token: str, *, lock: bool = False) -> Any:
    """The pending subscription a page request token was issued for, or None. With `lock`,
    the row is held to the end of the transaction (PostgreSQL; SQLite's write transaction
    holds the whole database): codes typed at the same moment are then checked one after
    another, each against the attempts counted before it."""
    query = select(SUBSCRIPTIONS).where(_s.request_hash == digest(token),
                                        _s.status == Status.PENDING)
    return conn.execute(query.with_for_update() if lock else query).first()


def count_attempt(conn: Connection, subscription_id: int) -> None:
    conn.execute(update(SUBSCRIPTIONS).where(_s.id == subscription_id)
                 .values(attempts=_s.attempts + 1))


def active_of(conn: Connection, contact: str) -> list[Any]:
    return list(conn.execute(select(SUBSCRIPTIONS).where(
        _s.contact == contact, _s.status == Status.ACTIVE).order_by(_s.id)))


def latest_pending_sms(conn: Connection, phone: str, *, since: datetime) -> Any:
    return conn.execute(select(SUBSCRIPTIONS).where(
        _s.contact == phone, _s.channel == "sms", _s.via == "sms",
        _s.status == Status.PENDING, _s.created_at > since,
    ).order_by(_s.id.desc()).limit(1)).first()


def activate(conn: Connection, row: Any, *, actor: str, source: str) -> int:
    """Confirm a pending subscription. One contact subscribed twice to the same target keeps
    the older one: the new request ends, and that subscription's id is returned."""
    now = utcnow()
    same = conn.execute(select(_s.id).where(
        _s.contact == row.contact, _s.channel == row.channel, _s.target_kind == row.target_kind,
        _s.target == row.target, _s.status == Status.ACTIVE)).scalar()
    if same is not None:
        conn.execute(update(SUBSCRIPTIONS).where(_s.id == row.id).values(
            status=Status.ENDED, ended_at=now, code_hash=None, request_hash=None))
        return int(same)
    conn.execute(update(SUBSCRIPTIONS).where(_s.id == row.id).values(
        status=Status.ACTIVE, confirmed_at=now, code_hash=None, request_hash=None,
        code_expires_at=None))
    audit.record(conn, actor=actor, source=source, action="subscription.confirm",
                 entity="subscription", entity_id=row.id, before={"status": row.status},
                 after=_audited(row, Status.ACTIVE))
    return int(row.id)


def end(conn: Connection, ids: list[int], *, actor: str, source: str,
        reason: str) -> list[int]:
    """End the active subscriptions among `ids` (audited); the ids ended."""
    if not ids:
        return []
    rows = conn.execute(update(SUBSCRIPTIONS).where(
        _s.id.in_(ids), _s.status == Status.ACTIVE
    ).values(status=Status.ENDED, ended_at=utcnow()).returning(*SUBSCRIPTIONS.c)).all()
    for row in rows:
        audit.record(conn, actor=actor, source=source, action="subscription.end",
                     entity="subscription", entity_id=row.id,
                     before={"status": Status.ACTIVE},
                     after={**_audited(row, Status.ENDED), "reason": reason})
    return sorted(int(row.id) for row in rows)


def remove(conn: Connection, subscription_id: int, *, actor: str, source: str,
           personal: bool = True, tz: tzinfo = UTC) -> SubscriptionView:
    """Staff end one subscription; NotFound when it does not exist or already ended."""
    if not end(conn, [subscription_id], actor=actor, source=source, reason="removed by staff"):
        raise NotFound(f"no active subscription {subscription_id}", field="id")
    view = _view(conn.execute(select(SUBSCRIPTIONS).where(_s.id == subscription_id)).one(), tz)
    return view if personal else view.model_copy(update={"contact": mask(view.contact or "")})


def _audited(row: Any, status: str) -> dict[str, Any]:
    return {"status": status, "channel": row.channel, "contact": mask(row.contact),
            "target_kind": row.target_kind, "target": row.target, "language": row.language,
            "via": row.via}


def listing(conn: Connection, *, customer: str | None = None, district: str | None = None,
            include_ended: bool = False, limit: int = 1000, personal: bool = True,
            tz: tzinfo = UTC) -> list[SubscriptionView]:
    """Confirmed subscriptions (and ended ones when asked), newest first; contacts masked
    unless `personal` (the reader may see personal data)."""
    statuses = [Status.ACTIVE, *([Status.ENDED] if include_ended else [])]
    query = select(SUBSCRIPTIONS).where(_s.status.in_(statuses), or_(
        _s.confirmed_at.is_not(None), _s.status == Status.ACTIVE))
    if customer:
        query = query.where(_s.target_kind == TargetKind.CUSTOMER,
                            _s.target == customer.strip().upper())
    if district:
        query = query.where(_s.target_kind == TargetKind.DISTRICT,
                            _s.district == district.strip())
    rows = conn.execute(query.order_by(_s.id.desc()).limit(limit)).all()
    views = [_view(row, tz) for row in rows]
    if personal:
        return views
    return [view.model_copy(update={"contact": mask(view.contact or "")}) for view in views]


def _view(row: Any, tz: tzinfo) -> SubscriptionView:
    """Timestamps in local time (`tz`) with their offset."""
    def iso(value: datetime | None) -> str | None:
        return None if value is None else value.astimezone(tz).isoformat()

    matched = row.customer_id is not None if row.target_kind == TargetKind.CUSTOMER \
        else row.district is not None
    return SubscriptionView(
        id=row.id, channel=row.channel, contact=row.contact, target_kind=row.target_kind,
        target=row.target, matched=matched, language=row.language, status=row.status,
        via=row.via, created_at=iso(row.created_at) or "", confirmed_at=iso(row.confirmed_at),
        ended_at=iso(row.ended_at))
