"""Request dependencies: settings, database, the authenticated user and role checks."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.dependencies.models import Dependant
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection, Engine

from outages.access import auth
from outages.access.auth import Principal
from outages.api.limits import client_key, retry_after
from outages.db import write_transaction
from outages.results import Result
from outages.settings import Settings

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
_bearer = HTTPBearer(auto_error=False, description="An API token from 'outages tokens create'.")

# What a refused role is told it may not do.
_WHAT = {
    "read": "read this",
    "dispatch": "change cuts and faults",
    "reports": "read reports and exports",
    "audit": "read the audit log",
    "manage": "manage users and customers",
    "personal_data": "see personal data",
}


# Cheap dependencies are async on purpose: FastAPI runs a plain `def` dependency in the
# thread pool, and a hop there per dependency costs more than the work itself.
async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def read_connection(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Connection]:
    with reading(engine) as conn:
        yield conn


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for reads only. On PostgreSQL it runs in autocommit, which saves the
    BEGIN and ROLLBACK round trips a transaction would add to every public request."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        yield conn


def current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    engine: Annotated[Engine, Depends(get_engine)],
) -> Principal:
    # Routes that need a user authenticate before their body is read (see authenticate_first);
    # the principal found then is reused here.
    known: Principal | None = getattr(request.state, "principal", None)
    return known if known is not None else _authenticate(credentials, engine)


def _authenticate(credentials: HTTPAuthorizationCredentials | None, engine: Engine) -> Principal:
    if credentials is None or not credentials.credentials:
        raise HTTPException(401, "missing bearer token: send 'Authorization: Bearer <token>' "
                                 "(an admin creates one with POST /users/{name}/tokens)",
                            headers={"WWW-Authenticate": "Bearer"})
    with engine.connect() as conn:
        found = auth.identify(conn, credentials.credentials)
    if found.record_use is not None:
        with write_transaction(engine) as conn:
            conn.execute(found.record_use)
    principal = found.principal
    if principal is None:
        raise HTTPException(401, "unknown, revoked or disabled token",
                            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    return principal


def require(capability: str) -> Callable[..., Principal]:
    """A dependency that lets through users whose role has `capability`, else 403."""

    def check(user: Annotated[Principal, Depends(current_user)]) -> Principal:
        _check_role(user, capability)
        return user

    check.capability = capability  # type: ignore[attr-defined]
    return check


def _check_role(user: Principal, capability: str) -> None:
    if not user.can(capability):
        raise HTTPException(403, f"role {user.role} may not {_WHAT[capability]}")


def _user_checks(dependant: Dependant) -> tuple[bool, list[str]]:
    """Whether the route needs a user at all, and the capabilities its role checks ask."""
    needs, capabilities = False, []
    for dependency in dependant.dependencies:
        inner_needs, inner_capabilities = _user_checks(dependency)
        capability = getattr(dependency.call, "capability", None)
        needs = needs or inner_needs or dependency.call is current_user
        capabilities += inner_capabilities + ([capability] if capability else [])
    return needs, capabilities


def authenticate_first(handler: Handler, dependant: Dependant) -> Handler:
    """`handler` preceded by authentication and the role checks when the route needs a user:
    FastAPI reads and parses the body before it resolves dependencies, so without this an
    anonymous client could make the server read and parse a large body only to get a 401."""
    needs, capabilities = _user_checks(dependant)
    if not needs:
        return handler

    async def guarded(request: Request) -> Response:
        credentials = await _bearer(request)
        user = await run_in_threadpool(_authenticate, credentials, request.app.state.engine)
        for capability in capabilities:
            _check_role(user, capability)
        request.state.principal = user
        return await handler(request)

    return guarded


async def public_rate_limit(request: Request) -> None:
    """Count a public request against its client address; 429 with Retry-After when over."""
    count_public(request)


def count_public(request: Request) -> None:
    """public_rate_limit, for a handler that counts only some of its requests."""
    client = client_key(request.client.host if request.client else "unknown")
    wait = request.app.state.public_limiter.acquire(client)
    if wait:
        raise HTTPException(429, "too many requests from this address: try again later",
                            headers={"Retry-After": retry_after(wait)})


def public_cache(settings: Settings) -> dict[str, str]:
    """Headers that let proxies, CDNs and browsers reuse a public answer for
    http.public_max_age: it holds no personal data and is the same for everyone who asks, so
    on a storm day the proxy, not the database, serves the crowd checking the same page."""
    seconds = int(settings.http.public_max_age.total_seconds())
    return {"Cache-Control": f"public, max-age={seconds}" if seconds > 0 else "no-cache"}


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
ReadConn = Annotated[Connection, Depends(read_connection)]
Authenticated = Annotated[Principal, Depends(current_user)]
Reader = Annotated[Principal, Depends(require("read"))]
Dispatcher = Annotated[Principal, Depends(require("dispatch"))]
Engineer = Annotated[Principal, Depends(require("reports"))]
Auditor = Annotated[Principal, Depends(require("audit"))]
Admin = Annotated[Principal, Depends(require("manage"))]

PERSONAL_FIELDS = frozenset({"name", "phone", "email", "address", "recipient", "text",
                             "priority"})
# A home's coordinates, kept to two decimals (about a kilometre): enough to see where
# customers or reports cluster, not which house.
COORDINATES = frozenset({"lon", "lat"})
COORDINATE_DECIMALS = 2


def redact(payload: Any, user: Principal) -> Any:
    """`payload` with personal fields (name, phone, email, address, a notice's recipient, a
    fault report's text, a customer's priority) blanked and coordinates rounded at any
    depth, unless the user's role needs them (admin, dispatcher)."""
    if user.can("personal_data"):
        return payload
    return _blank(payload)


def _field(key: str, value: Any) -> Any:
    if key in PERSONAL_FIELDS:
        return None
    if key in COORDINATES and isinstance(value, float | int) and not isinstance(value, bool):
        return round(value, COORDINATE_DECIMALS)
    return _blank(value)


def _blank(value: Any) -> Any:
    if isinstance(value, Result):
        return _blank(value.as_json())
    if isinstance(value, dict):
        return {k: _field(k, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_blank(item) for item in value]
    return value
