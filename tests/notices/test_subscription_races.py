"""Two requests for one contact at the same moment are counted one after the other."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import Engine, text

from outages.notices import subscriptions
from tests.notices import helpers as h

PHONE = "+84912345678"


def _waiting_for_a_contact_lock(engine: Engine, deadline: float) -> bool:
    with engine.connect() as watcher:
        while time.monotonic() < deadline:
            if watcher.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'advisory'"
            )).scalar_one():
                return True
            watcher.rollback()
            time.sleep(0.02)
    return False


@pytest.mark.postgres_only
def test_the_second_of_two_simultaneous_requests_at_the_limit_waits_and_is_refused(
        engine: Engine, make_settings: Any, add_customers: Any) -> None:
    add_customers(h.customers(2))
    settings = make_settings(OUTAGES_SUBSCRIPTIONS_SMS_REQUESTS_PER_PHONE_PER_DAY="1")
    answers: dict[str, Any] = {}

    def second() -> None:
        with engine.begin() as conn:
            answers["second"] = subscriptions.sms_request(
                conn, settings, phone=PHONE, argument="C0000001", language="vi")

    with engine.begin() as conn:
        answers["first"] = subscriptions.sms_request(conn, settings, phone=PHONE,
                                                     argument="C0000000", language="vi")
        other = threading.Thread(target=second)
        other.start()
        # The second request is held until the first one's transaction ends.
        waited = _waiting_for_a_contact_lock(engine, time.monotonic() + 10)
    other.join(timeout=10)
    assert waited and not other.is_alive()
    assert answers["first"] is not None and answers["first"][0] == "subscribe_confirm"
    assert answers["second"] is None  # the day's one request is used up
    with engine.connect() as conn:
        pending = conn.execute(text("SELECT count(*) FROM subscriptions WHERE contact = :p"),
                               {"p": PHONE}).scalar_one()
    assert pending == 1


@pytest.mark.postgres_only
def test_requests_for_different_contacts_do_not_wait_for_each_other(
        engine: Engine, settings: Any, add_customers: Any) -> None:
    add_customers(h.customers(1))
    with engine.begin() as conn:
        subscriptions.sms_request(conn, settings, phone=PHONE, argument="C0000000",
                                  language="vi")
        with engine.begin() as other:  # would wait for ever if the lock were not per contact
            other.exec_driver_sql("SET LOCAL lock_timeout = '2s'")
            reply = subscriptions.sms_request(other, settings, phone="+84987654321",
                                              argument="C0000000", language="vi")
    assert reply is not None and reply[0] == "subscribe_confirm"
