"""A delivery report that reaches `outages serve` before the worker has recorded the
message's id is kept and applied when the worker does: an "undelivered" that raced the
worker is not lost."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from notifier.store import outbox
from outages.lifecycle.events import OutageEvent, publish
from outages.models import EarlyStatus
from outages.notices import delivery
from outages.settings import Settings
from tests.notices import helpers as h
from tests.support.server import running_server
from tests.support.twilio_server import TwilioServer

pytestmark = pytest.mark.real_clock  # the server runs in its own process


def test_an_undelivered_report_before_the_worker_records_the_send_is_applied(
        engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
        twilio: TwilioServer, twilio_env: dict[str, str], test_env: dict[str, str]) -> None:
    add_customers(h.customers(2))
    ids = h.customer_ids(engine)
    twilio.auth_token = twilio_env["OUTAGES_TWILIO_AUTH_TOKEN"]
    twilio.report_first["+84900000000"] = ("undelivered", "30003")
    with running_server({**test_env, **twilio_env}) as base:
        settings = make_settings(**twilio_env,
                                 OUTAGES_TWILIO_STATUS_CALLBACK_URL=f"{base}/twilio/status")
        now = datetime.now(UTC)
        outage = h.add_outage(engine, start=now + timedelta(days=6),
                              end=now + timedelta(days=6, hours=2), members=ids)
        with engine.begin() as conn:
            publish(conn, settings, OutageEvent("cut_created", outage, 1, now))
        dispatcher = delivery.dispatcher(engine, settings, concurrency=2)
        try:
            dispatcher.drain()
        finally:
            dispatcher.close()

    with engine.connect() as conn:
        sent = {row.recipient: (row.status, row.last_error_code) for row in conn.execute(
            select(outbox.c.recipient, outbox.c.status, outbox.c.last_error_code)
            .where(outbox.c.kind == "announcement"))}
        kept = conn.execute(select(EarlyStatus.__table__)).all()
    assert sent == {"+84900000000": ("undelivered", "30003"), "+84900000001": ("sent", None)}
    assert kept == []  # applied, so no longer kept
