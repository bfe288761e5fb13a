"""A worker claims its next batch while the last sends of the current one are in flight, so
its threads do not wait for the slowest reply and then for the claim."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine

from outages.notices import delivery
from outages.settings import Settings
from tests.notices import helpers as h
from tests.notices.test_workers import _queue_fault_acks
from tests.support.twilio_server import TwilioServer

pytestmark = pytest.mark.real_clock  # the notices are due by the real clock


def test_the_next_batch_is_claimed_before_the_last_reply(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str],
) -> None:
    settings = make_settings(**twilio_env)
    _queue_fault_acks(engine, settings, add_customers, 12)
    twilio.latency = 0.05
    dispatcher = delivery.dispatcher(engine, settings, batch=4, concurrency=2)
    accepted_at_claim: list[int] = []
    claim = dispatcher._claim

    def counting_claim() -> list[Any]:
        accepted_at_claim.append(twilio.count)
        return claim()

    dispatcher._claim = counting_claim  # type: ignore[method-assign]
    try:
        handled = dispatcher.drain()
    finally:
        dispatcher.close()
    assert handled == 12
    # Claims 2 to 4 came while the last sends of the batch before were in flight (the fourth
    # found nothing more); the fifth, by the drain loop, found nothing either.
    assert len(accepted_at_claim) == 5
    assert [accepted < 4 * k for k, accepted in enumerate(accepted_at_claim[1:4], 1)] \
        == [True] * 3
    assert Counter(m["To"] for m in twilio.messages).most_common(1)[0][1] == 1
    assert {row.status for row in h.rows(engine)} == {"sent"} and len(h.rows(engine)) == 12


def test_a_claim_takes_no_more_rows_than_asked(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio_env: dict[str, str],
) -> None:
    from datetime import UTC, datetime

    from notifier import outbox

    _queue_fault_acks(engine, make_settings(**twilio_env), add_customers, 12)
    taken = []
    for worker in ("a", "b", "c", "d"):
        with engine.connect() as conn, conn.begin():
            taken.append(outbox.claim(conn, now=datetime.now(UTC), limit=4, worker=worker))
    assert [len(rows) for rows in taken] == [4, 4, 4, 0]
    assert len({row.id for rows in taken for row in rows}) == 12


def test_a_batch_cut_short_by_an_error_is_finished_and_recorded_by_the_next_drain(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str],
) -> None:
    settings = make_settings(**twilio_env)
    _queue_fault_acks(engine, settings, add_customers, 100)
    twilio.latency = 0.01
    # One claim takes every row: the next drain has nothing new to claim, only the rest of
    # the batch to finish and record.
    dispatcher = delivery.dispatcher(engine, settings, batch=100, concurrency=4)
    assert dispatcher.hooks is not None
    on_sent, calls = dispatcher.hooks.on_sent, []

    def failing_once(conn: Any, provider_ids: Any) -> None:
        calls.append(len(provider_ids))
        if len(calls) == 1:
            raise RuntimeError("a bug while recording")
        on_sent(conn, provider_ids)

    dispatcher.hooks.on_sent = failing_once  # type: ignore[method-assign]
    try:
        with pytest.raises(RuntimeError, match="a bug while recording"):
            dispatcher.drain()
        assert dispatcher.in_flight > 0  # the rest of the batch is still being sent
        dispatcher.drain()
    finally:
        dispatcher.close()
    assert dispatcher.in_flight == 0
    assert {row.status for row in h.rows(engine)} == {"sent"} and len(h.rows(engine)) == 100
    assert twilio.count == 100 == len({m["To"] for m in twilio.messages})
