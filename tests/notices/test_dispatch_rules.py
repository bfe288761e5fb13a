"""Pacing, retry timing and "one message per customer per moment"."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Engine

from notifier import outbox
from notifier.channels.base import Message, Receipt
from notifier.dispatcher import Dispatcher, RetryPolicy
from notifier.ratelimit import TokenBucket
from outages.notices.delivery import SUPERSEDE

T = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def test_token_bucket_paces_a_burst_instead_of_dropping_it() -> None:
    bucket = TokenBucket(50, burst=1)
    started = time.monotonic()
    for _ in range(11):
        bucket.acquire()
    assert 0.19 <= time.monotonic() - started < 1.0  # 10 waits of 20 ms


def test_retry_backs_off_exponentially_with_jitter_and_gives_up() -> None:
    policy = RetryPolicy(max_attempts=4, max_age=timedelta(hours=1),
                         base_delay=timedelta(seconds=10))
    row = SimpleNamespace(attempts=1, due_at=T, first_due_at=None)
    delays = []
    for attempts in (1, 2, 3):
        row.attempts = attempts
        at = policy.next_try(row, T)  # type: ignore[arg-type]
        assert at is not None
        delays.append((at - T).total_seconds())
    assert 5 <= delays[0] <= 15 and 10 <= delays[1] <= 30 and 20 <= delays[2] <= 60
    row.attempts = 4
    assert policy.next_try(row, T) is None  # type: ignore[arg-type]
    row.attempts = 1
    assert policy.next_try(row, T + timedelta(hours=1)) is None  # type: ignore[arg-type]


def test_retrying_ends_max_age_after_the_notice_first_fell_due_not_after_it_was_queued() -> None:
    policy = RetryPolicy(max_attempts=8, max_age=timedelta(hours=1),
                         base_delay=timedelta(seconds=10))
    # A reminder queued six days ahead, failing for a while when it goes out.
    row = SimpleNamespace(attempts=1, created_at=T - timedelta(days=6), due_at=T,
                          first_due_at=None)
    assert policy.next_try(row, T) is not None  # type: ignore[arg-type]
    row.attempts, row.due_at, row.first_due_at = 3, T + timedelta(minutes=50), T
    assert policy.next_try(row, T + timedelta(minutes=50)) is not None  # type: ignore[arg-type]
    assert policy.next_try(row, T + timedelta(minutes=61)) is None  # type: ignore[arg-type]


def _row(id: int, kind: str, *, outage: int = 1, customer: int = 7, channel: str = "sms",
         due: datetime = T, revision: int = 1) -> Any:
    return SimpleNamespace(id=id, kind=kind, outage_id=outage, customer_id=customer,
                           channel=channel, due_at=due, revision=revision)


def test_change_notice_supersedes_reminder_falling_due_with_it() -> None:
    reminder, change = _row(1, "reminder"), _row(2, "changed", revision=2)
    assert SUPERSEDE.losers([reminder, change]) == [reminder]


def test_power_back_supersedes_a_still_out_acknowledgement_falling_due_with_it() -> None:
    # Both wait only if the restoration came after the customer said "still out": a
    # reopening skips the customer's pending "restored" notice.
    ack = _row(1, "still_out_ack", revision=3)
    restored = _row(2, "restored", revision=4, due=T + timedelta(minutes=2))
    assert SUPERSEDE.losers([ack, restored]) == [ack]


def test_notices_of_different_outages_all_go_out() -> None:
    # Each tells something the other does not: the cut moved, the fault has a new ETR.
    rows = [_row(1, "reminder", outage=1), _row(2, "reminder", outage=2),
            _row(3, "etr_update", outage=3, customer=8), _row(4, "changed", outage=4, customer=8),
            _row(5, "started", outage=5, customer=9), _row(6, "restored", outage=6, customer=9)]
    assert SUPERSEDE.losers(rows) == []


def test_other_channel_customer_or_moment_is_not_superseded() -> None:
    rows = [_row(1, "reminder"), _row(2, "changed", channel="email"),
            _row(3, "changed", customer=9), _row(4, "changed", due=T + timedelta(hours=1))]
    assert SUPERSEDE.losers(rows) == []


class _Recording:
    """A channel that keeps the messages it is given."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    def send(self, message: Message) -> Receipt:
        self.messages.append(message)
        return Receipt(provider_id=f"id-{message.id}")

    def close(self) -> None:
        return None


class _RecordingEmail(_Recording):
    carries_unsubscribe = True


def test_only_a_channel_that_shows_an_unsubscribe_link_gets_one(engine: Engine) -> None:
    with engine.begin() as conn:
        outbox.enqueue(conn, [
            {"key": f"k-{channel}", "customer_id": 1, "kind": "announcement",
             "channel": channel, "recipient": recipient, "language": "vi", "due_at": T,
             "body": "Mat dien", "created_at": T, "updated_at": T}
            for channel, recipient in (("sms", "+84900000000"), ("email", "a@example.test"))])
    sms, email = _Recording(), _RecordingEmail()
    linked: list[str] = []

    def link(row: Any) -> str:
        linked.append(row.channel)
        return f"https://utility.test/unsubscribe/{row.id}"

    dispatcher = Dispatcher(engine, {"sms": sms, "email": email}, unsubscribe=link,
                            clock=lambda: T)
    try:
        assert dispatcher.drain() == 2
    finally:
        dispatcher.close()
    assert [m.unsubscribe for m in sms.messages] == [None]
    assert [m.unsubscribe for m in email.messages] == [
        f"https://utility.test/unsubscribe/{email.messages[0].id}"]
    assert linked == ["email"]  # signed only where it is shown
