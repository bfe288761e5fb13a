"""Merging a duplicate incident into the one that stands from the Incidents page: the
duplicate's revision shown, the audit entry, the board, the reports moved, and the refusals.
A console of their own: a report near an incident another test opened would join it."""

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


def _board(dispatcher: Any) -> dict[int, Any]:
    return {i["id"]: i for i in dispatcher.get("/console/map/incidents.json").json()["incidents"]}


def test_a_duplicate_is_merged_as_shown_and_leaves_the_board(
        console: Console, signed_client: Any) -> None:
    target, duplicate = report(console, "G0002"), report(console, "G0006")  # ~900 m apart
    assert target != duplicate
    dispatcher, token = signed_client("dispatcher")
    shown = _board(dispatcher)[duplicate]
    csrf = {"X-CSRF-Token": token}
    unchosen = dispatcher.post(f"/console/incidents/{duplicate}/merge",
                               json={"revision": shown["revision"]}, headers=csrf)
    assert unchosen.status_code == 422 and unchosen.json()["field"] == "into", unchosen.text
    stale = dispatcher.post(f"/console/incidents/{duplicate}/merge",
                            json={"into": target, "revision": shown["revision"] + 1},
                            headers=csrf)
    assert stale.status_code == 409 and stale.json()["field"] == "revision", stale.text
    done = dispatcher.post(f"/console/incidents/{duplicate}/merge",
                           json={"into": target, "revision": shown["revision"]}, headers=csrf)
    assert done.status_code == 200 and done.json()["status"] == "merged", done.text
    board = _board(dispatcher)
    assert duplicate not in board and len(board[target]["reports"]) == 2
    engine = db.make_engine(console.db_url)
    with engine.connect() as conn:
        actors = conn.execute(select(AuditEntry.actor, AuditEntry.source).where(
            AuditEntry.action == "fault.merged", AuditEntry.entity_id == str(duplicate))).all()
    engine.dispose()
    assert actors == [("dispatcher", "console")]


def test_a_confirmed_incident_is_not_merged_away(
        console: Console, signed_client: Any) -> None:
    confirmed, other = report(console, "G1002"), report(console, "G1006")
    with console.api("dispatcher") as api:
        assert api.post(f"/faults/{confirmed}/confirm",
                        json={"feeders": ["F1"]}).status_code == 200
    dispatcher, token = signed_client("dispatcher")
    refused = dispatcher.post(f"/console/incidents/{confirmed}/merge", json={"into": other},
                              headers={"X-CSRF-Token": token})
    assert refused.status_code == 409, refused.text
    assert f"merge incident {other} into it instead" in refused.json()["detail"]


def test_the_page_merges_a_duplicate_into_the_chosen_incident(
        console: Console, page: Any) -> None:
    target, duplicate = report(console, "G2002"), report(console, "G2006")
    sign_in(page, console, "dispatcher")
    page.get_by_role("link", name="Incidents").click()
    page.locator("#incident-panel[data-polling=true]").wait_for()
    page.get_by_role("button", name=f"Incident #{duplicate}", exact=True).click()
    page.get_by_label("Same fault as incident (its reports move there)").select_option(
        str(target))
    page.get_by_role("button", name="Merge into the chosen incident and close this "
                     "one").click()
    expect(page.locator("#incident-message")).to_contain_text("Saved.")
    expect(page.get_by_role("button", name=f"Incident #{duplicate}", exact=True)
           ).to_have_count(0)
    target_item = page.locator("#incident-list > li").filter(
        has=page.get_by_role("button", name=f"Incident #{target}", exact=True))
    expect(target_item.locator("ul > li")).to_have_count(2)  # both reports, on the target
