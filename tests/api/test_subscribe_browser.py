"""The subscription pages in a real browser (Debian's chromium via Playwright), reached from
the public page, without JavaScript needed and without any request beyond the server."""

from __future__ import annotations

import re

from sqlalchemy import select

from notifier.store import outbox
from outages.models import Subscription
from tests.support.playwright import browser, foreign_requests, page  # noqa: F401  (fixtures)
from tests.support.server import running_server


def _code(engine, recipient: str) -> str:
    with engine.connect() as conn:
        body = conn.execute(select(outbox.c.body).where(
            outbox.c.recipient == recipient, outbox.c.kind == "subscription_code")).scalar_one()
    found = re.search(r"\b(\d{6})\b", body)
    assert found, body
    return found.group(1)


def test_subscribe_from_the_public_page_and_confirm_the_code(
    page, test_env, engine, people,  # noqa: F811
) -> None:
    with running_server({**test_env, "OUTAGES_TWILIO_AUTH_TOKEN": "x",
                         "OUTAGES_PUBLIC_TILE_URL": ""}) as base:  # no base map
        page.goto(f"{base}/?lang=en")
        page.click("#subscribe-link")
        assert page.locator("h1").inner_text() == "Get power outage notices"
        page.check("input[name=kind][value=district]")
        page.fill("input[name=target]", "hoan kiem")
        page.fill("input[name=contact]", "0987 000 001")
        page.select_option("select[name=language]", "en")
        page.click("#subscribe button[type=submit]")
        assert "We sent a 6-digit code to +8498*****01" in page.locator("#sent").inner_text()
        page.fill("input[name=code]", "000000" if _code(engine, "+84987000001") != "000000"
                  else "111111")
        page.click("#confirm button[type=submit]")
        assert "Wrong code. Tries left: 4" in page.locator("#error").inner_text()
        page.fill("input[name=code]", _code(engine, "+84987000001"))
        page.click("#confirm button[type=submit]")
        assert "You are subscribed" in page.locator("#done").inner_text()
        page.goto(f"{base}/subscribe")
        assert page.locator("html").get_attribute("lang") == "vi"
        assert "Đăng ký nhận thông báo mất điện" in page.locator("h1").inner_text()
    with engine.connect() as conn:
        row = conn.execute(select(Subscription.__table__)).one()
    assert (row.status, row.target, row.language) == ("active", "Hoan Kiem", "en")
