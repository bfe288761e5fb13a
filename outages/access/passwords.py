"""Console passwords: argon2 hashes, set by an admin (`outages users passwd`) or the console.

Only the hash is stored. Checking a name that has no password (or no user) still costs one
argon2 verification, so the answer's timing does not tell whether the name exists.
"""

from __future__ import annotations

from typing import Any, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Table, delete, select, update

from outages.access import audit
from outages.access.auth import Principal
from outages.errors import Conflict, NotFound, ValidationError
from outages.models import ConsoleSession, User

_users = cast(Table, User.__table__)
_u = _users.c
_hasher = PasswordHasher()
# Verified against when the name is unknown, so an unknown name takes as long as a known one.
_DUMMY = _hasher.hash("not a password anyone has")

MIN_LENGTH = 10
MAX_LENGTH = 200


def check_strength(password: str) -> str:
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise ValidationError(f"a password is {MIN_LENGTH} to {MAX_LENGTH} characters",
                              field="password")
    if password.strip() != password:
        raise ValidationError("a password may not begin or end with a space", field="password")
    return password


def set_password(conn: Connection, *, name: str, password: str, actor: str,
                 source: str) -> None:
    """Give user `name` a new console password (audited without it); their open console
    sessions end."""
    row = conn.execute(select(_u.id, _u.disabled_at).where(_u.name == name)).one_or_none()
    if row is None:
        raise NotFound(f"no user named {name!r}", field="name", hint="list_users")
    if row.disabled_at is not None:
        raise Conflict(f"user {name!r} is disabled", field="name")
    hashed = _hasher.hash(check_strength(password))
    conn.execute(update(_users).where(_u.id == row.id).values(password_hash=hashed))
    sessions = cast(Table, ConsoleSession.__table__)
    conn.execute(delete(sessions).where(sessions.c.user_id == row.id))
    audit.record(conn, actor=actor, source=source, action="user.password", entity="user",
                 entity_id=name, after={"password": "set"})


def verify(conn: Connection, name: str, password: str) -> Principal | None:
    """The enabled user `name` when `password` is theirs, else None (same cost either way)."""
    row: Any = conn.execute(
        select(_u.id, _u.name, _u.role, _u.password_hash)
        .where(_u.name == name, _u.disabled_at.is_(None))).one_or_none()
    stored = row.password_hash if row is not None and row.password_hash else _DUMMY
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or not row.password_hash:
        return None
    if _hasher.check_needs_rehash(stored):
        conn.execute(update(_users).where(_u.id == row.id)
                     .values(password_hash=_hasher.hash(password)))
    return Principal(user_id=row.id, name=row.name, role=row.role)
