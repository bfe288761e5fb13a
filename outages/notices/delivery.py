"""Wiring the notifier to this deployment: channels from settings, and what the domain does
when a provider says a contact is unusable."""

from __future__ import annotations

import logging
import os
import socket
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Row, bindparam, select, update

from notifier.channels import REGISTRY, Channel, DeliveryError
from notifier.dispatcher import Dispatcher, RetryPolicy
from notifier.store import outbox
from outages.models import Outage
from outages.notices.queue import Batch, context, cost, queue, renderer
from outages.registry import optout
from outages.registry.optout import ContactFlag
from outages.settings import Settings
from outages.timeutil import utcnow

log = logging.getLogger("outages.notices.delivery")
# A claim older than this is presumed abandoned (a worker on another host, or a process
# that cannot be checked); no send takes that long with the HTTP timeouts we set.
CLAIM_LEASE = timedelta(minutes=10)
FLAGS: dict[str, ContactFlag] = {"phone_invalid": "phone_invalid", "sms_opt_out": "sms_opt_out",
                                 "email_invalid": "email_opt_out"}


def transports(settings: Settings) -> dict[str, Channel]:
    """Logical channel -> transport; without provider settings, the console gets it."""
    console = REGISTRY["console"](settings.notices.console_path)
    t, s = settings.twilio, settings.smtp
    sms = REGISTRY["sms"](
        account_sid=t.account_sid, auth_token=t.auth_token, from_number=t.from_number,
        messaging_service_sid=t.messaging_service_sid, api_url=t.api_url,
        status_callback_url=t.status_callback_url, timeout=t.timeout.total_seconds(),
        validity_period=int(t.validity_period.total_seconds()),
    ) if t.configured else console
    email = REGISTRY["email"](
        host=s.host, port=s.port, from_address=s.from_address, starttls=s.starttls, tls=s.tls,
        username=s.username, password=s.password, timeout=s.timeout.total_seconds(),
    ) if s.configured else console
    return {"sms": sms, "email": email}


def channel_names(settings: Settings) -> dict[str, str]:
    return {"sms": "twilio" if settings.twilio.configured else "console",
            "email": "smtp" if settings.smtp.configured else "console"}


def dispatcher(engine: Engine, settings: Settings, **overrides: Any) -> Dispatcher:
    rates = {}
    if settings.twilio.configured:
        rates["sms"] = settings.twilio.rate_per_second
    if settings.smtp.configured:
        rates["email"] = settings.smtp.rate_per_second
    r = settings.retry
    options: dict[str, Any] = {
        "rates": rates, "concurrency": settings.worker.concurrency,
        "batch": settings.worker.claim_batch, "hooks": DomainHooks(settings),
        "retry": RetryPolicy(r.max_attempts, r.max_age, r.base_delay),
        **overrides,
    }
    return Dispatcher(engine, transports(settings), **options)


def is_dead(claimer: str, claimed_at: datetime) -> bool:
    """A claim is abandoned when its process is gone (same host) or its lease ran out."""
    host, _, rest = claimer.partition(":")
    if host != socket.gethostname() or utcnow() - claimed_at > CLAIM_LEASE:
        return utcnow() - claimed_at > CLAIM_LEASE
    try:
        os.kill(int(rest.partition(":")[0]), 0)
    except ProcessLookupError:
        return True
    except (ValueError, PermissionError):
        return False
    return False


class DomainHooks:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def on_permanent(self, conn: Connection,
                     failures: Sequence[tuple[Row[Any], DeliveryError]]) -> None:
        flagged: dict[ContactFlag, set[int]] = defaultdict(set)
        for row, error in failures:
            if error.outcome in FLAGS and row.customer_id is not None:
                flagged[FLAGS[error.outcome]].add(row.customer_id)
        for column, ids in flagged.items():
            mark_customers(conn, column, sorted(ids))
        fall_back_to_email(conn, self.settings,
                           [row for row, _ in failures if row.channel == "sms"])


    def render(self, conn: Connection, rows: Sequence[Row[Any]]) -> dict[int, dict[str, Any]]:
        return render_rows(conn, self.settings, rows)


def render_rows(conn: Connection, settings: Settings,
                rows: Sequence[Row[Any]]) -> dict[int, dict[str, Any]]:
    """Text for rows queued bare, one render per (outage, kind, channel, language)."""
    cache: dict[tuple[Any, ...], dict[str, Any]] = {}
    texts: dict[int, dict[str, Any]] = {}
    for row in rows:
        group = (row.outage_id, row.kind, row.channel, row.language)
        if group not in cache:
            outage = conn.execute(select(Outage.__table__)
                                  .where(Outage.id == row.outage_id)).one()
            ctx = context(settings, outage, restored_at=row.ref_at, reported_at=row.ref_at)
            text = renderer(settings).render(row.channel, row.language, row.kind, ctx)
            cache[group] = {"subject": text.subject, "body": text.body, "html": text.html,
                            "encoding": text.encoding, "segments": text.segments,
                            "cost": cost(settings, row.channel, text)}
        texts[row.id] = cache[group]
    conn.execute(update(outbox).where(outbox.c.id == bindparam("b_id")).values(
        {k: bindparam(f"b_{k}") for k in next(iter(cache.values()))}),
        [{"b_id": i, **{f"b_{k}": v for k, v in t.items()}} for i, t in texts.items()])
    return texts


def mark_customers(conn: Connection, column: ContactFlag, ids: list[int]) -> None:
    """The provider refused these contacts for good: flag them (audited) so nothing is sent
    there again. Rare, so one statement per customer is fine."""
    for customer_id in ids:
        optout.flag_customer(conn, customer_id=customer_id, flag=column,
                             reason="refused by the provider on send", actor="worker",
                             source="cli")


def fall_back_to_email(conn: Connection, settings: Settings, rows: Sequence[Row[Any]]) -> None:
    """Queue the same notice by email for customers who have an address (the email row's
    key is the SMS key with ':email', so a customer already emailed gets nothing twice)."""
    groups: dict[tuple[int, int, str, str], list[int]] = defaultdict(list)
    ref: dict[tuple[int, int, str, str], datetime | None] = {}
    for row in rows:
        if row.customer_id is None or row.outage_id is None:
            continue
        scope = row.key.split(":")[1]
        group = (row.outage_id, row.revision, row.kind, scope)
        groups[group].append(row.customer_id)
        ref[group] = row.ref_at
    for (outage_id, revision, kind, scope), ids in groups.items():
        outage = conn.execute(select(Outage.__table__).where(Outage.id == outage_id)).one()
        ctx = context(settings, outage, restored_at=ref[(outage_id, revision, kind, scope)],
                      reported_at=ref[(outage_id, revision, kind, scope)])
        batch = Batch(outage_id=outage_id, revision=revision, kind=kind, due_at=utcnow(),
                      context=ctx, scope=scope, ref_at=ref[(outage_id, revision, kind, scope)])
        queued = queue(conn, settings, batch, ids, now=utcnow(), channels=("email",))
        log.info("%s: %d SMS failures fell back to email (%d queued)", kind, len(ids), queued)
