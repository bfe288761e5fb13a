"""Build the FastAPI application: one engine per app, error mapping, limits, routers."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import Engine, make_url

from outages import db, notices  # noqa: F401  (notices: subscribes the notice planner)
from outages.api import security
from outages.api.errors import install_error_handlers
from outages.api.limits import BodySizeLimit, RateLimiter
from outages.api.timing import RequestMetrics
from outages.api.web import page_environment
from outages.settings import Settings, load_settings

# One line per router module; each exposes `router`.
ROUTERS = (
    "outages.api.routers.health",
    "outages.api.routers.users",
    "outages.api.routers.audit",
    "outages.api.public.cuts",
    "outages.api.webhooks.twilio",
    "outages.api.webhooks.zalo",
    "outages.api.public.page",
    "outages.api.public.unsubscribe",
    "outages.api.public.subscribe",
    "outages.api.routers.subscriptions",
    "outages.api.public.feeds",
    "outages.api.routers.customers",
    "outages.api.routers.areas",
    "outages.api.routers.cuts",
    "outages.api.routers.faults",
    "outages.api.routers.calls",
    "outages.api.routers.alerts",
    "outages.api.routers.notices",
    "outages.api.routers.interruptions",
    "outages.api.routers.reports",
    "outages.api.routers.metrics",
)


def api_engine(url: str) -> Engine:
    """The server's engine. Each checkout is pinged (on PostgreSQL), so after a database
    restart or failover a stale pooled connection is replaced before a request uses it
    rather than failing that request; pool_recycle retires connections before idle
    timeouts in proxies and firewalls do."""
    if make_url(url).get_backend_name() == "sqlite":
        return db.make_engine(url)
    return db.make_engine(url, pool_recycle=1800)


def create_app(settings: Settings, *, engine: Engine | None = None) -> FastAPI:
    """The application bound to `settings` (and their database unless `engine` is given)."""
    engine = engine or api_engine(settings.database.url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(
        title="outage-notify",
        version="0.1.0",
        summary="Planned power cuts, fault outages, customer notices and reliability indices.",
        lifespan=lifespan,
        docs_url=None,  # served by outages.api.security from packaged files, when http.docs
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.public_limiter = RateLimiter(settings.http.public_rate_per_minute)
    app.state.pages = page_environment()
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.http.max_body_bytes)
    security.install(app, settings)
    app.add_middleware(RequestMetrics)  # added last: outermost, so it sees every answer
    for name in ROUTERS:
        app.include_router(importlib.import_module(name).router)
    return app


def app_from_environment() -> FastAPI:
    """Factory for uvicorn workers: settings from OUTAGES_CONFIG and OUTAGES_* variables."""
    return create_app(load_settings())
