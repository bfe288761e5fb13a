"""Who is at the console: the session cookie, the CSRF check, and role checks.

Every console route takes one of the `Signed`/`Can*` dependencies below. They resolve the
session from its cookie (redirecting to the sign-in page when there is none), refuse a
state-changing request without the session's CSRF token (403), and refuse a role without
the capability (403) whatever the page showed.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine

from outages.access import sessions
from outages.access.auth import Principal
from outages.access.sessions import Session
from outages.db import write_transaction
from outages.settings import Settings

COOKIE = "outages_console"
# Before sign-in: the sign-in form's CSRF token (double submit) and the chosen language.
SIGN_IN_COOKIE = "outages_console_signin"
LANGUAGE_COOKIE = "outages_console_lang"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Visitor:
    """The signed-in user of a console request."""

    session: Session

    @property
    def user(self) -> Principal:
        return self.session.user

    @property
    def name(self) -> str:
        return self.session.user.name

    @property
    def role(self) -> str:
        return self.session.user.role

    @property
    def language(self) -> str:
        return self.session.language

    @property
    def csrf_token(self) -> str:
        return self.session.csrf_token

    def can(self, capability: str) -> bool:
        return self.session.user.can(capability)


class SignInRequired(Exception):
    """No live session: pages redirect to the sign-in form, other requests get 401."""


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def _resume(engine: Engine, settings: Settings, secret: str) -> Session | None:
    with engine.connect() as conn:
        found = sessions.look_up(conn, settings, secret)
    if found.record is not None:
        with write_transaction(engine) as conn:
            conn.execute(found.record)
    return found.session


async def submitted_token(request: Request) -> str:
    """The CSRF token a request carries: the X-CSRF-Token header (fetch) or the form field."""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


async def check_csrf(request: Request, expected: str) -> None:
    """403 unless the request carries `expected` as its CSRF token."""
    given = await submitted_token(request)
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(403, "csrf")


async def signed_in(request: Request) -> Visitor:
    secret = request.cookies.get(COOKIE)
    session = None
    if secret:
        session = await run_in_threadpool(_resume, engine_of(request), settings_of(request),
                                          secret)
    if session is None:
        raise SignInRequired
    visitor = Visitor(session)
    request.state.visitor = visitor  # for the error pages
    if request.method not in SAFE_METHODS:
        await check_csrf(request, session.csrf_token)
    return visitor


def require(capability: str) -> Callable[..., Visitor]:
    """A dependency that lets through a signed-in user whose role has `capability`."""

    def check(visitor: Annotated[Visitor, Depends(signed_in)]) -> Visitor:
        if not visitor.can(capability):
            raise HTTPException(403, "role")
        return visitor

    check.capability = capability  # type: ignore[attr-defined]
    return check


Signed = Annotated[Visitor, Depends(signed_in)]
CanRead = Annotated[Visitor, Depends(require("read"))]
CanDispatch = Annotated[Visitor, Depends(require("dispatch"))]
CanReport = Annotated[Visitor, Depends(require("reports"))]
CanSeePersonal = Annotated[Visitor, Depends(require("personal_data"))]
CanManage = Annotated[Visitor, Depends(require("manage"))]
