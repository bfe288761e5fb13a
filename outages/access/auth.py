"""Users, roles and bearer API tokens.

A token is shown once when created; only its SHA-256 hash and a short prefix (to name it in
lists and revoke it) are stored, so a copy of the database cannot be used to log in.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import Connection, Executable, Table, insert, select, update

from outages import text
from outages.access import audit
from outages.access.results import NewToken, RevokedToken, TokenView, UserView
from outages.enums import Role
from outages.errors import Conflict, NotFound, ValidationError
from outages.models import ApiToken, User
from outages.timeutil import utcnow

_users = cast(Table, User.__table__)
_tokens = cast(Table, ApiToken.__table__)
_u = _users.c
_t = _tokens.c

TOKEN_PREFIX = "otk_"
PREFIX_LENGTH = len(TOKEN_PREFIX) + 8
# Writing last_used_at on every request would turn each read into a write; once a minute
# is enough to tell a live token from a forgotten one.
LAST_USED_GRANULARITY = timedelta(minutes=1)

# What each role may do. Admins may do everything.
CAPABILITIES: dict[str, frozenset[str]] = {
    Role.VIEWER: frozenset({"read"}),
    Role.ENGINEER: frozenset({"read", "reports", "audit"}),
    Role.DISPATCHER: frozenset({"read", "dispatch", "personal_data"}),
    Role.ADMIN: frozenset({"read", "reports", "audit", "dispatch", "personal_data", "manage"}),
}


@dataclass(frozen=True)
class Principal:
    """The user behind a request."""

    user_id: int
    name: str
    role: str

    def can(self, capability: str) -> bool:
        return capability in CAPABILITIES[self.role]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _user_row(conn: Connection, name: str) -> Any:
    row = conn.execute(select(User.__table__).where(_u.name == name)).one_or_none()
    if row is None:
        raise NotFound(f"no user named {name!r}", field="name", hint="list_users")
    return row


def _user_dict(row: Any) -> UserView:
    return UserView(name=row.name, role=row.role, created_at=row.created_at,
                    disabled_at=row.disabled_at)


def _check_name(name: str) -> str:
    clean = name.strip()
    # 64, not the column's 100: the name is also the audit log's entity id. No control or
    # direction characters: the name is shown in consoles and terminals as the actor.
    if not clean or len(clean) > 64 or any(ch.isspace() for ch in clean) \
            or text.CONTROL.search(clean):
        raise ValidationError("a user name is 1 to 64 characters without spaces or control "
                              "characters, e.g. 'lan.nguyen'", field="name")
    return clean


def _check_role(role: str) -> str:
    if role not in tuple(Role):
        raise ValidationError(f"unknown role {role!r}: use one of {', '.join(Role)}", field="role")
    return role


def add_user(conn: Connection, *, name: str, role: str, actor: str, source: str) -> UserView:
    name, role = _check_name(name), _check_role(role)
    if conn.execute(select(_u.id).where(_u.name == name)).first() is not None:
        raise Conflict(f"user {name!r} already exists", field="name")
    conn.execute(insert(_users).values(name=name, role=role, created_at=utcnow()))
    created = _user_dict(_user_row(conn, name))
    audit.record(conn, actor=actor, source=source, action="user.add", entity="user",
                 entity_id=name, after={"name": name, "role": role})
    return created


def list_users(conn: Connection) -> list[UserView]:
    rows = conn.execute(select(User.__table__).order_by(_u.name)).all()
    return [_user_dict(row) for row in rows]


def disable_user(conn: Connection, *, name: str, actor: str, source: str) -> UserView:
    """Disable a user; their tokens stop working at once (checked on every request)."""
    row = _user_row(conn, name)
    if row.disabled_at is not None:
        raise Conflict(f"user {name!r} is already disabled", field="name")
    conn.execute(update(_users).where(_u.id == row.id).values(disabled_at=utcnow()))
    audit.record(conn, actor=actor, source=source, action="user.disable", entity="user",
                 entity_id=name, before={"disabled": False}, after={"disabled": True})
    return _user_dict(_user_row(conn, name))


def create_token(
    conn: Connection, *, name: str, actor: str, source: str
) -> tuple[str, NewToken]:
    """A new token for user `name`: (the secret, to show once; its stored description)."""
    row = _user_row(conn, name)
    if row.disabled_at is not None:
        raise Conflict(f"user {name!r} is disabled: tokens cannot be created", field="name")
    token = TOKEN_PREFIX + secrets.token_hex(4) + secrets.token_urlsafe(32)
    prefix = token[:PREFIX_LENGTH]
    conn.execute(insert(_tokens).values(
        user_id=row.id, token_hash=hash_token(token), prefix=prefix, created_at=utcnow()))
    audit.record(conn, actor=actor, source=source, action="token.create", entity="token",
                 entity_id=prefix, after={"user": name, "prefix": prefix})
    return token, NewToken(prefix=prefix, user=name, role=row.role)


def list_tokens(conn: Connection, *, name: str | None = None) -> list[TokenView]:
    query = (select(_t.prefix, _u.name, _u.role, _t.created_at, _t.last_used_at, _t.revoked_at)
             .join(User.__table__, _u.id == _t.user_id).order_by(_u.name, _t.created_at))
    if name is not None:
        _user_row(conn, name)
        query = query.where(_u.name == name)
    return [TokenView(prefix=r.prefix, user=r.name, role=r.role, created_at=r.created_at,
                      last_used_at=r.last_used_at, revoked_at=r.revoked_at)
            for r in conn.execute(query)]


def revoke_token(conn: Connection, *, prefix: str, actor: str, source: str) -> RevokedToken:
    rows = conn.execute(select(_t.id, _t.prefix, _t.revoked_at).where(_t.prefix == prefix)).all()
    if not rows:
        raise NotFound(f"no token starts with {prefix!r}", hint="list_tokens",
                       field="prefix")
    if len(rows) > 1:
        raise Conflict(f"{len(rows)} tokens share the prefix {prefix!r}", field="prefix")
    if rows[0].revoked_at is not None:
        raise Conflict(f"token {prefix} is already revoked", field="prefix")
    conn.execute(update(_tokens).where(_t.id == rows[0].id).values(revoked_at=utcnow()))
    audit.record(conn, actor=actor, source=source, action="token.revoke", entity="token",
                 entity_id=prefix, before={"revoked": False}, after={"revoked": True})
    return RevokedToken(prefix=prefix, revoked=True)


@dataclass(frozen=True)
class Identified:
    """Who a bearer token belongs to, and the statement recording its use when one is due."""

    principal: Principal | None
    record_use: Executable | None = None


def identify(conn: Connection, token: str) -> Identified:
    """The user a bearer token belongs to (None when it is unknown, revoked or disabled); a
    read. The caller runs `record_use` in a write transaction of its own: on SQLite a read
    transaction that turns into a write while another connection writes fails at once with
    'database is locked', without waiting for the lock."""
    row = conn.execute(
        select(_t.id, _t.last_used_at, _u.id.label("user_id"), _u.name, _u.role)
        .join(User.__table__, _u.id == _t.user_id)
        .where(_t.token_hash == hash_token(token), _t.revoked_at.is_(None),
               _u.disabled_at.is_(None))
    ).one_or_none()
    if row is None:
        return Identified(None)
    principal = Principal(user_id=row.user_id, name=row.name, role=row.role)
    now = utcnow()
    if row.last_used_at is not None and now - row.last_used_at < LAST_USED_GRANULARITY:
        return Identified(principal)
    return Identified(principal, update(_tokens).where(_t.id == row.id)
                      .values(last_used_at=now))

