"""Wiring the notifier to this deployment: channels from settings, and what the domain does
when a provider says a contact is unusable."""

from __future__ import annotations

import logging
import os
import socket
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, Engine, Row, update
from sqlalchemy.exc import DBAPIError

from notifier.channels import REGISTRY, Channel, ConsoleChannel, DeliveryError, WebhookChannel
from notifier.dispatcher import Dispatcher, Recheck, RetryPolicy
from notifier.enums import BARS_ADDRESS, ChannelName, Outcome
from notifier.supersede import SupersedePolicy
from outages import db
from outages.enums import NoticeKind, Source
from outages.lifecycle import core as lc
from outages.notices import callbacks, recipients, subscriptions, unsubscribe
from outages.notices.queue import Batch, contact_flag, notice_context, pressing, queue
from outages.registry import optout
from outages.registry import subscriptions as subscription_store
from outages.registry.optout import ContactFlag
from outages.settings import Settings
from outages.timeutil import utcnow

log = logging.getLogger("outages.notices.delivery")
# A claim older than this is presumed abandoned (a worker on another host, or a process
# that cannot be checked); no send takes that long with the HTTP timeouts we set.
CLAIM_LEASE = timedelta(minutes=10)
# Of several notices of one outage to one customer falling due together, the highest ranked
# goes out: a change or cancellation says everything a reminder would.
SUPERSEDE = SupersedePolicy(
    ranks={
        # A "still out" acknowledgement and a "restored" pending together: the restoration
        # came later (a reopening skips the customer's pending "restored"), so it is true.
        NoticeKind.RESTORED: 90, NoticeKind.STILL_OUT_ACK: 89,
        NoticeKind.CANCELLED: 85, NoticeKind.CHANGED: 80,
        NoticeKind.NO_LONGER_AFFECTED: 75, NoticeKind.ETR_PASSED: 70, NoticeKind.ETR_UPDATE: 65,
        NoticeKind.FAULT_ACK: 60, NoticeKind.STARTED: 50, NoticeKind.ANNOUNCEMENT: 40,
        NoticeKind.REMINDER: 30, NoticeKind.FAULT_REPORT_RECEIVED: 20,
        NoticeKind.REPORT_UNRESOLVED: 88, NoticeKind.FAULT_NOT_AFFECTED: 75,
        NoticeKind.RUNNING_LATE: 70, NoticeKind.CUT_EXTENDED: 65,
    },
)


def channel_config(settings: Settings, channel: str) -> dict[str, Any]:
    """The channel's settings section, as plain values."""
    section: BaseModel = getattr(settings, REGISTRY[channel].provider)
    return section.model_dump()


def transports(settings: Settings) -> dict[str, Channel]:
    """Logical channel -> transport; without provider settings, the console gets it."""
    console = ConsoleChannel(settings.notices.console_path)
    found: dict[str, Channel] = {}
    for name, kind in REGISTRY.items():
        config = channel_config(settings, name)
        found[name] = kind.from_settings(config) if kind.configured(config) else console
    desk = settings.alerts.model_dump()
    # The desk's webhook has no stand-in: its rows are only queued when it is set up.
    if WebhookChannel.configured(desk):
        found[WebhookChannel.name] = WebhookChannel.from_settings(desk)
    return found


def channel_names(settings: Settings) -> dict[str, str]:
    """Logical channel -> the provider that sends it ('console' when none is set up)."""
    return {name: kind.provider if kind.configured(channel_config(settings, name))
            else ConsoleChannel.name for name, kind in REGISTRY.items()}


def dispatcher(engine: Engine, settings: Settings, **overrides: Any) -> Dispatcher:
    rates = {}
    for name, kind in REGISTRY.items():
        config = channel_config(settings, name)
        if kind.configured(config) and config.get("rate_per_second"):
            rates[name] = config["rate_per_second"]
    r = settings.retry
    options: dict[str, Any] = {
        "rates": rates, "concurrency": settings.worker.concurrency,
        "batch": settings.worker.claim_batch, "hooks": DomainHooks(settings),
        "retry": RetryPolicy(r.max_attempts, r.max_age, r.base_delay), "supersede": SUPERSEDE,
        "unsubscribe": links(settings), **overrides,
    }
    return Dispatcher(engine, transports(settings), **options)


def links(settings: Settings) -> Callable[[Any], str | None]:
    """An outbox row -> the unsubscribe URL its email carries: a customer's, or a
    subscription's own."""
    customers, subscribers = unsubscribe.links(settings), subscriptions.links(settings)

    def for_row(row: Any) -> str | None:
        return subscribers(row) if getattr(row, "subscription_id", None) else customers(row)
    return for_row


def is_dead(claimer: str, claimed_at: datetime) -> bool:
    """A claim (by another worker than the caller's) is abandoned when its process is gone
    (same host) or its lease ran out. A claim under this very process id is a predecessor's:
    a container restarted with the same host name starts its worker as the same pid."""
    host, _, rest = claimer.partition(":")
    if host != socket.gethostname() or utcnow() - claimed_at > CLAIM_LEASE:
        return utcnow() - claimed_at > CLAIM_LEASE
    try:
        pid = int(rest.partition(":")[0])
        if pid == os.getpid():
            return True
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (ValueError, PermissionError):
        return False
    return False


class DomainHooks:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def recheck(self, conn: Connection, rows: Sequence[Row[Any]]) -> Recheck:
        return recipients.recheck(conn, self.settings, rows)

    def on_sent(self, conn: Connection, provider_ids: Sequence[str]) -> None:
        callbacks.apply_early(conn, provider_ids)

    def on_permanent(self, conn: Connection,
                     failures: Sequence[tuple[Row[Any], DeliveryError]]) -> None:
        flagged: dict[ContactFlag, set[int]] = defaultdict(set)
        for row, error in failures:
            flag = None if error.outcome is None else contact_flag(row.channel, error.outcome)
            if flag is not None and row.customer_id is not None:
                flagged[flag].add(row.customer_id)
        for column, ids in flagged.items():
            mark_customers(conn, column, sorted(ids))
        mark_zalo_absent(conn, sorted({
            row.customer_id for row, error in failures if row.channel == ChannelName.ZALO
            and error.outcome is Outcome.ABSENT and row.customer_id is not None}))
        # A subscriber's number or address the provider refuses for good: the subscription ends.
        refused = sorted({row.subscription_id for row, error in failures
                          if getattr(row, "subscription_id", None)
                          and error.outcome in BARS_ADDRESS})
        subscription_store.end(conn, refused, actor="worker", source=Source.CLI,
                               reason="refused by the provider on send")
        by_channel: dict[str, list[Row[Any]]] = defaultdict(list)
        for row, _ in failures:
            by_channel[row.channel].append(row)
        for channel, rows in by_channel.items():
            fallback = REGISTRY[channel].fallback if channel in REGISTRY else None
            if fallback is not None:
                fall_back(conn, self.settings, rows, to=fallback)


def mark_customers(conn: Connection, column: ContactFlag, ids: list[int]) -> None:
    """The provider refused these contacts for good: flag them (audited) so nothing is sent
    there again. Rare, so one statement per customer is fine."""
    for customer_id in ids:
        optout.flag_customer(conn, customer_id=customer_id, flag=column,
                             reason="refused by the provider on send", actor="worker",
                             source=Source.CLI)


def mark_zalo_absent(conn: Connection, ids: list[int]) -> None:
    """Zalo says these customers' numbers have no account it can reach: their next notices
    go by SMS until zalo.retry_absent_after has passed."""
    if ids:
        c = lc.CUSTOMERS.c
        conn.execute(update(lc.CUSTOMERS).where(db.among(conn, c.id, ids))
                     .values(zalo_absent_at=utcnow()))
        log.info("%d customers are not on Zalo: their notices go by SMS for now", len(ids))


def fall_back(conn: Connection, settings: Settings, rows: Sequence[Row[Any]], *,
              to: str) -> None:
    """Queue the same notices on channel `to` for the customers it reaches (an SMS that
    failed for good goes by email, a Zalo message by SMS). The new row's key is the failed
    one's with the other channel's name, the key that channel's notice has anyway, so a
    customer who already has it there gets nothing twice."""
    groups: dict[tuple[int, int, str, str, datetime], list[int]] = defaultdict(list)
    example: dict[tuple[int, int, str, str, datetime], Row[Any]] = {}
    for row in rows:
        if row.customer_id is None or row.outage_id is None:
            continue
        scope = row.key.split(":")[1]
        group = (row.outage_id, row.revision, row.kind, scope, row.due_at)
        groups[group].append(row.customer_id)
        example.setdefault(group, row)
    for group, ids in groups.items():
        row, (outage_id, revision, kind, scope, _) = example[group], group
        # A notice that will not render (a template mistake) loses its fallback, loudly;
        # raising would roll back the outcomes recorded with it, and they would fail again.
        savepoint = conn.begin_nested()
        try:
            outage = lc.load(conn, outage_id)
            batch = Batch(outage_id=outage_id, revision=revision, kind=kind, due_at=utcnow(),
                          context=notice_context(settings, outage, row), scope=scope,
                          ref_at=row.ref_at, pressing=pressing(outage))
            queued = queue(conn, settings, batch, ids, now=utcnow(), channels=(to,))
        except DBAPIError:
            raise  # the database's own trouble: the whole record is tried again
        except Exception:
            savepoint.rollback()
            log.exception("%s of outage %s: %d %s failures could not fall back to %s",
                          kind, outage_id, len(ids), row.channel, to)
            continue
        savepoint.commit()
        log.info("%s: %d %s failures fell back to %s (%d queued)", kind, len(ids),
                 rows[0].channel, to, queued)
