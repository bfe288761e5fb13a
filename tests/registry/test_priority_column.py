"""The registry's optional priority column: imported, kept by files without it, changed
and cleared by an audited update."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine, select

from outages.models import AuditEntry
from outages.registry.importer import import_customers
from outages.registry.rows import COLUMNS
from tests.registry.conftest import row


def test_priority_is_imported_and_kept_by_a_file_without_the_column(
    engine: Any, settings: Any, write_csv: Any, stored: Any
) -> None:
    rows = [row("PD1", priority="Life_Support"), row("PD2", priority=" critical_facility "),
            row("PD3")]
    assert import_customers(engine, settings, write_csv(rows)).imported == 3
    assert {c: v["priority"] for c, v in stored().items()} == {
        "PD1": "life_support", "PD2": "critical_facility", "PD3": None}
    without = [c for c in COLUMNS if c != "priority"]
    again = import_customers(engine, settings, write_csv([row("PD1", name="An")],
                                                         columns=without))
    assert again.updated == 1
    assert stored()["PD1"]["priority"] == "life_support"


def test_update_sets_and_clears_priority_audited(engine: Engine, settings: Any,
                                                 write_csv: Any, cli: Any) -> None:
    import_customers(engine, settings, write_csv([row("PD1")]))
    result = cli("customers", "update", "PD1", "--priority", "medical", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["priority"] == "medical"
    refused = cli("customers", "update", "PD1", "--priority", "vip")
    assert refused.exit_code != 0 and "priority 'vip' is not known" in refused.stderr
    assert "--priority" in refused.stderr
    cleared = cli("customers", "update", "PD1", "--priority", "", "--json")
    assert json.loads(cleared.stdout)["priority"] is None
    with engine.connect() as conn:
        entries = conn.execute(select(AuditEntry.before, AuditEntry.after)
                               .where(AuditEntry.action == "customer.update")
                               .order_by(AuditEntry.id)).all()
    assert [tuple(e) for e in entries] == [({"priority": None}, {"priority": "medical"}),
                                          ({"priority": "medical"}, {"priority": None})]
