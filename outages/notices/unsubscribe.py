"""One-click email unsubscribe (RFC 8058): a link per customer and address, signed so that
nobody can opt out anyone else, and the opt-out it leads to.

The signature covers the customer id and the address the email went to, so a link stops
working once the customer's address changes. It carries no personal data: the id is an
internal number and the address is only inside the HMAC.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, select

from notifier.enums import ChannelName
from outages.enums import Source
from outages.errors import NotFound
from outages.models import Customer
from outages.registry import optout
from outages.settings import Settings

PATH = "/unsubscribe"
ACTOR = "email-link"
_c = Customer.__table__.c


def _signature(secret: str, customer_id: int, address: str) -> str:
    message = f"email-unsubscribe:{customer_id}:{address.strip().lower()}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def enabled(settings: Settings) -> bool:
    return bool(settings.http.public_base_url and settings.http.link_secret)


def link(settings: Settings, *, customer_id: int, address: str) -> str | None:
    """The customer's unsubscribe URL for emails to `address`; None when links are not set up
    (no http.public_base_url or http.link_secret)."""
    if not enabled(settings):
        return None
    base, secret = settings.http.public_base_url.rstrip("/"), settings.http.link_secret
    return f"{base}{PATH}/{customer_id}.{_signature(secret, customer_id, address)}"


def links(settings: Settings) -> Callable[[Any], str | None]:
    """For the dispatcher: an outbox row (email to a customer) -> its unsubscribe URL."""
    def for_row(row: Any) -> str | None:
        if row.channel != ChannelName.EMAIL or row.customer_id is None:
            return None
        return link(settings, customer_id=row.customer_id, address=row.recipient)
    return for_row


def customer(conn: Connection, settings: Settings, token: str) -> Any:
    """The customer a token was signed for (id, code, language, email_opt_out); NotFound for
    a token that is malformed, forged, or for an address the customer no longer has."""
    given_id, _, signature = token.partition(".")
    secret = settings.http.link_secret
    row = None
    if secret and given_id.isascii() and given_id.isdigit() and len(given_id) <= 18:
        row = conn.execute(select(_c.id, _c.code, _c.language, _c.email, _c.email_opt_out)
                           .where(_c.id == int(given_id))).first()
    expected = _signature(secret, row.id, row.email or "") if row is not None else ""
    if row is None or not row.email or not hmac.compare_digest(
            # As bytes: a str with a letter from another script would raise.
            expected.encode(), signature.encode("utf-8", "replace")):
        raise NotFound("this unsubscribe link is not valid (it may be incomplete or out of "
                       "date)", field="token")
    return row


def opt_out(conn: Connection, settings: Settings, token: str) -> str:
    """Stop notice emails to the token's customer (audited); their language, for the answer."""
    row = customer(conn, settings, token)
    optout.flag_customer(conn, customer_id=row.id, flag="email_opt_out",
                         reason="unsubscribe link in an email", actor=ACTOR, source=Source.HTTP)
    return str(row.language)
