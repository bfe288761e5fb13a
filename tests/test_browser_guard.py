"""The browser fixtures themselves: a page reaches the server under test, and a request for any
other host is caught (so a forgotten CDN link or base-map tile fails the page's tests)."""

from __future__ import annotations

import pytest

from tests.support.playwright import ForeignRequests, browser, keep_to_loopback  # noqa: F401
from tests.support.server import running_server


@pytest.fixture
def server(test_env) -> str:
    with running_server(test_env) as base:
        yield base


def test_a_page_reaches_the_server_and_nothing_else(browser, server) -> None:  # noqa: F811
    context = browser.new_context()
    caught = ForeignRequests()
    keep_to_loopback(context, caught)
    opened = context.new_page()
    # Before the server's page: its Content-Security-Policy would stop the image first.
    opened.set_content('<img src="https://tile.openstreetmap.org/1/1/1.png">')
    opened.wait_for_timeout(300)
    opened.goto(f"{server}/healthz")
    assert "ok" in opened.content().lower()
    context.close()
    assert caught == ["https://tile.openstreetmap.org/1/1/1.png"]
