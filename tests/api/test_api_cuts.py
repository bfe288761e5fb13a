"""Planned cuts over HTTP: the same domain functions, rules, JSON and audit as the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from notifier.store import outbox
from outages.models import AuditEntry
from outages.timeutil import utcnow
from tests.api.conftest import square

HOAN_KIEM = square(105.8525, 21.0285, 0.002)  # PD0001 and PD0002


def _local(days: float, hour: int, tz) -> str:
    """Local wall-clock text (no offset) `days` ahead at `hour`:00."""
    when = (utcnow() + timedelta(days=days)).astimezone(tz)
    return when.replace(hour=hour, minute=0, second=0, microsecond=0).strftime("%Y-%m-%d %H:%M")


@pytest.fixture
def new_cut(app_settings) -> dict:
    return {"area": HOAN_KIEM, "start": _local(8, 8, app_settings.tz),
            "end": _local(8, 12, app_settings.tz), "reason": "Bao duong tram bien ap"}


@pytest.fixture
def cut_id(client, headers, people, new_cut) -> int:
    response = client.post("/cuts", json=new_cut, headers=headers["dispatcher"])
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_create_through_api_reads_the_same_through_cli(client, headers, cli, cut_id,
                                                        app_settings) -> None:
    shown = json.loads(cli("cuts", "show", str(cut_id), "--json").stdout)
    api = client.get(f"/cuts/{cut_id}", headers=headers["viewer"])
    assert api.status_code == 200
    assert api.json() == shown
    assert shown["affected"] == 2 and shown["by_district"] == {"Hoan Kiem": 2}
    assert shown["status"] == "scheduled" and shown["reason"] == "Bao duong tram bien ap"
    listed = client.get("/cuts", params={"status": "scheduled"}, headers=headers["viewer"])
    assert [c["id"] for c in listed.json()] == [cut_id]
    assert listed.json() == json.loads(cli("cuts", "list", "--json").stdout)


def test_naive_times_are_local(client, headers, cut_id, app_settings, new_cut) -> None:
    body = client.get(f"/cuts/{cut_id}", headers=headers["viewer"]).json()
    assert body["planned_start"].startswith(new_cut["start"].replace(" ", "T"))
    assert body["planned_start"].endswith("+07:00")


def test_cut_changes_are_audited_with_the_user(client, headers, engine, cut_id, app_settings,
                                               cli) -> None:
    moved = client.post(f"/cuts/{cut_id}/reschedule", headers=headers["dispatcher"],
                        json={"start": _local(9, 8, app_settings.tz),
                              "end": _local(9, 11, app_settings.tz), "note": "crew"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["revision"] == 2
    resized = client.post(f"/cuts/{cut_id}/resize", headers=headers["admin"],
                          json={"area": square(105.852, 21.028, 0.0003)})
    assert resized.status_code == 200, resized.text
    cancelled = client.post(f"/cuts/{cut_id}/cancel", headers=headers["dispatcher"],
                            json={"reason": "Thoi tiet xau"})
    assert cancelled.json()["status"] == "cancelled"
    with engine.connect() as conn:
        rows = conn.execute(select(AuditEntry.action, AuditEntry.actor, AuditEntry.source)
                            .where(AuditEntry.entity == "outage")
                            .order_by(AuditEntry.id)).all()
    assert [(r.actor, r.source) for r in rows] == [("dispatcher", "http"), ("dispatcher", "http"),
                                                   ("admin", "http"), ("dispatcher", "http")]
    history = client.get(f"/cuts/{cut_id}", params={"history": True},
                         headers=headers["viewer"]).json()["history"]
    assert [h["revision"] for h in history] == [1, 2, 3, 4]
    assert history == json.loads(cli("cuts", "show", str(cut_id), "--history",
                                     "--json").stdout)["history"]


def test_start_and_step_restore(client, headers, people, make_client, app_settings,
                                cli) -> None:
    relaxed = make_client(OUTAGES_PLANNED_MIN_NOTICE="0s")
    start = (utcnow() + timedelta(minutes=30)).astimezone(app_settings.tz)
    created = relaxed.post("/cuts", headers=headers["dispatcher"], json={
        "area": HOAN_KIEM, "start": start.isoformat(timespec="minutes"),
        "end": (start + timedelta(hours=2)).isoformat(timespec="minutes"), "reason": "Sua chua"})
    assert created.status_code == 201, created.text
    cut = created.json()["id"]
    started = relaxed.post(f"/cuts/{cut}/start", json={}, headers=headers["dispatcher"])
    assert started.json()["status"] == "in_progress", started.text
    both = relaxed.post(f"/cuts/{cut}/restore", headers=headers["dispatcher"],
                        json={"area": HOAN_KIEM, "customers": ["PD0001"]})
    assert both.status_code == 422 and both.json()["field"] == "area"
    unknown = relaxed.post(f"/cuts/{cut}/restore", headers=headers["dispatcher"],
                           json={"customers": ["NOPE1"]})
    assert unknown.status_code in (404, 422) and "NOPE1" in unknown.json()["detail"]
    part = relaxed.post(f"/cuts/{cut}/restore", headers=headers["dispatcher"],
                        json={"customers": ["PD0001"]})
    assert part.status_code == 200 and part.json()["status"] == "in_progress", part.text
    rest = relaxed.post(f"/cuts/{cut}/restore", json={}, headers=headers["dispatcher"])
    assert rest.json()["status"] == "completed"
    again = relaxed.post(f"/cuts/{cut}/restore", json={}, headers=headers["dispatcher"])
    assert again.status_code == 409
    people_page = relaxed.get(f"/cuts/{cut}", headers=headers["viewer"],
                              params={"customers": True, "limit": 1, "offset": 1}).json()
    assert [c["code"] for c in people_page["customers"]] == ["PD0002"]
    assert people_page["customers_page"]["total"] == 2
    cli_view = json.loads(cli("cuts", "show", str(cut), "--json").stdout)
    assert cli_view["status"] == "completed"


def test_rule_errors_match_the_cli(client, headers, people, new_cut, app_settings,
                                   cli, tmp_path, time_machine) -> None:
    # The refusal names the notice left from now: both front ends must read the same clock.
    time_machine.move_to(datetime.now(UTC), tick=False)
    soon = {**new_cut, "start": _local(1, 8, app_settings.tz), "end": _local(1, 9,
                                                                          app_settings.tz)}
    api = client.post("/cuts", json=soon, headers=headers["dispatcher"])
    assert api.status_code == 422
    area = tmp_path / "a.geojson"
    area.write_text(json.dumps(HOAN_KIEM))
    refused = cli("cuts", "create", "--area", str(area), "--start", soon["start"], "--end",
                  soon["end"], "--reason", soon["reason"])
    assert refused.exit_code == 2
    # The same rule in the domain's words; each front end adds its own way round it.
    rule, hint, api_way = api.json()["detail"].partition(". For an emergency")
    assert hint and rule in refused.stderr and "planned.min_notice" in rule
    assert api_way == ' send "urgent": true with an "urgent_reason"'
    assert refused.stderr.rstrip().endswith(". For an emergency pass --urgent --urgent-reason TEXT")
    bad_time = client.post("/cuts", json={**new_cut, "start": "tomorrow"},
                           headers=headers["dispatcher"])
    assert bad_time.status_code == 422 and bad_time.json()["field"] == "start"
    outside = client.post("/cuts", json={**new_cut, "area": square(2.35, 48.85)},
                          headers=headers["dispatcher"])
    assert outside.status_code == 422 and outside.json()["field"] == "area"
    typo = client.post("/cuts", json={**new_cut, "urgnet": True}, headers=headers["dispatcher"])
    assert typo.status_code == 422 and "urgnet" in typo.json()["field"]


def test_unknown_and_conflicting(client, headers, cut_id) -> None:
    assert client.get("/cuts/999999", headers=headers["viewer"]).status_code == 404
    missing = client.post("/cuts/999999/cancel", json={"reason": "x"},
                          headers=headers["dispatcher"])
    assert missing.status_code == 404
    client.post(f"/cuts/{cut_id}/cancel", json={"reason": "x"}, headers=headers["dispatcher"])
    twice = client.post(f"/cuts/{cut_id}/cancel", json={"reason": "y"},
                        headers=headers["dispatcher"])
    assert twice.status_code == 409


def test_vertex_limit(make_client, headers, people, new_cut) -> None:
    small = make_client(OUTAGES_HTTP_MAX_AREA_VERTICES="4")
    refused = small.post("/cuts", json=new_cut, headers=headers["dispatcher"])
    assert refused.status_code == 422 and "4" in refused.json()["detail"]


@pytest.mark.parametrize("role", ["viewer", "engineer"])
def test_readers_cannot_change_cuts(client, headers, role, new_cut, cut_id) -> None:
    assert client.post("/cuts", json=new_cut, headers=headers[role]).status_code == 403
    for action, body in (("cancel", {"reason": "x"}), ("start", {}), ("restore", {})):
        response = client.post(f"/cuts/{cut_id}/{action}", json=body, headers=headers[role])
        assert response.status_code == 403, action


def test_unauthenticated(client, new_cut) -> None:
    assert client.post("/cuts", json=new_cut).status_code == 401
    assert client.get("/cuts").status_code == 401
    assert client.get("/cuts/1").status_code == 401


def test_customers_of_a_cut_hide_nothing_personal_from_viewers(client, headers, cut_id) -> None:
    page = client.get(f"/cuts/{cut_id}", params={"customers": True},
                      headers=headers["viewer"])
    assert page.status_code == 200
    assert "+8491" not in page.text and "Nguyễn" not in page.text


def test_a_started_cut_takes_a_new_expected_end_through_api_and_cli(
        headers, people, make_client, app_settings, cli, engine) -> None:
    relaxed = make_client(OUTAGES_PLANNED_MIN_NOTICE="0s")
    start = (utcnow() + timedelta(minutes=30)).astimezone(app_settings.tz)
    created = relaxed.post("/cuts", headers=headers["dispatcher"], json={
        "area": HOAN_KIEM, "start": start.isoformat(timespec="minutes"),
        "end": (start + timedelta(hours=2)).isoformat(timespec="minutes"), "reason": "Sua chua"})
    cut = created.json()["id"]
    later = (start + timedelta(hours=4)).isoformat(timespec="minutes")
    scheduled = relaxed.post(f"/cuts/{cut}/extend", json={"end": later},
                             headers=headers["dispatcher"])
    assert scheduled.status_code == 409 and "only a started cut" in scheduled.json()["detail"]
    relaxed.post(f"/cuts/{cut}/start", json={}, headers=headers["dispatcher"])
    after = (start + timedelta(hours=5)).isoformat(timespec="minutes")
    rescheduled = relaxed.post(f"/cuts/{cut}/reschedule", headers=headers["dispatcher"],
                               json={"start": later, "end": after})
    assert rescheduled.status_code == 409 and "/extend" in rescheduled.json()["detail"]
    refused = cli("cuts", "reschedule", str(cut), "--start", later, "--end", after)
    assert refused.exit_code != 0 and "outages cuts extend ID" in refused.stderr
    past = relaxed.post(f"/cuts/{cut}/extend", headers=headers["dispatcher"],
                        json={"end": (start - timedelta(hours=1)).isoformat(timespec="minutes")})
    assert past.status_code == 422 and past.json()["field"] == "end"
    far = (start + timedelta(days=400)).isoformat(timespec="minutes")
    too_far = relaxed.post(f"/cuts/{cut}/extend", headers=headers["dispatcher"],
                           json={"end": far})
    assert too_far.status_code == 422 and "planned.max_ahead" in too_far.json()["detail"]
    extended = relaxed.post(f"/cuts/{cut}/extend", json={"end": later, "note": "cable"},
                            headers=headers["dispatcher"])
    assert extended.status_code == 200, extended.text
    assert extended.json()["etr"].startswith(later[:16]) and extended.json()["revision"] == 3
    same = cli("cuts", "extend", str(cut), "--end", later, "--json")
    assert same.exit_code == 0, same.stderr
    assert json.loads(same.stdout)["revision"] == 3 and "nothing changed" in same.stdout
    moved = cli("cuts", "extend", str(cut), "--end",
                (start + timedelta(hours=5)).strftime("%Y-%m-%d %H:%M"))
    assert moved.exit_code == 0, moved.stderr
    with engine.connect() as conn:
        kinds = conn.execute(select(outbox.c.kind, outbox.c.status).where(
            outbox.c.kind.in_(("cut_extended", "running_late")))).all()
    assert sorted(set(kinds)) == [("cut_extended", "pending"), ("cut_extended", "skipped"),
                                  ("running_late", "pending"), ("running_late", "skipped")]


def test_a_start_a_year_back_is_refused_through_api_and_cli(headers, people, make_client,
                                                            app_settings, cli) -> None:
    relaxed = make_client(OUTAGES_PLANNED_MIN_NOTICE="0s")
    start = (utcnow() + timedelta(minutes=30)).astimezone(app_settings.tz)
    cut = relaxed.post("/cuts", headers=headers["dispatcher"], json={
        "area": HOAN_KIEM, "start": start.isoformat(timespec="minutes"),
        "end": (start + timedelta(hours=2)).isoformat(timespec="minutes"),
        "reason": "Sua chua"}).json()["id"]
    typed = (start - timedelta(days=365)).strftime("%Y-%m-%d %H:%M")  # 2025 for 2026
    refused = relaxed.post(f"/cuts/{cut}/start", json={"at": typed},
                           headers=headers["dispatcher"])
    assert refused.status_code == 422 and refused.json()["field"] == "at"
    assert f"start time {typed} +07 is more than 7d ago" in refused.json()["detail"]
    on_cli = cli("cuts", "start", str(cut), "--at", typed)
    assert on_cli.exit_code == 2
    assert f"--at: start time {typed} +07 is more than 7d ago" in on_cli.output
    shown = relaxed.get(f"/cuts/{cut}", headers=headers["viewer"]).json()
    assert (shown["status"], shown["actual_start"]) == ("scheduled", None)
