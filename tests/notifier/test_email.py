"""Email through a real SMTP server in-process: multipart, header, permanent vs transient."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from sqlalchemy import Engine, select

from notifier.channels.base import Message
from notifier.channels.email import EmailChannel
from outages.lifecycle.events import OutageEvent, publish
from outages.models import Customer
from outages.notices import delivery
from outages.settings import Settings
from tests.notices import helpers as h
from tests.support.smtp_server import SmtpServer

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def test_email_notices_multipart_with_unsubscribe_and_errors(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    smtp: SmtpServer,
) -> None:
    settings = make_settings(
        OUTAGES_SMTP_HOST="127.0.0.1", OUTAGES_SMTP_PORT=str(smtp.port),
        OUTAGES_SMTP_FROM="notices@utility.test", OUTAGES_SMTP_STARTTLS="false",
        OUTAGES_SMTP_USERNAME="worker", OUTAGES_SMTP_PASSWORD="secret",
        OUTAGES_NOTICES_QUIET_HOURS="",
        OUTAGES_NOTICES_CONSOLE_PATH="/dev/null",
    )
    rows = h.customers(3, email=True, language="en")
    for row in rows:
        row["phone"] = None
    add_customers(rows)
    smtp.refuse("c1@example.test", "550 5.1.1 no such user")
    smtp.refuse("c2@example.test", "451 4.3.0 try again later")
    ids = h.customer_ids(engine)
    start = NOW + timedelta(days=6)
    with time_machine.travel(NOW, tick=True):
        outage = h.add_outage(engine, start=start, end=start + timedelta(hours=2), members=ids,
                              reason="<transformer> upgrade")
        with engine.begin() as conn:
            publish(conn, settings, OutageEvent("cut_created", outage, 1, NOW))
        dispatcher = delivery.dispatcher(engine, settings, concurrency=2)
        try:
            dispatcher.drain()
        finally:
            dispatcher.close()
    assert len(smtp.messages) == 1
    mail = smtp.messages[0]
    assert mail["To"] == "c0@example.test"
    assert mail["Subject"] == "Planned power cut: Phường Láng Hạ"
    # No link secret set: no List-Unsubscribe (nothing reads replies to a mailto: address).
    assert "List-Unsubscribe" not in mail
    sent = h.rows(engine, kind="announcement", status="sent")
    assert mail["Message-ID"] == delivery.transports(settings)["email"].message_id(
        Message(id=sent[0].id, key=sent[0].key, channel="email", recipient="c0@example.test",
                language="en", kind="announcement", body=""))
    assert mail["Message-ID"].endswith("@utility.test>")
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "from 7 Dec 10:00 to 12:00 for <transformer> upgrade" in text
    assert "&lt;transformer&gt; upgrade" in html
    status = {r.recipient: (r.status, r.last_error_code)
              for r in h.rows(engine, kind="announcement")}
    assert status["c1@example.test"] == ("failed", "550")
    assert status["c2@example.test"] == ("pending", "451")
    # A hard bounce marks the address invalid; the customer did not opt out.
    with engine.connect() as conn:
        flags = {r.email: (r.email_invalid, r.email_opt_out) for r in conn.execute(
            select(Customer.email, Customer.email_invalid, Customer.email_opt_out))}
    assert flags == {"c0@example.test": (False, False), "c1@example.test": (True, False),
                     "c2@example.test": (False, False)}


def test_message_id_is_the_same_for_every_attempt_at_one_notice() -> None:
    channel = EmailChannel(host="127.0.0.1", port=25, from_address="Notices <n@utility.test>")
    first = Message(id=7, key="cut:1:announcement:c:9:email", channel="email",
                    recipient="c@example.test", language="vi", kind="announcement", body="a")
    again = Message(**{**first.__dict__, "body": "a, rendered again"})
    other = Message(**{**first.__dict__, "id": 8, "key": "cut:1:announcement:c:10:email"})
    assert channel.compose(first)["Message-ID"] == channel.compose(again)["Message-ID"]
    assert channel.message_id(first) != channel.message_id(other)
    assert channel.message_id(first).endswith("@utility.test>")


def test_a_long_vietnamese_subject_keeps_every_space(smtp: SmtpServer) -> None:
    subject = ("Còn 15 phút đến giờ dự kiến có điện, khách hàng vẫn mất điện: sự cố 12 "
               "(Phường Láng Hạ, quận Đống Đa, thành phố Hà Nội)")
    channel = EmailChannel(host="127.0.0.1", port=smtp.port, from_address="n@utility.test",
                           starttls=False)
    try:
        channel.send(Message(id=1, key="k1", channel="email", recipient="a@example.test",
                             language="vi", kind="announcement", body="x", subject=subject))
    finally:
        channel.close()
    [mail] = smtp.messages
    assert str(mail["Subject"]) == subject
    raw = mail.as_bytes().split(b"\n")
    assert max(len(line.rstrip(b"\r")) for line in raw if line.startswith((b"Subject", b" "))) \
        <= 78
