"""A loopback receiver for the desk's alert webhook: checks each request's HMAC-SHA256
signature as a real receiver must, records what it accepted, and can answer errors first."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_AGE = 300  # seconds a signed request stays good


@dataclass(frozen=True)
class Received:
    delivery: str
    signature_ok: bool
    payload: Any


class WebhookReceiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, secret: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.secret = secret.encode()
        self.attempts: list[Received] = []  # every request, answered or refused
        self.accepted: list[Received] = []
        self.answers: list[int] = []  # status codes to answer first, in order
        self.lock = threading.Condition()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/desk/alerts"

    def verify(self, body: bytes, headers: Any) -> bool:
        """As a receiver must: the signature over timestamp, delivery and body, and a
        timestamp no older than MAX_AGE."""
        stamp, delivery = headers.get("X-Outages-Timestamp", ""), headers.get(
            "X-Outages-Delivery", "")
        if not stamp.isdigit() or abs(time.time() - int(stamp)) > MAX_AGE:
            return False
        signed = f"{stamp}.{delivery}.".encode() + body
        expected = "sha256=" + hmac.new(self.secret, signed, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected.encode(),
                                   headers.get("X-Outages-Signature", "").encode())

    def wait_for(self, count: int, timeout: float) -> bool:
        with self.lock:
            return self.lock.wait_for(lambda: len(self.accepted) >= count, timeout)


class _Handler(BaseHTTPRequestHandler):
    server: WebhookReceiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        ok = self.server.verify(body, self.headers)
        got = Received(self.headers.get("X-Outages-Delivery", ""), ok, json.loads(body))
        with self.server.lock:
            self.server.attempts.append(got)
            status = self.server.answers.pop(0) if self.server.answers else (
                204 if ok else 401)
            if status < 300:
                self.server.accepted.append(got)
            self.server.lock.notify_all()
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


@contextmanager
def webhook_receiver(secret: str) -> Iterator[WebhookReceiver]:
    server = WebhookReceiver(secret)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
