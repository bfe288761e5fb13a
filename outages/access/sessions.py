"""Console sessions and the sign-in lock-out.

The session cookie holds a random secret; the database keeps its SHA-256 hash, so a copy of
the table cannot be replayed. A session ends after `web.session_idle` without a request and
`web.session_max` after sign-in. Each session has its own CSRF token.

After `FREE_FAILURES` failed sign-ins for one user name or from one client address, every
further attempt for it must wait a delay that doubles with each failure (up to
`MAX_DELAY`); a wait is refused the same way whether or not the name exists.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Executable, Table, delete, insert, select, update

from outages import db
from outages.access import passwords
from outages.access.auth import Principal
from outages.models import ConsoleSession, SignInFailure, User
from outages.settings import Settings
from outages.timeutil import utcnow

_sessions = cast(Table, ConsoleSession.__table__)
_failures = cast(Table, SignInFailure.__table__)
_users = cast(Table, User.__table__)
_s, _f, _u = _sessions.c, _failures.c, _users.c

FREE_FAILURES = 5
MAX_DELAY = timedelta(minutes=15)
# Failures older than this are forgotten.
FAILURE_MEMORY = timedelta(hours=1)
LANGUAGES = ("vi", "en")
# Seed of the sign-in locks' hash (_hold), apart from other advisory locks on the database.
SIGN_IN_LOCKS = 0x516E


@dataclass(frozen=True)
class Session:
    """A live console session: who, their CSRF token and their language."""

    id: int
    user: Principal
    csrf_token: str
    language: str


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in: a session and its cookie secret, or how long to wait."""

    session: Session | None = None
    secret: str | None = None
    wait: timedelta | None = None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _delay(failures: int) -> timedelta:
    if failures < FREE_FAILURES:
        return timedelta(0)
    return min(timedelta(seconds=2 ** (failures - FREE_FAILURES)), MAX_DELAY)


def _keys(name: str, address: str) -> tuple[str, str]:
    return f"user:{name[:150]}", f"addr:{address[:150]}"


def locked_for(conn: Connection, name: str, address: str) -> timedelta | None:
    """How long a sign-in for `name` from `address` must still wait, or None."""
    now, longest = utcnow(), timedelta(0)
    for row in conn.execute(select(_f.failures, _f.last_at).where(_f.key.in_(_keys(name,
                                                                                   address)))):
        if now - row.last_at < FAILURE_MEMORY:
            longest = max(longest, row.last_at + _delay(row.failures) - now)
    return longest if longest > timedelta(0) else None


def _hold(conn: Connection, keys: tuple[str, ...]) -> None:
    """Wait until no other sign-in for the same name or from the same address is between
    its check and its count (db.hold). Without it, guesses sent at the same moment all pass
    the check before any failure is counted, and the lock-out never starts. Taken in one
    order, so two sign-ins sharing a key cannot wait for each other."""
    for key in sorted(keys):
        db.hold(conn, key, seed=SIGN_IN_LOCKS)


def _count_failure(conn: Connection, key: str) -> None:
    now = utcnow()
    row = conn.execute(select(_f.failures, _f.last_at).where(_f.key == key)).one_or_none()
    if row is None:
        conn.execute(insert(_failures).values(key=key, failures=1, last_at=now))
        return
    failures = 1 if now - row.last_at >= FAILURE_MEMORY else row.failures + 1
    conn.execute(update(_failures).where(_f.key == key)
                 .values(failures=failures, last_at=now))


def sign_in(conn: Connection, settings: Settings, *, name: str, password: str,
            address: str, language: str | None = None) -> SignIn:
    """Check the password (unless locked out) and open a session. A failure counts against
    both the name and the address; success clears the name's count."""
    _hold(conn, _keys(name, address))
    wait = locked_for(conn, name, address)
    if wait is not None:
        return SignIn(wait=wait)
    user = passwords.verify(conn, name, password)
    if user is None:
        for key in _keys(name, address):
            _count_failure(conn, key)
        return SignIn(wait=locked_for(conn, name, address) or timedelta(0))
    conn.execute(delete(_failures).where(_f.key == _keys(name, address)[0]))
    forget_expired(conn, settings)  # sign-ins are rare enough to tidy up on
    remembered = conn.execute(select(_u.language).where(_u.id == user.user_id)).scalar()
    chosen = remembered or language
    secret = secrets.token_urlsafe(32)
    session = _open(conn, user, secret,
                    chosen if chosen in LANGUAGES else settings.locale.default_language)
    return SignIn(session=session, secret=secret)


def _open(conn: Connection, user: Principal, secret: str, language: str) -> Session:
    now = utcnow()
    csrf = secrets.token_urlsafe(32)
    inserted: Any = conn.execute(insert(_sessions).values(
        token_hash=_hash(secret), user_id=user.user_id, created_at=now, last_seen_at=now,
        csrf_token=csrf, language=language)).inserted_primary_key
    session_id = inserted[0]
    return Session(id=int(session_id), user=user, csrf_token=csrf, language=language)


def _expired(row: Any, now: datetime, settings: Settings) -> bool:
    return (now - row.last_seen_at > settings.web.session_idle
            or now - row.created_at > settings.web.session_max)


@dataclass(frozen=True)
class Resumed:
    """The live session a cookie names, and the statement recording this request when one
    is due (the last request's time, or the deletion of an expired session)."""

    session: Session | None
    record: Executable | None = None


def look_up(conn: Connection, settings: Settings, secret: str) -> Resumed:
    """The live session whose cookie holds `secret`; None when it is unknown, expired or its
    user is disabled. A read: the caller runs `record` in a write transaction of its own (on
    SQLite a read transaction that turns into a write while another connection writes fails
    at once with 'database is locked')."""
    row = conn.execute(
        select(_s.id, _s.created_at, _s.last_seen_at, _s.csrf_token, _s.language,
               _u.id.label("user_id"), _u.name, _u.role, _u.disabled_at)
        .join(_users, _u.id == _s.user_id).where(_s.token_hash == _hash(secret))
    ).one_or_none()
    if row is None:
        return Resumed(None)
    now = utcnow()
    if _expired(row, now, settings) or row.disabled_at is not None:
        return Resumed(None, delete(_sessions).where(_s.id == row.id))
    session = Session(id=row.id, user=Principal(user_id=row.user_id, name=row.name,
                                                role=row.role),
                      csrf_token=row.csrf_token, language=row.language)
    # Writing on every request would make each page a write; a tenth of the idle time (at
    # most a minute) keeps the idle limit accurate enough.
    if now - row.last_seen_at >= min(timedelta(minutes=1), settings.web.session_idle / 10):
        return Resumed(session, update(_sessions).where(_s.id == row.id)
                       .values(last_seen_at=now))
    return Resumed(session)


def resume(conn: Connection, settings: Settings, secret: str) -> Session | None:
    """look_up, recording the request in the caller's transaction."""
    found = look_up(conn, settings, secret)
    if found.record is not None:
        conn.execute(found.record)
    return found.session


def sign_out(conn: Connection, session_id: int) -> None:
    conn.execute(delete(_sessions).where(_s.id == session_id))


def end_user_sessions(conn: Connection, user_id: int) -> None:
    """Every session of a user (after their password changes or they are disabled)."""
    conn.execute(delete(_sessions).where(_s.user_id == user_id))


def set_language(conn: Connection, session: Session, language: str) -> None:
    """The session's language, remembered for the user's next sign-in too."""
    if language not in LANGUAGES:
        return
    conn.execute(update(_sessions).where(_s.id == session.id).values(language=language))
    conn.execute(update(_users).where(_u.id == session.user.user_id).values(language=language))


def forget_expired(conn: Connection, settings: Settings) -> int:
    """Delete sessions past either limit and stale failure counts; how many sessions."""
    now = utcnow()
    gone = conn.execute(delete(_sessions).where(
        (_s.last_seen_at < now - settings.web.session_idle)
        | (_s.created_at < now - settings.web.session_max))).rowcount
    conn.execute(delete(_failures).where(_f.last_at < now - FAILURE_MEMORY))
    return int(gone or 0)
