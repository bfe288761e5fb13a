"""A console session ends after web.session_idle without a request."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.console.conftest import Console, sign_in, start_console

pytestmark = pytest.mark.real_clock


@pytest.fixture(scope="module")
def console(console_db: str) -> Iterator[Console]:
    yield from start_console(console_db, OUTAGES_WEB_SESSION_IDLE="3s")


def test_an_idle_session_ends_and_an_active_one_does_not(console, page) -> None:
    sign_in(page, console, "dispatcher")
    for _ in range(3):  # requests closer together than the idle limit keep it alive
        time.sleep(1.2)
        page.goto(f"{console.url}/notices")
        expect(page.get_by_role("heading", name="Notices")).to_be_visible()
    time.sleep(3.5)
    page.goto(f"{console.url}/notices")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page).to_have_url(f"{console.url}/sign-in?next=/console/notices")
