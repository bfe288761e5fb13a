"""A Zalo-compatible ZNS API on 127.0.0.1 for tests: the OA token endpoint (single-use refresh
tokens that rotate) and the template message endpoint.

Records every message it accepts, can answer Zalo error codes on demand (per phone, in
order), and can expire the access token it issued, as Zalo does after its lifetime.
"""

from __future__ import annotations

import json
import select
import sys
import threading
import time
import uuid
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

APP_ID = "1234567890"
TRACKING_ID_LIMIT = 48  # characters: Zalo's limit on a message's tracking_id
SECRET_KEY = "app-secret"


class ZaloServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int = 0, *, refresh_token: str = "refresh-0",
                 latency: float = 0.0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.latency = latency
        self.lock = threading.Condition()
        self.refresh_token = refresh_token  # the one refresh token Zalo accepts now
        self.access_token: str | None = None
        self.refreshes = 0
        self.messages: list[dict[str, Any]] = []
        self.scripted: dict[str, list[int]] = defaultdict(list)
        self.connections = 0  # open client connections, each served by its own thread
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def start(self) -> ZaloServer:
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def fail(self, phone: str, code: int, times: int = 1) -> None:
        self.scripted[phone].extend([code] * times)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.lock:
            self.connections += 1
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.lock:
                self.connections -= 1
                self.lock.notify_all()

    def wait_settled(self, timeout: float) -> bool:
        """Block until every connection is closed and none waits to be accepted: after a
        client is killed, whatever it had sent has been taken (or refused) by then."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if not self.lock.wait_for(lambda: self.connections == 0,
                                          deadline - time.monotonic()):
                    return False
            if not select.select([self.socket], [], [], 0.05)[0]:
                return True
        return False

    def expire_token(self) -> None:
        with self.lock:
            self.access_token = None

    def wait_for_count(self, count: int, timeout: float) -> bool:
        with self.lock:
            return self.lock.wait_for(lambda: len(self.messages) >= count, timeout)

    def phones(self) -> list[str]:
        with self.lock:
            return [m["phone"] for m in self.messages]

    def _token(self, form: dict[str, str], secret_key: str | None) -> dict[str, Any]:
        with self.lock:
            if secret_key != SECRET_KEY or form.get("app_id") != APP_ID:
                return {"error": -14002, "error_name": "Invalid app",
                        "error_description": "app_id or secret_key is wrong"}
            if form.get("grant_type") != "refresh_token" or \
                    form.get("refresh_token") != self.refresh_token:
                return {"error": -14014, "error_name": "Invalid refresh token",
                        "error_description": "refresh token is invalid or already used"}
            self.refreshes += 1
            self.access_token = f"access-{self.refreshes}"
            self.refresh_token = f"refresh-{self.refreshes}"
            return {"access_token": self.access_token, "refresh_token": self.refresh_token,
                    "expires_in": "90000"}

    def _send(self, payload: dict[str, Any], token: str | None) -> dict[str, Any]:
        with self.lock:
            if token is None or token != self.access_token:
                return {"error": -124, "message": "Access token invalid"}
            phone = str(payload.get("phone", ""))
            script = self.scripted.get(phone)
            if script:
                code = script.pop(0)
                return {"error": code, "message": f"scripted error {code}"}
            if not payload.get("template_id") or not isinstance(payload.get("template_data"),
                                                                 dict):
                return {"error": -111, "message": "Template data empty"}
            if len(str(payload.get("tracking_id", ""))) > TRACKING_ID_LIMIT:
                # Zalo documents the limit, not the code it answers; any refusal will do.
                return {"error": -100, "message": "tracking_id is too long"}
            msg_id = uuid.uuid4().hex
            self.messages.append({**payload, "msg_id": msg_id})
            self.lock.notify_all()
            return {"error": 0, "message": "Success", "data": {"msg_id": msg_id, "sent_time": "0"}}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ZaloServer

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length)
        if len(data) < length:  # the client died mid-request: nothing was sent
            self.close_connection = True
            return
        raw = data.decode()
        if self.server.latency:
            time.sleep(self.server.latency)
        if self.path == "/v4/oa/access_token":
            form = {k: v[0] for k, v in parse_qs(raw).items()}
            self._reply(self.server._token(form, self.headers.get("secret_key")))
        elif self.path == "/message/template":
            self._reply(self.server._send(json.loads(raw or "{}"),
                                          self.headers.get("access_token")))
        else:
            self._reply({"error": -106, "message": "Method unsupported"})

    def _reply(self, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(200)  # Zalo answers errors in the body, with HTTP 200
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        return
