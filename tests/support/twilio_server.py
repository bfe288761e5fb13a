"""A Twilio-compatible Messages API on 127.0.0.1 for tests and benchmarks.

Records every message it accepts, can answer errors or 429s on demand (per recipient, in
order), and waits `latency` seconds per request like a real API. `GET /stats` gives the
count of accepted messages and of different recipients (a message sent twice shows). Run
standalone with `python -m tests.support.twilio_server --port 0 --latency 0.02` (prints the
port).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
import time
import uuid
from collections import defaultdict
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from twilio.request_validator import RequestValidator


class TwilioServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, port: int = 0, *, latency: float = 0.0, record: bool = True) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.latency = latency
        self.record = record
        self.messages: list[dict[str, Any]] = []
        self.count = 0
        self.recipients: set[str] = set()  # kept even unrecorded: a repeat shows in /stats
        self.lock = threading.Condition()  # notified at every accepted message
        # recipient -> list of (http status, twilio code) answered before succeeding
        self.scripted: dict[str, list[tuple[int, int]]] = defaultdict(list)
        # recipient -> (status, error code) reported to the message's StatusCallback, signed
        # with `auth_token`, before the send itself is answered (as Twilio may, when the
        # answer is slow to reach the sender)
        self.report_first: dict[str, tuple[str, str]] = {}
        self.auth_token = ""
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A worker killed mid-request resets its connection: expected in crash tests.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def fail(self, to: str, status: int, code: int, times: int = 1) -> None:
        self.scripted[to].extend([(status, code)] * times)

    def start(self) -> TwilioServer:
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def wait_for_count(self, count: int, timeout: float) -> bool:
        """Block until `count` messages were accepted; False after `timeout` seconds."""
        with self.lock:
            return self.lock.wait_for(lambda: self.count >= count, timeout)

    def bodies_to(self, to: str) -> list[str]:
        with self.lock:
            return [m["Body"] for m in self.messages if m["To"] == to]

    def _answer(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            script = self.scripted.get(form.get("To", ""))
            failure = script.pop(0) if script else None
            if failure is None:
                self.count += 1
                self.recipients.add(form.get("To", ""))
                if self.record:
                    self.messages.append(form)
                self.lock.notify_all()
        if failure is not None:
            status, code = failure
            # Like Twilio's own messages, it names the number (which logs must mask).
            message = f"scripted error {code}: the 'To' number {form.get('To')} was refused"
            return status, {"code": code, "message": message, "status": status,
                            "more_info": f"https://www.twilio.com/docs/errors/{code}"}
        resource = self._resource(form)
        early = self.report_first.get(form.get("To", ""))
        if early is not None and form.get("StatusCallback"):
            self._call_back(form["StatusCallback"], resource["sid"], *early)
        return 201, resource

    def _call_back(self, url: str, sid: str, status: str, error_code: str) -> None:
        params = {"MessageSid": sid, "MessageStatus": status, "ErrorCode": error_code}
        signature = RequestValidator(self.auth_token).compute_signature(url, params)
        httpx.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=10)

    @staticmethod
    def _resource(form: dict[str, Any]) -> dict[str, Any]:
        form.setdefault("Sid", "SM" + uuid.uuid4().hex)
        form.setdefault("DateCreated", formatdate(usegmt=True))
        return {"sid": form["Sid"], "status": "queued", "to": form.get("To"),
                "date_created": form["DateCreated"],
                "from": form.get("From"), "body": form.get("Body"),
                "messaging_service_sid": form.get("MessagingServiceSid"),
                "num_segments": "1", "direction": "outbound-api"}

    def listing(self, to: str) -> dict[str, Any]:
        with self.lock:
            found = [self._resource(m) for m in self.messages if m.get("To") == to]
        return {"messages": found, "next_page_uri": None, "page": 0, "page_size": 50}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real API
    disable_nagle_algorithm = True  # else delayed ACKs add 40 ms to every answer
    server: TwilioServer

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length)
        if len(data) < length:  # the client died mid-request: nothing was sent
            self.close_connection = True
            return
        raw = data.decode()
        form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        if self.server.latency:
            time.sleep(self.server.latency)
        if not self.path.endswith("/Messages.json"):
            self._reply(404, {"code": 20404, "message": "not found", "status": 404})
            return
        if not form.get("To") or not form.get("Body"):
            self._reply(400, {"code": 21604, "message": "'To' and 'Body' are required",
                              "status": 400})
            return
        self._reply(*self.server._answer(form))

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/stats":  # messages accepted, and to how many different numbers
            with self.server.lock:
                stats = {"count": self.server.count,
                         "recipients": len(self.server.recipients)}
            self._reply(200, stats)
            return
        if not url.path.endswith("/Messages.json"):
            self._reply(404, {"code": 20404, "message": "not found", "status": 404})
            return
        to = parse_qs(url.query).get("To", [""])[0]
        self._reply(200, self.server.listing(to))

    def _reply(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client was killed meanwhile
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args()
    server = TwilioServer(args.port, latency=args.latency, record=False)
    print(server.server_address[1], flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
