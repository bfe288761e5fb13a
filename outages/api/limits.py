"""Request body size limit and a per-client rate limit for the public endpoints."""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from typing import Any

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body larger than the limit of {limit} bytes "
                              "(http.max_body_bytes)")


class BodySizeLimit:
    """Refuse a body over `max_bytes` with 413: by its Content-Length before reading it,
    and by counting as it streams in (chunked uploads declare no length)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._declared(scope) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    @staticmethod
    def _declared(scope: Scope) -> int:
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    return int(value)
                except ValueError:
                    return 0
        return 0

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        error = BodyTooLarge(self.max_bytes)
        body = {"detail": error.detail, "field": "body",
                "errors": [{"field": "body", "reason": error.detail}]}
        await JSONResponse(body, status_code=413, headers={"Connection": "close"})(
            scope, receive, send)


class RateLimiter:
    """A token bucket per client address: `per_minute` requests, refilled continuously.

    Kept in process memory, so each server worker counts on its own; behind a proxy run
    uvicorn with --proxy-headers so the client address is the caller's, not the proxy's.
    """

    def __init__(self, per_minute: int, clock: Any = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.refill = per_minute / 60.0
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def acquire(self, client: str) -> float:
        """0 when the request may proceed, else the seconds to wait."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.refill)
            if tokens >= 1:
                self._buckets[client] = (tokens - 1, now)
                self._prune(now)
                return 0.0
            self._buckets[client] = (tokens, now)
            return (1 - tokens) / self.refill

    def _prune(self, now: float) -> None:
        # A bucket that would be full again carries no information: drop it, so memory
        # follows the number of recently active clients, not all clients ever seen.
        if len(self._buckets) < 10_000:
            return
        full = self.capacity / self.refill
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < full}


def client_key(host: str) -> str:
    """Who a limit counts a request against: an IPv4 address, or an IPv6 address's /64,
    which one host (a phone on a mobile network, a rented server) holds whole and can draw
    a new address from for every request."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:  # an IPv4 client seen through a dual stack
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return host


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
