"""Counting and timing every HTTP request, labelled by route template and status."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from outages.metrics import HTTP_REQUESTS, HTTP_SECONDS

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_label(scope: Scope) -> str:
    """The route's template ('/cuts/{outage_id}'), never the path, which may carry a
    customer code and would give every customer a series of their own."""
    route = getattr(scope.get("route"), "path", None)
    if route:
        return str(route)
    return "mounted" if "endpoint" in scope else "unmatched"  # static files; a 404


class RequestMetrics:
    """Outermost middleware: counts and times every answer, refusals by the other
    middlewares (413, 429) included; a request that fails with no answer counts as 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting_status)
        finally:
            route = route_label(scope)
            method = scope["method"] if scope["method"] in METHODS else "other"
            HTTP_REQUESTS.labels(method, route, str(status)).inc()
            HTTP_SECONDS.labels(method, route).observe(time.perf_counter() - started)
