"""Console details checked in-process (TestClient over the real app and database): cookie
flags, where a sign-in may send the browser, and failed notices by provider error."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import insert

from notifier.store import outbox
from outages.console.app import create_server
from outages.timeutil import utcnow
from tests.console.conftest import PASSWORD, seed


def _client(make_settings, base: str = "http://testserver", **env: str) -> TestClient:
    return TestClient(create_server(make_settings(OUTAGES_WEB_TILE_URL="", **env)),
                      base_url=base)


def _sign_in(client: TestClient, name: str, target: str = "") -> object:
    form = client.get("/console/sign-in?lang=en" + (f"&next={target}" if target else ""))
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token
    return client.post("/console/sign-in", follow_redirects=False, data={
        "username": name, "password": PASSWORD, "csrf_token": token.group(1),
        "next": target})


def test_the_session_cookie_is_httponly_lax_and_secure_behind_https(db_url,
                                                                    make_settings) -> None:
    seed(db_url)
    with _client(make_settings) as plain:
        cookie = _sign_in(plain, "viewer").headers["set-cookie"]  # type: ignore[attr-defined]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/console" in cookie
        assert "Secure" not in cookie
    with _client(make_settings, "https://testserver",
                 OUTAGES_HTTP_PUBLIC_BASE_URL="https://outages.example.vn") as https:
        cookie = _sign_in(https, "viewer").headers["set-cookie"]  # type: ignore[attr-defined]
        assert "Secure" in cookie and "HttpOnly" in cookie


def test_a_sign_in_never_sends_the_browser_off_the_console(db_url, make_settings) -> None:
    seed(db_url)
    with _client(make_settings) as client:
        for target, expected in (("/console/notices", "/console/notices"),
                                 ("//evil.example/console/", "/console/cuts"),
                                 ("https://evil.example/", "/console/cuts"),
                                 ("/console/\\evil", "/console/cuts")):
            answer = _sign_in(client, "viewer", target)
            assert answer.headers["location"] == expected  # type: ignore[attr-defined]


def test_failed_notices_by_error_with_contacts_only_for_personal_data(db_url, engine,
                                                                     make_settings) -> None:
    seed(db_url)
    now = utcnow()
    rows = [{"key": f"k{n}", "kind": "announcement", "channel": "sms", "recipient": phone,
             "language": "vi", "due_at": now, "status": "failed", "last_error_code": "21211",
             "last_error": "invalid 'To' phone number"}
            for n, phone in enumerate(("+84912000001", "+84912000002"))]
    rows.append({"key": "k9", "kind": "announcement", "channel": "email", "language": "vi",
                 "recipient": "a@example.vn", "due_at": now, "status": "pending",
                 "last_error_code": None, "last_error": None})
    with engine.begin() as conn:
        conn.execute(insert(outbox), rows)
    with _client(make_settings) as client:
        _sign_in(client, "dispatcher")
        page = client.get("/console/notices").text
        assert "21211" in page and "+84912000001, +84912000002" in page
        assert re.search(r'id="pending-total">1<', page)
        assert "Delivery rate today" in page and "0.0 %" in page
        _sign_in(client, "viewer")
        page = client.get("/console/notices").text
        assert "21211" in page and "+84912000001" not in page


def test_wrong_passwords_from_one_ipv6_network_count_as_one_address(db_url,
                                                                     make_settings) -> None:
    """A host holds a whole /64 and can guess from a new address each time: the lock-out
    counts the network, as the public rate limits do."""
    seed(db_url)
    answers = []
    for n in range(6):
        with TestClient(create_server(make_settings(OUTAGES_WEB_TILE_URL="")),
                        client=(f"2001:db8:0:7::{n + 1}", 50000)) as client:
            form = client.get("/console/sign-in?lang=en")
            token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
            assert token
            answers.append(client.post("/console/sign-in", follow_redirects=False, data={
                "username": f"nobody{n}", "password": "wrong password",
                "csrf_token": token.group(1)}).status_code)
    assert answers == [401] * 4 + [429] * 2


def test_the_reliability_report_refuses_a_format_it_does_not_make(db_url,
                                                                  make_settings) -> None:
    seed(db_url)
    days = "/console/reports/reliability?from=2025-01-01&to=2025-01-31"
    with _client(make_settings) as client:
        _sign_in(client, "engineer")
        refused = client.get(days + "&format=json")
        assert refused.status_code == 422
        assert refused.headers["content-type"].startswith("text/html")
        assert "unknown format" in refused.text and "use html or csv" in refused.text
        as_csv = client.get(days + "&format=csv")
        assert as_csv.status_code == 200 and as_csv.text.startswith("key,planned,med,")
        assert client.get(days).headers["content-type"].startswith("text/html")
