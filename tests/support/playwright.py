"""Pages in a real browser: Playwright driving Debian's chromium (never a downloaded one).

Use the fixtures by importing them into a test module or a conftest:

    from tests.support.playwright import browser, page  # noqa: F401  (fixtures)

`page` belongs to one test; it lets the browser reach the server under test only (loopback,
any port) and the test fails at teardown when the page asked for any other host, so a
forgotten CDN link or a base-map tile cannot hide.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from tests.support.browser import FLAGS, find_or_install_chromium

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, Route

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
BROWSER_FLAGS = tuple(flag for flag in FLAGS if flag != "--headless")


# Per module, not per session: the sync API runs an event loop in the main thread while
# Playwright is started, so a browser kept for the session would stop every later test that
# calls asyncio.run(), and a second module importing the fixture could not start its own.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    binary, why = find_or_install_chromium()
    if binary is None:
        pytest.skip(f"headless Chromium unavailable: {why}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=binary, headless=True,
                                              args=list(BROWSER_FLAGS))
        yield launched
        launched.close()


class ForeignRequests(list[str]):
    """URLs a page asked for on a host other than the server under test."""


@pytest.fixture
def foreign_requests() -> ForeignRequests:
    return ForeignRequests()


def keep_to_loopback(context: BrowserContext, foreign: ForeignRequests) -> None:
    """Let `context` reach loopback only; record (and abort) every other request."""

    def only_loopback(route: Route) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob") or parts.hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            foreign.append(url)
            route.abort()

    context.route("**/*", only_loopback)


@pytest.fixture
def page(browser: Browser, foreign_requests: ForeignRequests) -> Iterator[Page]:
    context = browser.new_context(locale="en-GB", timezone_id="Asia/Ho_Chi_Minh",
                                  viewport={"width": 1400, "height": 900})
    keep_to_loopback(context, foreign_requests)
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    yield opened
    context.close()
    assert not foreign_requests, f"the page asked for hosts other than the server: " \
                                 f"{foreign_requests[:5]}"
