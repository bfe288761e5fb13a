"""SMS through the official twilio client, pointed at `api_url` (Twilio or a compatible
server) with an explicit HTTP timeout (the client's default is none)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from notifier.channels.base import DeliveryError, Message, Receipt

# Twilio error codes: what they mean for us.
OUTCOMES = {21211: "phone_invalid", 21614: "phone_invalid", 21610: "sms_opt_out"}
PERMANENT = {21211, 21614, 21610, 30004, 30005, 30006, 30007}
TRANSIENT = {20429, 21611, 30001, 30003, 30008}
CLOCK_SKEW = timedelta(seconds=30)


class SmsChannel:
    name = "sms"

    def __init__(self, *, account_sid: str, auth_token: str, from_number: str = "",
                 messaging_service_sid: str = "", api_url: str = "https://api.twilio.com",
                 status_callback_url: str = "", timeout: float = 10.0,
                 validity_period: int = 14400) -> None:
        self._credentials = (account_sid, auth_token)
        self._api_url = api_url.rstrip("/")
        self._timeout = timeout
        self._local = threading.local()
        sender = ({"messaging_service_sid": messaging_service_sid} if messaging_service_sid
                  else {"from_": from_number})
        self._fixed: dict[str, object] = {**sender,
                                          "validity_period": max(1, min(validity_period, 36000))}
        if status_callback_url:
            self._fixed["status_callback"] = status_callback_url

    def _client(self) -> Client:
        # One client (and HTTP connection pool) per sending thread: requests sessions are
        # not safe to share, and reusing connections is most of the per-message cost.
        client: Client | None = getattr(self._local, "client", None)
        if client is None:
            http = TwilioHttpClient(timeout=self._timeout, pool_connections=True)
            client = Client(*self._credentials, http_client=http)
            client.api.base_url = self._api_url
            self._local.client = client
        return client

    def send(self, message: Message) -> Receipt:
        try:
            sent = self._client().messages.create(to=message.recipient, body=message.body,
                                                  **self._fixed)
        except TwilioRestException as exc:
            raise classify(exc) from exc
        except (requests.RequestException, TwilioException) as exc:
            raise DeliveryError(f"network: {exc}", code="network", permanent=False) from exc
        return Receipt(provider_id=sent.sid, status="sent")

    def lookup(self, message: Message, since: datetime) -> Receipt | None:
        """The provider's copy of this message, if it accepted one since `since`."""
        sender = self._fixed.get("from_")
        try:
            found = self._client().messages.list(to=message.recipient,
                                                 date_sent_after=since - timedelta(days=1),
                                                 limit=50)
        except (TwilioRestException, requests.RequestException, TwilioException) as exc:
            raise DeliveryError(f"lookup failed: {exc}", code="lookup", permanent=False) from exc
        # Same text to the same number after the claim: an identical earlier notice (two
        # reminders read alike) was accepted before `since` and does not count.
        for sent in found:
            created = sent.date_created
            if (sent.body == message.body and (sender is None or sent.from_ in (sender, None))
                    and created is not None and created >= since - CLOCK_SKEW):
                return Receipt(provider_id=sent.sid)
        return None

    def close(self) -> None:
        self._local = threading.local()


def classify(exc: TwilioRestException) -> DeliveryError:
    code = exc.code or 0
    text = f"HTTP {exc.status}: {exc.msg}"
    if code in TRANSIENT or exc.status == 429 or exc.status >= 500:
        return DeliveryError(text, code=str(code or exc.status), permanent=False)
    permanent = code in PERMANENT or 400 <= exc.status < 500
    return DeliveryError(text, code=str(code or exc.status), permanent=permanent,
                         outcome=OUTCOMES.get(code))
