"""Planned cuts and incidents over priority customers: the longer notice, the warning, and
the call list with each call's outcome."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update

from outages.errors import NotFound, ValidationError
from outages.lifecycle import calls
from outages.models import AuditEntry, Customer, Outage
from outages.settings import Settings
from outages.timeutil import utcnow
from tests.lifecycle.conftest import ahead
from tests.lifecycle.test_cuts_create import make
from tests.notices import helpers as h


@pytest.fixture
def priority(engine: Engine, grid: Any) -> None:
    """C001 lives on home oxygen, C002 is a clinic, C012 a water plant (columns 1-2)."""
    kinds = {"C001": "life_support", "C002": "medical", "C012": "critical_facility"}
    with engine.begin() as conn:
        for code, kind in kinds.items():
            conn.execute(update(Customer).where(Customer.code == code).values(priority=kind))
        conn.execute(update(Customer).where(Customer.code == "C002")
                     .values(name="=HYPERLINK(\"http://x\")"))


def _cuts(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Outage)).scalar_one())


def test_priority_customers_need_the_longer_notice(engine: Engine, settings: Settings,
                                                   priority: None) -> None:
    six_days = {"start": ahead(days=6), "end": ahead(days=6, hours=2)}
    with pytest.raises(ValidationError) as caught:
        make(engine, settings, first=0, last=2, **six_days)
    assert caught.value.field == "start" and caught.value.hint == "urgent"
    assert "3 priority customer(s)" in caught.value.message
    assert "planned.priority_min_notice" in caught.value.message
    assert _cuts(engine) == 0
    elsewhere = make(engine, settings, first=5, last=6, **six_days)  # none of them there
    assert [w.code for w in elsewhere.warnings or []] == []
    urgent = make(engine, settings, first=0, last=2, urgent=True,
                  urgent_reason="a cracked insulator", **six_days)
    warned = make(engine, settings, first=0, last=1, start=ahead(days=8),
                  end=ahead(days=8, hours=2))
    for view, count in ((urgent, 3), (warned, 1)):  # columns 0-1 hold only C001
        (warning,) = [w for w in view.warnings or [] if w.code == "priority"]
        assert warning.count == count and f"{count} affected customers" in warning.message


def test_moving_a_cut_earlier_keeps_the_priority_notice(engine: Engine, settings: Settings,
                                                        priority: None) -> None:
    from outages.lifecycle import cuts

    cut = make(engine, settings, first=0, last=1, start=ahead(days=9),
               end=ahead(days=9, hours=2))
    with pytest.raises(ValidationError, match=r"planned\.priority_min_notice"):
        cuts.reschedule(engine, settings, cut_id=cut.id, start=ahead(days=6),
                        end=ahead(days=6, hours=2), actor="tester", source="cli")
    later = cuts.reschedule(engine, settings, cut_id=cut.id, start=ahead(days=10),
                            end=ahead(days=10, hours=2), actor="tester", source="cli")
    assert later.revision == 2


def test_call_list_records_each_outcome_audited(cli: Any, engine: Engine, settings: Settings,
                                                priority: None) -> None:
    cut = make(engine, settings, first=0, last=2, start=ahead(days=8),
               end=ahead(days=8, hours=2))
    listed = json.loads(cli("cuts", "calls", str(cut.id), "--json").stdout)
    assert [(e["code"], e["priority"], e["outcome"], e["calls"]) for e in listed["calls"]] == [
        ("C001", "life_support", None, 0), ("C002", "medical", None, 0),
        ("C012", "critical_facility", None, 0)]
    for outcome in ("no_answer", "reached"):
        done = cli("cuts", "call", str(cut.id), "C001", "--outcome", outcome, "--note",
                   "oxygen backup checked", "--by", "an")
        assert done.exit_code == 0, done.stderr
    cli("cuts", "call", str(cut.id), "C012", "--outcome", "wrong_number")
    entries = {e["code"]: e for e in
               json.loads(cli("cuts", "calls", str(cut.id), "--json").stdout)["calls"]}
    assert (entries["C001"]["outcome"], entries["C001"]["calls"]) == ("reached", 2)
    assert (entries["C001"]["called_by"], entries["C001"]["note"]) == (
        "an", "oxygen backup checked")
    assert entries["C012"]["outcome"] == "wrong_number"
    with engine.connect() as conn:
        audited = conn.execute(select(AuditEntry.actor, AuditEntry.entity_id, AuditEntry.after)
                               .where(AuditEntry.action == "priority.call")
                               .order_by(AuditEntry.id)).all()
    assert [(a, e, after["customer"], after["outcome"]) for a, e, after in audited] == [
        ("an", str(cut.id), "C001", "no_answer"), ("an", str(cut.id), "C001", "reached"),
        (audited[2].actor, str(cut.id), "C012", "wrong_number")]
    table = cli("cuts", "calls", str(cut.id)).stdout
    assert "3 priority customer(s) to call" in table and "reached" in table


def test_call_list_csv_escapes_formula_cells(cli: Any, engine: Engine, settings: Settings,
                                            priority: None) -> None:
    cut = make(engine, settings, first=0, last=2, start=ahead(days=8),
               end=ahead(days=8, hours=2))
    out = cli("cuts", "calls", str(cut.id), "--csv")
    assert out.exit_code == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert [r["code"] for r in rows] == ["C001", "C002", "C012"]
    assert rows[1]["name"] == "'=HYPERLINK(\"http://x\")"
    assert rows[0]["phone"] == "+84900000001"  # a phone number is not a formula


def test_only_listed_customers_and_known_outcomes_are_recorded(
    cli: Any, engine: Engine, settings: Settings, priority: None,
) -> None:
    cut = make(engine, settings, first=0, last=2, start=ahead(days=8),
               end=ahead(days=8, hours=2))
    with pytest.raises(NotFound, match=r"not on outage .* call list") as caught:
        calls.record_call(engine, settings, outage_id=cut.id, kind="planned", code="C000",
                          outcome="reached", note=None, actor="an", source="cli")
    assert caught.value.field == "code"
    refused = cli("cuts", "call", str(cut.id), "C001", "--outcome", "maybe")
    assert refused.exit_code != 0 and "--outcome" in refused.stderr
    assert "reached, no_answer, wrong_number" in refused.stderr
    with pytest.raises(NotFound):  # a cut is not a fault incident
        calls.record_call(engine, settings, outage_id=cut.id, kind="fault", code="C001",
                          outcome="reached", note=None, actor="an", source="cli")
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(AuditEntry)
                            .where(AuditEntry.action == "priority.call")).scalar_one() == 0


def test_an_incident_has_its_call_list_at_once(cli: Any, engine: Engine,
                                               priority: None) -> None:
    with engine.connect() as conn:
        ids = list(conn.execute(select(Customer.id).where(
            Customer.code.in_(["C000", "C001", "C012"]))).scalars())
    now = utcnow()
    incident = h.add_outage(engine, kind="fault", status="confirmed", actual_start=now,
                            etr=now + timedelta(hours=2), members=ids)
    out = cli("faults", "calls", str(incident), "--csv")
    assert [r["code"] for r in csv.DictReader(io.StringIO(out.stdout))] == ["C001", "C012"]
    done = cli("faults", "call", str(incident), "C012", "--outcome", "reached", "--json")
    assert done.exit_code == 0, done.stderr
    assert json.loads(done.stdout)["outcome"] == "reached"
    wrong_kind = cli("cuts", "calls", str(incident))
    assert wrong_kind.exit_code != 0 and "not a planned cut" in wrong_kind.stderr
