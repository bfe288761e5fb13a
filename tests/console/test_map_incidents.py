"""The Incidents page: reports arrive without a reload, an incident is confirmed on its
proposed area, given an ETR, and restored in two steps (a drawn part, then the rest)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from outages import db
from outages.models import AuditEntry
from outages.timeutil import to_local, utcnow
from tests.console.conftest import Console, sign_in
from tests.console.map_city import city_console, report

pytestmark = pytest.mark.real_clock
STILL_OUT = re.compile(r"(\d+) customers still without power")


@pytest.fixture(scope="module")
def console(console_db: str) -> Iterator[Console]:
    yield from city_console(console_db)


def still_out(page: Any) -> int:
    found = STILL_OUT.search(page.locator("#incident-remaining").inner_text())
    assert found, page.locator("#incident-remaining").inner_text()
    return int(found.group(1))


def test_viewer_reads_but_may_not_act(console: Console, signed_client: Any) -> None:
    fault = report(console, "G0000", "ông Nam, số 5 ngõ 12")
    viewer, csrf = signed_client("viewer")
    assert viewer.get("/console/incidents").status_code == 200
    listed = viewer.get("/console/map/incidents.json").json()["incidents"]
    mine = next(i for i in listed if i["id"] == fault)
    assert [r["text"] for r in mine["reports"]] == [None]  # a caller's words: personal data
    assert mine["area"] is None  # drawn around one caller's home: not for a viewer
    forged = viewer.post(f"/console/incidents/{fault}/confirm", json={"feeders": ["F0"]},
                         headers={"X-CSRF-Token": csrf})
    assert forged.status_code == 403
    dispatcher, token = signed_client("dispatcher")
    seen = dispatcher.get("/console/map/incidents.json").json()["incidents"]
    assert next(i for i in seen if i["id"] == fault)["reports"][0]["text"] == \
        "ông Nam, số 5 ngõ 12"
    no_csrf = dispatcher.post(f"/console/incidents/{fault}/confirm", json={"feeders": ["F0"]})
    assert no_csrf.status_code == 403
    wrong = dispatcher.post(f"/console/incidents/{fault}/etr", json={"at": "yesterday"},
                            headers={"X-CSRF-Token": token})
    assert wrong.status_code == 422 and wrong.json()["field"] == "at"
    by_feeder = dispatcher.post(f"/console/incidents/{fault}/confirm",
                                json={"feeders": ["F0"], "cause": "weather"},
                                headers={"X-CSRF-Token": token})
    assert by_feeder.status_code == 200, by_feeder.text
    assert by_feeder.json()["status"] == "confirmed" and by_feeder.json()["remaining"] == 147
    done = dispatcher.post(f"/console/incidents/{fault}/restore", json={},
                           headers={"X-CSRF-Token": token})
    assert done.json()["status"] == "restored"


def test_confirm_set_etr_and_restore_in_two_steps(console: Console, page: Any) -> None:
    sign_in(page, console, "dispatcher")
    page.get_by_role("link", name="Incidents").click()
    page.locator("#incident-panel[data-polling=true]").wait_for()
    fault = report(console, "G1010")
    arrived = time.monotonic()
    button = page.get_by_role("button", name=f"Incident #{fault}", exact=True)
    button.wait_for(timeout=10_000)
    assert time.monotonic() - arrived < 10
    button.click()
    page.get_by_label("Cause").select_option("equipment_failure")
    page.get_by_role("button", name="Confirm by area").click()
    page.get_by_text(STILL_OUT).wait_for()
    everyone = still_out(page)
    assert everyone > 1

    etr = to_local(utcnow() + timedelta(hours=3), ZoneInfo("Asia/Ho_Chi_Minh"))
    page.get_by_label("Estimated restoration").fill(etr.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Set ETR").click()
    expect(page.locator("#incident-etr")).not_to_have_text("–")

    page.get_by_role("button", name="Clear the drawing").click()
    page.get_by_role("button", name="Draw rectangle").click()
    box = page.get_by_role("region", name="Map").bounding_box()
    assert box is not None
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for dx, dy in ((-25, -25), (25, 25)):
        page.mouse.move(cx + dx, cy + dy, steps=4)
        page.mouse.click(cx + dx, cy + dy)
        page.wait_for_timeout(150)
    page.get_by_role("button", name="Restore the drawn part").click()
    expect(page.locator("#incident-remaining")).not_to_have_text(
        re.compile(rf"^{everyone} "), timeout=10_000)
    part = still_out(page)
    assert 0 < part < everyone

    page.get_by_role("button", name="Restore the rest").click()
    button.wait_for(state="detached", timeout=10_000)
    engine = db.make_engine(console.db_url)
    with engine.connect() as conn:
        steps = conn.execute(select(AuditEntry.action, AuditEntry.source)
                             .where(AuditEntry.entity_id == str(fault))
                             .order_by(AuditEntry.id)).all()
    engine.dispose()
    assert [a for a, source in steps if source == "console"] == [
        "fault.confirmed", "fault.etr", "fault.restored", "fault.restored"]


def test_an_action_on_an_incident_changed_since_it_was_shown_is_refused(
        console: Console, signed_client: Any) -> None:
    fault = report(console, "G2020")
    dispatcher, token = signed_client("dispatcher")
    shown = next(i for i in dispatcher.get("/console/map/incidents.json").json()["incidents"]
                 if i["id"] == fault)
    with console.api("dispatcher") as api:  # another dispatcher confirms it meanwhile
        assert api.post(f"/faults/{fault}/confirm", json={"feeders": ["F2"]}).status_code == 200
    etr = (to_local(utcnow() + timedelta(hours=2), ZoneInfo("Asia/Ho_Chi_Minh"))
           .strftime("%Y-%m-%dT%H:%M"))
    stale = dispatcher.post(f"/console/incidents/{fault}/etr",
                            json={"at": etr, "revision": shown["revision"]},
                            headers={"X-CSRF-Token": token})
    assert stale.status_code == 409 and stale.json()["field"] == "revision", stale.text
    current = dispatcher.get("/console/map/incidents.json").json()["incidents"]
    revision = next(i for i in current if i["id"] == fault)["revision"]
    assert revision > shown["revision"]
    fresh = dispatcher.post(f"/console/incidents/{fault}/etr",
                            json={"at": etr, "revision": revision},
                            headers={"X-CSRF-Token": token})
    assert fresh.status_code == 200, fresh.text


def test_the_page_sends_the_revision_it_shows(console: Console, page: Any) -> None:
    fault = report(console, "G0720")
    sign_in(page, console, "dispatcher")
    page.get_by_role("link", name="Incidents").click()
    page.locator("#incident-panel[data-polling=true]").wait_for()
    page.get_by_role("button", name=f"Incident #{fault}", exact=True).click()
    # The page's view goes stale: its polls fail while another dispatcher acts.
    page.route("**/map/incidents.json", lambda route: route.abort())
    with console.api("dispatcher") as api:
        assert api.post(f"/faults/{fault}/confirm", json={"feeders": ["F1"]}).status_code == 200
    page.get_by_role("button", name="Confirm by area").click()
    message = page.locator("#incident-message")
    expect(message).to_contain_text("changed after the page was opened")
    expect(message).to_contain_text("The page now shows it as it stands")  # the way out
    page.unroute("**/map/incidents.json")
    expect(page.locator("#restore-forms")).to_be_visible(timeout=15_000)  # shown as it stands
