from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine, func, select

from outages import cuts, lifecycle
from outages.models import Interruption, Outage, OutageCustomer
from outages.settings import Settings
from tests.lifecycle.conftest import ahead, columns


def test_create_stores_set_and_placeholders(engine: Engine, relaxed: Settings, grid: Any,
                                            published: list[Any]) -> None:
    area = lifecycle.read_area(json.dumps(columns(0, 2)), relaxed)
    view = cuts.create(engine, relaxed, area=area, start=ahead(hours=2), end=ahead(hours=6),
                       reason="line work", actor="tester", source="cli")
    assert view["affected"] == 30
    assert view["status"] == "scheduled"
    with engine.connect() as conn:
        members = conn.execute(select(func.count()).select_from(OutageCustomer.__table__)).scalar()
        placeholders = conn.execute(select(func.count()).select_from(Interruption.__table__)
                                    .where(Interruption.__table__.c.start_at.is_(None))).scalar()
        status = conn.execute(select(Outage.__table__.c.status)).scalar()
    assert (members, placeholders, status) == (30, 30, "scheduled")
    assert [(e.kind, e.revision) for e in published] == [("cut_created", 1)]
