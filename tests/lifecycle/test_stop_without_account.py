"""A STOP from a number on no account (a caller, a subscriber) holds for texts to that number."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from notifier.channels import DeliveryError
from notifier.enums import Outcome
from notifier.store import outbox
from outages.lifecycle import faults
from outages.notices import recipients, refusals, sms_commands
from outages.registry import optout
from outages.registry.customers import update_customer
from outages.settings import Settings
from tests.lifecycle.conftest import LAT0, LON0, ahead, columns
from tests.lifecycle.test_cuts_create import area
from tests.lifecycle.test_faults import ACT, report

CALLER = "+84912345678"  # a tenant's phone: on no account


def test_stop_from_a_caller_without_an_account_stops_their_texts(
        engine: Engine, settings: Settings, grid: Any) -> None:
    """A tenant reports a fault from an unregistered phone (call centre), then texts STOP and
    is told "You will no longer receive power outage texts". The "power is back" text queued
    for that phone at the restoration must not go: nothing records the STOP for a number that
    is on no account, so neither queueing nor the worker's recheck bars it."""
    inside = report(engine, settings, phone=CALLER, point=(LON0 + 0.0005, LAT0))
    with engine.begin() as conn:
        reply = sms_commands.handle(conn, settings, phone=CALLER, text="STOP")
    assert reply is not None and reply.template == "stop"  # "Quy khach da huy nhan tin ..."
    faults.confirm(engine, settings, fault_id=inside.outage_id,
                   area=area(columns(0, 1), settings), started_at=ahead(minutes=-30), **ACT)
    faults.restore(engine, settings, fault_id=inside.outage_id, at=None, **ACT)
    with engine.connect() as conn:
        pending = list(conn.execute(select(outbox).where(
            outbox.c.recipient == CALLER, outbox.c.channel == "sms",
            outbox.c.status == "pending")).all())
    with engine.begin() as conn:
        verdict = recipients.recheck(conn, settings, pending)
    would_send = [(row.kind, row.body) for row in pending if row.id not in verdict.skip]
    assert would_send == [], f"texts still going to {CALLER} after STOP: {would_send}"


def test_a_number_the_provider_says_opted_out_is_kept_as_opted_out(
        engine: Engine, settings: Settings, grid: Any) -> None:
    """Twilio refusing a text to a number on no account with 21610 (it replied STOP to the
    provider): the number is recorded, so the next texts to it are not even tried."""
    report(engine, settings, phone=CALLER, point=(LON0 + 0.0005, LAT0))
    with engine.connect() as conn:
        [received] = conn.execute(select(outbox).where(outbox.c.recipient == CALLER)).all()
        assert optout.opted_out_numbers(conn, [CALLER]) == set()
    error = DeliveryError("HTTP 400: opted out", code="21610", permanent=True,
                          outcome=Outcome.OPTED_OUT)
    with engine.begin() as conn:
        refusals.refused(conn, settings, [(received, error)])
    with engine.connect() as conn:
        assert optout.opted_out_numbers(conn, [CALLER, "+84900000001"]) == {CALLER}
    with engine.begin() as conn:  # START from the number opts it back in
        sms_commands.handle(conn, settings, phone=CALLER, text="START")
    with engine.connect() as conn:
        assert optout.opted_out_numbers(conn, [CALLER]) == set()


def test_staff_opting_a_customer_back_in_clears_their_numbers_stop(
        engine: Engine, settings: Settings, grid: Any) -> None:
    """A customer whose number texted STOP asks the call centre for texts again: the update
    that opts their account back in lets texts to the number go again."""
    phone = "+84900000005"  # C005's
    with engine.begin() as conn:
        sms_commands.handle(conn, settings, phone=phone, text="STOP")
        assert optout.opted_out_numbers(conn, [phone]) == {phone}
        update_customer(conn, "C005", changes={"sms_opt_out": False}, actor="desk",
                        source="cli", settings=settings)
        assert optout.opted_out_numbers(conn, [phone]) == set()
