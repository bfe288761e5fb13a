"""On PostgreSQL a queue over members given as a query reads its targets once into a
temporary table; the outbox it writes is the one the direct statements write, row for row
and in the same order (priority customers first)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
import time_machine
from sqlalchemy import Engine, select, text

from notifier.store import outbox
from outages import db
from outages.lifecycle import core as lc
from outages.lifecycle.events import OutageEvent, publish
from outages.notices import queue
from outages.settings import Settings
from tests.notices import helpers as h

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 10:00 in Hanoi
SKIPPED = ("id", "created_at", "updated_at")


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def _population() -> list[dict[str, Any]]:
    people = h.customers(30, email=True)
    for k, person in enumerate(people):
        person["language"] = ("vi", "en", "", "fr")[k % 4]
        person["priority"] = "life_support" if k % 7 == 3 else None
        person["channels"] = (None, "email", "email,sms", "sms", "zalo,sms")[k % 5]
        person["sms_opt_out"] = k % 11 == 5
        person["email_invalid"] = k % 13 == 6
        if k % 9 == 4:
            person["phone"] = None
    return people


def _outbox(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        columns = [c for c in outbox.c if c.name not in SKIPPED]
        return [tuple(r) for r in conn.execute(select(*columns).order_by(outbox.c.id))]


def _confirm(engine: Engine, settings: Settings, members: list[int]) -> None:
    outage = h.add_outage(engine, kind="fault", status="confirmed", members=members,
                          actual_start=NOW - timedelta(minutes=20), cause="weather")
    with engine.begin() as conn:
        publish(conn, settings, OutageEvent("fault_confirmed", outage, 1, NOW))


@pytest.mark.postgres_only
def test_the_temporary_table_writes_the_same_outbox(engine: Engine, settings: Settings,
                                                    add_customers: Any,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    add_customers(_population())
    members = h.customer_ids(engine)
    _confirm(engine, settings, members)
    through_table = _outbox(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM outbox"))
        conn.execute(text("DELETE FROM outage_customers"))
        conn.execute(text("DELETE FROM outage_revisions"))
        conn.execute(text("DELETE FROM outages"))
    monkeypatch.setattr(queue, "_targets", lambda conn, members: None)
    _confirm(engine, settings, members)
    direct = _outbox(engine)
    # The same rows (key and outage id differ), priority customers' rows written first in
    # both; within a group the database may produce rows in any order.
    assert len(through_table) > 20
    assert sorted((r[2:] for r in through_table), key=repr) == sorted((r[2:] for r in direct),
                                                                  key=repr)
    priority = {m for k, m in enumerate(members) if k % 7 == 3}
    for written in (through_table, direct):
        firsts = [r[3] in priority for r in written]
        assert firsts == sorted(firsts, reverse=True) and firsts[0]


def _fault(engine: Engine, members: list[int]) -> int:
    """A fault confirmed five minutes ago over `members`."""
    return h.add_outage(engine, kind="fault", status="confirmed", members=members,
                        actual_start=NOW - timedelta(minutes=5), cause="weather")


@pytest.mark.postgres_only
def test_queue_twice_in_one_transaction(engine: Engine, settings: Settings,
                                        add_customers: Any) -> None:
    add_customers(h.customers(5))
    members = h.customer_ids(engine)
    first, second = _fault(engine, members), _fault(engine, members[:2])
    with engine.begin() as conn:  # the temporary table of the first is gone for the second
        publish(conn, settings, OutageEvent("fault_confirmed", first, 1, NOW))
        publish(conn, settings, OutageEvent("fault_confirmed", second, 1, NOW))
    counts: dict[int, int] = {}
    for row in h.rows(engine, kind="fault_ack"):
        counts[row.outage_id] = counts.get(row.outage_id, 0) + 1
    assert counts == {first: 5, second: 2}


@pytest.mark.postgres_only
def test_a_bulk_change_renews_the_planner_statistics_in_its_transaction(
        engine: Engine, settings: Settings, add_customers: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers claim a typhoon's notices right after its commit, long before autovacuum
    counts them: planned on stale statistics, each claim sorted every queued row."""
    monkeypatch.setattr(db, "STALE_AFTER_ROWS", 10)
    add_customers(h.customers(23))
    members = np.array(h.customer_ids(engine), dtype=np.int64)
    started = NOW - timedelta(minutes=20)
    outage = h.add_outage(engine, kind="fault", status="confirmed", actual_start=started,
                          cause="weather")
    with engine.begin() as conn:
        lc.set_members(conn, lc.load(conn, outage), members, revision=1, cause="weather",
                       start_at=started)
        publish(conn, settings, OutageEvent("fault_confirmed", outage, 1, NOW))
    with engine.connect() as conn:
        for table in ("outage_customers", "interruptions", "outbox"):
            rows = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            estimate = conn.execute(text("SELECT reltuples FROM pg_class WHERE relname = :t"),
                                    {"t": table}).scalar_one()
            assert rows >= 10 and estimate == rows, table


def test_queue_counts_the_rows_it_writes(engine: Engine, settings: Settings,
                                        add_customers: Any) -> None:
    add_customers(h.customers(7))
    members = h.customer_ids(engine)
    outage = _fault(engine, members)
    with engine.begin() as conn:
        row = lc.load(conn, outage)
        batch = queue.Batch(outage_id=outage, revision=1, kind="fault_ack", due_at=NOW,
                            context=queue.context(settings, row), pressing=True)
        first = queue.queue(conn, settings, batch, members, now=NOW)
        again = queue.queue(conn, settings, batch, members, now=NOW)  # keys already queued
    assert (first, again) == (len(h.rows(engine, kind="fault_ack")), 0)
    assert first == 7


@pytest.mark.parametrize("given", ["ids", "query"])
def test_a_batch_queued_again_adds_only_what_is_new(engine: Engine, settings: Settings,
                                                    add_customers: Any, given: str) -> None:
    """Members given as a query are queued on PostgreSQL by a plain INSERT in a savepoint
    (notices to a new revision are new); a key already queued sends it back to ON CONFLICT
    DO NOTHING, in the same transaction."""
    add_customers(h.customers(7))
    members = h.customer_ids(engine)
    outage = _fault(engine, members)

    def chosen(ids: list[int]) -> Any:
        if given == "ids":
            return ids
        m = lc.MEMBERS.c
        return select(m.customer_id).where(m.outage_id == outage, m.customer_id.in_(ids))

    with engine.begin() as conn:
        batch = queue.Batch(outage_id=outage, revision=1, kind="fault_ack", due_at=NOW,
                            context=queue.context(settings, lc.load(conn, outage)),
                            pressing=True)
        counts = [queue.queue(conn, settings, batch, chosen(members[:3]), now=NOW),
                  queue.queue(conn, settings, batch, chosen(members), now=NOW),
                  queue.queue(conn, settings, batch, chosen(members), now=NOW)]
    assert counts == [3, 4, 0]
    assert sorted(r.customer_id for r in h.rows(engine, kind="fault_ack")) == members
