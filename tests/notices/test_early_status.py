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
from outages.notices import callbacks, delivery
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


def test_an_early_report_is_kept_until_a_row_with_its_message_id_is_there(
        engine: Engine, settings: Settings, add_customers: Any) -> None:
    """A worker whose record came too late (its claim taken over) still hands its message
    id on; the report waits for the row that gets the id, as the worker taking over records
    it."""
    add_customers(h.customers(1))
    now = datetime.now(UTC)
    outage = h.add_outage(engine, start=now + timedelta(days=6),
                          end=now + timedelta(days=6, hours=2), members=h.customer_ids(engine))
    with engine.begin() as conn:
        publish(conn, settings, OutageEvent("cut_created", outage, 1, now))
        callbacks.record_status(conn, settings, message_sid="SM1", provider_status="undelivered",
                                keep=timedelta(days=1), error_code="30003")
        assert callbacks.apply_early(conn, settings, ["SM1"]) == 0  # no row has it yet
        row = conn.execute(select(outbox.c.id).where(outbox.c.kind == "announcement",
                                                     outbox.c.channel == "sms")).scalar_one()
        conn.execute(outbox.update().where(outbox.c.id == row).values(
            status="sent", provider_id="SM1", sent_at=now))
        assert callbacks.apply_early(conn, settings, ["SM1"]) == 1
        assert conn.execute(select(outbox.c.status, outbox.c.last_error_code)
                            .where(outbox.c.id == row)).one() == ("undelivered", "30003")
        assert conn.execute(select(EarlyStatus.__table__)).all() == []
