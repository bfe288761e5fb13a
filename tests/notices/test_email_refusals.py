"""SMTP refusals that are not about the customer's address (our relay's policy, our password)
mark nothing and are tried again; a refused message does not leave its connection open."""

from __future__ import annotations

import contextlib
import socketserver
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from sqlalchemy import Engine, select

from outages.lifecycle.events import OutageEvent, publish
from outages.models import Customer
from outages.notices import delivery
from outages.settings import Settings
from tests.notices import helpers as h
from tests.support.smtp_server import SmtpServer

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def _announce(engine: Engine, settings: Settings, ids: list[int]) -> None:
    start = NOW + timedelta(days=6)
    with time_machine.travel(NOW, tick=True):
        outage = h.add_outage(engine, start=start, end=start + timedelta(hours=2), members=ids)
        with engine.begin() as conn:
            publish(conn, settings, OutageEvent("cut_created", outage, 1, NOW))
        dispatcher = delivery.dispatcher(engine, settings, concurrency=2)
        try:
            dispatcher.drain()
        finally:
            dispatcher.close()


def _settings(make_settings: Callable[..., Settings], smtp: SmtpServer, **extra: str) -> Settings:
    return make_settings(
        OUTAGES_SMTP_HOST="127.0.0.1", OUTAGES_SMTP_PORT=str(smtp.port),
        OUTAGES_SMTP_FROM="notices@utility.test", OUTAGES_SMTP_STARTTLS="false",
        OUTAGES_NOTICES_QUIET_HOURS="", OUTAGES_NOTICES_CONSOLE_PATH="/dev/null", **extra)


def test_relay_denied_by_our_own_mail_server_does_not_mark_every_address_invalid(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    smtp: SmtpServer,
) -> None:
    """The relay refuses RCPT because *we* are not allowed to relay (login missing or
    wrong): 554 5.7.1 is a policy refusal, not "no such mailbox" (5.1.x)."""
    settings = _settings(make_settings, smtp)
    rows = h.customers(3, email=True, language="en")
    for row in rows:
        row["phone"] = None
    add_customers(rows)
    for row in rows:
        smtp.refuse(row["email"], "554 5.7.1 Relay access denied")
    _announce(engine, settings, h.customer_ids(engine))
    with engine.connect() as conn:
        flagged = sorted(r.email for r in conn.execute(
            select(Customer.email).where(Customer.email_invalid.is_(True))))
    assert flagged == [], "customers' good addresses were marked invalid"


class _RefusingLogin(socketserver.ThreadingTCPServer):
    """A submission server that refuses our credentials: 535 5.7.8 at AUTH."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _LoginHandler)
        self.logins = 0


class _LoginHandler(socketserver.StreamRequestHandler):
    server: _RefusingLogin

    def handle(self) -> None:
        self.wfile.write(b"220 mail.utility.test ESMTP\r\n")
        for line in self.rfile:
            verb = line.split(b" ", 1)[0].strip().upper()
            if verb in (b"EHLO", b"HELO"):
                self.wfile.write(b"250-mail.utility.test\r\n250 AUTH PLAIN LOGIN\r\n")
            elif verb == b"AUTH":
                self.server.logins += 1
                self.wfile.write(b"535 5.7.8 Authentication credentials invalid\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"503 5.5.1 authenticate first\r\n")


def test_a_wrong_smtp_password_does_not_fail_every_email_for_good(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
) -> None:
    """535 at AUTH says *our* credentials are wrong (rotated password): nothing about the
    customers. Once the operator fixes the password the notices should still go out, so
    they must stay queued for a retry, not be failed for good after one try."""
    server = _RefusingLogin()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings = make_settings(
            OUTAGES_SMTP_HOST="127.0.0.1", OUTAGES_SMTP_PORT=str(server.server_address[1]),
            OUTAGES_SMTP_FROM="notices@utility.test", OUTAGES_SMTP_STARTTLS="false",
            OUTAGES_SMTP_USERNAME="worker", OUTAGES_SMTP_PASSWORD="rotated-yesterday",
            OUTAGES_NOTICES_QUIET_HOURS="", OUTAGES_NOTICES_CONSOLE_PATH="/dev/null")
        rows = h.customers(2, email=True, language="en")
        for row in rows:
            row["phone"] = None
        add_customers(rows)
        _announce(engine, settings, h.customer_ids(engine))
    finally:
        server.shutdown()
        server.server_close()
    status = sorted((r.status, r.last_error_code) for r in h.rows(engine, kind="announcement"))
    assert status == [("pending", "535"), ("pending", "535")]


class _RefusingData(socketserver.ThreadingTCPServer):
    """Accepts the envelope, then refuses the message at the end of DATA (a content filter's
    554, or a 451 "try later"); counts the client connections still open."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _DataHandler)
        self.lock = threading.Lock()
        self.open = 0
        self.peak = 0


class _DataHandler(socketserver.StreamRequestHandler):
    server: _RefusingData

    def handle(self) -> None:
        with self.server.lock:
            self.server.open += 1
            self.server.peak = max(self.server.peak, self.server.open)
        try:
            self.wfile.write(b"220 mail.utility.test ESMTP\r\n")
            in_data = False
            for line in self.rfile:
                if in_data:
                    if line in (b".\r\n", b".\n"):
                        in_data = False
                        self.wfile.write(b"554 5.7.1 Message content rejected\r\n")
                    continue
                verb = line.split(b" ", 1)[0].strip().upper()
                if verb in (b"EHLO", b"HELO"):
                    self.wfile.write(b"250 mail.utility.test\r\n")
                elif verb == b"DATA":
                    in_data = True
                    self.wfile.write(b"354 go ahead\r\n")
                elif verb == b"QUIT":
                    self.wfile.write(b"221 bye\r\n")
                    return
                else:  # MAIL, RCPT, RSET, NOOP
                    self.wfile.write(b"250 OK\r\n")
        finally:
            with self.server.lock:
                self.server.open -= 1


def test_a_refused_message_does_not_leave_its_smtp_connection_open() -> None:
    import time

    from notifier.channels import DeliveryError, Message
    from notifier.channels.email import EmailChannel

    server = _RefusingData()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    channel = EmailChannel(host="127.0.0.1", port=server.server_address[1],
                           from_address="notices@utility.test", starttls=False)
    try:
        for n in range(5):  # one sending thread, five notices the filter refuses
            with contextlib.suppress(DeliveryError):
                channel.send(Message(id=n, key=f"k{n}", channel="email",
                                     recipient=f"c{n}@example.test", language="en",
                                     kind="announcement", body="Power will be off."))
        time.sleep(0.2)
        with server.lock:
            still_open = server.open
    finally:
        channel.close()
        server.shutdown()
        server.server_close()
    # One sending thread needs one connection; every refusal opened another and kept the
    # old one open, until the worker stops.
    assert still_open <= 1, f"{still_open} SMTP connections open for one sending thread"


def test_our_sender_address_refused_by_our_mail_server_is_tried_again(
    engine: Engine, make_settings: Callable[..., Settings], add_customers: Any,
    smtp: SmtpServer,
) -> None:
    """Our submission server refuses MAIL FROM (the sender is not one our login may use:
    553 5.7.1): a policy refusal about us, like a refused relay or login. Once the operator
    fixes smtp.from the notices must still go out, not be failed for good on the first try."""
    settings = _settings(make_settings, smtp)
    rows = h.customers(2, email=True, language="en")
    for row in rows:
        row["phone"] = None
    add_customers(rows)
    smtp.refuse_sender("553 5.7.1 <notices@utility.test>: Sender address rejected: "
                       "not owned by user worker")
    _announce(engine, settings, h.customer_ids(engine))
    status = sorted((r.status, r.last_error_code) for r in h.rows(engine, kind="announcement"))
    assert status == [("pending", "553"), ("pending", "553")]
    with engine.connect() as conn:
        flagged = conn.execute(select(Customer.email)
                               .where(Customer.email_invalid.is_(True))).all()
    assert flagged == []
