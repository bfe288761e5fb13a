"""Fault reports and incidents over HTTP."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from outages.models import AuditEntry
from outages.timeutil import utcnow
from tests.api.conftest import add_outage, square


@pytest.fixture
def fault_id(client, headers, people) -> int:
    first = client.post("/faults/reports", headers=headers["dispatcher"],
                        json={"customer": "PD0003", "text": "mat dien ca xom"})
    assert first.status_code == 201, first.text
    second = client.post("/faults/reports", headers=headers["dispatcher"],
                         json={"phone": "0912345004", "source": "web"})
    assert second.json()["outage_id"] == first.json()["outage_id"]
    assert first.json()["new_incident"] and not second.json()["new_incident"]
    return int(first.json()["outage_id"])


def test_report_list_show_same_as_cli(client, headers, fault_id, cli) -> None:
    api = client.get(f"/faults/{fault_id}", headers=headers["dispatcher"])
    assert api.status_code == 200
    assert api.json() == json.loads(cli("faults", "show", str(fault_id), "--json").stdout)
    assert {r["customer"] for r in api.json()["reports"]} == {"PD0003", "PD0004"}
    listed = client.get("/faults", params={"status": "reported"}, headers=headers["viewer"])
    assert [f["id"] for f in listed.json()] == [fault_id]


def test_viewers_see_reports_without_phone_numbers(client, headers, fault_id) -> None:
    shown = client.get(f"/faults/{fault_id}", headers=headers["viewer"])
    assert shown.status_code == 200
    assert "+8491" not in shown.text and shown.json()["reports"][0]["phone"] is None
    full = client.get(f"/faults/{fault_id}", headers=headers["dispatcher"])
    assert "+84912345004" in full.text


def test_report_errors(client, headers, people) -> None:
    nobody = client.post("/faults/reports", json={"customer": "XX9"},
                         headers=headers["dispatcher"])
    assert nobody.status_code == 404 and "XX9" in nobody.json()["detail"]
    shared = client.post("/faults/reports", json={"phone": "+84912345001"},
                         headers=headers["dispatcher"])
    assert shared.status_code == 422 and "PD0001, PD0005" in shared.json()["detail"]
    half = client.post("/faults/reports", json={"lon": 105.8}, headers=headers["dispatcher"])
    assert half.status_code == 422 and half.json()["field"] == "lon"
    swapped = client.post("/faults/reports", json={"lon": 21.03, "lat": 105.85},
                          headers=headers["dispatcher"])
    assert swapped.status_code == 422
    none = client.post("/faults/reports", json={}, headers=headers["dispatcher"])
    assert none.status_code == 422


def test_auto_confirm_proposes_then_saves(client, headers, fault_id, engine) -> None:
    proposal = client.post(f"/faults/{fault_id}/confirm", json={"auto": True},
                           headers=headers["dispatcher"])
    assert proposal.status_code == 200, proposal.text
    body = proposal.json()
    assert body["proposed"] is True and body["customers"] >= 2
    assert body["area"]["type"] in ("Polygon", "MultiPolygon")
    still = client.get(f"/faults/{fault_id}", headers=headers["viewer"]).json()
    assert still["status"] == "reported"
    saved = client.post(f"/faults/{fault_id}/confirm", json={"auto": True, "confirm": True,
                                                             "cause": "weather"},
                        headers=headers["dispatcher"])
    assert saved.status_code == 200, saved.text
    assert saved.json()["status"] == "confirmed" and saved.json()["affected"] >= 2
    with engine.connect() as conn:
        actors = conn.execute(select(AuditEntry.actor, AuditEntry.source).where(
            AuditEntry.action.like("fault.%"))).all()
    assert set(actors) == {("dispatcher", "http")}


def test_confirm_by_area_etr_and_restore(client, headers, fault_id, app_settings, cli) -> None:
    both = client.post(f"/faults/{fault_id}/confirm", headers=headers["dispatcher"],
                       json={"auto": True, "area": square(105.82, 21.035)})
    assert both.status_code == 422 and both.json()["field"] == "auto"
    bad_cause = client.post(f"/faults/{fault_id}/confirm", headers=headers["dispatcher"],
                            json={"area": square(105.82, 21.035), "cause": "aliens"})
    # The domain names the CLI option (--cause); the API answers with the body's field.
    assert bad_cause.status_code == 422 and bad_cause.json()["field"] == "cause"
    unknown_feeder = client.post(f"/faults/{fault_id}/confirm", headers=headers["dispatcher"],
                                 json={"feeders": ["NO-SUCH-FEEDER"]})
    assert unknown_feeder.status_code == 422 and unknown_feeder.json()["field"] == "feeders"
    future = (utcnow() + timedelta(hours=2)).astimezone(app_settings.tz)
    too_late = client.post(f"/faults/{fault_id}/confirm", headers=headers["dispatcher"],
                           json={"area": square(105.82, 21.035),
                                 "started_at": future.strftime("%Y-%m-%d %H:%M")})
    assert too_late.status_code == 422 and too_late.json()["field"] == "started_at"
    confirmed = client.post(f"/faults/{fault_id}/confirm", headers=headers["dispatcher"],
                            json={"area": square(105.8205, 21.0355, 0.002)})
    assert confirmed.status_code == 200 and confirmed.json()["affected"] == 2, confirmed.text
    etr = (utcnow() + timedelta(hours=3)).astimezone(app_settings.tz)
    moved = client.post(f"/faults/{fault_id}/etr", headers=headers["dispatcher"],
                        json={"at": etr.strftime("%Y-%m-%d %H:%M"), "note": "crew on site"})
    assert moved.status_code == 200 and moved.json()["etr"].startswith(
        etr.strftime("%Y-%m-%dT%H:%M")), moved.text
    bad = client.post(f"/faults/{fault_id}/etr", headers=headers["dispatcher"],
                      json={"at": "soon"})
    assert bad.status_code == 422 and bad.json()["field"] == "at"
    done = client.post(f"/faults/{fault_id}/restore", json={}, headers=headers["dispatcher"])
    assert done.status_code == 200 and done.json()["status"] == "restored", done.text
    assert json.loads(cli("faults", "show", str(fault_id), "--json").stdout)["status"] == \
        "restored"
    again = client.post(f"/faults/{fault_id}/etr", headers=headers["dispatcher"],
                        json={"at": etr.strftime("%Y-%m-%d %H:%M")})
    assert again.status_code == 409


def test_unknown_fault(client, headers, people) -> None:
    assert client.get("/faults/424242", headers=headers["viewer"]).status_code == 404
    assert client.post("/faults/424242/restore", json={},
                       headers=headers["dispatcher"]).status_code == 404


def test_a_cut_is_not_a_fault(client, headers, people, engine) -> None:
    cut = add_outage(engine, customers=[people["PD0001"]])
    assert client.get(f"/faults/{cut}", headers=headers["viewer"]).status_code == 404


@pytest.mark.parametrize("role", ["engineer", "viewer"])
def test_only_dispatchers_change_faults(client, headers, role, fault_id) -> None:
    assert client.post("/faults/reports", json={"customer": "PD0002"},
                       headers=headers[role]).status_code == 403
    for action, body in (("confirm", {"auto": True}), ("etr", {"at": "2030-01-01 10:00"}),
                         ("restore", {})):
        assert client.post(f"/faults/{fault_id}/{action}", json=body,
                           headers=headers[role]).status_code == 403
    assert client.post(f"/faults/{fault_id}/restore", json={}).status_code == 401


def test_incident_area_is_redrawn_and_lists_reports_outside(client, headers, fault_id,
                                                            cli) -> None:
    early = client.post(f"/faults/{fault_id}/resize", headers=headers["dispatcher"],
                        json={"area": square(105.820, 21.035, 0.0003)})
    assert early.status_code == 409 and "only a confirmed incident" in early.json()["detail"]
    confirmed = client.post(f"/faults/{fault_id}/confirm", headers=headers["dispatcher"],
                            json={"area": square(105.820, 21.035, 0.0003)})
    assert confirmed.json()["affected"] == 1, confirmed.text
    assert [r["customer"] for r in confirmed.json()["reporters_outside"]] == ["PD0004"]
    text = cli("faults", "show", str(fault_id))
    assert "from PD0004 is outside the affected set" in text.stderr
    empty = client.post(f"/faults/{fault_id}/resize", headers=headers["dispatcher"],
                        json={"area": square(105.9, 21.1, 0.0003)})
    assert empty.status_code == 422 and empty.json()["field"] == "area"
    wider = client.post(f"/faults/{fault_id}/resize", headers=headers["dispatcher"],
                        json={"area": square(105.8205, 21.0355, 0.002), "note": "both"})
    assert wider.status_code == 200, wider.text
    assert (wider.json()["change"], wider.json()["affected"]) == (
        {"added": 1, "dropped": 0}, 2)
    assert wider.json()["reporters_outside"] == []
    shown = json.loads(cli("faults", "show", str(fault_id), "--json").stdout)
    assert shown["revision"] == wider.json()["revision"] and shown["reporters_outside"] == []


def test_the_proposed_area_counts_the_customers_confirming_it_takes_out(
        client, headers, people, add_customers) -> None:
    from datetime import date

    add_customers([{"code": "PD0099", "lon": 105.8521, "lat": 21.0281, "district": "Hoan Kiem",
                    "connected_on": date(2010, 1, 1), "disconnected_on": date(2024, 1, 1)}])
    reported = client.post("/faults/reports", json={"customer": "PD0001"},
                           headers=headers["dispatcher"])
    fault = reported.json()["outage_id"]
    proposal = client.post(f"/faults/{fault}/confirm", json={"auto": True},
                           headers=headers["dispatcher"]).json()
    saved = client.post(f"/faults/{fault}/confirm", json={"auto": True, "confirm": True},
                        headers=headers["dispatcher"]).json()
    assert proposal["customers"] == saved["affected"] > 0  # the disconnected one in neither
    again = client.post(f"/faults/{fault}/confirm", json={"auto": True},
                        headers=headers["dispatcher"])
    assert again.status_code == 409  # confirmed already: nothing to propose
    unknown = client.post("/faults/4242/confirm", json={"auto": True},
                          headers=headers["dispatcher"])
    assert (unknown.status_code, unknown.json()["field"]) == (404, "id")


def test_still_out_by_a_code_in_small_letters_files_a_report_outside_the_window(
        client, headers, people, engine) -> None:
    add_outage(engine, customers=[people["PD0003"]], kind="fault", status="restored",
               start=utcnow() - timedelta(days=3), restored=[people["PD0003"]])
    answer = client.post("/faults/still-out", json={"customer": "pd0003"},
                         headers=headers["dispatcher"])
    assert answer.status_code == 200, answer.text
    assert answer.json()["reopened"] is False and answer.json()["report_id"]


def test_the_automatic_area_sent_back_as_drawn_is_still_not_published(
        client, headers, people) -> None:
    reported = client.post("/faults/reports", json={"customer": "PD0001"},
                           headers=headers["dispatcher"])
    fault = reported.json()["outage_id"]
    proposal = client.post(f"/faults/{fault}/confirm", json={"auto": True},
                           headers=headers["dispatcher"]).json()
    saved = client.post(f"/faults/{fault}/confirm", json={"area": proposal["area"]},
                        headers=headers["dispatcher"])
    assert saved.status_code == 200, saved.text
    [public] = [o for o in client.get("/public/outages").json()["outages"]
                if o["kind"] == "fault"]
    assert public["area"] is None  # a circle around one caller's home


def test_changes_based_on_an_old_revision_are_refused(client, headers, fault_id) -> None:
    """Each incident change takes the revision the client read; another dispatcher's change
    in between is a 409 on `revision`, and nothing is changed."""
    area = {"area": square(105.820, 21.035, 0.0003)}
    first = client.get(f"/faults/{fault_id}", headers=headers["dispatcher"]).json()["revision"]
    stale = client.post(f"/faults/{fault_id}/confirm", headers=headers["dispatcher"],
                        json={**area, "revision": first + 1})
    assert stale.status_code == 409 and stale.json()["field"] == "revision", stale.text
    confirmed = client.post(f"/faults/{fault_id}/confirm", headers=headers["dispatcher"],
                            json={**area, "revision": first})
    assert confirmed.status_code == 200, confirmed.text
    etr = (utcnow() + timedelta(hours=2)).isoformat()
    for path, body in (("etr", {"at": etr}), ("resize", area)):
        refused = client.post(f"/faults/{fault_id}/{path}", headers=headers["dispatcher"],
                              json={**body, "revision": first})
        assert refused.status_code == 409 and refused.json()["field"] == "revision", path
    shown = client.get(f"/faults/{fault_id}", headers=headers["dispatcher"]).json()
    assert shown["revision"] == confirmed.json()["revision"] and shown["etr"] is None
    moved = client.post(f"/faults/{fault_id}/etr", headers=headers["dispatcher"],
                        json={"at": etr, "revision": shown["revision"]})
    assert moved.status_code == 200, moved.text


def test_a_reported_incident_is_dismissed_and_leaves_the_public_map(
        client, headers, fault_id, engine) -> None:
    """No fault on the network: the incident closes with what the crew found, as the
    revision read allows, and is no longer on the public map."""
    assert [o for o in client.get("/public/outages").json()["outages"]
            if o["kind"] == "fault"]
    shown = client.get(f"/faults/{fault_id}", headers=headers["dispatcher"]).json()
    reason = {"reason": "a tripped breaker in the customer's own building"}
    stale = client.post(f"/faults/{fault_id}/dismiss", headers=headers["dispatcher"],
                        json={**reason, "revision": shown["revision"] + 1})
    assert stale.status_code == 409 and stale.json()["field"] == "revision", stale.text
    blank = client.post(f"/faults/{fault_id}/dismiss", headers=headers["dispatcher"],
                        json={"reason": "  ", "revision": shown["revision"]})
    assert blank.status_code == 422 and blank.json()["field"] == "reason"
    assert "say why the incident is dismissed" in blank.json()["detail"]
    done = client.post(f"/faults/{fault_id}/dismiss", headers=headers["dispatcher"],
                       json={**reason, "revision": shown["revision"]})
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["dismiss_reason"]) == (
        "dismissed", reason["reason"])
    assert [o for o in client.get("/public/outages").json()["outages"]
            if o["kind"] == "fault"] == []
    listed = client.get("/faults", params={"status": "dismissed"}, headers=headers["viewer"])
    assert [f["id"] for f in listed.json()] == [fault_id]
    again = client.post(f"/faults/{fault_id}/dismiss", headers=headers["dispatcher"],
                        json=reason)
    assert again.status_code == 409 and "only a reported incident" in again.json()["detail"]
    with engine.connect() as conn:
        actors = conn.execute(select(AuditEntry.actor, AuditEntry.source).where(
            AuditEntry.action == "fault.dismissed")).all()
    assert actors == [("dispatcher", "http")]


def test_a_confirmed_incident_is_not_dismissed_but_restored(client, headers, fault_id) -> None:
    confirmed = client.post(f"/faults/{fault_id}/confirm", headers=headers["dispatcher"],
                            json={"area": square(105.8205, 21.0355, 0.002)})
    assert confirmed.status_code == 200, confirmed.text
    refused = client.post(f"/faults/{fault_id}/dismiss", headers=headers["dispatcher"],
                          json={"reason": "nothing found"})
    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"].endswith(
        "record its restoration instead with POST /faults/{id}/restore")
    shown = client.get(f"/faults/{fault_id}", headers=headers["dispatcher"]).json()
    assert shown["status"] == "confirmed" and shown["revision"] == confirmed.json()["revision"]


@pytest.mark.parametrize("role", ["engineer", "viewer"])
def test_only_dispatchers_dismiss_faults(client, headers, role, fault_id) -> None:
    body = {"reason": "nothing found"}
    assert client.post(f"/faults/{fault_id}/dismiss", json=body,
                       headers=headers[role]).status_code == 403
    assert client.post(f"/faults/{fault_id}/dismiss", json=body).status_code == 401


def test_dismiss_declares_its_refusals(client) -> None:
    declared = client.get("/openapi.json").json()["paths"]["/faults/{id}/dismiss"]["post"]
    assert {"401", "403", "404", "409", "422"} <= set(declared["responses"])
    assert "dismiss_reason" in client.get("/openapi.json").json()["components"]["schemas"][
        "OutageView"]["properties"]


def _duplicate(client, headers) -> int:
    """A second incident about the same fault, opened by a call from 3 km away."""
    far = client.post("/faults/reports", headers=headers["dispatcher"],
                      json={"customer": "PD0001"})
    assert far.status_code == 201 and far.json()["new_incident"], far.text
    return int(far.json()["outage_id"])


def test_a_duplicate_is_merged_into_the_incident_that_stands(
        client, headers, fault_id, engine) -> None:
    duplicate = _duplicate(client, headers)
    shown = client.get(f"/faults/{duplicate}", headers=headers["dispatcher"]).json()
    stale = client.post(f"/faults/{duplicate}/merge", headers=headers["dispatcher"],
                        json={"into": fault_id, "revision": shown["revision"] + 1})
    assert stale.status_code == 409 and stale.json()["field"] == "revision", stale.text
    done = client.post(f"/faults/{duplicate}/merge", headers=headers["dispatcher"],
                       json={"into": fault_id, "revision": shown["revision"]})
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["merged_into"]) == ("merged", fault_id)
    target = client.get(f"/faults/{fault_id}", headers=headers["dispatcher"]).json()
    assert {r["customer"] for r in target["reports"]} == {"PD0001", "PD0003", "PD0004"}
    assert client.get(f"/faults/{duplicate}", headers=headers["viewer"]).json()[
        "merged_into"] == fault_id
    again = client.post(f"/faults/{duplicate}/merge", headers=headers["dispatcher"],
                        json={"into": fault_id})
    assert again.status_code == 409 and "only a reported incident" in again.json()["detail"]
    with engine.connect() as conn:
        actors = conn.execute(select(AuditEntry.actor, AuditEntry.source).where(
            AuditEntry.action == "fault.merged")).all()
    assert actors == [("dispatcher", "http")]


def test_merges_that_cannot_be_are_refused_with_the_way_out(
        client, headers, fault_id, engine, people) -> None:
    duplicate = _duplicate(client, headers)
    post = client.post
    itself = post(f"/faults/{duplicate}/merge", headers=headers["dispatcher"],
                  json={"into": duplicate})
    assert itself.status_code == 422 and itself.json()["field"] == "into", itself.text
    missing = post(f"/faults/{duplicate}/merge", headers=headers["dispatcher"],
                   json={"into": duplicate + 100})
    assert missing.status_code == 404 and missing.json()["field"] == "into"
    cut = add_outage(engine, customers=[people["PD0002"]])
    planned = post(f"/faults/{duplicate}/merge", headers=headers["dispatcher"],
                   json={"into": cut})
    assert planned.status_code == 422, planned.text
    assert planned.json()["detail"].endswith("with POST /faults/{id}/dismiss")
    confirmed = post(f"/faults/{fault_id}/confirm", headers=headers["dispatcher"],
                     json={"area": square(105.8205, 21.0355, 0.002)})
    assert confirmed.status_code == 200, confirmed.text
    refused = post(f"/faults/{fault_id}/merge", headers=headers["dispatcher"],
                   json={"into": duplicate})
    assert refused.status_code == 409
    assert f"merge incident {duplicate} into it instead" in refused.json()["detail"]
    restored = post(f"/faults/{fault_id}/restore", headers=headers["dispatcher"], json={})
    assert restored.status_code == 200, restored.text
    closed = post(f"/faults/{duplicate}/merge", headers=headers["dispatcher"],
                  json={"into": fault_id})
    assert closed.status_code == 409 and closed.json()["field"] == "into"
    assert "reports cannot join a closed incident" in closed.json()["detail"]
    assert post(f"/faults/{duplicate}/merge", headers=headers["dispatcher"],
                json={}).status_code == 422  # `into` is required


@pytest.mark.parametrize("role", ["engineer", "viewer"])
def test_only_dispatchers_merge_faults(client, headers, role, fault_id) -> None:
    body = {"into": fault_id}
    assert client.post(f"/faults/{fault_id}/merge", json=body,
                       headers=headers[role]).status_code == 403
    assert client.post(f"/faults/{fault_id}/merge", json=body).status_code == 401


def test_merge_declares_its_refusals(client) -> None:
    schema = client.get("/openapi.json").json()
    declared = schema["paths"]["/faults/{id}/merge"]["post"]
    assert {"401", "403", "404", "409", "422"} <= set(declared["responses"])
    assert "merged_into" in schema["components"]["schemas"]["OutageView"]["properties"]
