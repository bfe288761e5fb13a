"""The redone public page in a real browser (Playwright on Debian's chromium) against a real
`outages serve`, base map off: map and list, lookups in both languages, "near me" with the
browser's location, and nothing asked of any host but the server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import pytest
from playwright.sync_api import expect
from sqlalchemy import Engine, text

from outages import db
from outages.timeutil import utcnow
from tests.api.conftest import PEOPLE, add_outage, add_people, square
from tests.conftest import insert_customers
from tests.support.playwright import browser, foreign_requests, keep_to_loopback, page  # noqa: F401
from tests.support.server import running_server

NEAR = {"longitude": 105.8523, "latitude": 21.0283}


def _fill(engine: Engine) -> None:
    people = add_people(engine)
    insert_customers(engine, [
        {"code": f"HK{i}", "district": "Hoan Kiem", "lon": 105.852 + i / 10000,
         "lat": 21.028, "name": f"Hang xom {i}", "phone": f"+8491234{i:04d}"}
        for i in range(6)])
    with engine.connect() as conn:
        hoan_kiem = list(conn.execute(text(
            "SELECT id FROM customers WHERE district = 'Hoan Kiem'")).scalars())
    soon = utcnow() + timedelta(days=2)
    add_outage(engine, customers=hoan_kiem, start=soon, area=square(105.852, 21.028, 0.003),
               area_name="Phố Huế <b>", reason="Thay cáp ngầm")
    add_outage(engine, customers=[people["PD0003"]], kind="fault", status="confirmed",
               start=utcnow() - timedelta(hours=1), area_name="Đội Cấn",
               area=square(105.82, 21.035, 0.002),
               etr=datetime(2030, 3, 4, 5, 0, tzinfo=UTC))


def _serve(db_url: str, output: IO[bytes] | None = None) -> Iterator[str]:
    env = {"OUTAGES_DATABASE_URL": db_url, "OUTAGES_PUBLIC_TILE_URL": ""}
    with running_server(env, "--log-level", "info", output=output) as base:
        yield base


# Starting `outages serve` costs seconds of CPU: the tests that only read pages share one.
@pytest.fixture(scope="module")
def server(module_db_url: str) -> Iterator[str]:
    engine = db.make_engine(module_db_url)
    _fill(engine)
    engine.dispose()
    yield from _serve(module_db_url)


@pytest.fixture
def logging_server(db_url: str, engine: Engine, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A server of the test's own, and the file it logs to (pytest's capfd cannot see a
    child process's output: the child keeps the descriptors it started with)."""
    _fill(engine)
    log = tmp_path / "server.log"
    with log.open("wb") as output:
        yield from ((base, log) for base in _serve(db_url, output))


def _no_personal_data(html: str) -> None:
    for code, name, phone, *_rest in PEOPLE:
        assert name not in html and phone not in html and phone[3:] not in html
        assert f"{code} Pho Hue" not in html and "@example.vn" not in html
    assert "Hang xom" not in html and "+8491234" not in html


def test_page_in_vietnamese_with_map_and_lookup(server, page) -> None:  # noqa: F811
    page.goto(f"{server}/?customer=PD0003")
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.locator("html").get_attribute("class") == "js"
    # The map draws the two outages from the GeoJSON feed (no base map: no tile layer).
    page.wait_for_selector("#map path.leaflet-interactive")
    assert page.locator("#map path.leaflet-interactive").count() == 2
    assert page.locator("#map img.leaflet-tile").count() == 0
    upcoming = page.locator("#upcoming").inner_text()
    assert "Phố Huế <b>" in upcoming and "Thay cáp ngầm" in upcoming
    assert upcoming.endswith("\t8")  # 8 customers: at least public.min_count, so shown
    outages = page.locator("#outages").inner_text()
    assert "Sự cố: Đội Cấn" in outages and "12:00 04/03/2030" in outages
    assert "dưới 5" in outages  # one customer: fewer than 5
    lookup = page.locator("#lookup-outages").inner_text()
    assert "Đội Cấn" in lookup and "Đang sửa chữa" in lookup and "12:00 04/03/2030" in lookup
    page.locator('#map path.leaflet-interactive[stroke="#c0392b"]').click(force=True)
    popup = page.locator(".leaflet-popup-content").inner_text()
    assert "Đội Cấn" in popup and "dưới 5" in popup  # the count in words, as in the list
    _no_personal_data(page.content())


def test_page_in_english_one_tap_away(server, page) -> None:  # noqa: F811
    page.goto(f"{server}/?customer=PD0001")
    page.click("#other-language")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "customer=PD0001" in page.url
    assert "Phố Huế" in page.locator("#lookup").inner_text()
    assert "Fault: Đội Cấn" in page.locator("#outages").inner_text()
    assert "fewer than 5" in page.locator("#outages").inner_text()
    page.fill("#schedule-form input[name=district]", "hoan kiem")
    page.fill("#schedule-form input[name=date]",
              (utcnow() + timedelta(days=2)).astimezone(
                  __import__("zoneinfo").ZoneInfo("Asia/Ho_Chi_Minh")).date().isoformat())
    page.click("#schedule-form button")
    assert "Phố Huế" in page.locator("#cuts").inner_text()
    assert page.locator("html").get_attribute("lang") == "en"
    _no_personal_data(page.content())


def test_lookups_work_without_javascript(server, browser, foreign_requests) -> None:  # noqa: F811
    context = browser.new_context(java_script_enabled=False, locale="vi-VN")
    keep_to_loopback(context, foreign_requests)
    plain = context.new_page()
    plain.goto(f"{server}/")
    plain.fill("#lookup-form input[name=customer]", "PD0001")
    plain.click("#lookup-form button")
    assert "Phố Huế" in plain.locator("#lookup").inner_text()
    # The answer's text can be there before its stylesheet is: wait for what it hides.
    expect(plain.locator("#near-me")).to_be_hidden()
    expect(plain.locator("#map")).to_be_hidden()
    expect(plain.locator(".no-js")).to_be_visible()
    context.close()
    assert not foreign_requests


def test_near_me_sends_the_location_once_and_it_is_not_logged(logging_server,
                                                               browser,  # noqa: F811
                                                               foreign_requests,  # noqa: F811
                                                               ) -> None:
    server, log = logging_server
    context = browser.new_context(geolocation=NEAR, permissions=["geolocation"],
                                  locale="en-GB")
    keep_to_loopback(context, foreign_requests)
    sent: list[str] = []
    near = context.new_page()
    near.on("request", lambda r: sent.append(f"{r.method} {r.url} {r.post_data or ''}"))
    near.goto(f"{server}/?lang=en")
    near.click("#near-me")
    near.wait_for_selector("#near-list li")
    assert "Phố Huế" in near.locator("#near-list").inner_text()
    context.close()
    assert not foreign_requests
    carrying = [r for r in sent if "105.852" in r]
    assert len(carrying) == 1 and carrying[0].startswith("POST ")
    assert "105.852" not in carrying[0].split(" ")[1]  # in the body, not in the URL
    logged = log.read_text()
    assert "serving on" in logged  # what the server prints is here
    assert "105.852" not in logged and "21.028" not in logged
