"""Priority customers over HTTP: set by admins, seen only by roles with personal data,
called from a cut's call list, and never shown in public answers."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from outages.timeutil import utcnow
from tests.api.conftest import square

HOAN_KIEM = square(105.8525, 21.0285, 0.002)  # PD0001 and PD0002


def _local(days: int, hour: int, tz) -> str:
    when = (utcnow() + timedelta(days=days)).astimezone(tz)
    return when.replace(hour=hour, minute=0, second=0, microsecond=0).strftime("%Y-%m-%d %H:%M")


def _cut(client: TestClient, headers, tz, days: int):
    return client.post("/cuts", headers=headers["dispatcher"], json={
        "area": HOAN_KIEM, "start": _local(days, 8, tz), "end": _local(days, 12, tz),
        "reason": "Bao duong tram bien ap"})


def _public(client: TestClient, day: str) -> list:
    return [client.get(path, params=params).json() for path, params in (
        ("/public/cuts/lookup", {"customer": "PD0001"}),
        ("/public/cuts/lookup", {"lon": 105.852, "lat": 21.028}),
        ("/public/cuts", {"district": "Hoan Kiem", "date": day}),
        ("/public/outages", {}))]


def test_priority_is_personal_data(client, headers, people) -> None:
    set_ = client.patch("/customers/PD0001", headers=headers["admin"],
                        json={"priority": "life_support"})
    assert set_.status_code == 200 and set_.json()["priority"] == "life_support"
    assert client.patch("/customers/PD0001", headers=headers["admin"],
                        json={"priority": "vip"}).status_code == 422
    for role in ("viewer", "engineer"):
        assert client.get("/customers/PD0001", headers=headers[role]).json()["priority"] is None
        listed = client.get("/customers", headers=headers[role]).json()["customers"]
        assert {c["priority"] for c in listed} == {None}
        preview = client.post("/areas/preview", json=HOAN_KIEM, headers=headers[role])
        assert preview.json()["priority"] is None
    assert client.get("/customers/PD0001",
                      headers=headers["dispatcher"]).json()["priority"] == "life_support"
    preview = client.post("/areas/preview", json=HOAN_KIEM, headers=headers["dispatcher"])
    assert preview.json()["priority"] == 1


def test_a_cut_over_a_priority_customer_warns_and_lists_the_call(
        client, headers, people, app_settings) -> None:
    client.patch("/customers/PD0002", headers=headers["admin"], json={"priority": "medical"})
    early = _cut(client, headers, app_settings.tz, 6)
    assert early.status_code == 422 and early.json()["field"] == "start"
    assert "planned.priority_min_notice" in early.json()["detail"]
    assert '"urgent": true' in early.json()["detail"]
    created = _cut(client, headers, app_settings.tz, 8)
    assert created.status_code == 201, created.text
    cut = created.json()["id"]
    assert [(w["code"], w["count"]) for w in created.json()["warnings"]] == [("priority", 1)]
    for role in ("viewer", "engineer"):
        assert client.get(f"/cuts/{cut}/calls", headers=headers[role]).status_code == 403
    listed = client.get(f"/cuts/{cut}/calls", headers=headers["dispatcher"])
    assert listed.status_code == 200, listed.text
    assert [(c["code"], c["priority"], c["outcome"]) for c in listed.json()["calls"]] == [
        ("PD0002", "medical", None)]
    called = client.post(f"/cuts/{cut}/calls", headers=headers["dispatcher"],
                         json={"code": "PD0002", "outcome": "no_answer", "note": "try 18:00"})
    assert called.status_code == 201, called.text
    assert (called.json()["outcome"], called.json()["calls"]) == ("no_answer", 1)
    assert client.post(f"/cuts/{cut}/calls", headers=headers["dispatcher"],
                       json={"code": "PD0001", "outcome": "reached"}).status_code == 404
    assert client.post(f"/cuts/{cut}/calls", headers=headers["dispatcher"],
                       json={"code": "PD0002", "outcome": "maybe"}).status_code == 422
    assert client.post(f"/cuts/{cut}/calls", headers=headers["viewer"],
                       json={"code": "PD0002", "outcome": "reached"}).status_code == 403
    assert client.get(f"/faults/{cut}/calls", headers=headers["dispatcher"]).status_code == 404


def test_public_answers_do_not_change_with_priority(client, headers, people,
                                                    app_settings) -> None:
    assert _cut(client, headers, app_settings.tz, 8).status_code == 201
    day = _local(8, 8, app_settings.tz)[:10]
    before = _public(client, day)
    assert before[0]["cuts"]  # PD0001 is in the cut: the lookup has something to show
    for code in ("PD0001", "PD0002"):
        client.patch(f"/customers/{code}", headers=headers["admin"],
                     json={"priority": "life_support"})
    assert _public(client, day) == before
