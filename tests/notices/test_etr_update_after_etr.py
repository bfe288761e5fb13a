"""An ETR update held back by notices.etr_min_interval may fall due after the very ETR it
announces: then it would give, as the time power is expected back, a time already behind
the customer. Worded again when it goes, it says the time is not yet known, as an
acknowledgement whose ETR has passed does."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import Engine

from outages.settings import Settings
from tests.notices import helpers as h
from tests.notices.test_etr_notices import ETR, NOW, _drain, _incident, _move_etr
from tests.support.twilio_server import TwilioServer


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def test_an_etr_update_due_after_its_etr_does_not_give_that_etr_as_expected(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], clock: time_machine.Traveller,
) -> None:
    settings = make_settings(**twilio_env)
    add_customers(h.customers(1))
    outage = _incident(engine, settings, h.customer_ids(engine))  # 10:00: told 12:00
    clock.move_to(NOW + timedelta(minutes=10))  # 10:10: the crew says 10:20
    _move_etr(engine, settings, outage, 2, NOW + timedelta(minutes=20))
    assert _drain(engine, settings) == 0  # the acknowledgement went 10 minutes ago
    clock.move_to(NOW + timedelta(minutes=31))  # 10:31, power still off
    _drain(engine, settings)
    sent = twilio.bodies_to("+84900000000")[1:]
    assert sent, "nothing after the acknowledgement"
    now = datetime.now(UTC)
    assert NOW + timedelta(minutes=20) < now < ETR
    assert not any("du kien co dien lai 10:20" in body for body in sent), sent
    assert "du kien co dien lai chua xac dinh." in sent[0]


def test_a_new_etr_close_to_one_the_update_could_not_give_is_still_told(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    twilio: TwilioServer, twilio_env: dict[str, str], clock: time_machine.Traveller,
) -> None:
    settings = make_settings(**twilio_env, OUTAGES_NOTICES_ETR_CHANGE_MIN="60m")
    add_customers(h.customers(1))
    outage = _incident(engine, settings, h.customer_ids(engine))  # 10:00: told 12:00
    clock.move_to(NOW + timedelta(minutes=10))  # 10:10: the crew says 10:20
    _move_etr(engine, settings, outage, 2, NOW + timedelta(minutes=20))
    clock.move_to(NOW + timedelta(minutes=31))  # the update: "not yet known"
    _drain(engine, settings)
    clock.move_to(NOW + timedelta(minutes=40))  # 10:40: 11:10, 50 minutes from 10:20
    _move_etr(engine, settings, outage, 3, NOW + timedelta(minutes=70))
    clock.move_to(NOW + timedelta(minutes=62))  # the interval since the update has passed
    _drain(engine, settings)
    sent = twilio.bodies_to("+84900000000")[1:]
    assert len(sent) == 2 and "du kien co dien lai 11:10." in sent[1], sent
