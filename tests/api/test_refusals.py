"""Refusals in the API's words: the request's field names and the API's way out, never the
CLI's options or command lines (the suite-wide check is in tests/support/refusals.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from outages.timeutil import utcnow
from tests.api.conftest import square
from tests.support import refusals

HOAN_KIEM = square(105.8525, 21.0285, 0.002)  # PD0001 and PD0002
EMPTY_FIELD = square(105.90, 21.00, 0.001)  # inside the territory, nobody lives there


def _local(tz: Any, days: float, hour: int) -> str:
    when = (utcnow() + timedelta(days=days)).astimezone(tz)
    return when.replace(hour=hour, minute=0, second=0, microsecond=0).strftime("%Y-%m-%d %H:%M")


def _refused(response: Any, status: int, field: str | None) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["field"] == field and refusals.cli_words(body) == []
    return str(body["detail"])


def test_refusals_that_used_to_name_cli_options(client, headers, people, app_settings,
                                                engine) -> None:
    writer, tz = headers["dispatcher"], app_settings.tz
    cut = {"area": HOAN_KIEM, "start": _local(tz, 8, 8), "end": _local(tz, 8, 12),
           "reason": "Bao duong tram bien ap"}
    empty = client.post("/cuts", json={**cut, "area": EMPTY_FIELD}, headers=writer)
    assert _refused(empty, 422, "area").endswith(' or send "allow_empty": true')
    soon = client.post("/cuts", json={**cut, "start": _local(tz, 1, 8),
                                      "end": _local(tz, 1, 9)}, headers=writer)
    assert '"urgent": true' in _refused(soon, 422, "start")
    lonely = client.post("/cuts", json={**cut, "urgent_reason": "why not"}, headers=writer)
    _refused(lonely, 422, "urgent_reason")
    missing = client.get("/cuts/999999", headers=headers["viewer"])
    assert _refused(missing, 404, "id") == "no planned cut with id 999999: see GET /cuts"
    reversed_days = client.get("/cuts", params={"from": "2026-02-01", "to": "2026-01-01"},
                               headers=headers["viewer"])
    _refused(reversed_days, 422, "to")
    created = client.post("/cuts", json=cut, headers=writer)
    assert created.status_code == 201, created.text
    unstarted = client.post(f"/cuts/{created.json()['id']}/restore", json={}, headers=writer)
    assert _refused(unstarted, 409, None).endswith(
        "has no recorded start: record it first with POST /cuts/{id}/start")
    not_a_fault = client.post(f"/faults/{created.json()['id']}/restore", json={}, headers=writer)
    assert _refused(not_a_fault, 404, "id").endswith("not a fault incident: use /cuts/{id}")
    stranger = client.post("/faults/reports", json={"phone": "0922222222"}, headers=writer)
    assert '"lon" and "lat"' in _refused(stranger, 404, "phone")
    nothing = client.post("/faults/reports", json={}, headers=writer)
    _refused(nothing, 422, "customer")
    backwards = client.get("/reports/reliability", headers=headers["engineer"],
                           params={"from": "2025-02-01", "to": "2025-01-01"})
    assert "after the last day" in _refused(backwards, 422, "from")
    grouping = client.get("/reports/reliability", headers=headers["engineer"],
                          params={"from": "2025-01-01", "to": "2025-02-01", "by": "planet"})
    _refused(grouping, 422, "by")
    nobody = client.post("/users/nobody/disable", headers=headers["admin"])
    assert _refused(nobody, 404, "name") == "no user named 'nobody': see GET /users"


def test_the_check_finds_cli_words_wherever_they_are() -> None:
    assert refusals.cli_words({"detail": "fine", "field": "--area", "errors": []}) == ["--area"]
    assert refusals.cli_words({"detail": "see `outages cuts list`", "field": None}) == [
        "see `outages cuts list`"]
    assert refusals.cli_words({"detail": "ok", "field": "area", "errors": [
        {"field": "area", "reason": "pass --allow-empty"}]}) == ["pass --allow-empty"]
    assert refusals.cli_words({"detail": "no planned cut with id 3", "field": "id",
                               "errors": [{"field": "id", "reason": "fine"}]}) == []


def test_every_api_refusal_is_checked(client, headers) -> None:
    before = refusals.seen[0]
    response = client.get("/cuts/999999", headers=headers["viewer"])
    assert response.status_code == 404 and refusals.seen[0] == before + 1
