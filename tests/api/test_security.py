"""What protects the service from browsers and strangers: security headers, /docs served
from the package (or off), authentication before the body is read, refusals logged, upload
errors that do not reveal the server's folders."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any

import pytest
from sqlalchemy import select

from outages.models import Customer
from tests.api.conftest import square

HTML_PAGES = ("/", "/docs", "/unsubscribe/not-a-token")


@pytest.mark.parametrize("path", HTML_PAGES)
def test_html_pages_carry_the_security_headers(client, path) -> None:
    response = client.get(path)
    assert response.status_code in (200, 404) and response.headers["content-type"].startswith(
        "text/html")
    policy = response.headers["content-security-policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'" and "unsafe-inline" not in policy
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] in ("same-origin", "no-referrer")
    assert "strict-transport-security" not in response.headers
    # The policy holds: no inline script or style, no handler attributes, nothing remote.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", response.text)
    assert "<style" not in response.text and not re.search(r"\son\w+=", response.text)
    # The public page's map names the base-map tile URL (public.tile_url), and its policy
    # lets images come from that host alone; nothing else on any page is remote.
    text = re.sub(r' data-tiles="[^"]*"', "", response.text)
    assert "http://" not in text and "https://" not in text
    if path == "/":
        assert directives["img-src"] == "'self' data: https://tile.openstreetmap.org"
    else:
        assert directives["img-src"] == "'self' data:"


def test_page_assets_are_served_from_the_package(client) -> None:
    for page in (client.get("/").text, client.get("/unsubscribe/not-a-token").text):
        hrefs = re.findall(r'href="/?(static/[^"]+)"', page)
        assert hrefs
        for href in hrefs:
            asset = client.get("/" + href)
            assert asset.status_code == 200
            assert asset.headers["content-type"].startswith("text/css")
    scripts = re.findall(r'src="(/static/[^"]+)"', client.get("/").text)
    assert [s.rsplit("/", 1)[1] for s in scripts] == ["leaflet.js", "page.js"]
    for path in scripts:
        assert client.get(path).headers["content-type"].startswith(("text/javascript",
                                                                    "application/javascript"))
    docs = client.get("/docs").text
    assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', docs)
    assert {a.rsplit("/", 1)[1] for a in assets} >= {"swagger-ui-bundle.js", "swagger-ui.css",
                                                      "docs.js"}
    for path in assets:
        assert client.get(path).status_code == 200
    assert client.get("/static/swagger-ui/LICENSE").status_code == 200


def test_only_console_pages_may_load_the_consoles_base_map(make_client) -> None:
    client = make_client(OUTAGES_WEB_TILE_URL="https://tiles.utility.test/{z}/{x}/{y}.png",
                         OUTAGES_PUBLIC_TILE_URL="")
    console = client.get("/console/sign-in").headers["content-security-policy"]
    elsewhere = client.get("/healthz").headers["content-security-policy"]
    assert "img-src 'self' data: https://tiles.utility.test;" in console
    assert "img-src 'self' data:;" in elsewhere
    assert "tiles.utility.test" not in client.get("/").headers["content-security-policy"]


def test_hsts_when_the_public_address_is_https(make_client) -> None:
    secure = make_client(OUTAGES_HTTP_PUBLIC_BASE_URL="https://outages.example.vn")
    assert secure.get("/").headers["strict-transport-security"].startswith("max-age=")
    assert secure.get("/healthz").headers["strict-transport-security"].startswith("max-age=")


def test_docs_can_be_turned_off(make_client) -> None:
    closed = make_client(OUTAGES_HTTP_DOCS="false")
    assert closed.get("/docs").status_code == 404
    assert closed.get("/redoc").status_code == 404
    assert closed.get("/openapi.json").status_code == 200


def test_reliability_html_allows_only_its_own_stylesheet(client, headers) -> None:
    response = client.get("/reports/reliability", headers=headers["engineer"],
                          params={"from": "2026-01-01", "to": "2026-01-31", "format": "html"})
    assert response.status_code == 200, response.text
    policy = response.headers["content-security-policy"]
    assert "'sha256-" in policy and "unsafe-inline" not in policy
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy


def _call(app: Any, method: str, path: str, body: bytes,
          headers: list[tuple[bytes, bytes]]) -> tuple[int, int]:
    """Send a request straight to the ASGI app; (status, body bytes the app read)."""
    chunks = [body[i:i + 65536] for i in range(0, len(body), 65536)]
    read = 0
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal read
        if not chunks:
            return {"type": "http.disconnect"}
        chunk = chunks.pop(0)
        read += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": method, "path": path, "raw_path": path.encode(), "root_path": "",
             "scheme": "http", "query_string": b"", "server": ("testserver", 80),
             "client": ("192.0.2.7", 50000),
             "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"),
                         (b"content-length", str(len(body)).encode()), *headers]}
    asyncio.run(app(scope, receive, send))
    return status, read


@pytest.mark.parametrize("token", [None, "otk_wrong"])
def test_a_body_is_not_read_before_authentication(client, token) -> None:
    body = json.dumps({"reason": "x" * (5 * 1024 * 1024)}).encode()
    auth = [(b"authorization", f"Bearer {token}".encode())] if token else []
    status, read = _call(client.app, "POST", "/cuts", body, auth)
    assert status == 401
    assert read == 0


def test_a_body_is_not_read_for_a_role_that_may_not(client, headers) -> None:
    body = json.dumps({"area": square(105.85, 21.03), "reason": "x" * 1_000_000}).encode()
    token = headers["viewer"]["Authorization"].encode()
    status, read = _call(client.app, "POST", "/cuts", body, [(b"authorization", token)])
    assert status == 403 and read == 0


def test_an_authorised_request_still_reads_its_body(client, headers) -> None:
    response = client.post("/areas/preview", headers=headers["dispatcher"],
                           json=square(105.852, 21.028))
    assert response.status_code == 200, response.text


def test_refused_requests_are_logged_without_secrets(client, headers, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="outages.api.errors")
    client.get("/customers/PD0001", headers={"Authorization": "Bearer otk_secret123"})
    client.post("/cuts", headers=headers["viewer"], json={"reason": "PD0001"})
    limited = client.app.state.public_limiter
    limited.capacity = limited.refill = 1e-9  # the next public request is over the limit
    client.get("/public/cuts/lookup", params={"customer": "PD0002"})
    lines = [r.getMessage() for r in caplog.records if r.name == "outages.api.errors"]
    assert lines[0].startswith("refused 401 GET /customers/{code} from ")
    assert lines[1].startswith("refused 403 POST /cuts from ")
    assert lines[2].startswith("refused 429 GET /public/cuts/lookup from ")
    text = "\n".join(lines)
    assert "otk_" not in text and "PD0001" not in text and "PD0002" not in text


@pytest.mark.parametrize("data", [b"", b"\xff\xfe not utf-8", b"bogus,columns\n1,2\n"])
def test_upload_errors_name_the_clients_file(client, headers, engine, data) -> None:
    response = client.post("/customers/import", headers=headers["admin"],
                           files={"file": ("khach hang.csv", data, "text/csv")})
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert detail.startswith("khach hang.csv")
    assert "outages-upload-" not in response.text and "/tmp" not in response.text
    with engine.connect() as conn:
        assert conn.execute(select(Customer.__table__.c.id)).first() is None
