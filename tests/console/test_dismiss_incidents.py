"""Dismissing a reported incident from the Incidents page: the revision shown, the audit
entry, the board, and the refusal of a confirmed one. A console of their own: a report near
an incident another test confirmed would join it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from outages import db
from outages.models import AuditEntry
from tests.console.conftest import Console, sign_in
from tests.console.map_city import city_console, report

pytestmark = pytest.mark.real_clock


@pytest.fixture(scope="module")
def console(console_db: str) -> Iterator[Console]:
    yield from city_console(console_db)


def test_a_reported_incident_is_dismissed_as_shown_and_leaves_the_board(
        console: Console, signed_client: Any) -> None:
    fault = report(console, "G0014")
    dispatcher, token = signed_client("dispatcher")
    shown = next(i for i in dispatcher.get("/console/map/incidents.json").json()["incidents"]
                 if i["id"] == fault)
    body = {"reason": "the customer's own breaker had tripped"}
    stale = dispatcher.post(f"/console/incidents/{fault}/dismiss",
                            json={**body, "revision": shown["revision"] + 1},
                            headers={"X-CSRF-Token": token})
    assert stale.status_code == 409 and stale.json()["field"] == "revision", stale.text
    done = dispatcher.post(f"/console/incidents/{fault}/dismiss",
                           json={**body, "revision": shown["revision"]},
                           headers={"X-CSRF-Token": token})
    assert done.status_code == 200 and done.json()["status"] == "dismissed", done.text
    board = dispatcher.get("/console/map/incidents.json").json()["incidents"]
    assert fault not in {i["id"] for i in board}
    engine = db.make_engine(console.db_url)
    with engine.connect() as conn:
        actors = conn.execute(select(AuditEntry.actor, AuditEntry.source).where(
            AuditEntry.action == "fault.dismissed", AuditEntry.entity_id == str(fault))).all()
    engine.dispose()
    assert actors == [("dispatcher", "console")]


def test_a_confirmed_incident_is_not_dismissed_and_the_console_says_restore(
        console: Console, signed_client: Any) -> None:
    fault = report(console, "G1400")
    with console.api("dispatcher") as api:
        assert api.post(f"/faults/{fault}/confirm", json={"feeders": ["F2"]}).status_code == 200
    dispatcher, token = signed_client("dispatcher")
    refused = dispatcher.post(f"/console/incidents/{fault}/dismiss",
                              json={"reason": "nothing found"},
                              headers={"X-CSRF-Token": token})
    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"].endswith(
        "record its restoration instead. Use Restore the rest on the incident")


def test_the_page_dismisses_a_reported_incident(console: Console, page: Any) -> None:
    fault = report(console, "G0407")
    sign_in(page, console, "dispatcher")
    page.get_by_role("link", name="Incidents").click()
    page.locator("#incident-panel[data-polling=true]").wait_for()
    page.get_by_role("button", name=f"Incident #{fault}", exact=True).click()
    page.get_by_label("What the crew found (kept with the incident)").fill("own breaker")
    page.get_by_role("button", name="No fault on the network: close and tell the "
                     "reporters").click()
    expect(page.locator("#incident-message")).to_contain_text("Saved.")
    expect(page.get_by_role("button", name=f"Incident #{fault}", exact=True)).to_have_count(0)
