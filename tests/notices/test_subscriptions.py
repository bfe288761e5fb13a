"""Subscribers in the planner and the worker: who hears, once per contact, in their language,
with how to stop; ended subscriptions and restored houses skipped at send time; the staff
CLI, audited."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import Engine, insert, select

from notifier import gsm
from notifier.store import outbox
from outages.enums import Source
from outages.lifecycle.events import OutageEvent, publish
from outages.models import AuditEntry, Interruption
from outages.notices import delivery
from outages.registry import subscriptions as store
from outages.registry.subscriptions import NewSubscription, Status
from outages.settings import Settings
from tests.notices import helpers as h
from tests.support.twilio_server import TwilioServer

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 10:00 in Hanoi
WATCHER, WATCHER_2 = "+84987000001", "+84987000002"


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


def subscribe(engine: Engine, contact: str, *, code: str | None = None,
              district: str | None = None, language: str = "vi",
              status: Status = Status.ACTIVE) -> int:
    """A confirmed subscription, written as a confirmation leaves it."""
    channel = "email" if "@" in contact else "sms"
    with engine.begin() as conn:
        customer = store.customer_id(conn, code) if code else None
        target = code or district or ""
        new = NewSubscription(channel=channel, contact=contact,
                              target_kind="customer" if code else "district", target=target,
                              keyword=gsm.fold(target).upper(), customer_id=customer,
                              district=district, language=language, via="web")
        return store.create(conn, new, status=status)


def _town(add_customers: Any) -> None:
    """C0000000..C0000005 in Dong Da (6 houses), C0000010 alone in Tay Ho, C0000020 in Ba
    Dinh (outside the cuts)."""
    add_customers(h.customers(6, district="Dong Da") + h.customers(1, start=10, district="Tay Ho")
                  + h.customers(1, start=20, district="Ba Dinh"))


def _cut(engine: Engine, settings: Settings, members: list[int]) -> int:
    start = NOW + timedelta(days=6)
    outage = h.add_outage(engine, start=start, end=start + timedelta(hours=8), members=members)
    with engine.begin() as conn:
        publish(conn, settings, OutageEvent("cut_created", outage, 1, NOW))
    return outage


def _to(engine: Engine, recipient: str) -> list[Any]:
    return h.rows(engine, recipient=recipient)


def test_code_and_district_subscribers_hear_once_per_contact_with_how_to_stop(
    engine: Engine, settings: Settings, add_customers: Any,
) -> None:
    _town(add_customers)
    ids = h.customer_ids(engine)
    by_code = subscribe(engine, WATCHER, code="C0000002")
    subscribe(engine, WATCHER, district="Dong Da")  # the same phone twice: one message
    subscribe(engine, "+8490" + "0000003", code="C0000003")  # the account's own number
    english = subscribe(engine, "son@example.test", code="c0000002", language="en")
    subscribe(engine, WATCHER_2, district="Tay Ho")  # one house only: below public.min_count
    subscribe(engine, "+84987000003", code="NO-SUCH-CODE")
    subscribe(engine, "+84987000004", code="C0000001", status=Status.PENDING)
    subscribe(engine, "+84987000005", code="C0000020")  # not in the cut
    _cut(engine, settings, ids[:7])

    watcher = _to(engine, WATCHER)
    kinds = Counter(r.kind for r in watcher)
    assert kinds == {"announcement": 1, "reminder": len(settings.planned.reminders)}
    assert {r.subscription_id for r in watcher} == {by_code}
    assert all(r.customer_id is None and r.channel == "sms" for r in watcher)
    announcement = next(r for r in watcher if r.kind == "announcement")
    account = next(r for r in h.rows(engine, customer_id=ids[2], kind="announcement"))
    assert announcement.body == f"{account.body} (Theo doi C0000002. Soan HUY C0000002 de ngung.)"
    measured = gsm.measure(announcement.body)
    assert (announcement.encoding, announcement.segments) == (measured.encoding, measured.segments)
    assert announcement.cost == pytest.approx(
        measured.segments * settings.notices.sms_cost_per_segment)
    # The account's own number has its notice once, as the account's.
    assert [r.customer_id for r in _to(engine, "+84900000003")
            if r.kind == "announcement"] == [ids[3]]
    [mail] = [r for r in _to(engine, "son@example.test") if r.kind == "announcement"]
    assert mail.channel == "email" and mail.language == "en"
    assert mail.subscription_id == english and "Power will be off" in mail.body
    for nobody in (WATCHER_2, "+84987000003", "+84987000004", "+84987000005"):
        assert _to(engine, nobody) == [], nobody


def test_a_replayed_event_queues_nothing_twice(engine: Engine, settings: Settings,
                                               add_customers: Any) -> None:
    _town(add_customers)
    subscribe(engine, WATCHER, code="C0000002")
    outage = _cut(engine, settings, h.customer_ids(engine)[:7])
    before = len(h.rows(engine))
    with engine.begin() as conn:
        publish(conn, settings, OutageEvent("cut_created", outage, 1, NOW))
    assert len(h.rows(engine)) == before


def test_restored_in_steps_reaches_a_subscriber_once(engine: Engine, settings: Settings,
                                                     add_customers: Any) -> None:
    _town(add_customers)
    ids = h.customer_ids(engine)[:6]
    subscribe(engine, WATCHER, district="Dong Da")
    outage = h.add_outage(engine, kind="fault", status="confirmed", actual_start=NOW,
                          members=ids, etr=NOW + timedelta(hours=2))
    with engine.begin() as conn:
        publish(conn, settings, OutageEvent("fault_confirmed", outage, 1, NOW))
        for revision, step in ((2, ids[:3]), (3, ids[3:])):
            h.add_revision(conn, outage, revision, "restore", at=NOW)
            publish(conn, settings, OutageEvent("restored", outage, revision, NOW,
                                                customer_ids=tuple(step)))
    # Each step restores fewer than public.min_count houses; the district had six out.
    kinds = Counter(r.kind for r in _to(engine, WATCHER))
    assert (kinds["fault_ack"], kinds["restored"]) == (1, 1)


def test_a_cancellation_reaches_the_subscribers_who_were_told_of_the_cut(
        engine: Engine, settings: Settings, add_customers: Any) -> None:
    from sqlalchemy import update

    from outages.lifecycle import cuts

    _town(add_customers)
    subscribe(engine, WATCHER, district="Dong Da")
    subscribe(engine, "+84987000003", code="C0000002")
    outage = _cut(engine, settings, h.customer_ids(engine)[:6])
    with engine.begin() as conn:  # the announcements went out
        conn.execute(update(outbox).where(outbox.c.kind == "announcement")
                     .values(status="sent", sent_at=NOW))
    subscribe(engine, WATCHER_2, district="Dong Da")  # too late to have been told
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        cuts.cancel(engine, settings, cut_id=outage, reason="thời tiết", actor="test",
                    source="cli")
    cancelled = {r.recipient for r in h.rows(engine, kind="cancelled")
                 if r.subscription_id is not None}
    assert cancelled == {WATCHER, "+84987000003"}


def _dispatcher(engine: Engine, settings: Settings) -> Any:
    return delivery.dispatcher(engine, settings, concurrency=1)


def test_worker_sends_to_subscribers_and_skips_what_became_untrue(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str],
) -> None:
    settings = make_settings(**twilio_env)
    _town(add_customers)
    ids = h.customer_ids(engine)
    ended = subscribe(engine, WATCHER_2, code="C0000001")
    subscribe(engine, WATCHER, code="C0000002")
    outage = h.add_outage(engine, kind="fault", status="confirmed", actual_start=NOW,
                          members=ids[:6], etr=NOW + timedelta(hours=2))
    with engine.begin() as conn:
        publish(conn, settings, OutageEvent("fault_confirmed", outage, 1, NOW))
        store.end(conn, [ended], actor="test", source=Source.CLI, reason="test")
        # C0000002 has power back before the worker runs: the acknowledgement is untrue.
        conn.execute(insert(Interruption.__table__).values(
            outage_id=outage, customer_id=ids[2], planned=False, start_at=NOW, end_at=NOW))
    dispatcher = _dispatcher(engine, settings)
    try:
        dispatcher.drain()
    finally:
        dispatcher.close()
    assert twilio.bodies_to(WATCHER) == [] and twilio.bodies_to(WATCHER_2) == []
    skipped = {r.recipient: r.last_error_code for r in h.rows(engine, status="skipped")}
    assert skipped[WATCHER] == "restored" and skipped[WATCHER_2] == "subscription_ended"
    assert len(twilio.bodies_to("+84900000003")) == 1  # the other houses hear as before


def test_worker_sends_a_subscriber_the_notice_with_its_footer(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str],
) -> None:
    settings = make_settings(**twilio_env)
    _town(add_customers)
    subscribe(engine, WATCHER, district="Dong Da", language="en")
    _cut(engine, settings, h.customer_ids(engine)[:7])
    dispatcher = _dispatcher(engine, settings)
    try:
        dispatcher.drain()
    finally:
        dispatcher.close()
    [body] = twilio.bodies_to(WATCHER)
    assert body.startswith("Dien luc Ha Noi: Power will be off in Phuong Lang Ha")
    assert body.endswith("(Following DONG DA. Text HUY DONG DA to stop.)")


def test_a_subscribers_reminder_sent_on_a_later_day_is_worded_for_that_day(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str],
) -> None:
    settings = make_settings(**twilio_env, OUTAGES_NOTICES_CHANNELS="sms")
    _town(add_customers)
    subscribe(engine, WATCHER, district="Dong Da", language="en")
    _cut(engine, settings, h.customer_ids(engine)[:7])  # 10:00-18:00 on 7 December
    late = datetime(2026, 12, 6, 17, 30, tzinfo=UTC)  # 00:30 on the 7th: the worker was down
    for at in (NOW, late):  # the announcement, then the reminder due at 10:00 on the 6th
        with time_machine.travel(at, tick=True):
            dispatcher = delivery.dispatcher(engine, settings, concurrency=1,
                                             clock=lambda at=at: at)
            try:
                dispatcher.drain()
            finally:
                dispatcher.close()
    reminder = twilio.bodies_to(WATCHER)[-1]
    assert reminder == ("Dien luc Ha Noi reminder: power off in Phuong Lang Ha from 10:00 today "
                        "to 18:00 (bao duong duong day). Hotline 1900 6769. "
                        "(Following DONG DA. Text HUY DONG DA to stop.)")
    [row] = [r for r in h.rows(engine, recipient=WATCHER, kind="reminder") if r.status == "sent"]
    measured = gsm.measure(reminder)
    assert (row.body, row.segments) == (reminder, measured.segments)


def test_staff_list_and_remove_by_cli_audited(cli: Any, engine: Engine,
                                              add_customers: Any) -> None:
    _town(add_customers)
    first = subscribe(engine, WATCHER, code="C0000002")
    subscribe(engine, "son@example.test", district="Dong Da")
    subscribe(engine, WATCHER_2, code="C0000003", status=Status.PENDING)
    listed = json.loads(cli("subscriptions", "list", "--json").stdout)
    assert {(s["contact"], s["target"], s["matched"]) for s in listed} == {
        (WATCHER, "C0000002", True), ("son@example.test", "Dong Da", True)}
    by_code = json.loads(cli("subscriptions", "list", "--json", "--customer", "c0000002").stdout)
    assert [s["id"] for s in by_code] == [first]
    by_district = json.loads(cli("subscriptions", "list", "--json", "--district",
                                 "Dong Da").stdout)
    assert [s["contact"] for s in by_district] == ["son@example.test"]
    result = cli("subscriptions", "remove", str(first), "--by", "ana")
    assert result.exit_code == 0, result.stdout
    again = cli("subscriptions", "remove", str(first))
    assert again.exit_code == 3 and "no active subscription" in again.stdout + again.stderr
    listed = json.loads(cli("subscriptions", "list", "--json").stdout)
    assert [s["contact"] for s in listed] == ["son@example.test"]
    with engine.connect() as conn:
        audit = conn.execute(select(AuditEntry.__table__)).all()
    [entry] = [a for a in audit if a.action == "subscription.end"]
    assert (entry.actor, entry.source, entry.entity_id) == ("ana", "cli", str(first))
    assert entry.after["reason"] == "removed by staff"
    assert WATCHER not in json.dumps(entry.after)  # masked in the audit log
    assert cli("subscriptions", "list").exit_code == 0
    with engine.connect() as conn:
        assert conn.execute(select(outbox)).all() == []
