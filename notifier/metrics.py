"""Prometheus metrics of sending: counters kept by each process, and the outbox read at
scrape time.

The counters and histograms are process-local (prometheus-client aggregates them across
processes in its multiprocess mode). The outbox gauges are not counted at all: a collector
asks the database on every scrape, so every process that serves them gives the same, right
figures, whoever queued or sent the rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select

from notifier.enums import ACTIVE, ChannelName, OutboxStatus
from notifier.store import outbox

SENDS = Counter(
    "notifier_sends_total",
    "Notices handled by a worker, by channel and outcome (sent, failed, retry, skipped, "
    "superseded) and the provider's error code ('' when none).",
    ["channel", "outcome", "code"])
SEND_SECONDS = Histogram(
    "notifier_send_seconds", "Time a provider took to accept or refuse one notice.",
    ["channel"], buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
SCHEDULER_LAG = Histogram(
    "notifier_scheduler_lag_seconds",
    "How long after its due time each notice was claimed for sending.",
    buckets=(0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 900, 3600))



# A labelled child is the same object at every call; labels() takes a lock and builds its
# key each time, twice per message in a sending worker.
@lru_cache(maxsize=4096)
def sends(channel: str, outcome: str, code: str) -> Any:
    return SENDS.labels(channel, outcome, code)


@lru_cache(maxsize=64)
def send_seconds(channel: str) -> Any:
    return SEND_SECONDS.labels(channel)


class OutboxCollector(Collector):
    """Outbox rows waiting or in flight by status and channel, and the age of the oldest
    notice due but still pending: two aggregate queries per scrape, both on the status/due
    index. Rows past sending are not counted here: the outbox keeps every notice ever sent,
    so counting them would read the whole table at each scrape (about 0.6 s per million
    rows); notifier_sends_total counts them as they happen."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        rows = GaugeMetricFamily(
            "notifier_outbox_rows", "Outbox rows waiting (pending) or in flight (sending), "
            "by status and channel.", labels=["status", "channel"])
        oldest = GaugeMetricFamily(
            "notifier_outbox_oldest_due_seconds",
            "Age of the oldest notice due but still pending (0 when none is late).")
        with self.engine.connect() as conn:
            by_status = conn.execute(
                select(outbox.c.status, outbox.c.channel, func.count())
                .where(outbox.c.status.in_(ACTIVE))
                .group_by(outbox.c.status, outbox.c.channel)).all()
            now = datetime.now(UTC)
            first_due = conn.execute(
                select(func.min(outbox.c.due_at))
                .where(outbox.c.status == OutboxStatus.PENDING, outbox.c.due_at <= now)
            ).scalar()
        counts = {(str(status), str(channel)): 0 for status in ACTIVE for channel in ChannelName}
        counts.update({(status, channel): count for status, channel, count in by_status})
        for (status, channel), count in counts.items():
            rows.add_metric([status, channel], count)
        oldest.add_metric([], max(0.0, (now - first_due).total_seconds()) if first_due else 0.0)
        yield rows
        yield oldest

    def describe(self) -> Iterator[Metric]:
        return iter(())  # not collected at registration: that would query the database
