"""The server `outages serve` runs: the HTTP API with the console mounted at /console.

The console is its own FastAPI application (HTML error pages, no OpenAPI schema) sharing
the API's engine, settings, static files and security headers.
"""

from __future__ import annotations

import importlib
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Engine
from starlette.exceptions import HTTPException

from outages.api import create_app
from outages.api.errors import log_refusal
from outages.api.security import CONSOLE_PREFIX
from outages.console.pages import console_root, render
from outages.console.session import SAFE_METHODS, SignInRequired
from outages.errors import OutagesError
from outages.settings import Settings, load_settings

# One line per module of console pages; each exposes `router` (paths relative to /console).
PAGES = (
    "outages.console.signin",
    "outages.console.cuts",
    "outages.console.notices",
    "outages.console.alerts",
    "outages.console.calls",
    "outages.console.users",
    "outages.console.reports",
    "outages.console.map_pages",
)


def console_app(settings: Settings, engine: Engine) -> FastAPI:
    app = FastAPI(title="outage-notify console", docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.settings = settings
    app.state.engine = engine
    app.add_exception_handler(SignInRequired, _sign_in_required)
    app.add_exception_handler(HTTPException, _refused)
    app.add_exception_handler(OutagesError, _domain_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    for name in PAGES:
        app.include_router(importlib.import_module(name).router)
    return app


def create_server(settings: Settings, *, engine: Engine | None = None) -> FastAPI:
    """The API application with the console mounted at /console."""
    app = create_app(settings, engine=engine)
    app.mount(CONSOLE_PREFIX, console_app(settings, app.state.engine))
    return app


def app_from_environment() -> FastAPI:
    """Factory for uvicorn workers: settings from OUTAGES_CONFIG and OUTAGES_* variables."""
    return create_server(load_settings())


async def _sign_in_required(request: Request, _exc: Exception) -> Response:
    if request.method in SAFE_METHODS:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"{console_root(request)}/sign-in?next={quote(target)}",
                                status_code=303)
    log_refusal(request, 401)
    return await render(request, "error.html", visitor=None, status_code=401,
                        message_key="error_signed_out")


_MESSAGES = {"csrf": "error_csrf", "role": "error_role"}


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code in (401, 403, 429):
        log_refusal(request, exc.status_code)
    key = _MESSAGES.get(str(exc.detail), "error_not_found" if exc.status_code == 404
                        else "error_other")
    return await render(request, "error.html", visitor=getattr(request.state, "visitor", None),
                        status_code=exc.status_code, message_key=key)


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OutagesError)
    return await render(request, "error.html", visitor=getattr(request.state, "visitor", None),
                        status_code=exc.http_status, message_key="error_domain",
                        detail=exc.message)


async def _invalid(request: Request, _exc: Exception) -> Response:
    return await render(request, "error.html", visitor=getattr(request.state, "visitor", None),
                        status_code=422, message_key="error_invalid")
