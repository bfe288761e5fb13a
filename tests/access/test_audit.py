from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert

from outages.models import AuditEntry


@pytest.fixture
def entries(engine) -> None:
    """Audit entries on known instants (UTC): two local days in Hanoi."""
    rows = [
        (datetime(2030, 5, 1, 16, 30, tzinfo=UTC), "lan", "cut.create"),  # 23:30 on May 1
        (datetime(2030, 5, 1, 17, 30, tzinfo=UTC), "minh", "customer.update"),  # 00:30 May 2
        (datetime(2030, 5, 2, 9, 0, tzinfo=UTC), "lan", "cut.cancel"),
    ]
    with engine.begin() as conn:
        conn.execute(insert(AuditEntry.__table__), [
            {"at": at, "actor": actor, "source": "http", "action": action, "entity": "customer",
             "entity_id": "PD0001", "before": {"phone": "+84912345001", "name": "An"},
             "after": {"phone": "+84912345999", "name": "An", "sms_opt_out": False}}
            for at, actor, action in rows])


def test_audit_command_filters_by_local_day_and_actor(cli, entries) -> None:
    may_2 = json.loads(cli("audit", "--from", "2030-05-02", "--to", "2030-05-02",
                           "--json").stdout)
    assert [e["action"] for e in may_2] == ["cut.cancel", "customer.update"]
    by_lan = json.loads(cli("audit", "--actor", "lan", "--json").stdout)
    assert [e["action"] for e in by_lan] == ["cut.cancel", "cut.create"]
    until = json.loads(cli("audit", "--to", "2030-05-01T23:45", "--json").stdout)
    assert [e["action"] for e in until] == ["cut.create"]
    table = cli("audit", "--actor", "minh")
    assert table.exit_code == 0 and "minh" in table.stdout and "lan" not in table.stdout
    refused = cli("audit", "--from", "2030-13-01")
    assert refused.exit_code == 2
    assert "invalid date" in refused.stderr


def test_audit_over_http_for_admins_and_engineers_only(client, headers, entries) -> None:
    full = client.get("/audit", params={"from": "2030-05-02"}, headers=headers["admin"])
    assert full.status_code == 200
    assert [e["action"] for e in full.json()["entries"]] == ["cut.cancel", "customer.update"]
    assert full.json()["entries"][0]["before"]["phone"] == "+84912345001"
    # Engineers read the log without personal data.
    redacted = client.get("/audit", params={"actor": "lan"}, headers=headers["engineer"])
    assert redacted.status_code == 200
    body = redacted.json()
    assert [e["action"] for e in body["entries"]] == ["cut.cancel", "cut.create"]
    assert "+8491" not in redacted.text and '"An"' not in redacted.text
    assert body["entries"][0]["after"]["sms_opt_out"] is False
    for role in ("viewer", "dispatcher"):
        assert client.get("/audit", headers=headers[role]).status_code == 403
    assert client.get("/audit").status_code == 401


def test_audit_pages(client, headers, entries) -> None:
    first = client.get("/audit", params={"limit": 2, "entity": "customer"},
                       headers=headers["admin"]).json()
    assert len(first["entries"]) == 2 and first["next_offset"] == 2
    rest = client.get("/audit", params={"limit": 2, "offset": 2, "entity": "customer"},
                      headers=headers["admin"]).json()
    assert [e["action"] for e in rest["entries"]] == ["cut.create"]
    assert rest["next_offset"] is None
    bad = client.get("/audit", params={"from": "yesterday"}, headers=headers["admin"])
    assert bad.status_code == 422 and bad.json()["field"] == "from"
