"""The notifier supersedes by the ranks the domain gives it, and knows none of its own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from notifier.supersede import SupersedePolicy

T = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def _row(id: int, kind: str, *, outage: int = 1, due: datetime = T, customer: int | None = 7,
         subscription: int | None = None, recipient: str = "+84912000001") -> Any:
    return SimpleNamespace(id=id, kind=kind, outage_id=outage, customer_id=customer,
                           subscription_id=subscription, recipient=recipient, channel="sms",
                           due_at=due, revision=1)


def test_the_given_ranks_decide_which_notice_goes_out() -> None:
    low, high = _row(1, "low"), _row(2, "high")
    assert SupersedePolicy(ranks={"high": 2, "low": 1}).losers([low, high]) == [low]
    assert SupersedePolicy(ranks={"high": 1, "low": 2}).losers([low, high]) == [high]


def test_a_notice_never_gives_way_to_another_outage() -> None:
    mine, theirs = _row(1, "low", outage=1), _row(2, "high", outage=2)
    assert SupersedePolicy(ranks={"high": 2, "low": 1}).losers([mine, theirs]) == []


def test_notices_further_apart_than_the_moment_both_go_out() -> None:
    rows = [_row(1, "low"), _row(2, "high", due=T + timedelta(minutes=11))]
    assert SupersedePolicy(ranks={"high": 2, "low": 1}).losers(rows) == []


def test_a_subscriber_and_a_caller_get_one_message_per_moment_too() -> None:
    """A short fault: its acknowledgement and "power is back" fall due together. The relative
    following a house and the caller without an account hear only that power is back, as
    the customer does; two subscriptions, or two callers, each hear it."""
    policy = SupersedePolicy(ranks={"restored": 2, "fault_ack": 1})
    following = [_row(1, "fault_ack", customer=None, subscription=5),
                 _row(2, "restored", customer=None, subscription=5),
                 _row(3, "restored", customer=None, subscription=6)]
    calling = [_row(4, "fault_ack", customer=None, recipient="+84912000009"),
               _row(5, "restored", customer=None, recipient="+84912000009"),
               _row(6, "fault_ack", customer=None, recipient="+84912000010")]
    assert policy.losers(following) == [following[0]]
    assert policy.losers(calling) == [calling[0]]
