"""SMS through the official twilio client, pointed at `api_url` (Twilio or a compatible
server) with an explicit HTTP timeout (the client's default is none)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any, Self

from notifier.channels.base import (
    MAYBE_SENT,
    DeliveryError,
    Message,
    ProviderChannel,
    Receipt,
)
from notifier.enums import ChannelName, Outcome
from notifier.render import Templates

if TYPE_CHECKING:
    from twilio.base.exceptions import TwilioRestException
    from twilio.rest import Client

    from notifier.channels.pooled_http import PooledHttpClient

# Twilio error codes, from a send or a status callback: what they say about the number.
OUTCOMES = {
    21211: Outcome.INVALID,  # not a valid phone number
    21614: Outcome.INVALID,  # not a mobile number
    21610: Outcome.OPTED_OUT,  # the recipient replied STOP to our sender
}
PERMANENT = {*OUTCOMES, 30004, 30005, 30006, 30007}
TRANSIENT = {20429, 21611, 30001, 30003, 30008}
CLOCK_SKEW = timedelta(seconds=30)


def outcome(code: int | str | None) -> Outcome | None:
    """What a Twilio error code says about the number, if anything lasting."""
    try:
        return OUTCOMES.get(int(str(code).strip()))
    except ValueError:
        return None


class SmsChannel(ProviderChannel):
    name = ChannelName.SMS
    contact = "phone"
    provider = "twilio"
    templates = Templates(sms=True)
    price_setting = "sms_cost_per_segment"
    priced_per_segment = True
    fallback = ChannelName.EMAIL

    def __init__(self, *, account_sid: str, auth_token: str, from_number: str = "",
                 messaging_service_sid: str = "", api_url: str = "https://api.twilio.com",
                 status_callback_url: str = "", timeout: float = 10.0,
                 validity_period: int = 14400) -> None:
        self._credentials = (account_sid, auth_token)
        self._api_url = api_url.rstrip("/")
        self._timeout = timeout
        self._local = threading.local()
        self._http: PooledHttpClient | None = None
        self._http_lock = threading.Lock()
        sender = ({"messaging_service_sid": messaging_service_sid} if messaging_service_sid
                  else {"from_": from_number})
        self._fixed: dict[str, object] = {**sender,
                                          "validity_period": max(1, min(validity_period, 36000))}
        if status_callback_url:
            self._fixed["status_callback"] = status_callback_url

    @classmethod
    def configured(cls, config: Mapping[str, Any]) -> bool:
        return bool(config["account_sid"] and config["auth_token"]
                    and (config["from_number"] or config["messaging_service_sid"]))

    @classmethod
    def from_settings(cls, config: Mapping[str, Any]) -> Self:
        return cls(account_sid=config["account_sid"], auth_token=config["auth_token"],
                   from_number=config["from_number"],
                   messaging_service_sid=config["messaging_service_sid"],
                   api_url=config["api_url"], status_callback_url=config["status_callback_url"],
                   timeout=config["timeout"].total_seconds(),
                   validity_period=int(config["validity_period"].total_seconds()))

    def _client(self) -> Client:
        # A twilio client per sending thread, all on one pool of HTTP connections: reusing
        # connections is most of the per-message cost.
        client: Client | None = getattr(self._local, "client", None)
        if client is None:
            client = _client_class()(*self._credentials, http_client=self._pool())
            client.api.base_url = self._api_url
            self._local.client = client
        return client

    def _pool(self) -> PooledHttpClient:
        with self._http_lock:
            if self._http is None:
                from notifier.channels.pooled_http import PooledHttpClient

                self._http = PooledHttpClient(self._api_url, timeout=self._timeout)
            return self._http

    def send(self, message: Message) -> Receipt:
        from twilio.base.exceptions import TwilioException, TwilioRestException

        from notifier.channels.pooled_http import NetworkError, may_have_arrived

        try:
            sent = self._client().messages.create(to=message.recipient, body=message.body,
                                                  **self._fixed)
        except TwilioRestException as exc:
            raise classify(exc) from exc
        except NetworkError as exc:
            code = MAYBE_SENT if may_have_arrived(exc) else "network"
            raise DeliveryError(f"network: {exc}", code=code, permanent=False) from exc
        except TwilioException as exc:
            raise DeliveryError(f"network: {exc}", code="network", permanent=False) from exc
        return Receipt(provider_id=sent.sid)

    def lookup(self, message: Message, since: datetime) -> Receipt | None:
        """The provider's copy of this message, if it accepted one since `since`."""
        from twilio.base.exceptions import TwilioException

        from notifier.channels.pooled_http import NetworkError

        sender = self._fixed.get("from_")
        try:
            # No date filter: Twilio filters on the sent date, which a message it still
            # holds (queued, sending) does not have yet. The newest 50 to the number do.
            found = self._client().messages.list(to=message.recipient, limit=50)
        except (NetworkError, TwilioException) as exc:
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
        with self._http_lock:
            if self._http is not None:
                self._http.manager.clear()
                self._http = None


@cache
def _client_class() -> type[Client]:
    # Imported here: the twilio client is heavy, and most commands never send.
    from twilio.rest import Client

    class SteadyHeadersClient(Client):
        """The twilio client with its request headers worked out once per kind of request:
        it asks the platform module for the system and Python version at every request."""

        def get_headers(self, method: str, headers: dict[str, str] | None) -> dict[str, str]:
            key = (method, tuple(sorted((headers or {}).items())))
            known: dict[Any, dict[str, str]] = self.__dict__.setdefault("_known_headers", {})
            if key not in known:
                known[key] = super().get_headers(method, dict(headers or {}))
            return dict(known[key])  # the caller may change its copy

    return SteadyHeadersClient


def classify(exc: TwilioRestException) -> DeliveryError:
    code = exc.code or 0
    text = f"HTTP {exc.status}: {exc.msg}"
    if code in TRANSIENT or exc.status == 429 or exc.status >= 500:
        return DeliveryError(text, code=str(code or exc.status), permanent=False)
    permanent = code in PERMANENT or 400 <= exc.status < 500
    return DeliveryError(text, code=str(code or exc.status), permanent=permanent,
                         outcome=OUTCOMES.get(code))
