"""What the domain does when a provider refuses a notice for good, whether it says so to the
send or later in a delivery report: flag the contact so nothing goes there again, end a
refused subscriber's subscription, and queue the same notice on the channel's fallback."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, update
from sqlalchemy.exc import DBAPIError

from notifier import outbox
from notifier.channels import REGISTRY, DeliveryError
from notifier.enums import BARS_ADDRESS, ChannelName, Outcome
from outages import db
from outages.enums import Source
from outages.lifecycle import core as lc
from outages.notices.queue import (
    Batch,
    channel_key,
    contact_flag,
    notice_context,
    pressing,
    queue,
    told_windows,
)
from outages.registry import optout
from outages.registry import subscriptions as subscription_store
from outages.registry.optout import ContactFlag
from outages.settings import Settings
from outages.timeutil import utcnow

log = logging.getLogger("outages.notices.delivery")
ON_SEND = "refused by the provider on send"
# A customer's notice skipped at send time because they no longer prefer its channel
# (notices.preference); a fallback to that channel brings it back.
CHANNEL_CHANGED = "channel_changed"


def refused(conn: Connection, settings: Settings,
            failures: Sequence[tuple[Row[Any], DeliveryError]], *, actor: str = "worker",
            source: str = Source.CLI, reason: str = ON_SEND) -> None:
    """Act on outbox rows the provider refused for good (with its error for each)."""
    flagged: dict[ContactFlag, set[int]] = defaultdict(set)
    for row, error in failures:
        flag = None if error.outcome is None else contact_flag(row.channel, error.outcome)
        if flag is not None and row.customer_id is not None:
            flagged[flag].add(row.customer_id)
    for column, ids in flagged.items():
        mark_customers(conn, column, sorted(ids), actor=actor, source=source, reason=reason)
    # A number on no account (a caller, a subscriber) the provider says opted out.
    for phone in sorted({row.recipient for row, error in failures
                         if row.customer_id is None and row.channel == ChannelName.SMS
                         and error.outcome is Outcome.OPTED_OUT}):
        optout.mark_number(conn, phone, True, actor=actor, source=source)
    mark_zalo_absent(conn, sorted({
        row.customer_id for row, error in failures if row.channel == ChannelName.ZALO
        and error.outcome is Outcome.ABSENT and row.customer_id is not None}))
    # A subscriber's number or address the provider refuses for good: the subscription ends.
    ended = sorted({row.subscription_id for row, error in failures
                    if getattr(row, "subscription_id", None) and error.outcome in BARS_ADDRESS})
    subscription_store.end(conn, ended, actor=actor, source=source, reason=reason)
    by_channel: dict[str, list[Row[Any]]] = defaultdict(list)
    for row, _ in failures:
        by_channel[row.channel].append(row)
    for channel, rows in by_channel.items():
        fallback = REGISTRY[channel].fallback if channel in REGISTRY else None
        if fallback is not None:
            fall_back(conn, settings, rows, to=fallback)


def mark_customers(conn: Connection, column: ContactFlag, ids: list[int], *, actor: str,
                   source: str, reason: str) -> None:
    """The provider refused these contacts for good: flag them (audited) so nothing is sent
    there again. Rare, so one statement per customer is fine."""
    for customer_id in ids:
        optout.flag_customer(conn, customer_id=customer_id, flag=column,
                             reason=reason, actor=actor, source=source)


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
    customer who already has it there gets nothing twice. One skipped there because the
    customer no longer preferred that channel is made pending again."""
    groups: dict[tuple[int, int, str, str, datetime], list[int]] = defaultdict(list)
    example: dict[tuple[int, int, str, str, datetime], Row[Any]] = {}
    outbox.revive(conn, {channel_key(row.key, to) for row in rows
                         if row.customer_id is not None and row.outage_id is not None},
                  skipped_as=CHANNEL_CHANGED, now=utcnow())
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
            window = told_windows(conn, [row]).get(row.id)
            batch = Batch(outage_id=outage_id, revision=revision, kind=kind, due_at=utcnow(),
                          context=notice_context(settings, outage, row, window), scope=scope,
                          ref_at=row.ref_at, deadline=row.deadline, pressing=pressing(outage))
            queued = queue(conn, settings, batch, ids, now=utcnow(), channels=(to,))
        except DBAPIError:
            raise  # the database's own trouble: the whole record is tried again
        except Exception:
            savepoint.rollback()
            log.exception("%s of outage %s: %d %s failures could not fall back to %s",
                          kind, outage_id, len(ids), row.channel, to)
            continue
        savepoint.commit()
        log.info("%s: %d %s notices fell back to %s (%d queued)", kind, len(ids),
                 rows[0].channel, to, queued)
