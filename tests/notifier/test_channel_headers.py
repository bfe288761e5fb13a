"""Every email carries a Date; a desk webhook that answers with a redirect is not taken as
delivered (urllib would follow it as a GET without the body)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

from notifier.channels import DeliveryError, Message, WebhookChannel
from notifier.channels.email import EmailChannel
from tests.support.smtp_server import SmtpServer


def test_every_email_carries_a_date_header(smtp: SmtpServer) -> None:
    channel = EmailChannel(host="127.0.0.1", port=smtp.port, from_address="n@utility.test",
                           starttls=False)
    try:
        channel.send(Message(id=1, key="k1", channel="email", recipient="a@example.test",
                             language="vi", kind="announcement", body="x", subject="Cắt điện"))
    finally:
        channel.close()
    [mail] = smtp.messages
    # RFC 5322 section 3.6: "Date" is one of the two header fields every message MUST have.
    assert mail["Date"] is not None, dict(mail.items())


class _MovedDesk(BaseHTTPRequestHandler):
    """The desk's endpoint moved (or http -> https): a POST gets 301, a GET gets 200."""

    requests: ClassVar[list[tuple[str, str, int]]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.requests.append((self.command, self.path, length))
        if self.command == "POST":
            self.send_response(301)
            self.send_header("Location", "/desk/alerts/v2")
        else:
            self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_GET = _answer

    def log_message(self, format: str, *args: Any) -> None:
        return


def test_a_redirected_desk_alert_is_not_recorded_as_delivered() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _MovedDesk)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/desk/alerts"
    body = '{"event": "partial_restoration", "alert": {"id": 7}}'
    outcome: object
    try:
        outcome = WebhookChannel(secret="desk-secret").send(Message(
            id=1, key="alert7:webhook", channel="webhook", recipient=url, language="vi",
            kind="partial_restoration", body=body))
    except DeliveryError as exc:
        outcome = exc
    finally:
        server.shutdown()
        server.server_close()
    # The alert's body was POSTed only to the old URL (answered 301); urllib then sent a
    # GET without the body to the new one, and its 200 made the send a success.
    assert isinstance(outcome, DeliveryError), (outcome, _MovedDesk.requests)
