"""Zalo notices from an outage event: each customer's channel preference at queue time,
template parameters from the SMS's context, retries, and SMS for customers Zalo cannot reach."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import Engine, select

from outages.lifecycle.events import OutageEvent, publish
from outages.models import Customer
from outages.notices import delivery
from outages.settings import Settings
from tests.notices import helpers as h
from tests.support.twilio_server import TwilioServer
from tests.support.zalo_server import ZaloServer

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 10:00 in Hanoi


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


def _fault(engine: Engine, settings: Settings, at: datetime = NOW) -> int:
    outage = h.add_outage(engine, kind="fault", status="confirmed", actual_start=at,
                          etr=at + timedelta(hours=3), members=h.customer_ids(engine),
                          start=None)
    with engine.begin() as conn:
        publish(conn, settings, OutageEvent("fault_confirmed", outage, 1, at))
    return outage


def _send(engine: Engine, settings: Settings, *, rounds: int) -> None:
    """What is due, `rounds` times over with one worker (fallbacks and retries queued by a
    round are due in the next)."""
    dispatcher = delivery.dispatcher(engine, settings, concurrency=4)
    try:
        for _ in range(rounds):
            dispatcher.drain()
    finally:
        dispatcher.close()


def test_each_customer_is_notified_on_the_channels_they_prefer(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
) -> None:
    settings = make_settings()
    # Every row names its columns: one insert of many rows takes the first row's.
    add_customers(h.customers(1, email=True, channels=None)
                  + h.customers(1, start=1, email=True, channels="zalo,sms,email")
                  + h.customers(1, start=2, email=True, channels="email,sms")
                  + h.customers(1, start=3, email=True, channels="sms,zalo"))
    _fault(engine, settings)
    by_customer = {}
    for row in h.rows(engine, kind="fault_ack"):
        by_customer.setdefault(row.customer_id, set()).add(row.channel)
    ids = h.customer_ids(engine)
    assert [by_customer[i] for i in ids] == [
        {"sms", "email"},  # no preference: notices.channels
        {"zalo", "email"},  # Zalo before SMS: both reach the phone, Zalo is tried
        {"email", "sms"},
        {"sms"},
    ]


def test_the_default_preference_is_a_setting(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
) -> None:
    settings = make_settings(OUTAGES_NOTICES_CHANNELS="zalo,email")
    add_customers(h.customers(1, email=True, channels=None)
                  + h.customers(1, start=1, channels="sms"))
    _fault(engine, settings)
    rows = h.rows(engine, kind="fault_ack")
    assert sorted((r.customer_id, r.channel) for r in rows) == sorted(
        [(h.customer_ids(engine)[0], "zalo"), (h.customer_ids(engine)[0], "email"),
         (h.customer_ids(engine)[1], "sms")])
    [zalo_row] = [r for r in rows if r.channel == "zalo"]
    params = json.loads(zalo_row.body)  # the template's parameters, from the SMS's context
    assert params["area"] == "Phường Láng Hạ" and params["hotline"] == "1900 6769"
    assert params["etr"] == "13:00"


def test_zalo_sends_retries_and_falls_back_to_sms_once_for_customers_not_on_zalo(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    zalo: ZaloServer, zalo_env: dict[str, str], twilio: TwilioServer,
    twilio_env: dict[str, str],
) -> None:
    settings = make_settings(**twilio_env, **zalo_env, OUTAGES_RETRY_MAX_ATTEMPTS="3")
    add_customers(h.customers(4, channels="zalo,sms"))
    zalo.fail("84900000001", -115, times=1)  # out of quota: tried again
    zalo.fail("84900000002", -118)  # no Zalo account
    zalo.fail("84900000003", -109)  # the template was rejected: SMS rather than nothing
    _fault(engine, settings)
    _send(engine, settings, rounds=4)  # a retry falls due in a later round
    zalo_rows = {r.recipient: r for r in h.rows(engine, channel="zalo", kind="fault_ack")}
    assert {phone: (r.status, r.last_error_code) for phone, r in zalo_rows.items()} == {
        "+84900000000": ("sent", None), "+84900000001": ("sent", None),
        "+84900000002": ("failed", "-118"), "+84900000003": ("failed", "-109")}
    assert zalo_rows["+84900000001"].attempts == 2
    assert sorted(zalo.phones()) == ["84900000000", "84900000001"]
    # Those Zalo could not reach got the SMS instead, once each; nobody got both.
    assert sorted(m["To"] for m in twilio.messages) == ["+84900000002", "+84900000003"]
    assert [r.status for r in h.rows(engine, channel="sms")] == ["sent", "sent"]
    with engine.connect() as conn:  # the number itself is fine: nothing is flagged
        flags = conn.execute(select(Customer.phone_invalid, Customer.sms_opt_out)).all()
    assert set(flags) == {(False, False)}


def test_a_notice_with_a_parameter_over_its_zalo_limit_goes_by_sms_whole(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    zalo: ZaloServer, zalo_env: dict[str, str], twilio: TwilioServer,
    twilio_env: dict[str, str],
) -> None:
    settings = make_settings(**twilio_env, **zalo_env)
    add_customers(h.customers(1, channels="zalo,sms"))
    area = "Phường Láng Hạ, Phường Thành Công, một phần Phường Ngọc Khánh và Phường Giảng Võ."
    assert len(area) == 81
    outage = h.add_outage(engine, kind="fault", status="confirmed", actual_start=NOW,
                          etr=NOW + timedelta(hours=3), members=h.customer_ids(engine),
                          start=None, area_name=area)
    with engine.begin() as conn:
        publish(conn, settings, OutageEvent("fault_confirmed", outage, 1, NOW))
    _send(engine, settings, rounds=2)
    # Zalo is not asked to show an address past its 80 characters: the SMS carries it all.
    assert zalo.messages == []
    [zalo_row] = h.rows(engine, channel="zalo", kind="fault_ack")
    assert (zalo_row.status, zalo_row.last_error_code) == ("failed", "param_too_long")
    [sms] = twilio.messages
    assert sms["To"] == "+84900000000" and "Phuong Giang Vo." in sms["Body"]  # ASCII SMS


def test_a_number_zalo_cannot_reach_gets_sms_at_once_until_zalo_is_tried_again(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    zalo: ZaloServer, zalo_env: dict[str, str], twilio: TwilioServer,
    twilio_env: dict[str, str],
) -> None:
    settings = make_settings(**twilio_env, **zalo_env)
    add_customers(h.customers(2, channels="zalo,sms"))
    zalo.fail("84900000001", -118, times=3)  # no Zalo account, whenever Zalo is asked

    def fault_and_send(at: datetime) -> dict[str, list[str]]:
        outage = _fault(engine, settings, at)
        _send(engine, settings, rounds=3)  # Zalo, then the SMS it fell back to
        channels: dict[str, list[str]] = {}
        for row in h.rows(engine, kind="fault_ack"):
            if row.outage_id == outage:
                channels.setdefault(row.recipient, []).append(f"{row.channel} {row.status}")
        return {phone: sorted(found) for phone, found in channels.items()}

    # Zalo refuses the number: the notice falls back to SMS, and Zalo's answer is kept.
    assert fault_and_send(NOW) == {"+84900000000": ["zalo sent"],
                                   "+84900000001": ["sms sent", "zalo failed"]}
    with engine.connect() as conn:
        absent = dict(conn.execute(select(Customer.phone, Customer.zalo_absent_at)).all())
    assert absent["+84900000000"] is None and absent["+84900000001"] is not None
    # The next notice goes by SMS at once, without asking Zalo.
    later = NOW + timedelta(days=3)
    with time_machine.travel(later, tick=True):
        assert fault_and_send(later) == {"+84900000000": ["zalo sent"],
                                         "+84900000001": ["sms sent"]}
    assert len(zalo.scripted["84900000001"]) == 2
    # A month on, Zalo is tried again (the customer may have joined it since).
    month = NOW + settings.zalo.retry_absent_after + timedelta(hours=1)
    with time_machine.travel(month, tick=True):
        assert fault_and_send(month) == {"+84900000000": ["zalo sent"],
                                         "+84900000001": ["sms sent", "zalo failed"]}
    assert len(zalo.scripted["84900000001"]) == 1


def test_a_notice_zalo_will_not_carry_at_night_goes_by_sms_at_once(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    zalo: ZaloServer, zalo_env: dict[str, str], twilio: TwilioServer,
    twilio_env: dict[str, str],
) -> None:
    """Zalo refuses template messages at night (-133). A fault acknowledgement at 22:00
    reaches a Zalo-first customer by SMS in the same round, not after a night of retries;
    their later notices still try Zalo first."""
    settings = make_settings(**twilio_env, **zalo_env)
    add_customers(h.customers(1, channels="zalo,sms"))
    zalo.fail("84900000000", -133, times=5)
    _fault(engine, settings)
    _send(engine, settings, rounds=2)  # the fallback is due in the round after
    [row] = h.rows(engine, channel="zalo", kind="fault_ack")
    assert (row.status, row.last_error_code, row.attempts) == ("failed", "-133", 1)
    assert [m["To"] for m in twilio.messages] == ["+84900000000"]
    with engine.connect() as conn:  # nothing says Zalo cannot reach them by day
        assert conn.execute(select(Customer.zalo_absent_at)).scalar_one() is None
