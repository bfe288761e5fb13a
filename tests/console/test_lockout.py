"""After five failed sign-ins for one name or from one address, a growing delay: the same
answer whether or not the name exists. The server trusts X-Forwarded-For from loopback here,
so each test signs in from its own address."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import expect

from tests.console.conftest import PASSWORD, Console, sign_in, sign_in_form, start_console

pytestmark = pytest.mark.real_clock


@pytest.fixture(scope="module")
def console(console_db: str) -> Iterator[Console]:
    yield from start_console(console_db, "--proxy-headers", "--forwarded-allow-ips",
                             "127.0.0.1")


def _client(console: Console, address: str) -> httpx.Client:
    return httpx.Client(base_url=console.base, timeout=30,
                        headers={"X-Forwarded-For": address})


def _attempts(client: httpx.Client, name: str, n: int) -> list[httpx.Response]:
    return [sign_in_form(client, name, "wrong password") for _ in range(n)]


def test_a_locked_name_waits_even_with_the_right_password(console, page) -> None:
    page.set_extra_http_headers({"X-Forwarded-For": "10.0.0.1"})
    for _ in range(4):
        sign_in(page, console, "dispatcher", "wrong password")
        expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
    sign_in(page, console, "dispatcher", "wrong password")
    expect(page.get_by_role("alert")).to_have_text(
        "Too many failed sign-ins. Wait 1 seconds and try again.")
    time.sleep(1.2)
    sign_in(page, console, "dispatcher")
    expect(page.get_by_role("heading", name="Planned cuts")).to_be_visible()


def test_the_delay_grows_and_reads_the_same_for_an_unknown_name(console) -> None:
    answers = {}
    for name, address in (("viewer", "10.0.0.2"), ("nobody", "10.0.0.3")):
        with _client(console, address) as client:
            tries = _attempts(client, name, 5)
            assert [r.status_code for r in tries] == [401] * 4 + [429]
            assert tries[-1].headers["Retry-After"] == "1"
            locked = sign_in_form(client, name, PASSWORD)  # within the second: refused
            assert locked.status_code == 429
            answers[name] = re.sub(r'value="[^"]*"', "", locked.text)  # token, name
            time.sleep(1.1)
            again = _attempts(client, name, 1)[0]  # the sixth failure: two seconds
            assert again.status_code == 429 and again.headers["Retry-After"] == "2"
    assert answers["viewer"] == answers["nobody"]


def test_one_address_trying_many_names_is_slowed_down(console) -> None:
    with _client(console, "10.0.0.4") as client:
        for name in ("a1", "a2", "a3", "a4", "a5"):
            _attempts(client, name, 1)
        assert sign_in_form(client, "admin", PASSWORD).status_code == 429
    with _client(console, "10.0.0.5") as elsewhere:  # the user is not locked out
        assert sign_in_form(elsewhere, "admin", PASSWORD).status_code == 303
