"""Notices a stopping worker hands back unsent keep their retries: the claim is not counted
as an attempt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from notifier import outbox
from notifier.channels.base import DeliveryError, Message, Receipt
from notifier.dispatcher import Dispatcher, RetryPolicy
from tests.notices import helpers as h

T = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


class _StopsWorkerWhileSending:
    """The provider is down (every send fails for a while); the worker is stopped (SIGTERM)
    while the first send of a batch is in flight."""

    def __init__(self) -> None:
        self.dispatcher: Dispatcher | None = None
        self.sent: list[int] = []

    def send(self, message: Message) -> Receipt:
        self.sent.append(message.id)
        assert self.dispatcher is not None
        self.dispatcher.stopping = True  # SIGTERM arrives during this send
        raise DeliveryError("HTTP 503", code="503", permanent=False)

    def close(self) -> None:
        return None


def test_notices_handed_back_unsent_at_a_stop_keep_their_retries(engine: Engine) -> None:
    with engine.begin() as conn:
        outbox.enqueue(conn, [
            {"key": f"k{n}", "customer_id": n, "kind": "fault_ack", "channel": "sms",
             "recipient": f"+8490000000{n}", "language": "vi", "due_at": T, "body": "Mat dien",
             "created_at": T, "updated_at": T} for n in range(1, 4)])
    retry = RetryPolicy(max_attempts=2, max_age=timedelta(hours=6),
                        base_delay=timedelta(seconds=0))
    for _restart in range(2):  # two deploys (SIGTERM, start) while the provider is down
        transport = _StopsWorkerWhileSending()
        dispatcher = Dispatcher(engine, {"sms": transport}, concurrency=1, retry=retry,
                                clock=lambda: T + timedelta(minutes=1))
        transport.dispatcher = dispatcher
        try:
            dispatcher.run_once()
        finally:
            dispatcher.close()
    # Started again, the provider still down: k2 and k3 get their first real try.
    class _Down:
        def send(self, message: Message) -> Receipt:
            raise DeliveryError("HTTP 503", code="503", permanent=False)

        def close(self) -> None:
            return None

    dispatcher = Dispatcher(engine, {"sms": _Down()}, concurrency=1, retry=retry,
                            clock=lambda: T + timedelta(minutes=2))
    try:
        dispatcher.run_once()
    finally:
        dispatcher.close()
    rows = {r.key: (r.status, r.attempts) for r in h.rows(engine)}
    # k1 was handed to the provider twice: its retries are used up. k2 and k3 were handed to
    # it once (the two stops only claimed them and gave them back), so one retry is left.
    assert rows["k1"][0] == "failed"
    assert rows["k2"][0] == "pending" and rows["k3"][0] == "pending", rows
