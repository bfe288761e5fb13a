"""Console actions over plain HTTP (as a form posts them): start and restore by feeder, the
customers CSV, the priority call list, the notices page, users for admins."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.console.conftest import HANOI, PASSWORD, Console, sign_in_form, square

pytestmark = pytest.mark.real_clock
BA_DINH = square(105.820, 21.035, 0.005)  # CS0004 only


def test_start_restore_by_feeder_then_everyone_and_a_still_out_alert(console,
                                                                        signed_client) -> None:
    cut_id = console.create_cut(days=13)
    client, csrf = signed_client("dispatcher")
    assert client.post(f"/console/cuts/{cut_id}/start", data={"csrf_token": csrf}) \
        .status_code == 303
    page = client.get(f"/console/cuts/{cut_id}").text
    assert "Restore power" in page and 'value="F471"' in page and 'value="F472"' in page
    past = client.post(f"/console/cuts/{cut_id}/extend",
                       data={"csrf_token": csrf, "end": "2020-01-01T08:00"})
    assert past.status_code == 422 and 'id="extend-end-error"' in past.text
    with console.api() as api:  # two hours past the planned end, whatever the hour now
        planned_end = datetime.fromisoformat(api.get(f"/cuts/{cut_id}").json()["end"])
    new_end = (planned_end + timedelta(hours=2)).astimezone(HANOI).strftime("%Y-%m-%dT%H:%M")
    later = client.post(f"/console/cuts/{cut_id}/extend",
                        data={"csrf_token": csrf, "end": new_end, "note": "cable"})
    assert later.status_code == 303
    with console.api() as api:
        assert api.get(f"/cuts/{cut_id}").json()["etr"].startswith(new_end)
    none = client.post(f"/console/cuts/{cut_id}/restore",
                       data={"csrf_token": csrf, "scope": "feeders"})
    assert none.status_code == 422 and "choose at least one feeder" in none.text
    part = client.post(f"/console/cuts/{cut_id}/restore",
                       data={"csrf_token": csrf, "scope": "feeders", "feeder": "F471"})
    assert part.status_code == 303
    with console.api() as api:
        cut = api.get(f"/cuts/{cut_id}").json()
    assert (cut["status"], cut["restored"], cut["remaining"]) == ("in_progress", 2, 1)
    assert client.post(f"/console/cuts/{cut_id}/restore",
                       data={"csrf_token": csrf, "scope": "all"}).status_code == 303
    with console.api() as api:
        assert api.get(f"/cuts/{cut_id}").json()["status"] == "completed"
    assert '<span class="badge"' not in client.get("/console/cuts").text
    with _fresh(console) as public:  # a customer says the power did not come back
        assert public.post("/still-out", data={"customer": "CS0001", "lang": "en"}) \
            .status_code == 200
    cuts_page = client.get("/console/cuts").text
    assert re.search(r'Alerts <span class="badge"[^>]*>1</span>', cuts_page)
    alerts = client.get("/console/alerts").text
    assert f"Cut #{cut_id}" in alerts and "Open" in alerts
    unknown = client.get(f"/console/cuts/{cut_id}?done=<b>nothing</b>")
    assert unknown.status_code == 200 and "nothing" not in unknown.text
    csv = client.get(f"/console/cuts/{cut_id}/customers.csv")
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.splitlines()
    assert lines[0].startswith("code,district,feeder") and len(lines) == 4
    assert [line.split(",")[0] for line in lines[1:]] == ["CS0001", "CS0002", "CS0003"]


def test_priority_calls_are_recorded_and_audited(console, signed_client) -> None:
    cut_id = console.create_cut(days=14)
    client, csrf = signed_client("dispatcher")
    page = client.get(f"/console/cuts/{cut_id}/calls")
    assert page.status_code == 200 and "CS0002" in page.text and "Trần Thị Bình" in page.text
    assert "CS0001" not in page.text  # only priority customers are listed
    answer = client.post(f"/console/cuts/{cut_id}/calls",
                         data={"csrf_token": csrf, "code": "CS0002", "outcome": "no_answer",
                               "note": "call back 9:00"})
    assert answer.status_code == 303
    page = client.get(answer.headers["location"])
    assert "Call recorded." in page.text and "No answer" in page.text
    wrong = client.post(f"/console/cuts/{cut_id}/calls",
                        data={"csrf_token": csrf, "code": "CS0001", "outcome": "reached"})
    assert wrong.status_code == 404 and "not on outage" in wrong.text
    with console.api("admin") as api:
        entries = api.get("/audit", params={"actor": "dispatcher"}).json()["entries"]
    calls = [e for e in entries if e["action"] == "priority.call"]
    assert [(e["source"], e["after"]["outcome"]) for e in calls] == [("console", "no_answer")]
    viewer, _ = signed_client("viewer")  # a priority list is personal data
    assert viewer.get(f"/console/cuts/{cut_id}/calls").status_code == 403


def test_the_notices_page_and_the_alerts_list_answer_every_role(console, signed_client) -> None:
    for role in ("viewer", "engineer"):
        client, _ = signed_client(role)
        notices = client.get("/console/notices")
        assert notices.status_code == 200 and "Delivery rate today" in notices.text
        assert "Affected contacts" not in notices.text  # personal data: not for this role
        assert client.get("/console/alerts").status_code == 200
    client, _ = signed_client("dispatcher")
    assert "Affected contacts" not in client.get("/console/notices").text  # no failures yet


def test_an_admin_adds_a_user_sets_a_password_and_disables_them(console, signed_client) -> None:
    client, csrf = signed_client("admin")
    short = client.post("/console/users", data={"csrf_token": csrf, "name": "lan.nguyen",
                                                "role": "dispatcher", "password": "short"})
    assert short.status_code == 422 and "10 to 200 characters" in short.text
    assert "lan.nguyen" not in client.get("/console/users").text  # nothing half-written
    added = client.post("/console/users", data={"csrf_token": csrf, "name": "lan.nguyen",
                                                "role": "dispatcher", "password": PASSWORD})
    assert added.status_code == 303
    with _fresh(console) as other:
        assert sign_in_form(other, "lan.nguyen").status_code == 303
    changed = client.post("/console/users/lan.nguyen/password",
                          data={"csrf_token": csrf, "password": "another long one"})
    assert changed.status_code == 303
    with _fresh(console) as other:
        assert sign_in_form(other, "lan.nguyen").status_code == 401
        assert sign_in_form(other, "lan.nguyen", "another long one").status_code == 303
    assert client.post("/console/users/lan.nguyen/disable",
                       data={"csrf_token": csrf}).status_code == 303
    with _fresh(console) as other:
        assert sign_in_form(other, "lan.nguyen", "another long one").status_code == 401
    dispatcher, token = signed_client("dispatcher")
    assert dispatcher.post("/console/users", data={"csrf_token": token, "name": "x",
                                                   "role": "admin"}).status_code == 403


def _fresh(console: Console) -> httpx.Client:
    """A browser with no session."""
    return httpx.Client(base_url=console.base, timeout=30)


def test_the_list_filters_and_the_week_calendar(console, signed_client) -> None:
    first = console.create_cut(days=20)
    second = console.create_cut(days=21, area=BA_DINH)
    client, csrf = signed_client("dispatcher")
    client.post(f"/console/cuts/{second}/cancel", data={"csrf_token": csrf, "reason": "rain"})
    day = _day(20)

    def listed(**params: str) -> set[str]:
        page = client.get("/console/cuts", params=params)
        assert page.status_code == 200
        return set(re.findall(r">Cut #(\d+)<", page.text))

    assert listed(**{"from": day, "to": _day(21)}) == {str(first), str(second)}
    assert listed(**{"from": day, "to": day}) == {str(first)}
    assert listed(**{"from": day, "to": _day(21), "status": "cancelled"}) == {str(second)}
    assert listed(**{"from": day, "to": _day(21), "district": "Ba Dinh"}) == {str(second)}
    refused = client.get("/console/cuts", params={"from": _day(21), "to": day})
    assert refused.status_code == 422 and "before the first day" in refused.text
    week = client.get("/console/cuts/week", params={"start": day}).text
    assert f"Cut #{first}" in week and f"Cut #{second}" in week
    monday = datetime.fromisoformat(day).date()
    monday -= timedelta(days=monday.weekday())
    assert f"Monday {monday.strftime('%d/%m/%Y')}" in week
    later = client.get("/console/cuts/week", params={"start": _day(35)}).text
    assert f"Cut #{first}" not in later


def _day(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).astimezone(HANOI).date().isoformat()


def test_an_action_from_a_page_opened_before_another_change_is_refused(console,
                                                                       signed_client) -> None:
    """Two dispatchers have the cut open; one reschedules it. The other's cancel, sent from
    the page as it was, is refused and shows the cut as it now stands."""
    cut_id = console.create_cut(days=14)
    client, csrf = signed_client("dispatcher")
    page = client.get(f"/console/cuts/{cut_id}").text
    [shown] = set(re.findall(r'name="revision" value="(\d+)"', page))
    with console.api() as api:
        cut = api.get(f"/cuts/{cut_id}").json()
        start = datetime.fromisoformat(cut["start"]) + timedelta(hours=1)
        end = datetime.fromisoformat(cut["end"]) + timedelta(hours=1)
        moved = api.post(f"/cuts/{cut_id}/reschedule", json={
            "start": start.isoformat(), "end": end.isoformat(), "revision": int(shown)})
        assert moved.status_code == 200
    stale = client.post(f"/console/cuts/{cut_id}/cancel",
                        data={"csrf_token": csrf, "reason": "rain", "revision": shown})
    assert stale.status_code == 409
    assert f"changed after the page was opened: it is at revision {int(shown) + 1} " \
           "(rescheduled by" in stale.text
    assert "check the change and act again" in stale.text
    assert re.findall(r'name="revision" value="(\d+)"', stale.text)[0] == str(int(shown) + 1)
    with console.api() as api:
        assert api.get(f"/cuts/{cut_id}").json()["status"] == "scheduled"
        again = api.post(f"/cuts/{cut_id}/cancel", json={"reason": "rain",
                                                          "revision": int(shown)})
        assert again.status_code == 409 and again.json()["field"] == "revision"
        assert "send the change with its new revision" in again.json()["detail"]
    current = client.post(f"/console/cuts/{cut_id}/cancel", data={
        "csrf_token": csrf, "reason": "rain", "revision": str(int(shown) + 1)})
    assert current.status_code == 303
