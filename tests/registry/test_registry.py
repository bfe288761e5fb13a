"""Listing, showing and updating customers, with the audit trail of every change."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from outages.errors import ValidationError
from outages.models import AuditEntry
from outages.registry import customers

PEOPLE = [
    {"code": "C1", "lon": 105.85, "lat": 21.03, "region": "R1", "district": "Hoàn Kiếm",
     "feeder": "HK-471", "name": "An", "phone": "+84912345678"},
    {"code": "C2", "lon": 105.82, "lat": 21.04, "region": "R1", "district": "Ba Đình",
     "feeder": "BD-471", "name": None, "phone": None},
    {"code": "C3", "lon": 105.83, "lat": 21.01, "region": "R2", "district": "Đống Đa",
     "feeder": "DD-471", "name": None, "phone": None},
    {"code": "C0", "lon": 105.85, "lat": 21.02, "region": "R1", "district": "Hoàn Kiếm",
     "feeder": "HK-472", "name": None, "phone": None},
]


@pytest.fixture
def registry(add_customers: Any) -> None:
    add_customers(PEOPLE)


def test_list_filters_orders_and_pages(engine: Any, registry: None) -> None:
    with engine.connect() as conn:
        assert [c["code"] for c in customers.list_customers(conn)] == ["C0", "C1", "C2", "C3"]
        assert [c["code"] for c in customers.list_customers(conn, region="R1", limit=2,
                                                            offset=1)] == ["C1", "C2"]
        assert [c["code"] for c in customers.list_customers(
            conn, district="Hoàn Kiếm", feeder="HK-471")] == ["C1"]
        assert customers.count_customers(conn, region="R1") == 3
        assert customers.count_customers(conn, district="nowhere") == 0


def test_cli_list_json(cli: Any, registry: None) -> None:
    result = cli("customers", "list", "--district", "Hoàn Kiếm", "--json")
    payload = json.loads(result.stdout)
    assert payload["total"] == 2
    assert [c["code"] for c in payload["customers"]] == ["C0", "C1"]
    assert payload["customers"][1]["phone"] == "+84912345678"


def test_cli_list_table(cli: Any, registry: None) -> None:
    result = cli("customers", "list", "--region", "R2")
    assert "C3" in result.stdout and "C1" not in result.stdout
    assert "1 shown of 1" in result.stdout


def test_show_and_not_found(cli: Any, registry: None) -> None:
    shown = json.loads(cli("customers", "show", "C1", "--json").stdout)
    assert (shown["code"], shown["name"], shown["language"]) == ("C1", "An", "vi")
    assert (shown["email_invalid"], shown["email_opt_out"]) == (False, False)
    assert shown["created_at"].endswith("+07:00")  # local time for people
    refused = cli("customers", "show", "NOPE")
    assert refused.exit_code == 3
    assert "NOPE" in refused.stderr


def _audit(engine: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(AuditEntry.__table__)).mappings())


def test_update_validates_stores_and_audits(engine: Any, settings: Any, registry: None) -> None:
    with engine.begin() as conn:
        updated = customers.update_customer(
            conn, "C1", changes={"phone": "098 765 4321", "email": "an@example.vn",
                                 "language": "EN", "sms_opt_out": True},
            actor="alice", source="http", settings=settings)
    assert (updated["phone"], updated["email"], updated["language"], updated["sms_opt_out"]) \
        == ("+84987654321", "an@example.vn", "en", True)
    [entry] = _audit(engine)
    assert (entry["actor"], entry["source"], entry["action"], entry["entity_id"]) == (
        "alice", "http", "customer.update", "C1")
    assert entry["before"] == {"phone": "+84912345678", "email": None, "language": "vi",
                               "sms_opt_out": False}
    assert entry["after"]["phone"] == "+84987654321"


def test_update_without_a_real_change_writes_no_audit(engine: Any, settings: Any,
                                                      registry: None) -> None:
    with engine.begin() as conn:
        customers.update_customer(conn, "C1", changes={"phone": "0912345678"}, actor="a",
                                  source="cli", settings=settings)
    assert _audit(engine) == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"phone": "0123"}, "not a valid number"),
        ({"email": "nobody"}, "not a valid address"),
        ({"language": "fr"}, "unknown language"),
        ({"language": ""}, "cannot be empty"),
        ({"lon": 1}, "cannot change lon"),
        ({"sms_opt_out": "yes"}, "true or false"),
    ],
)
def test_update_refuses_bad_values(engine: Any, settings: Any, registry: None,
                                   changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message), engine.begin() as conn:
        customers.update_customer(conn, "C1", changes=changes, actor="a", source="cli",
                                  settings=settings)
    assert _audit(engine) == []


def test_cli_update_clears_and_audits(cli: Any, engine: Any, registry: None) -> None:
    result = cli("customers", "update", "C1", "--email", "x@y.vn", "--phone", "",
                 "--sms-opt-out", "--by", "bob", "--json")
    shown = json.loads(result.stdout)
    assert (shown["email"], shown["phone"], shown["sms_opt_out"]) == ("x@y.vn", None, True)
    [entry] = _audit(engine)
    assert (entry["actor"], entry["source"]) == ("bob", "cli")
    again = json.loads(cli("customers", "update", "C1", "--no-sms-opt-out", "--json").stdout)
    assert again["sms_opt_out"] is False


def test_cli_update_needs_a_change(cli: Any, registry: None) -> None:
    result = cli("customers", "update", "C1")
    assert result.exit_code == 2
    assert "give at least one of" in result.stderr


def test_new_phone_clears_the_refused_number_mark(engine: Any, settings: Any,
                                                  registry: None) -> None:
    from sqlalchemy import update

    from outages.models import Customer

    with engine.begin() as conn:
        conn.execute(update(Customer).where(Customer.code == "C1").values(phone_invalid=True))
        updated = customers.update_customer(conn, "C1", changes={"phone": "0987654321"},
                                            actor="a", source="cli", settings=settings)
    assert updated["phone_invalid"] is False
    [entry] = _audit(engine)
    assert entry["before"]["phone_invalid"] is True and entry["after"]["phone_invalid"] is False


def test_corrected_email_clears_the_bounced_mark(cli: Any, engine: Any,
                                                 registry: None) -> None:
    from sqlalchemy import update

    from outages.models import Customer

    with engine.begin() as conn:
        conn.execute(update(Customer).where(Customer.code == "C1").values(email_invalid=True))
    assert json.loads(cli("customers", "show", "C1", "--json").stdout)["email_invalid"] is True
    updated = json.loads(cli("customers", "update", "C1", "--email", "fixed@example.vn",
                             "--json").stdout)
    assert (updated["email"], updated["email_invalid"]) == ("fixed@example.vn", False)
    entry = _audit(engine)[-1]
    assert entry["before"]["email_invalid"] is True and entry["after"]["email_invalid"] is False


def test_a_new_number_is_asked_of_zalo_again(cli: Any, add_customers: Any,
                                             engine: Any) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import update

    from outages.models import Customer

    add_customers([{"code": "Z1", "lon": 105.8, "lat": 21.0, "phone": "+84912345678"}])
    with engine.begin() as conn:  # Zalo found no account for the old number
        conn.execute(update(Customer).values(
            zalo_absent_at=datetime(2026, 12, 1, 3, 0, tzinfo=UTC)))
    shown = json.loads(cli("customers", "update", "Z1", "--phone", "0987654321",
                           "--json").stdout)
    assert shown["phone"] == "+84987654321" and shown["zalo_absent_at"] is None
    with engine.connect() as conn:
        assert conn.execute(select(Customer.zalo_absent_at)).scalar_one() is None
