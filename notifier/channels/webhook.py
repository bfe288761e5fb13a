"""Alerts to the dispatch desk's own system: a JSON POST to a URL, signed so the receiver
knows it came from us.

`X-Outages-Delivery` carries the outbox key: the same on every attempt, so a receiver drops
the copy a retry after a lost answer may bring. `X-Outages-Timestamp` is when this attempt was
sent (Unix seconds). `X-Outages-Signature: sha256=<hex>` is HMAC-SHA256, with a shared secret,
of `<timestamp>.<delivery>.` followed by the exact body bytes: a receiver that checks it, refuses
a timestamp more than a few minutes old and drops repeated deliveries cannot be made to take a
captured alert again, neither as it was nor under a new delivery key.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any, Self

from notifier.channels.base import DeliveryError, Message, Receipt
from notifier.enums import ChannelName

SIGNATURE_HEADER = "X-Outages-Signature"
DELIVERY_HEADER = "X-Outages-Delivery"
TIMESTAMP_HEADER = "X-Outages-Timestamp"
# Worth another try: the receiver is busy or down, or asks us to slow down.
TRANSIENT_STATUS = frozenset({408, 425, 429})


def signature(secret: str, body: bytes, *, timestamp: int, delivery: str) -> str:
    signed = f"{timestamp}.{delivery}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


class WebhookChannel:
    """Not a customer channel (customers have no URL): it carries the desk's alerts, whose
    outbox rows name the URL as recipient and the JSON as body."""

    name = ChannelName.WEBHOOK

    def __init__(self, *, secret: str, timeout: float = 10.0) -> None:
        self.secret = secret
        self.timeout = timeout

    @classmethod
    def configured(cls, config: Mapping[str, Any]) -> bool:
        return bool(config["webhook_url"] and config["webhook_secret"])

    @classmethod
    def from_settings(cls, config: Mapping[str, Any]) -> Self:
        return cls(secret=config["webhook_secret"], timeout=config["timeout"].total_seconds())

    def send(self, message: Message) -> Receipt:
        body, sent = message.body.encode(), int(time.time())
        request = urllib.request.Request(message.recipient, data=body, method="POST", headers={
            "Content-Type": "application/json", "User-Agent": "outage-notify",
            SIGNATURE_HEADER: signature(self.secret, body, timestamp=sent,
                                        delivery=message.key),
            DELIVERY_HEADER: message.key, TIMESTAMP_HEADER: str(sent)})
        try:
            with _NO_REDIRECTS.open(request, timeout=self.timeout) as answer:
                return Receipt(provider_id=answer.headers.get("X-Request-Id"))
        except urllib.error.HTTPError as exc:
            if 300 <= exc.code < 400:  # a redirected POST would arrive as a GET, bodyless
                raise DeliveryError(f"webhook answered HTTP {exc.code} (moved to "
                                    f"{exc.headers.get('Location')}): set the desk's URL to "
                                    "where it points", code=str(exc.code),
                                    permanent=True) from exc
            permanent = 400 <= exc.code < 500 and exc.code not in TRANSIENT_STATUS
            raise DeliveryError(f"webhook answered HTTP {exc.code}", code=str(exc.code),
                                permanent=permanent) from exc
        except (OSError, ValueError) as exc:
            raise DeliveryError(f"network: {exc}", code="network", permanent=False) from exc

    def close(self) -> None:
        return None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is answered as the error it is for a signed POST: urllib would follow it
    as a GET without the body, and a 200 to that would count as delivered."""

    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


_NO_REDIRECTS = urllib.request.build_opener(_NoRedirect)
