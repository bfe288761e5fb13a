"""Cuts in the console: created through the API, rescheduled and cancelled in the browser;
refusals beside their field; what a viewer sees and what the server refuses."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.console.conftest import HANOI, sign_in

pytestmark = pytest.mark.real_clock


def _local(days: float, hour: int) -> str:
    moment = (datetime.now(UTC) + timedelta(days=days)).astimezone(HANOI)
    return moment.replace(hour=hour, minute=0).strftime("%Y-%m-%dT%H:%M")


def test_reschedule_then_cancel_a_cut_created_through_the_api(console, page) -> None:
    cut_id = console.create_cut(days=10)
    sign_in(page, console, "dispatcher")
    page.get_by_role("link", name=f"Cut #{cut_id}", exact=True).click()
    expect(page.get_by_role("heading", name=f"Cut #{cut_id}")).to_be_visible()
    expect(page.locator("#cut-map[data-loaded=true]")).to_have_count(1)  # area drawn

    form = page.get_by_role("form", name="Reschedule")
    form.get_by_label("New start").fill(_local(1, 8))  # inside the notice period
    form.get_by_label("New end").fill(_local(1, 12))
    form.get_by_role("button", name="Reschedule the cut").click()
    refusal = page.locator("#reschedule-start-error")
    expect(refusal).to_contain_text("notice")  # beside the field it concerns
    expect(refusal).to_contain_text("tick Urgent")  # the way out, in console words
    expect(page.get_by_role("form", name="Reschedule").get_by_label("New start")) \
        .to_have_value(_local(1, 8))  # as typed
    with console.api() as api:
        assert api.get(f"/cuts/{cut_id}").json()["revision"] == 1  # nothing stored

    form = page.get_by_role("form", name="Reschedule")
    form.get_by_label("New start").fill(_local(12, 8))
    form.get_by_label("New end").fill(_local(12, 12))
    form.get_by_label("Note").fill("crew moved")
    form.get_by_role("button", name="Reschedule the cut").click()
    expect(page.get_by_role("status")).to_have_text("Rescheduled; customers will be told.")
    history = page.get_by_role("region", name="Revision history")
    expect(history.get_by_role("cell", name="crew moved")).to_be_visible()

    page.get_by_role("form", name="Cancel the cut").get_by_label("Cancellation reason") \
        .fill("Thời tiết xấu")
    page.get_by_role("button", name="Cancel the cut").click()
    expect(page.get_by_role("status")).to_have_text("Cut cancelled; customers will be told.")
    expect(page.get_by_role("heading", name=re.compile(f"Cut #{cut_id}"))).to_contain_text(
        "Cancelled")
    expect(page.get_by_role("button", name="Reschedule the cut")).to_have_count(0)

    with console.api() as api:
        cut = api.get(f"/cuts/{cut_id}").json()
    with console.api("admin") as api:
        audit = api.get("/audit", params={"actor": "dispatcher"}).json()["entries"]
    assert cut["status"] == "cancelled" and cut["start"].startswith(_local(12, 8)[:13])
    assert cut["cancel_reason"] == "Thời tiết xấu"
    console_changes = [(e["source"], e["entity_id"]) for e in audit if e["source"] == "console"]
    assert console_changes and set(console_changes) == {("console", str(cut_id))}


def test_a_viewer_sees_no_action_and_a_forged_post_is_refused(console, page,
                                                              signed_client) -> None:
    cut_id = console.create_cut(days=11)
    sign_in(page, console, "viewer")
    page.goto(f"{console.url}/cuts/{cut_id}")
    expect(page.get_by_role("heading", name=f"Cut #{cut_id}")).to_be_visible()
    main = page.get_by_role("main")
    expect(main.get_by_role("button")).to_have_text(["+", "−"])  # the map's zoom, no action
    expect(main.locator("form")).to_have_count(0)
    expect(page.get_by_role("link", name="New cut")).to_have_count(0)

    client, csrf = signed_client("viewer")
    forged = client.post(f"/console/cuts/{cut_id}/cancel",
                         data={"reason": "forged", "csrf_token": csrf})
    assert forged.status_code == 403 and "Your role may not do this" in forged.text
    with console.api() as api:
        assert api.get(f"/cuts/{cut_id}").json()["status"] == "scheduled"


def test_a_post_without_the_csrf_token_is_refused(console, signed_client) -> None:
    cut_id = console.create_cut(days=12)
    client, csrf = signed_client("dispatcher")
    for extra in ({}, {"csrf_token": "guessed"}):
        answer = client.post(f"/console/cuts/{cut_id}/cancel", data={"reason": "x", **extra})
        assert answer.status_code == 403 and "CSRF" in answer.text
    assert client.post(f"/console/cuts/{cut_id}/start", headers={"X-CSRF-Token": "no"}) \
        .status_code == 403
    with console.api() as api:
        assert api.get(f"/cuts/{cut_id}").json()["status"] == "scheduled"
    done = client.post(f"/console/cuts/{cut_id}/cancel", headers={"X-CSRF-Token": csrf},
                       data={"reason": "storm"})
    assert done.status_code == 303
