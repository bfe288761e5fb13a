"""What the notice reports answer: a preview of the messages, the outbox, its statistics."""

from __future__ import annotations

from outages.results import Result


class PreviewMessage(Result):
    channel: str
    language: str
    recipients: int
    encoding: str | None
    segments: int
    subject: str | None
    body: str
    cost_each: float
    # "customers", or "subscribers": the subscriptions it reaches (their SMS ends naming
    # the subscription, so it may be longer).
    audience: str = "customers"


class PreviewTotals(Result):
    messages: int
    segments: int
    cost: float


class NoticePreview(Result):
    outage_id: int
    kind: str
    messages: list[PreviewMessage]
    totals: PreviewTotals


class Notice(Result):
    """One outbox row; times in local time."""

    id: int
    outage_id: int | None
    kind: str
    channel: str
    recipient: str | None
    language: str | None
    status: str
    due_at: str | None
    sent_at: str | None
    attempts: int | None
    segments: int | None
    last_error_code: str | int | None
    provider_id: str | None


class NoticeStats(Result):
    by_status: dict[str, int]
    by_channel: dict[str, dict[str, int]]
    delivery_rate: float | None
    median_delay_seconds: float | None
    sms_segments: int
    cost: float
    # per channel: customers who opted out, and those whose address the provider refused
    unreachable: dict[str, dict[str, int]]
