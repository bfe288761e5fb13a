"""The twilio library's HTTP client on one urllib3 pool: it must send what requests (the
library's default) sends for the same call, against a real loopback server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st
from twilio.http.http_client import TwilioHttpClient

from notifier.channels.pooled_http import NetworkError, PooledHttpClient, _form


class _Echo(BaseHTTPRequestHandler):
    """Answers every request with what it received; a path can ask for a status, a charset,
    or a redirect."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        seen = {"method": self.command, "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": self.rfile.read(length).decode("utf-8")}
        if self.path.startswith("/moved"):
            self.send_response(302)
            self.send_header("Location", "/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        charset = "latin-1" if self.path.startswith("/latin") else "utf-8"
        payload = json.dumps({**seen, "word": "điện" if charset == "utf-8" else "café"},
                             ensure_ascii=False).encode(charset)
        self.send_response(404 if self.path.startswith("/missing") else 200)
        self.send_header("Content-Type", f"application/json; charset={charset}")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def echo() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _both(echo: str, method: str, path: str, **kwargs: Any) -> tuple[Any, Any]:
    """The same call through requests (the twilio library's default) and through the pool."""
    by_requests = TwilioHttpClient(timeout=5)
    assert by_requests.session is not None
    by_requests.session.trust_env = False
    pooled = PooledHttpClient(echo, timeout=5)
    return (by_requests.request(method, echo + path, **kwargs),
            pooled.request(method, echo + path, **kwargs))


def test_a_form_post_with_auth_is_the_request_requests_sends(echo: str) -> None:
    data = {"To": "+84912000001", "Body": "Mất điện 08:00–11:00 & thứ 2", "ValidityPeriod": 14400,
            "MediaUrl": ["https://a.example/1.png", "https://a.example/2.png"]}
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json",
               "User-Agent": "twilio-python/test"}
    old, new = _both(echo, "POST", "/2010-04-01/Messages.json", data=data, headers=headers,
                     auth=("AC1", "tôken"))
    assert (new.status_code, new.ok) == (old.status_code, old.ok) == (200, True)
    sent_old, sent_new = json.loads(old.text), json.loads(new.text)
    assert sent_new["body"] == sent_old["body"] and "MediaUrl=" in sent_new["body"]
    assert sent_new["path"] == sent_old["path"]
    for name in ("authorization", "content-type", "accept", "user-agent", "accept-encoding",
                 "content-length"):
        assert sent_new["headers"][name] == sent_old["headers"][name], name
    assert sent_new["word"] == "điện"


def test_query_parameters_json_bodies_and_charsets(echo: str) -> None:
    old, new = _both(echo, "GET", "/Messages.json?PageSize=50",
                     params={"To": "+84912000001", "DateSent>": "2026-12-01", "Skip": None})
    assert json.loads(new.text)["path"] == json.loads(old.text)["path"]
    assert "Skip" not in json.loads(new.text)["path"]
    old, new = _both(echo, "POST", "/json", data={"a": [1, "đ"]},
                     headers={"Content-Type": "application/json"})
    assert json.loads(json.loads(new.text)["body"]) == {"a": [1, "đ"]}
    old, new = _both(echo, "GET", "/latin")
    assert json.loads(new.text)["word"] == json.loads(old.text)["word"] == "café"
    old, new = _both(echo, "GET", "/missing")
    assert (new.status_code, new.ok) == (old.status_code, old.ok) == (404, False)


def test_redirects_are_answered_not_followed_unless_asked(echo: str) -> None:
    old, new = _both(echo, "GET", "/moved")
    assert new.status_code == old.status_code == 302
    followed = PooledHttpClient(echo, timeout=5).request("GET", echo + "/moved",
                                                         allow_redirects=True)
    assert json.loads(followed.text)["path"] == "/elsewhere"


def test_a_refused_connection_is_a_network_error_and_a_bad_timeout_is_refused() -> None:
    with pytest.raises(NetworkError):
        PooledHttpClient("http://127.0.0.1:9", timeout=2).request("GET", "http://127.0.0.1:9/")
    with pytest.raises(ValueError):
        PooledHttpClient("http://127.0.0.1:9", timeout=2).request(
            "GET", "http://127.0.0.1:9/", timeout=0)


_values = st.one_of(st.none(), st.text(max_size=20), st.integers(),
                    st.lists(st.one_of(st.none(), st.text(max_size=10)), max_size=3))


@given(st.dictionaries(st.text(min_size=1, max_size=10), _values, max_size=6))
def test_form_encoding_matches_requests(data: dict[str, Any]) -> None:
    prepared = requests.Request("POST", "http://x/", data=data).prepare()
    expected = prepared.body or ""
    assert _form(data) == (expected if isinstance(expected, str) else expected.decode())
