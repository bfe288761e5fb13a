"""Sends whose fate was left open: an SMS whose answer never came is looked up before it
is sent again, and a notice a dead worker held is decided again by what is true now."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from sqlalchemy import Engine

from notifier.dispatcher import Dispatcher
from outages.lifecycle.events import OutageEvent, publish
from outages.notices import delivery
from outages.settings import Settings
from tests.notices import helpers as h
from tests.support.twilio_server import TwilioServer

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 10:00 in Hanoi


def _fault_ack(engine: Engine, settings: Settings, ids: list[int]) -> int:
    outage = h.add_outage(engine, kind="fault", status="confirmed", actual_start=NOW,
                          etr=None, members=ids, start=None)
    with engine.begin() as conn:
        publish(conn, settings, OutageEvent("fault_confirmed", outage, 1, NOW))
    return outage


def _drain(engine: Engine, settings: Settings, at: datetime, **options: Any) -> int:
    dispatcher: Dispatcher = delivery.dispatcher(engine, settings, clock=h.Clock(at),
                                                 **options)
    try:
        return dispatcher.drain()
    finally:
        dispatcher.close()


def test_an_sms_whose_answer_timed_out_after_twilio_took_it_is_not_sent_twice(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str],
) -> None:
    # Twilio accepts the message but its answer comes after our HTTP timeout (a slow
    # network, a loaded API): the send raises a network error and the row is retried.
    settings = make_settings(**{**twilio_env, "OUTAGES_TWILIO_TIMEOUT": "0.3s",
                                "OUTAGES_RETRY_BASE_DELAY": "30s"},
                             OUTAGES_NOTICES_CHANNELS="sms")
    add_customers(h.customers(1))
    with time_machine.travel(NOW, tick=True):
        _fault_ack(engine, settings, h.customer_ids(engine))
        twilio.latency = 1.0
        _drain(engine, settings, NOW)
        assert twilio.wait_for_count(1, timeout=5)  # Twilio did take it
        [row] = h.rows(engine, kind="fault_ack")
        assert (row.status, row.last_error_code) == ("pending", "maybe_sent")
        twilio.latency = 0.0
    later = NOW + timedelta(minutes=2)
    with time_machine.travel(later, tick=True):
        _drain(engine, settings, later)
    [row] = h.rows(engine, kind="fault_ack")
    assert row.status == "sent"
    # The provider is asked (SmsChannel.lookup, as after a crash) before sending again.
    assert len(twilio.bodies_to("+84900000000")) == 1
    assert row.provider_id is not None


def test_a_no_longer_affected_in_flight_when_the_customer_was_added_back_is_not_sent(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str],
) -> None:
    from sqlalchemy import update

    from notifier import outbox
    from outages.models import OutageCustomer
    from tests.notices.test_untrue_at_send import _drain as drain_after_recovery
    from tests.notices.test_untrue_at_send import _revise

    settings = make_settings(**twilio_env, OUTAGES_NOTICES_CHANNELS="sms")
    add_customers(h.customers(1, language="en"))
    [customer] = h.customer_ids(engine)
    start = NOW + timedelta(days=6)
    outage = h.add_outage(engine, start=start, end=start + timedelta(hours=8),
                          members=[customer])
    _revise(engine, settings, outage, 1, "cut_created", "created", NOW)
    drain_after_recovery(engine, settings, NOW)  # the announcement
    dropped_at = NOW + timedelta(hours=1)
    with engine.begin() as conn:  # the house leaves the cut...
        conn.execute(update(OutageCustomer.__table__).where(
            OutageCustomer.outage_id == outage).values(dropped_revision=2))
    _revise(engine, settings, outage, 2, "cut_resized", "resized", dropped_at)
    with engine.begin() as conn:  # ...a worker on another host claims its notice and dies
        [gone] = outbox.claim(conn, now=dropped_at, limit=1, worker="pod-a:1:aaaaaa")
    assert gone.kind == "no_longer_affected"
    back_at = dropped_at + timedelta(minutes=2)
    with engine.begin() as conn:  # ...and the dispatcher puts it back in the cut
        conn.execute(update(OutageCustomer.__table__).where(
            OutageCustomer.outage_id == outage).values(dropped_revision=None, added_revision=3))
    _revise(engine, settings, outage, 3, "cut_resized", "resized", back_at)
    drain_after_recovery(engine, settings, back_at + timedelta(minutes=15))  # lease ran out
    texts = twilio.bodies_to("+84900000000")
    [again] = h.rows(engine, id=gone.id)
    # The customer is in the cut: "you are no longer affected" is untrue now.
    kinds = [(r.kind, r.revision, r.status, r.last_error_code) for r in h.rows(engine)]
    assert again.status == "skipped", "\n".join(map(str, [*kinds, *texts]))
    assert not any("no longer" in t.lower() for t in texts), texts
