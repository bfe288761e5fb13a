"""Email through SMTP (STARTTLS or TLS, optional login): multipart text + HTML, with a
one-click List-Unsubscribe (RFC 8058) when the message carries an unsubscribe URL."""

from __future__ import annotations

import contextlib
import hashlib
import html
import re
import smtplib
import ssl
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from email.header import Header
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any, Self

from notifier.channels.base import DeliveryError, Message, ProviderChannel, Receipt
from notifier.enums import ChannelName, Outcome
from notifier.render import Templates

# Where the text and HTML show the recipient's unsubscribe URL. A message's text is rendered
# once for all its recipients; the channel puts each one's own URL in place of this.
UNSUBSCRIBE_URL = "%%unsubscribe_url%%"


class EmailChannel(ProviderChannel):
    name = ChannelName.EMAIL
    contact = "email"
    provider = "smtp"
    templates = Templates(body="txt", subject="subject.txt", html="html")
    price_setting = "email_cost"
    carries_unsubscribe = True

    def __init__(self, *, host: str, port: int, from_address: str, starttls: bool = True,
                 tls: bool = False, username: str = "", password: str = "",
                 timeout: float = 10.0) -> None:
        self.host, self.port, self.from_address = host, port, from_address
        self.starttls, self.tls = starttls, tls
        self.username, self.password, self.timeout = username, password, timeout
        self._local = threading.local()
        self._open: list[smtplib.SMTP] = []  # every thread's connection, for close()
        self._lock = threading.Lock()

    @classmethod
    def configured(cls, config: Mapping[str, Any]) -> bool:
        return bool(config["host"] and config["from_address"])

    @classmethod
    def from_settings(cls, config: Mapping[str, Any]) -> Self:
        return cls(host=config["host"], port=config["port"], from_address=config["from_address"],
                   starttls=config["starttls"], tls=config["tls"], username=config["username"],
                   password=config["password"], timeout=config["timeout"].total_seconds())

    def _connect(self) -> smtplib.SMTP:
        smtp: smtplib.SMTP | None = getattr(self._local, "smtp", None)
        if smtp is not None:
            try:
                if smtp.noop()[0] == 250:
                    return smtp
            except smtplib.SMTPException:
                pass
        context = ssl.create_default_context()
        if self.tls:
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.starttls:
                smtp.starttls(context=context)
        if self.username:
            smtp.login(self.username, self.password)
        self._local.smtp = smtp
        with self._lock:
            self._open.append(smtp)
        return smtp

    def compose(self, message: Message) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.from_address
        mail["To"] = message.recipient
        mail.set_raw("Subject", encoded_subject(message.subject or ""))
        mail["Message-ID"] = self.message_id(message)
        mail["Date"] = format_datetime(datetime.now(UTC))  # RFC 5322: every message has one
        if message.unsubscribe:
            # RFC 8058: mail providers POST "List-Unsubscribe=One-Click" to the URL themselves,
            # so the customer's "Unsubscribe" button works without opening a page.
            mail["List-Unsubscribe"] = f"<{message.unsubscribe}>"
            mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        url = message.unsubscribe or ""
        mail.set_content(message.body.replace(UNSUBSCRIBE_URL, url))
        if message.html:
            mail.add_alternative(message.html.replace(UNSUBSCRIBE_URL, html.escape(url)),
                                 subtype="html")
        return mail

    def message_id(self, message: Message) -> str:
        """The same for every attempt at one outbox row. SMTP cannot be asked whether a
        message sent just before a crash went out, so the worker sends it again; with the
        first attempt's Message-ID, mail systems and clients recognise the copy and drop it."""
        digest = hashlib.sha256(f"{message.id}:{message.key}".encode()).hexdigest()[:32]
        domain = parseaddr(self.from_address)[1].rpartition("@")[2] or "outage-notify.invalid"
        return f"<{digest}@{domain}>"

    def send(self, message: Message) -> Receipt:
        mail = self.compose(message)
        try:
            smtp = self._connect()
        except smtplib.SMTPResponseException as exc:
            # Our mail server refused us (a wrong password, a full queue): nothing is wrong
            # with the message or its address, so it waits until the server takes us again.
            self._drop()
            raise DeliveryError(f"SMTP server refused the connection: {exc.smtp_code} "
                                f"{_text(exc.smtp_error)}", code=str(exc.smtp_code),
                                permanent=False) from exc
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            raise DeliveryError(f"network: {exc}", code="network", permanent=False) from exc
        try:
            smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise _refused(code, _text(text)) from exc
        except smtplib.SMTPSenderRefused as exc:
            # MAIL FROM refused: our sender address or our login's right to use it, never
            # the customer's address. The notice waits until smtp.from is put right.
            self._drop()
            raise DeliveryError(f"SMTP server refused our sender address: {exc.smtp_code} "
                                f"{_text(exc.smtp_error)}", code=str(exc.smtp_code),
                                permanent=False) from exc
        except smtplib.SMTPResponseException as exc:
            self._drop()  # the server may have closed it; a new one for the next message
            raise _error(exc.smtp_code, _text(exc.smtp_error), None) from exc
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            raise DeliveryError(f"network: {exc}", code="network", permanent=False) from exc
        return Receipt(provider_id=str(mail["Message-ID"]).strip("<>")[:64])

    def _drop(self) -> None:
        """Close this thread's connection, if any: a new one is opened for the next message."""
        smtp: smtplib.SMTP | None = getattr(self._local, "smtp", None)
        self._local.smtp = None
        if smtp is None:
            return
        with self._lock:
            if smtp in self._open:
                self._open.remove(smtp)
        with contextlib.suppress(OSError, smtplib.SMTPException):
            smtp.close()

    def close(self) -> None:
        with self._lock:
            connections, self._open = self._open, []
        for smtp in connections:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                smtp.quit()


def _error(code: int, text: str, outcome: Outcome | None) -> DeliveryError:
    # SMTP 5xx is a permanent refusal, 4xx asks to try again later.
    permanent = code >= 500
    return DeliveryError(f"SMTP {code}: {text}", code=str(code), permanent=permanent,
                         outcome=outcome if permanent else None)


# The enhanced status code (RFC 3463) at the start of a reply's text: "5.1.1".
_ENHANCED = re.compile(r"\s*([245])\.(\d{1,3})\.(\d{1,3})\b")


def _refused(code: int, text: str) -> DeliveryError:
    """A recipient refused at RCPT. Only an address the receiving system does not have
    (5.1.x: bad mailbox, bad domain; a bare 550/553 from servers without enhanced codes)
    marks the address invalid. A policy refusal (5.7.x: relay denied, a sender blocked) is
    about us, not the address: the notice waits and is tried again."""
    enhanced = _ENHANCED.match(text)
    subject = enhanced.group(2) if enhanced else None
    if code >= 500 and subject == "7":
        return DeliveryError(f"SMTP {code}: {text}", code=str(code), permanent=False)
    invalid = subject == "1" or (subject is None and code in (550, 553))
    return _error(code, text, Outcome.INVALID if invalid else None)


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)


def encoded_subject(subject: str) -> str:
    """The Subject header's value, folded into RFC 2047 encoded words that each carry their
    own spaces. EmailMessage's own folding (Python 3.11) puts the space between two words at
    a fold outside the encoded words, where readers drop it: a long Vietnamese subject
    arrived as "... cóđiện ..."."""
    return Header(subject, "utf-8", header_name="Subject").encode()
