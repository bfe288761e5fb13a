"""A queued notice is decided again when it is sent: the customer's contact, opt-outs and
language then, and the outage's state then, not when the notice was queued."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import Engine, insert, update

from notifier.dispatcher import Dispatcher
from notifier.store import outbox
from outages.enums import CutStatus
from outages.lifecycle.events import OutageEvent, publish
from outages.models import Interruption, Outage
from outages.notices import delivery, sms_commands
from outages.registry.customers import update_customer
from outages.settings import Settings
from tests.notices import helpers as h
from tests.support.twilio_server import TwilioServer

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 10:00 in Hanoi
START = NOW + timedelta(days=6)
NIGHT = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # 22:00 in Hanoi, inside quiet hours
LEASE = delivery.CLAIM_LEASE + timedelta(minutes=1)  # a claim this old is abandoned


@pytest.fixture
def frozen() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


def _drain(engine: Engine, settings: Settings, at: datetime, concurrency: int = 4) -> int:
    dispatcher: Dispatcher = delivery.dispatcher(engine, settings, clock=h.Clock(at),
                                                 concurrency=concurrency)
    try:
        return dispatcher.drain()
    finally:
        dispatcher.close()


def _announce_cut(engine: Engine, settings: Settings, ids: list[int]) -> int:
    outage = h.add_outage(engine, start=START, end=START + timedelta(hours=8), members=ids)
    with engine.begin() as conn:
        publish(conn, settings, OutageEvent("cut_created", outage, 1, NOW))
    return outage


def _update(engine: Engine, settings: Settings, code: str, **changes: Any) -> None:
    with engine.begin() as conn:
        update_customer(conn, code, changes=changes, actor="test", source="cli",
                        settings=settings)


def _reminders(engine: Engine, customer_id: int, channel: str = "sms") -> list[tuple[str, Any]]:
    return [(r.status, r.last_error_code)
            for r in h.rows(engine, kind="reminder", customer_id=customer_id, channel=channel)]


def test_opt_outs_and_contact_changes_reach_reminders_already_queued(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], frozen: Any,
) -> None:
    settings = make_settings(**twilio_env)
    add_customers(h.customers(5, email=True))
    ids = h.customer_ids(engine)
    _announce_cut(engine, settings, ids)
    assert _drain(engine, settings, NOW) == 10  # the announcement by SMS and email
    with engine.begin() as conn:  # texted HUY to the utility's number
        sms_commands.handle(conn, settings, phone="+84900000000", text="HUY")
    _update(engine, settings, "C0000001", sms_opt_out=True)
    _update(engine, settings, "C0000002", phone="0912 345 678")
    _update(engine, settings, "C0000003", email_opt_out=True, language="en")
    _drain(engine, settings, START - timedelta(days=1))
    _drain(engine, settings, START - timedelta(hours=2))
    for customer in ids[:2]:  # no more texts, but their emails still come
        assert _reminders(engine, customer) == [("skipped", "sms_opt_out")] * 2
        assert [s for s, _ in _reminders(engine, customer, "email")] == ["sent", "sent"]
        assert len(twilio.bodies_to(f"+8490000000{customer - ids[0]}")) == 1
    moved = h.rows(engine, kind="reminder", customer_id=ids[2], channel="sms")
    assert {(r.status, r.recipient) for r in moved} == {("sent", "+84912345678")}
    assert len(twilio.bodies_to("+84900000002")) == 1  # the announcement, before the change
    assert _reminders(engine, ids[3], "email") == [("skipped", "email_opt_out")] * 2
    english = twilio.bodies_to("+84900000003")[1:]
    assert len(english) == 2
    assert all(b.startswith("Dien luc Ha Noi reminder: power off in Phuong Lang Ha")
               for b in english)
    assert twilio.bodies_to("+84900000004")[1].startswith("Dien luc Ha Noi nhac:")


def test_a_number_the_provider_refused_is_not_tried_again_for_queued_reminders(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], frozen: Any,
) -> None:
    settings = make_settings(**twilio_env)
    add_customers(h.customers(2))
    ids = h.customer_ids(engine)
    twilio.fail("+84900000000", 400, 21211, times=5)  # no such number, every time
    _announce_cut(engine, settings, ids)
    _drain(engine, settings, NOW)
    _drain(engine, settings, START - timedelta(days=1))
    _drain(engine, settings, START - timedelta(hours=2))
    assert len(twilio.scripted["+84900000000"]) == 4  # one attempt, for the announcement
    assert _reminders(engine, ids[0]) == [("skipped", "phone_invalid")] * 2
    assert [s for s, _ in _reminders(engine, ids[1])] == ["sent", "sent"]


def test_a_reminder_queued_days_ahead_is_tried_again_after_a_transient_failure(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], frozen: Any,
) -> None:
    settings = make_settings(**twilio_env, OUTAGES_NOTICES_CHANNELS="sms")
    add_customers(h.customers(1))
    _announce_cut(engine, settings, h.customer_ids(engine))
    _drain(engine, settings, NOW)
    twilio.fail("+84900000000", 503, 0, times=2)  # the provider down for a moment
    day_before = START - timedelta(days=1)
    for minutes in (0, 1, 2):  # retried within seconds (base delay 0 s), three drains
        _drain(engine, settings, day_before + timedelta(minutes=minutes))
    [reminder] = [r for r in h.rows(engine, kind="reminder") if r.due_at <= day_before
                  + timedelta(minutes=2)]
    assert (reminder.status, reminder.attempts) == ("sent", 3)
    assert reminder.first_due_at == day_before  # kept while due_at moved to each retry
    assert len(twilio.bodies_to("+84900000000")) == 2  # the announcement and the reminder


def test_a_reminder_retried_after_midnight_is_worded_for_the_day_it_goes_out(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    import notifier.dispatcher

    monkeypatch.setattr(notifier.dispatcher.random, "uniform", lambda low, high: 1.0)
    settings = make_settings(**{**twilio_env, "OUTAGES_RETRY_BASE_DELAY": "5m"},
                             OUTAGES_NOTICES_CHANNELS="sms")
    add_customers(h.customers(1, language="en"))
    start = datetime(2026, 12, 7, 16, 57, tzinfo=UTC)  # 23:57 in Hanoi
    outage = h.add_outage(engine, start=start, end=start + timedelta(hours=4),
                          members=h.customer_ids(engine))
    with time_machine.travel(NOW, tick=True):
        with engine.begin() as conn:
            publish(conn, settings, OutageEvent("cut_created", outage, 1, NOW))
        _drain(engine, settings, NOW)
    due = start - timedelta(days=1)  # 23:57 the day before
    twilio.fail("+84900000000", 503, 0, times=1)
    with time_machine.travel(due, tick=True):
        _drain(engine, settings, due)  # fails; tried again at 00:02, the day of the cut
    with time_machine.travel(due + timedelta(minutes=10), tick=True):
        _drain(engine, settings, due + timedelta(minutes=10))
    reminder = twilio.bodies_to("+84900000000")[-1]
    assert reminder.startswith("Dien luc Ha Noi reminder:")
    assert "from 23:57 today to 03:57 tomorrow" in reminder, reminder


def test_a_refusal_stops_the_other_texts_to_that_number_sent_together(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], frozen: Any,
) -> None:
    settings = make_settings(**twilio_env)
    add_customers(h.customers(1))
    twilio.fail("+84900000000", 400, 21610, times=5)  # replied STOP to the provider
    for _ in range(2):  # two overlapping cuts: two announcements in one claim
        _announce_cut(engine, settings, h.customer_ids(engine))
    _drain(engine, settings, NOW, concurrency=1)
    rows = h.rows(engine, kind="announcement")
    assert [(r.status, r.last_error_code) for r in rows] == [
        ("failed", "21610"), ("skipped", "recipient_opted_out")]
    assert len(twilio.scripted["+84900000000"]) == 4


def test_every_text_to_a_number_refused_in_the_batch_falls_back_to_email(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], frozen: Any,
) -> None:
    settings = make_settings(**twilio_env, OUTAGES_NOTICES_CHANNELS="sms")
    add_customers(h.customers(1, email=True))  # texts preferred, an email address known
    twilio.fail("+84900000000", 400, 21211, times=5)  # no such number
    outages = [_announce_cut(engine, settings, h.customer_ids(engine)) for _ in range(2)]
    _drain(engine, settings, NOW, concurrency=1)  # both announcements in one claim
    texts = [(r.outage_id, r.status, r.last_error_code)
             for r in h.rows(engine, kind="announcement", channel="sms")]
    assert sorted(texts) == [(outages[0], "failed", "21211"),
                             (outages[1], "skipped", "recipient_invalid")]
    emails = h.rows(engine, kind="announcement", channel="email")
    assert sorted(r.outage_id for r in emails) == outages  # neither cut goes untold
    assert len(twilio.scripted["+84900000000"]) == 4  # the number was tried once


def test_a_cleared_number_skips_the_text_with_the_reason(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], frozen: Any,
) -> None:
    settings = make_settings(**twilio_env)
    add_customers(h.customers(2))
    ids = h.customer_ids(engine)
    _announce_cut(engine, settings, ids)
    _update(engine, settings, "C0000000", phone="")  # the number was cleared
    _drain(engine, settings, NOW)
    rows = h.rows(engine, kind="announcement", customer_id=ids[0])
    assert [(r.status, r.last_error_code) for r in rows] == [("skipped", "no_phone")]
    assert twilio.bodies_to("+84900000000") == []


def test_restoration_cancels_a_start_notice_deferred_by_quiet_hours(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str],
) -> None:
    settings = make_settings(**{**twilio_env, "OUTAGES_NOTICES_QUIET_HOURS": "21:00-07:00",
                                "OUTAGES_NOTICES_START_NOTICE": "true"})
    add_customers(h.customers(3))
    ids = h.customer_ids(engine)
    outage = h.add_outage(engine, status=CutStatus.IN_PROGRESS, start=NIGHT - timedelta(hours=1),
                          end=NIGHT + timedelta(hours=2), actual_start=NIGHT, members=ids)
    morning = NIGHT + timedelta(hours=9)  # 07:00 in Hanoi
    with time_machine.travel(NIGHT, tick=False), engine.begin() as conn:
        publish(conn, settings, OutageEvent("cut_started", outage, 2, NIGHT))
    assert {r.due_at for r in h.rows(engine, kind="started")} == {morning}
    step = NIGHT + timedelta(minutes=30)
    with time_machine.travel(step, tick=False), engine.begin() as conn:  # one customer first
        publish(conn, settings, OutageEvent("restored", outage, 3, step, customer_ids=[ids[0]]))
    started = Counter((r.customer_id, r.status, r.last_error_code)
                      for r in h.rows(engine, kind="started"))
    assert started == {(ids[0], "skipped", "restored"): 1, (ids[1], "pending", None): 1,
                       (ids[2], "pending", None): 1}
    last = NIGHT + timedelta(hours=1)
    with time_machine.travel(last, tick=False), engine.begin() as conn:
        conn.execute(update(Outage.__table__).where(Outage.id == outage)
                     .values(status=CutStatus.COMPLETED, actual_end=last))
        publish(conn, settings, OutageEvent("restored", outage, 4, last, customer_ids=ids[1:]))
    _drain(engine, settings, morning)
    assert {r.status for r in h.rows(engine, kind="started")} == {"skipped"}
    for i in range(3):  # "power is back" the same night, and nothing after it
        bodies = twilio.bodies_to(f"+8490000000{i}")
        assert len(bodies) == 1 and "started" not in bodies[0]


def test_a_start_notice_left_in_flight_by_a_dead_worker_is_not_sent_after_power_is_back(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], frozen: Any,
) -> None:
    settings = make_settings(**twilio_env, OUTAGES_NOTICES_START_NOTICE="true")
    add_customers(h.customers(2))
    ids = h.customer_ids(engine)
    outage = h.add_outage(engine, status=CutStatus.IN_PROGRESS, start=NOW, actual_start=NOW,
                          end=NOW + timedelta(hours=2), members=ids)
    with engine.begin() as conn:
        publish(conn, settings, OutageEvent("cut_started", outage, 2, NOW))
        conn.execute(update(outbox).where(outbox.c.kind == "started").values(
            status="sending", claimed_by="elsewhere:1:abc", claimed_at=NOW - LEASE, attempts=1))
        conn.execute(insert(Interruption.__table__),
                     [{"outage_id": outage, "customer_id": c, "planned": True, "start_at": NOW}
                      for c in ids])
    back = NOW + timedelta(minutes=40)  # the worker died; then the first customer got power
    with engine.begin() as conn:
        conn.execute(update(Interruption.__table__).where(Interruption.customer_id == ids[0])
                     .values(end_at=back))
        publish(conn, settings, OutageEvent("restored", outage, 3, back, customer_ids=[ids[0]]))
    dispatcher = delivery.dispatcher(engine, settings, clock=h.Clock(back), concurrency=4)
    try:
        assert dispatcher.recover(delivery.is_dead) == 2
        dispatcher.drain()
    finally:
        dispatcher.close()
    started = {r.customer_id: (r.status, r.last_error_code)
               for r in h.rows(engine, kind="started")}
    assert started == {ids[0]: ("skipped", "restored"), ids[1]: ("sent", None)}
    assert [b.split(":")[1].split()[0] for b in twilio.bodies_to("+84900000000")] == ["Da"]


def test_a_reminder_left_in_flight_is_not_sent_once_the_cut_is_cancelled(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], frozen: Any,
) -> None:
    settings = make_settings(**twilio_env)
    add_customers(h.customers(1))
    outage = _announce_cut(engine, settings, h.customer_ids(engine))
    _drain(engine, settings, NOW)
    due = START - timedelta(days=1)
    with engine.begin() as conn:  # claimed by a worker that died
        conn.execute(update(outbox).where(outbox.c.kind == "reminder", outbox.c.due_at == due)
                     .values(status="sending", claimed_by="elsewhere:1:abc",
                             claimed_at=NOW - LEASE))
        conn.execute(update(Outage.__table__).where(Outage.id == outage)
                     .values(status=CutStatus.CANCELLED))
        h.add_revision(conn, outage, 2, "cancelled", at=due)
        publish(conn, settings, OutageEvent("cut_cancelled", outage, 2, due))
    dispatcher = delivery.dispatcher(engine, settings, clock=h.Clock(due + timedelta(minutes=30)))
    try:
        dispatcher.recover(delivery.is_dead)
        dispatcher.drain()
    finally:
        dispatcher.close()
    reminders = [(r.status, r.last_error_code) for r in h.rows(engine, kind="reminder")]
    assert reminders == [("skipped", "cancelled"), ("skipped", "cut_cancelled")]
    # The announcement, then the cancellation (told of the cut, they hear it is off); no
    # reminder.
    first, second = twilio.bodies_to("+84900000000")
    assert first.startswith("Dien luc Ha Noi: Tam ngung") and "Huy lich" in second


def test_a_new_etr_cancels_the_update_not_yet_sent(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], frozen: Any,
) -> None:
    settings = make_settings(**twilio_env)
    add_customers(h.customers(2))
    ids = h.customer_ids(engine)
    etr = NOW + timedelta(hours=2)
    outage = h.add_outage(engine, kind="fault", status="confirmed", actual_start=NOW, etr=etr,
                          members=ids, start=None)
    with engine.begin() as conn:
        publish(conn, settings, OutageEvent("fault_confirmed", outage, 1, NOW))
    _drain(engine, settings, NOW)
    later = NOW + timedelta(minutes=20)  # the worker was down meanwhile
    for revision, (at, moved) in enumerate([(NOW, 1), (later, 3)], start=2):
        with engine.begin() as conn:
            conn.execute(update(Outage.__table__).where(Outage.id == outage)
                         .values(etr=etr + timedelta(hours=moved)))
            h.add_revision(conn, outage, revision, "etr", at=at)
            publish(conn, settings, OutageEvent("etr_changed", outage, revision, at))
    # an update waits notices.etr_min_interval after the acknowledgement
    _drain(engine, settings, NOW + settings.notices.etr_min_interval)
    updates = Counter((r.revision, r.status, r.last_error_code)
                      for r in h.rows(engine, kind="etr_update"))
    assert updates == {(2, "skipped", "etr_changed"): 2, (3, "sent", None): 2}
    bodies = twilio.bodies_to("+84900000000")
    assert len(bodies) == 2 and "du kien co dien lai 15:00" in bodies[1]  # 10:00 + 2h + 3h


def test_a_planned_change_and_a_fault_update_to_one_customer_both_go_out(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], frozen: Any,
) -> None:
    settings = make_settings(**twilio_env)
    add_customers(h.customers(1))
    ids = h.customer_ids(engine)
    cut = _announce_cut(engine, settings, ids)
    fault = h.add_outage(engine, kind="fault", status="confirmed", actual_start=NOW,
                         etr=NOW + timedelta(hours=2), members=ids, start=None)
    with engine.begin() as conn:
        publish(conn, settings, OutageEvent("fault_confirmed", fault, 1, NOW))
    _drain(engine, settings, NOW)
    with engine.begin() as conn:
        conn.execute(update(Outage.__table__).where(Outage.id == fault)
                     .values(etr=NOW + timedelta(hours=4)))
        h.add_revision(conn, fault, 2, "etr", at=NOW)
        publish(conn, settings, OutageEvent("etr_changed", fault, 2, NOW))
        conn.execute(update(Outage.__table__).where(Outage.id == cut)
                     .values(planned_start=START + timedelta(days=1)))
        h.add_revision(conn, cut, 2, "reschedule", at=NOW)
        publish(conn, settings, OutageEvent("cut_rescheduled", cut, 2, NOW))
    _drain(engine, settings, NOW + settings.notices.etr_min_interval)
    sent = Counter(r.kind for r in h.rows(engine, status="sent"))
    assert sent == {"announcement": 1, "fault_ack": 1, "etr_update": 1, "changed": 1}
    assert h.rows(engine, status="superseded") == []


def test_a_notice_sent_on_a_later_day_than_it_was_worded_for_is_worded_again(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], frozen: Any,
) -> None:
    settings = make_settings(**twilio_env)
    add_customers(h.customers(1, language="en"))
    _announce_cut(engine, settings, h.customer_ids(engine))  # 10:00 on 7 Dec in Hanoi
    _drain(engine, settings, NOW)
    [reminder] = [r for r in h.rows(engine, kind="reminder") if r.due_at == START - timedelta(1)]
    assert "10:00 tomorrow" in reminder.body  # worded for 10:00 on 6 Dec
    late = datetime(2026, 12, 6, 17, 30, tzinfo=UTC)  # 00:30 on 7 Dec: the worker was down
    frozen.move_to(late)
    _drain(engine, settings, late)
    sent = twilio.bodies_to("+84900000000")
    assert "10:00 today" in sent[-1] and "tomorrow" not in sent[-1]


EVENING = datetime(2026, 12, 1, 13, 50, tzinfo=UTC)  # 20:50 in Hanoi
MORNING = datetime(2026, 12, 2, 0, 0, tzinfo=UTC)  # 07:00 in Hanoi, when quiet hours end
QUIET = {"OUTAGES_NOTICES_QUIET_HOURS": "21:00-07:00"}


def test_a_notice_reached_only_in_quiet_hours_waits_for_the_morning(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str],
) -> None:
    settings = make_settings(**{**twilio_env, **QUIET}, OUTAGES_NOTICES_CHANNELS="sms")
    add_customers(h.customers(2, language="en"))
    ids = h.customer_ids(engine)
    start = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)  # 08:00 on 7 Dec in Hanoi
    cut = h.add_outage(engine, start=start, end=start + timedelta(hours=4), members=ids[:1])
    fault = h.add_outage(engine, kind="fault", status="confirmed", start=EVENING,
                         members=ids[1:])
    with time_machine.travel(EVENING, tick=False), engine.begin() as conn:
        publish(conn, settings, OutageEvent("cut_created", cut, 1, EVENING))  # due at once
        publish(conn, settings, OutageEvent("fault_confirmed", fault, 1, EVENING))
    late = EVENING + timedelta(minutes=40)  # 21:30: the worker was down until now
    with time_machine.travel(late, tick=True):
        _drain(engine, settings, late)
    assert twilio.bodies_to("+84900000000") == []  # the announcement waits
    assert len(twilio.bodies_to("+84900000001")) == 1  # a fault is urgent: it goes
    [held] = h.rows(engine, kind="announcement")
    assert (held.status, held.due_at, held.attempts, held.first_due_at) == (
        "pending", MORNING, 0, EVENING)
    with time_machine.travel(MORNING, tick=True):
        _drain(engine, settings, MORNING)
    [sent] = twilio.bodies_to("+84900000000")
    assert "from 7 Dec 08:00 to 12:00" in sent, sent
    assert h.rows(engine, kind="announcement")[0].attempts == 1


def test_quiet_hours_do_not_hold_a_notice_past_the_start_of_its_cut(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str],
) -> None:
    settings = make_settings(**{**twilio_env, **QUIET}, OUTAGES_NOTICES_CHANNELS="sms")
    add_customers(h.customers(1, language="en"))
    start = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)  # 06:30 on 2 Dec in Hanoi
    cut = h.add_outage(engine, start=start, end=start + timedelta(hours=4),
                       members=h.customer_ids(engine))
    with time_machine.travel(EVENING, tick=False), engine.begin() as conn:
        publish(conn, settings, OutageEvent("cut_created", cut, 1, EVENING))
    late = EVENING + timedelta(minutes=40)  # 21:30; 07:00 would be after the start
    with time_machine.travel(late, tick=True):
        _drain(engine, settings, late)
    assert len(twilio.bodies_to("+84900000000")) == 1


def test_a_notice_held_through_the_night_is_retried_in_the_morning(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str],
) -> None:
    settings = make_settings(**{**twilio_env, **QUIET}, OUTAGES_NOTICES_CHANNELS="sms")
    add_customers(h.customers(1, language="en"))
    start = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
    cut = h.add_outage(engine, start=start, end=start + timedelta(hours=4),
                       members=h.customer_ids(engine))
    with time_machine.travel(EVENING, tick=False), engine.begin() as conn:
        publish(conn, settings, OutageEvent("cut_created", cut, 1, EVENING))
    late = EVENING + timedelta(minutes=40)
    with time_machine.travel(late, tick=True):
        _drain(engine, settings, late)
    twilio.fail("+84900000000", 503, 0, times=1)  # the provider down for a moment at 07:00
    for minutes in (0, 1):
        at = MORNING + timedelta(minutes=minutes)
        with time_machine.travel(at, tick=True):
            _drain(engine, settings, at)
    # 10 hours after it first fell due, but only just out of quiet hours: tried again.
    [announcement] = h.rows(engine, kind="announcement")
    assert (announcement.status, announcement.attempts) == ("sent", 2)
    assert len(twilio.bodies_to("+84900000000")) == 1


def test_a_start_notice_held_past_the_cuts_expected_end_is_not_sent(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str],
) -> None:
    settings = make_settings(**{**twilio_env, **QUIET}, OUTAGES_NOTICES_CHANNELS="sms",
                             OUTAGES_NOTICES_START_NOTICE="true")
    add_customers(h.customers(2, language="en"))
    ids = h.customer_ids(engine)
    start = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)  # 22:00 in Hanoi
    short = h.add_outage(engine, start=start, end=start + timedelta(hours=4),  # to 02:00
                         members=ids[:1], status="in_progress", actual_start=start)
    long = h.add_outage(engine, start=start, end=start + timedelta(hours=11),  # to 09:00
                        members=ids[1:], status="in_progress", actual_start=start)
    with time_machine.travel(start, tick=False), engine.begin() as conn:
        publish(conn, settings, OutageEvent("cut_started", short, 1, start))
        publish(conn, settings, OutageEvent("cut_started", long, 1, start))
    morning = datetime(2026, 12, 8, 0, 0, tzinfo=UTC)  # 07:00: the started notices fall due
    with time_machine.travel(morning, tick=True):
        _drain(engine, settings, morning)
    # Not "power back at 02:00" at 07:00: only that the work takes longer than planned
    # (never told 02:00, they are not told it was announced).
    [late] = twilio.bodies_to("+84900000000")
    assert "taking longer than planned" in late and "02:00" not in late, late
    [told] = twilio.bodies_to("+84900000001")
    assert "09:00" in told
    skipped = [r for r in h.rows(engine, kind="started") if r.status == "skipped"]
    assert [(r.customer_id, r.last_error_code) for r in skipped] == [(ids[0], "end_passed")]


def test_a_claim_skipped_whole_does_not_end_the_drain_while_more_is_due(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], frozen: Any,
) -> None:
    """The first claim holds only notices the recipients may no longer receive: the rows
    due behind it still go in the same drain, not at the worker's next poll."""
    settings = make_settings(**twilio_env, OUTAGES_NOTICES_CHANNELS="sms",
                             OUTAGES_WORKER_CLAIM_BATCH="3")
    add_customers(h.customers(6))
    ids = h.customer_ids(engine)
    _announce_cut(engine, settings, ids)
    for code in ("C0000000", "C0000001", "C0000002"):  # claimed first, by id
        _update(engine, settings, code, sms_opt_out=True)
    _drain(engine, settings, NOW)
    announced = {r.customer_id: (r.status, r.last_error_code)
                 for r in h.rows(engine, kind="announcement")}
    assert announced == {**{i: ("skipped", "sms_opt_out") for i in ids[:3]},
                         **{i: ("sent", None) for i in ids[3:]}}


def test_reminders_queued_by_text_go_by_email_once_the_number_is_refused(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], frozen: Any,
) -> None:
    """The announcement's SMS is refused for good (no such number) and goes by email, as a
    refusal does; the reminders queued by text with it go by email too, not nowhere."""
    settings = make_settings(**twilio_env, OUTAGES_NOTICES_CHANNELS="sms")
    add_customers(h.customers(1, email=True))
    ids = h.customer_ids(engine)
    twilio.fail("+84900000000", 400, 21211, times=5)
    _announce_cut(engine, settings, ids)
    _drain(engine, settings, NOW)
    _drain(engine, settings, NOW)  # the fallback, queued by the refusal
    for before in (timedelta(days=1), timedelta(hours=2)):
        _drain(engine, settings, START - before)
        _drain(engine, settings, START - before)  # the fallback of what was skipped
    assert _reminders(engine, ids[0]) == [("skipped", "phone_invalid")] * 2
    assert [s for s, _ in _reminders(engine, ids[0], "email")] == ["sent", "sent"]
    assert len(twilio.scripted["+84900000000"]) == 4  # one attempt, for the announcement
