"""The public page as people see it: rendered by headless Chromium from `outages serve`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest

from outages import db
from outages.timeutil import utcnow
from tests.api.conftest import PEOPLE, add_outage, add_people, square
from tests.support.browser import dump_dom, find_or_install_chromium
from tests.support.server import running_server


@pytest.fixture(scope="session")
def chromium() -> str:
    binary, why = find_or_install_chromium()
    if binary is None:
        pytest.skip(f"headless Chromium unavailable: {why}")
    return binary


# One server for the module: its tests only read pages, and starting `outages serve` costs
# seconds of CPU.
@pytest.fixture(scope="module")
def server(module_db_url: str) -> Iterator[str]:
    engine = db.make_engine(module_db_url)
    people = add_people(engine)
    add_outage(engine, customers=[people["PD0001"], people["PD0002"]],
               start=datetime(2030, 3, 4, 1, 0, tzinfo=UTC), area=square(105.852, 21.028),
               area_name="Phố Huế <b>", reason="Thay cáp ngầm")
    add_outage(engine, customers=[people["PD0003"]], kind="fault", status="confirmed",
               start=utcnow() - timedelta(hours=1), area_name="Đội Cấn",
               etr=datetime(2030, 3, 4, 5, 0, tzinfo=UTC))
    engine.dispose()
    with running_server({"OUTAGES_DATABASE_URL": module_db_url}) as base:
        yield base


def _page(chromium: str, base: str, tmp_path: Path, **params: str) -> str:
    return dump_dom(chromium, f"{base}/?{urlencode(params)}", tmp_path / "profile")


def test_public_page_in_vietnamese(chromium, server, tmp_path) -> None:
    dom = _page(chromium, server, tmp_path, district="Hoan Kiem", date="2030-03-04",
                customer="PD0002")
    assert '<html lang="vi"' in dom and "Lịch cắt điện theo khu vực" in dom
    assert "Phố Huế &lt;b&gt;" in dom  # autoescaped, not markup
    assert "08:00 04/03/2030 – 12:00 04/03/2030" in dom and "Thay cáp ngầm" in dom
    assert dom.count("08:00 04/03/2030") == 2  # schedule and code lookup
    assert "Sự cố: Đội Cấn" in dom and "12:00 04/03/2030" in dom  # current fault with ETR
    assert 'id="still-out-form"' in dom and "Tôi vẫn bị mất điện" in dom
    for _code, name, phone, *_rest in PEOPLE:
        assert name not in dom and phone not in dom


def test_public_page_in_english_with_a_bad_code(chromium, server, tmp_path) -> None:
    dom = _page(chromium, server, tmp_path, lang="en", customer="NOPE")
    assert '<html lang="en"' in dom and "Planned cuts by district" in dom
    # An unknown code reads like a code without cuts: the page does not tell which exist.
    assert "No planned cut for this customer code." in dom and "not found" not in dom
    assert "Fault: Đội Cấn" in dom and "04/03/2030 12:00" in dom
    assert 'id="still-out-form"' in dom and "I still have no power" in dom


def test_docs_render_under_the_content_security_policy(chromium, server, tmp_path) -> None:
    # Swagger UI runs only if its scripts, all served by the service, pass the policy.
    dom = dump_dom(chromium, f"{server}/docs", tmp_path / "profile", wait_ms=10_000)
    assert 'class="swagger-ui"' in dom
    assert "Schedule a planned cut over an area" in dom
