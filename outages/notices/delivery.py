"""Wiring the notifier to this deployment: channels from settings, and what the domain does
when a provider says a contact is unusable."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, Engine, Row

from notifier.channels import REGISTRY, Channel, ConsoleChannel, DeliveryError, WebhookChannel
from notifier.dispatcher import Dispatcher, Recheck, RetryPolicy
from notifier.quiet import QuietHours
from notifier.supersede import SupersedePolicy
from outages.enums import NoticeKind
from outages.notices import callbacks, recipients, refusals, subscriptions, unsubscribe
from outages.settings import Settings, parse_quiet_hours
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
        NoticeKind.FAULT_DISMISSED: 88,
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
    r, quiet = settings.retry, quiet_hours(settings)
    options: dict[str, Any] = {
        "rates": rates, "concurrency": settings.worker.concurrency,
        "batch": settings.worker.claim_batch, "hooks": DomainHooks(settings),
        "retry": RetryPolicy(r.max_attempts, r.max_age, r.base_delay, quiet),
        "supersede": SUPERSEDE, "unsubscribe": links(settings), "quiet": quiet, **overrides,
    }
    return Dispatcher(engine, transports(settings), **options)


def quiet_hours(settings: Settings) -> QuietHours | None:
    """notices.quiet_hours as the worker applies it; None when there are none."""
    if not settings.notices.quiet_hours:
        return None
    window = parse_quiet_hours(settings.notices.quiet_hours)
    return QuietHours(settings.tz, window) if window[0] != window[1] else None


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
        callbacks.apply_early(conn, self.settings, provider_ids)

    def on_permanent(self, conn: Connection,
                     failures: Sequence[tuple[Row[Any], DeliveryError]]) -> None:
        refusals.refused(conn, self.settings, failures)
