"""Which notices each lifecycle event queues, for whom and when (no sending involved)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import Engine, insert, update

from outages.lifecycle.events import OutageEvent, publish
from outages.models import Customer, FaultReport, Interruption, Outage, OutageCustomer
from outages.settings import Settings
from tests.notices import helpers as h

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 10:00 in Hanoi
START = NOW + timedelta(days=6)


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def cut(engine: Engine, add_customers: Any) -> tuple[int, list[int]]:
    add_customers(h.customers(6))
    ids = h.customer_ids(engine)
    return h.add_outage(engine, start=START, end=START + timedelta(hours=8), members=ids[:4]), ids


def _publish(engine: Engine, settings: Settings, kind: str, outage: int, revision: int,
             **extra: Any) -> None:
    with engine.begin() as conn:
        publish(conn, settings, OutageEvent(kind, outage, revision, NOW, **extra))


def _kinds(engine: Engine, **where: Any) -> Counter[tuple[str, str]]:
    return Counter((r.kind, r.status) for r in h.rows(engine, **where))


def test_created_announces_now_and_reminds_before_start(
    engine: Engine, settings: Settings, cut: tuple[int, list[int]],
) -> None:
    outage, _ = cut
    _publish(engine, settings, "cut_created", outage, 1)
    _publish(engine, settings, "cut_created", outage, 1)  # a replayed event queues nothing new
    rows = h.rows(engine)
    assert Counter(r.kind for r in rows) == {"announcement": 4, "reminder": 8}
    assert {r.due_at for r in rows if r.kind == "announcement"} == {NOW}
    assert {r.due_at for r in rows if r.kind == "reminder"} == {START - timedelta(days=1),
                                                                START - timedelta(hours=2)}
    assert all(r.urgent is False and r.segments == 1 and r.cost == 0.0075 for r in rows)


def test_no_email_to_an_invalid_address_nor_text_to_an_invalid_number(
    engine: Engine, settings: Settings, add_customers: Any,
) -> None:
    add_customers(h.customers(3, email=True))
    ids = h.customer_ids(engine)
    with engine.begin() as conn:
        conn.execute(update(Customer).where(Customer.id == ids[1]).values(email_invalid=True))
        conn.execute(update(Customer).where(Customer.id == ids[2]).values(phone_invalid=True))
    outage = h.add_outage(engine, start=START, end=START + timedelta(hours=8), members=ids)
    _publish(engine, settings, "cut_created", outage, 1)
    reached = Counter((r.channel, r.customer_id) for r in h.rows(engine, kind="announcement"))
    assert reached == {("sms", ids[0]): 1, ("sms", ids[1]): 1, ("email", ids[0]): 1,
                       ("email", ids[2]): 1}


def test_reminder_after_the_start_or_before_now_is_not_planned(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
) -> None:
    settings = make_settings(OUTAGES_PLANNED_REMINDERS="1d,2h")
    add_customers(h.customers(2))
    soon = NOW + timedelta(hours=5)  # an urgent cut: the 1 day reminder is already past
    outage = h.add_outage(engine, start=soon, end=soon + timedelta(hours=1),
                          members=h.customer_ids(engine))
    _publish(engine, settings, "cut_created", outage, 1)
    reminders = h.rows(engine, kind="reminder")
    assert {r.due_at for r in reminders} == {soon - timedelta(hours=2)}


NIGHT = datetime(2026, 12, 1, 17, 50, tzinfo=UTC)  # 00:50 in Hanoi
MORNING = datetime(2026, 12, 2, 0, 0, tzinfo=UTC)  # 07:00 in Hanoi, when quiet hours end


def _at_night(engine: Engine, settings: Settings, kind: str, outage: int, revision: int,
              **values: Any) -> None:
    """A change to the cut made at 00:50, and its event."""
    with time_machine.travel(NIGHT, tick=False), engine.begin() as conn:
        if values:
            conn.execute(update(Outage.__table__).values(**values))
        h.add_revision(conn, outage, revision, kind, at=NIGHT)
        if kind == "cut_cancelled":
            conn.execute(update(OutageCustomer.__table__).values(dropped_revision=revision))
        publish(conn, settings, OutageEvent(kind, outage, revision, NIGHT))  # type: ignore[arg-type]


def _created_at_night(engine: Engine, settings: Settings, ids: list[int]) -> int:
    outage = h.add_outage(engine, start=START, end=START + timedelta(hours=1), members=ids)
    with time_machine.travel(NIGHT, tick=False), engine.begin() as conn:
        publish(conn, settings, OutageEvent("cut_created", outage, 1, NIGHT))
    return outage


def test_cancelling_a_cut_nobody_was_told_of_drops_the_announcement_silently(
    engine: Engine, settings: Settings, add_customers: Any,
) -> None:
    add_customers(h.customers(2))
    outage = _created_at_night(engine, settings, h.customer_ids(engine))
    assert {r.due_at for r in h.rows(engine, kind="announcement")} == {MORNING}
    _at_night(engine, settings, "cut_cancelled", outage, 2, status="cancelled",
              cancel_reason="x")
    assert {r.status for r in h.rows(engine, kind="announcement")} == {"skipped"}
    assert h.rows(engine, kind="cancelled") == []


def test_cancellation_goes_to_those_told_and_waits_for_the_morning(
    engine: Engine, settings: Settings, add_customers: Any,
) -> None:
    add_customers(h.customers(3))
    ids = h.customer_ids(engine)
    outage = _created_at_night(engine, settings, ids)
    h.mark_sent(engine, kind="announcement", customer_ids=ids[:1], at=MORNING)
    _at_night(engine, settings, "cut_cancelled", outage, 2, status="cancelled",
              cancel_reason="x")
    cancelled = h.rows(engine, kind="cancelled")
    assert {r.customer_id for r in cancelled} == {ids[0]}
    assert {(r.due_at, r.urgent) for r in cancelled} == {(MORNING, False)}
    assert {r.customer_id for r in h.rows(engine, kind="announcement", status="skipped")} == \
        set(ids[1:])


def test_change_notice_in_quiet_hours_still_comes_before_the_old_start(
    engine: Engine, settings: Settings, add_customers: Any,
) -> None:
    add_customers(h.customers(1))
    ids = h.customer_ids(engine)
    early = datetime(2026, 12, 1, 22, 30, tzinfo=UTC)  # 05:30 local, before quiet hours end
    outage = h.add_outage(engine, start=early, end=early + timedelta(hours=2), members=ids)
    _publish(engine, settings, "cut_created", outage, 1)
    h.mark_sent(engine, kind="announcement", customer_ids=ids, at=NOW)
    later = START + timedelta(days=1)
    _at_night(engine, settings, "cut_rescheduled", outage, 2, planned_start=later,
              planned_end=later + timedelta(hours=2))
    (changed,) = h.rows(engine, kind="changed")
    assert changed.due_at == NIGHT  # waiting until 07:00 would tell them after 05:30


def test_a_second_move_before_the_first_change_went_still_comes_before_the_start_told(
    engine: Engine, settings: Settings, add_customers: Any,
) -> None:
    """Told of a cut at 05:30; at night it is moved to 8 Dec and, before that "changed"
    went (a backlog, a worker restarting), moved again to 9 Dec. The customer still knows
    only the 05:30 start: the change must reach them before it, not wait for 07:00 because
    the window it replaces (8 Dec, never told) starts later."""
    add_customers(h.customers(1))
    ids = h.customer_ids(engine)
    early = datetime(2026, 12, 1, 22, 30, tzinfo=UTC)  # 05:30 local, before quiet hours end
    outage = h.add_outage(engine, start=early, end=early + timedelta(hours=2), members=ids)
    _publish(engine, settings, "cut_created", outage, 1)
    h.mark_sent(engine, kind="announcement", customer_ids=ids, at=NOW)
    later = START + timedelta(days=1)
    _at_night(engine, settings, "cut_rescheduled", outage, 2, planned_start=later,
              planned_end=later + timedelta(hours=2))
    latest = later + timedelta(days=1)
    _at_night(engine, settings, "cut_rescheduled", outage, 3, planned_start=latest,
              planned_end=latest + timedelta(hours=2))
    [changed] = [r for r in h.rows(engine, kind="changed") if r.status == "pending"]
    assert changed.revision == 3 and changed.due_at < early, changed.due_at


def test_reschedule_tells_those_told_and_announces_the_new_window_to_the_others(
    engine: Engine, settings: Settings, add_customers: Any,
) -> None:
    add_customers(h.customers(4))
    ids = h.customer_ids(engine)
    outage = _created_at_night(engine, settings, ids)
    h.mark_sent(engine, kind="announcement", customer_ids=ids[:2], at=MORNING)
    later = START + timedelta(days=2)
    _at_night(engine, settings, "cut_rescheduled", outage, 2, planned_start=later,
              planned_end=later + timedelta(hours=3))
    assert _kinds(engine, revision=1) == {("announcement", "sent"): 2,
                                          ("announcement", "skipped"): 2,
                                          ("reminder", "skipped"): 8}
    changed = h.rows(engine, kind="changed")
    assert {r.customer_id for r in changed} == set(ids[:2])
    fresh = h.rows(engine, kind="announcement", revision=2)
    assert {r.customer_id for r in fresh} == set(ids[2:])
    assert {r.due_at for r in changed + fresh} == {MORNING}
    assert {r.ref_at for r in fresh} == {later}  # they hear of the window as it now stands
    assert {(r.ref_at, r.status) for r in h.rows(engine, kind="reminder", revision=2)} == \
        {(later, "pending")}
    assert len(h.rows(engine, kind="reminder", revision=2)) == 8


def test_resize_tells_only_dropped_customers_who_were_told(
    engine: Engine, settings: Settings, cut: tuple[int, list[int]],
) -> None:
    outage, ids = cut
    _publish(engine, settings, "cut_created", outage, 1)
    h.mark_sent(engine, kind="announcement", customer_ids=ids[:1], at=NOW)
    with engine.begin() as conn:
        h.add_revision(conn, outage, 2, "resize", at=NOW)
        table = OutageCustomer.__table__
        conn.execute(update(table).where(table.c.customer_id.in_(ids[:2]))
                     .values(dropped_revision=2))
        conn.execute(insert(table), [{"outage_id": outage, "customer_id": c,
                                      "added_revision": 2} for c in ids[4:]])
    _publish(engine, settings, "cut_resized", outage, 2)
    assert {r.customer_id for r in h.rows(engine, kind="no_longer_affected")} == {ids[0]}
    assert {r.customer_id for r in h.rows(engine, kind="announcement", revision=2)} == \
        set(ids[4:])
    skipped = {r.customer_id for r in h.rows(engine, status="skipped")}
    assert skipped == set(ids[:2])


def test_started_skips_reminders_and_start_notice_is_optional(
    engine: Engine, make_settings: Callable[..., Settings], cut: tuple[int, list[int]],
) -> None:
    outage, _ = cut
    settings = make_settings(OUTAGES_NOTICES_START_NOTICE="true")
    _publish(engine, settings, "cut_created", outage, 1)
    with engine.begin() as conn:
        h.add_revision(conn, outage, 2, "start", at=NOW)
    _publish(engine, settings, "cut_started", outage, 2)
    assert _kinds(engine) == {("announcement", "skipped"): 4, ("reminder", "skipped"): 8,
                              ("started", "pending"): 4, ("running_late", "pending"): 4}


def test_fault_report_received_by_customer_and_by_unknown_phone(
    engine: Engine, settings: Settings, add_customers: Any,
) -> None:
    add_customers(h.customers(1, language="en"))
    (customer,) = h.customer_ids(engine)
    outage = h.add_outage(engine, kind="fault", status="reported", actual_start=NOW)
    with engine.begin() as conn:
        reports = conn.execute(insert(FaultReport.__table__).returning(FaultReport.id), [
            {"outage_id": outage, "customer_id": customer, "phone": None, "source": "call",
             "first_at": NOW, "last_at": NOW},
            {"outage_id": outage, "customer_id": None, "phone": "+84911111111", "source": "sms",
             "first_at": NOW, "last_at": NOW},
        ]).scalars().all()
    for report in reports:
        _publish(engine, settings, "fault_reported", outage, 1, report_id=report)
        _publish(engine, settings, "fault_reported", outage, 1, report_id=report)  # repeat
    rows = h.rows(engine, kind="fault_report_received")
    assert [(r.recipient, r.language) for r in rows] == [("+84900000000", "en"),
                                                         ("+84911111111", "vi")]
    assert rows[0].body.startswith("Dien luc Ha Noi: We received your outage report at 10:00")




def test_notices_about_an_unnamed_incident_show_no_internal_id(
    engine: Engine, settings: Settings, add_customers: Any,
) -> None:
    add_customers(h.customers(1, language="en") + h.customers(1, start=1))
    first, second = h.customer_ids(engine)
    outage = h.add_outage(engine, kind="fault", status="reported", actual_start=NOW,
                          area_name=None, members=[first, second])
    with engine.begin() as conn:
        report = conn.execute(insert(FaultReport.__table__).returning(FaultReport.id).values(
            outage_id=outage, customer_id=first, phone=None, source="call", first_at=NOW,
            last_at=NOW)).scalar_one()
    _publish(engine, settings, "fault_reported", outage, 1, report_id=report)
    _publish(engine, settings, "fault_confirmed", outage, 1)
    bodies = [r.body for r in h.rows(engine) if r.channel == "sms"]
    assert len(bodies) == 3
    assert not [b for b in bodies if "#" in b or "None" in b], bodies
    assert "Power outage in your area since 10:00 today" in bodies[1]


def test_berlin_dst_night_local_times_and_quiet_hours(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
) -> None:
    settings = make_settings(OUTAGES_LOCALE_TIMEZONE="Europe/Berlin")
    add_customers(h.customers(1, language="en"))
    evening = datetime(2026, 10, 24, 21, 0, tzinfo=UTC)  # 23:00 CEST, clocks go back at 03:00
    start = datetime(2026, 10, 25, 9, 0, tzinfo=UTC)  # 10:00 CET
    outage = h.add_outage(engine, start=start, end=start + timedelta(hours=2),
                          members=h.customer_ids(engine))
    with time_machine.travel(evening, tick=False), engine.begin() as conn:
        publish(conn, settings, OutageEvent("cut_created", outage, 1, evening))
    announcement = h.rows(engine, kind="announcement", channel="sms")[0]
    assert announcement.due_at == datetime(2026, 10, 25, 6, 0, tzinfo=UTC)  # 07:00 CET
    # Deferred past quiet hours to the morning of the cut: it goes out that day.
    assert "from 10:00 today to 12:00" in announcement.body
    reminder = h.rows(engine, kind="reminder", channel="sms")
    # 2h before 10:00 is 08:00 local, outside quiet hours: sent on time
    assert [r.due_at for r in reminder] == [start - timedelta(hours=2)]


def _started(engine: Engine, settings: Settings, outage: int) -> None:
    with engine.begin() as conn:
        conn.execute(update(Outage.__table__).values(status="in_progress", actual_start=NOW))
        h.add_revision(conn, outage, 2, "start", at=NOW)
    _publish(engine, settings, "cut_started", outage, 2)


def test_a_started_cut_tells_those_still_out_when_its_end_passes(
    engine: Engine, settings: Settings, cut: tuple[int, list[int]],
) -> None:
    outage, ids = cut
    _started(engine, settings, outage)
    late = h.rows(engine, kind="running_late")
    assert {r.customer_id for r in late} == set(ids[:4])
    assert {(r.due_at, r.urgent) for r in late} == {(START + timedelta(hours=8), True)}
    _publish(engine, settings, "restored", outage, 2, customer_ids=ids[:1])
    assert {r.customer_id for r in h.rows(engine, kind="running_late", status="skipped")} == \
        {ids[0]}


def test_extending_a_started_cut_tells_those_still_out_and_moves_running_late(
    engine: Engine, settings: Settings, cut: tuple[int, list[int]],
) -> None:
    outage, ids = cut
    _started(engine, settings, outage)
    with engine.begin() as conn:  # the first customer restored in a step of its own
        conn.execute(insert(Interruption.__table__), [
            {"outage_id": outage, "customer_id": c, "planned": True, "start_at": NOW,
             "end_at": NOW + timedelta(hours=1) if c == ids[0] else None} for c in ids[:4]])
        h.add_revision(conn, outage, 3, "restored", at=NOW + timedelta(hours=1))
    _publish(engine, settings, "restored", outage, 3, customer_ids=ids[:1])
    with engine.begin() as conn:
        new_end = START + timedelta(hours=10)
        conn.execute(update(Outage.__table__).values(etr=new_end))
        h.add_revision(conn, outage, 4, "extended", at=NOW)
    _publish(engine, settings, "cut_extended", outage, 4)
    told = h.rows(engine, kind="cut_extended")
    assert {r.customer_id for r in told} == set(ids[1:4])
    assert {(r.ref_at, r.urgent) for r in told} == {(new_end, True)}
    late = {(r.customer_id, r.due_at, r.status) for r in h.rows(engine, kind="running_late")}
    first_end = START + timedelta(hours=8)
    assert late == {(ids[0], first_end, "skipped"),
                    *((c, first_end, "skipped") for c in ids[1:4]),
                    *((c, new_end, "pending") for c in ids[1:4])}


def test_power_is_back_gives_the_time_it_came_back_not_the_time_it_was_recorded(
    engine: Engine, settings: Settings, add_customers: Any,
) -> None:
    from outages.lifecycle import cuts

    add_customers(h.customers(2, language="en"))
    ids = h.customer_ids(engine)
    began = NOW - timedelta(hours=4)  # 06:00 in Hanoi
    outage = h.add_outage(engine, status="in_progress", start=began,
                          end=NOW + timedelta(hours=2), actual_start=began, members=ids)
    with engine.begin() as conn:
        conn.execute(insert(Interruption.__table__), [
            {"outage_id": outage, "customer_id": c, "planned": True, "start_at": began}
            for c in ids])
    back = NOW - timedelta(hours=2)  # 08:00, recorded at 10:00
    cuts.restore(engine, settings, cut_id=outage, at=back, actor="test", source="cli")
    rows = h.rows(engine, kind="restored", channel="sms")
    assert len(rows) == 2 and {r.ref_at for r in rows} == {back}
    assert all("Power is back in Phuong Lang Ha since 08:00 today (off from 06:00" in r.body
               for r in rows), rows[0].body


def test_a_start_notice_held_for_the_morning_does_not_outlive_an_extension(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
) -> None:
    settings = make_settings(OUTAGES_NOTICES_START_NOTICE="true")
    add_customers(h.customers(1))
    start = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)  # 22:00 in Hanoi: inside quiet hours
    extended_at, new_end = start + timedelta(hours=1), start + timedelta(hours=11)  # 09:00
    outage = h.add_outage(engine, start=start, end=start + timedelta(hours=4),  # 02:00
                          members=h.customer_ids(engine), status="in_progress",
                          actual_start=start)
    with time_machine.travel(start, tick=False), engine.begin() as conn:
        publish(conn, settings, OutageEvent("cut_started", outage, 1, start))
    [started] = h.rows(engine, kind="started")
    assert started.status == "pending" and "02:00" in started.body  # waits for 07:00
    with time_machine.travel(extended_at, tick=False), engine.begin() as conn:
        conn.execute(update(Outage.__table__).values(etr=new_end))
        h.add_revision(conn, outage, 2, "extended", at=extended_at)
        publish(conn, settings, OutageEvent("cut_extended", outage, 2, extended_at))
    [extended] = h.rows(engine, kind="cut_extended")
    assert "09:00" in extended.body
    [started] = h.rows(engine, kind="started")
    assert (started.status, started.last_error_code) == ("skipped", "cut_extended")
