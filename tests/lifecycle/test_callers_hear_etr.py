"""A caller without an account (a tenant ringing the hotline from an unregistered phone) whose
place is inside the incident hears what its customers hear while it lasts: the
acknowledgement, each new ETR and its passing, by SMS to the number they called from, once
each and never after a STOP. A caller outside the area does not."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select, update

from notifier.store import outbox
from outages.lifecycle import faults
from outages.notices import recipients, sms_commands
from outages.settings import Settings
from outages.timeutil import utcnow
from tests.lifecycle.conftest import LAT0, LON0, ahead, columns
from tests.lifecycle.test_cuts_create import area
from tests.lifecycle.test_faults import ACT, report
from tests.notices.test_subscriptions import subscribe

INSIDE, FAR = "+84912345678", "+84912345679"


def _to(engine: Engine, phone: str) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(outbox).where(outbox.c.recipient == phone)
                                 .order_by(outbox.c.id)).all())


def _incident(engine: Engine, settings: Settings) -> int:
    inside = report(engine, settings, phone=INSIDE, point=(LON0 + 0.0005, LAT0))
    far = report(engine, settings, phone=FAR, point=(LON0 + 0.004, LAT0))
    assert far.outage_id == inside.outage_id
    faults.confirm(engine, settings, fault_id=inside.outage_id,
                   area=area(columns(0, 1), settings), started_at=ahead(minutes=-30), **ACT)
    return inside.outage_id


def test_a_caller_inside_the_area_hears_the_acknowledgement_and_each_new_etr(
        engine: Engine, settings: Settings, grid: Any) -> None:
    fault = _incident(engine, settings)
    first, second = ahead(hours=2), ahead(hours=4)
    faults.set_etr(engine, settings, fault_id=fault, at=first, **ACT)
    faults.set_etr(engine, settings, fault_id=fault, at=second, **ACT)
    told = [(r.kind, r.status, r.ref_at) for r in _to(engine, INSIDE)
            if r.kind != "fault_report_received"]
    assert told == [("fault_ack", "pending", None),
                    ("etr_update", "skipped", first), ("etr_passed", "skipped", first),
                    ("etr_update", "pending", second), ("etr_passed", "pending", second)], told
    assert {r.kind for r in _to(engine, FAR)} == {"fault_report_received",
                                                  "fault_not_affected"}


def test_a_caller_hears_each_notice_once_and_nothing_after_stop(
        engine: Engine, settings: Settings, grid: Any) -> None:
    fault = _incident(engine, settings)
    faults.set_etr(engine, settings, fault_id=fault, at=ahead(hours=2), **ACT)
    # A redraw queues the acknowledgement again for whoever it takes in: not for this caller.
    faults.resize(engine, settings, fault_id=fault, area=area(columns(0, 2), settings), **ACT)
    kinds = [r.kind for r in _to(engine, INSIDE)]
    assert kinds.count("fault_ack") == 1 and kinds.count("etr_update") == 1, kinds
    with engine.begin() as conn:
        sms_commands.handle(conn, settings, phone=INSIDE, text="STOP")
    pending = [r for r in _to(engine, INSIDE) if r.status == "pending"]
    assert pending
    with engine.begin() as conn:
        verdict = recipients.recheck(conn, settings, pending)
    assert set(verdict.skip) == {r.id for r in pending}


def test_a_caller_joining_a_confirmed_incident_hears_its_etr(
        engine: Engine, settings: Settings, grid: Any) -> None:
    fault = _incident(engine, settings)
    etr = ahead(hours=2)
    faults.set_etr(engine, settings, fault_id=fault, at=etr, **ACT)
    late = "+84912345670"
    assert report(engine, settings, phone=late, point=(LON0 + 0.0006, LAT0)).outage_id == fault
    acks = [r for r in _to(engine, late) if r.kind == "fault_ack"]
    assert [(r.status, r.ref_at) for r in acks] == [("pending", etr)], acks


def test_a_caller_outside_the_area_is_not_asked_to_text_what_their_number_cannot(
        engine: Engine, settings: Settings, grid: Any) -> None:
    """An SMS MATDIEN from a number on no account is refused ("call the hotline"): the
    caller asked to report again is given the hotline only; a customer, the keyword too."""
    fault = _incident(engine, settings)
    outside = report(engine, settings, customer="C004")
    assert outside.outage_id == fault
    faults.restore(engine, settings, fault_id=fault, at=None, **ACT)
    [caller] = [r for r in _to(engine, FAR) if r.kind == "report_unresolved"]
    with engine.begin() as conn:
        answer = sms_commands.handle(conn, settings, phone=FAR, text="MATDIEN")
    assert answer is not None and answer.template == "fault_unknown_phone"
    assert "MATDIEN" not in caller.body and settings.notices.hotline in caller.body, caller.body
    with engine.connect() as conn:
        customer = conn.execute(select(outbox.c.body).where(
            outbox.c.kind == "report_unresolved", outbox.c.customer_id.is_not(None),
            outbox.c.channel == "sms")).scalars().all()
    assert customer and all("MATDIEN" in body for body in customer), customer


def test_a_customer_texting_from_outside_a_confirmed_area_is_not_promised_its_etr(
        engine: Engine, settings: Settings, grid: Any) -> None:
    """C004 texts MATDIEN; the report joins the incident nearby, whose area leaves C004 out:
    its ETR is not texted to C004, so the reply does not promise it. It says what they will
    hear: word when that outage is fixed (report_unresolved)."""
    fault = _incident(engine, settings)
    with engine.begin() as conn:
        reply = sms_commands.handle(conn, settings, phone="+84900000004", text="MATDIEN")
    assert reply is not None
    text = sms_commands.render(reply, settings)
    faults.set_etr(engine, settings, fault_id=fault, at=ahead(hours=2), **ACT)
    faults.restore(engine, settings, fault_id=fault, at=None, **ACT)
    with engine.connect() as conn:
        heard = set(conn.execute(select(outbox.c.kind).where(
            outbox.c.recipient == "+84900000004")).scalars())
    assert heard == {"report_unresolved"}
    assert "thoi gian du kien co dien lai" not in text, text
    assert "ngoai khu vuc" in text, text


def test_a_caller_is_not_told_a_move_too_small_to_tell_customers(
        engine: Engine, settings: Settings, grid: Any) -> None:
    fault = _incident(engine, settings)
    first = ahead(hours=2)
    faults.set_etr(engine, settings, fault_id=fault, at=first, **ACT)
    with engine.begin() as conn:  # the caller was told it
        conn.execute(update(outbox).where(outbox.c.recipient == INSIDE,
                                          outbox.c.kind == "etr_update")
                     .values(status="sent", sent_at=utcnow()))
    small = first + settings.notices.etr_change_min / 2
    faults.set_etr(engine, settings, fault_id=fault, at=small, **ACT)
    updates = [(r.ref_at, r.status) for r in _to(engine, INSIDE) if r.kind == "etr_update"]
    assert updates == [(first, "sent")], updates
    faults.set_etr(engine, settings, fault_id=fault, at=first + settings.notices.etr_change_min,
                   **ACT)
    updates = [(r.ref_at, r.status) for r in _to(engine, INSIDE) if r.kind == "etr_update"]
    assert updates == [(first, "sent"), (first + settings.notices.etr_change_min, "pending")]


def test_a_customer_without_a_phone_is_not_asked_to_text_matdien(
        engine: Engine, settings: Settings, grid: Any) -> None:
    """C004 has only an email on record (a text from any number is refused as from a number
    on no account); C005 has both. Both reported from outside the incident: told it is fixed,
    only C005 is asked to text MATDIEN."""
    from outages.models import Customer

    c = Customer.__table__.c
    with engine.begin() as conn:
        conn.execute(update(Customer.__table__).where(c.code.in_(["C004", "C005"]))
                     .values(email=c.code + "@example.test"))
        conn.execute(update(Customer.__table__).where(c.code == "C004").values(phone=None))
    fault = _incident(engine, settings)
    for code in ("C004", "C005"):
        assert report(engine, settings, customer=code).outage_id == fault
    faults.restore(engine, settings, fault_id=fault, at=None, **ACT)
    with engine.connect() as conn:
        emails = dict(conn.execute(select(outbox.c.recipient, outbox.c.body).where(
            outbox.c.kind == "report_unresolved", outbox.c.channel == "email")).all())
    assert "MATDIEN" not in emails["C004@example.test"], emails
    assert settings.notices.hotline in emails["C004@example.test"]
    assert "MATDIEN" in emails["C005@example.test"], emails


def test_a_caller_hears_power_is_back_at_the_step_that_gives_their_place_power(
        engine: Engine, settings: Settings, grid: Any) -> None:
    """INSIDE called from column 0, NEAR from column 1. A step restores column 0: INSIDE
    hears "restored" then, once, and nothing of the ETR set after; NEAR hears it at the
    last step."""
    fault = _incident(engine, settings)
    near = "+84912345671"
    assert report(engine, settings, phone=near, point=(LON0 + 0.001, LAT0)).outage_id == fault
    faults.set_etr(engine, settings, fault_id=fault, at=ahead(hours=2), **ACT)
    faults.restore(engine, settings, fault_id=fault, at=None,
                   area=area(columns(0, 0), settings), **ACT)
    restored = [r for r in _to(engine, INSIDE) if r.kind == "restored"]
    assert [r.status for r in restored] == ["pending"], restored
    assert [r.status for r in _to(engine, INSIDE) if r.kind == "etr_passed"] == ["skipped"]
    assert not [r for r in _to(engine, near) if r.kind == "restored"]
    faults.set_etr(engine, settings, fault_id=fault, at=ahead(hours=3), **ACT)
    assert len([r for r in _to(engine, INSIDE) if r.kind == "etr_update"]) == 1
    assert len([r for r in _to(engine, near) if r.kind == "etr_update"]) == 2
    faults.restore(engine, settings, fault_id=fault, at=None, **ACT)
    assert len([r for r in _to(engine, INSIDE) if r.kind == "restored"]) == 1
    assert [r.status for r in _to(engine, near) if r.kind == "restored"] == ["pending"]


def _told(engine: Engine, phone: str, kind: str) -> list[Any]:
    return [r for r in _to(engine, phone) if r.kind == kind and r.status != "skipped"]


def test_a_caller_who_subscribes_to_a_house_inside_hears_each_notice_once(
        engine: Engine, settings: Settings, grid: Any) -> None:
    """INSIDE follows C001, inside the incident: the acknowledgement, the ETR and "power is
    back" go to the number once, as a subscriber's (queued first) or as a caller's."""
    subscribe(engine, INSIDE, code="C001")
    fault = _incident(engine, settings)
    assert len(_told(engine, INSIDE, "fault_ack")) == 1, _to(engine, INSIDE)
    faults.set_etr(engine, settings, fault_id=fault, at=ahead(hours=2), **ACT)
    assert len(_told(engine, INSIDE, "etr_update")) == 1, _to(engine, INSIDE)
    faults.restore(engine, settings, fault_id=fault, at=None, **ACT)
    assert len(_told(engine, INSIDE, "restored")) == 1, _to(engine, INSIDE)


def test_a_caller_who_follows_a_house_taken_in_later_hears_its_acknowledgement_once(
        engine: Engine, settings: Settings, grid: Any) -> None:
    """INSIDE called from inside and heard the acknowledgement as a caller; a redraw then
    takes in C002, which the number follows: no second acknowledgement as a subscriber."""
    subscribe(engine, INSIDE, code="C002")
    fault = _incident(engine, settings)
    assert len(_told(engine, INSIDE, "fault_ack")) == 1
    faults.resize(engine, settings, fault_id=fault, area=area(columns(0, 2), settings), **ACT)
    assert len(_told(engine, INSIDE, "fault_ack")) == 1, _to(engine, INSIDE)


def _not_affected(engine: Engine, recipient: str) -> list[Any]:
    return [r for r in _to(engine, recipient) if r.kind == "fault_not_affected"]


def test_reporters_left_out_of_the_confirmed_area_hear_so_once(
        engine: Engine, settings: Settings, grid: Any) -> None:
    """C004 texts MATDIEN while the incident is only reported and is promised its ETR; the
    dispatcher confirms it over columns 0-1, which leave C004 and the caller FAR out. Both
    hear at once that their place is not part of it; only C004 may report again by text.
    A redraw that takes in FAR and leaves out INSIDE tells INSIDE; nothing goes twice."""
    inside = report(engine, settings, phone=INSIDE, point=(LON0 + 0.0005, LAT0))
    assert report(engine, settings, phone=FAR, point=(LON0 + 0.004, LAT0)).outage_id \
        == inside.outage_id
    with engine.begin() as conn:
        sms_commands.handle(conn, settings, phone="+84900000004", text="MATDIEN")
    fault = inside.outage_id
    faults.confirm(engine, settings, fault_id=fault, area=area(columns(0, 1), settings),
                   started_at=ahead(minutes=-30), **ACT)
    c004 = _not_affected(engine, "+84900000004")
    assert [r.status for r in c004] == ["pending"] and "MATDIEN" in c004[0].body, c004
    [far] = _not_affected(engine, FAR)
    assert "MATDIEN" not in far.body and settings.notices.hotline in far.body, far.body
    assert _not_affected(engine, INSIDE) == []
    faults.resize(engine, settings, fault_id=fault, area=area(columns(2, 4), settings), **ACT)
    [left] = _not_affected(engine, INSIDE)
    assert "MATDIEN" not in left.body, left.body
    assert [r.kind for r in _to(engine, FAR) if r.kind == "fault_ack"] == ["fault_ack"]
    faults.resize(engine, settings, fault_id=fault, area=area(columns(0, 1), settings), **ACT)
    faults.resize(engine, settings, fault_id=fault, area=area(columns(2, 4), settings), **ACT)
    for phone in (INSIDE, FAR, "+84900000004"):
        assert len(_not_affected(engine, phone)) == 1, (phone, _to(engine, phone))
