"""Self-service subscriptions, double opt-in: from the page (a 6-digit code sent to the contact
through the outbox, like any notice) or by SMS ("DK <code>", then "CO"); ending them by SMS
("HUY <code>", "HUY") or by the signed link in every email.

No answer tells whether a customer code exists: an unknown code is accepted, confirmed and
listed like a known one; it simply names no customer, so it hears nothing. The limits
(settings `subscriptions`) count per contact, per client address and in all, before anything
is sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Connection, select

from notifier import gsm, outbox
from notifier.enums import ChannelName, OutboxStatus
from outages.enums import Source
from outages.errors import NotFound, OutagesError, ValidationError
from outages.lifecycle import public
from outages.notices.queue import LANGUAGES, cost, render
from outages.notices.subscribers import CODE_KIND
from outages.registry import subscriptions as store
from outages.registry.contacts import PhoneNormalizer, email_problem
from outages.registry.subscriptions import Scope, Status, TargetKind
from outages.settings import Settings
from outages.timeutil import utcnow

STOP_PATH = "/subscribe/stop"
ACTOR = "subscriber"
EMAIL_MAX = 120  # keeps the outbox key (outage:scope:kind:contact:channel) in its column
_CODE_CHARS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")
_NOT_LETTER_OR_DIGIT = re.compile(r"[^A-Z0-9]+")

_HOUR, _DAY = timedelta(hours=1), timedelta(days=1)
State = Literal["confirmed", "wrong", "expired", "invalid", "sent", "wait"]


class Limited(OutagesError):
    """Too many requests from this client, to this contact, or in all: try later."""

    exit_code = 5
    http_status = 429


@dataclass(frozen=True)
class Target:
    kind: str
    target: str
    keyword: str
    customer_id: int | None = None
    district: str | None = None


def keyword(text: str) -> str:
    """How an SMS names a target: upper case, no diacritics, single spaces."""
    return " ".join(gsm.fold(text).upper().split())


def _letters_and_digits(text: str) -> str:
    """A keyword as an SMS reads it: "HUY hn-0042" names the subscription HN-0042."""
    return _NOT_LETTER_OR_DIGIT.sub("", gsm.fold(text).upper())


def resolve(conn: Connection, text: str, *, kind: str | None = None) -> Target:
    """A district (by any spelling: 'dong da' is 'Đống Đa') or else a customer code. A code
    is accepted whether or not a customer has it."""
    text = " ".join(text.split())
    if not text:
        raise ValidationError("enter a customer code or a district", field="target")
    if kind != TargetKind.CUSTOMER:
        names = public.district_names(conn, text)
        if names:
            return Target(TargetKind.DISTRICT, names[0], keyword(names[0]), district=names[0])
        if kind == TargetKind.DISTRICT:
            raise ValidationError(f"unknown district {text[:40]!r}", field="target")
    if not _CODE_CHARS.match(text):
        raise ValidationError("a customer code is up to 64 letters, digits, '-', '.', '_' or '/'",
                              field="target")
    code = text.upper()
    return Target(TargetKind.CUSTOMER, code, keyword(code),
                  customer_id=store.customer_id(conn, code))


def contact(settings: Settings, text: str) -> tuple[str, str]:
    """(channel, contact) for a phone number or an email address as typed."""
    text = text.strip()
    if "@" in text:
        address = text.lower()
        problem = email_problem(address)
        if problem is None and len(address) > EMAIL_MAX:
            problem = f"an email address of at most {EMAIL_MAX} characters, please"
        if problem:
            raise ValidationError(problem, field="contact")
        return ChannelName.EMAIL, address
    phone, problem = PhoneNormalizer(settings.locale.phone_region).normalize(text[:40])
    if phone is None:
        raise ValidationError(problem or "not a phone number", field="contact")
    return ChannelName.SMS, phone


def _check(conn: Connection, scope: Scope, key: str, limit: int, since: datetime) -> None:
    if store.count(conn, scope, key, since=since) >= limit:
        raise Limited(f"too many requests ({scope}): try again later")


def _code_limits(conn: Connection, settings: Settings, address: str, now: datetime) -> None:
    limits = settings.subscriptions
    hour, day = now - _HOUR, now - _DAY
    _check(conn, Scope.CONTACT, address, limits.codes_per_contact_per_hour, hour)
    _check(conn, Scope.CONTACT, address, limits.codes_per_contact_per_day, day)
    _check(conn, Scope.ALL, "all", limits.codes_per_hour, hour)


def _full(conn: Connection, settings: Settings, address: str) -> bool:
    return len(store.active_of(conn, address)) >= settings.subscriptions.max_per_contact


def _room_for_one_more(conn: Connection, settings: Settings, address: str) -> None:
    """Limited when confirming would give the contact more than max_per_contact."""
    if _full(conn, settings, address):
        raise Limited("this contact has as many subscriptions as it may have: stop one "
                      "first (the link at the end of its messages)")


def admit(conn: Connection, settings: Settings, *, client: str) -> None:
    """Count a page request from `client` (an address), in its own transaction so that it
    counts whatever becomes of the request; Limited when the address is over its limit."""
    now = utcnow()
    _check(conn, Scope.CLIENT, client, settings.subscriptions.requests_per_client_per_hour,
           now - _HOUR)
    store.note(conn, Scope.CLIENT, client, at=now)


def request(conn: Connection, settings: Settings, *, target: str, contact_text: str,
            language: str, kind: str | None = None) -> str:
    """The page's request (admitted first): a pending subscription and a code sent to the
    contact; the request's token (for the confirmation page). Limited when over a limit."""
    now = utcnow()
    channel, address = contact(settings, contact_text)
    chosen = resolve(conn, target, kind=kind)
    store.hold_contact(conn, address)
    if _full(conn, settings, address):
        raise Limited("this contact has as many subscriptions as it may have")
    _code_limits(conn, settings, address, now)
    token = secrets.token_urlsafe(18)
    new = _new(chosen, channel, address, _language(settings, language), via="web")
    row_id = store.create(conn, new, status=Status.PENDING, request_hash=store.digest(token))
    _send_code(conn, settings, row_id, token, now)
    return token


def resend(conn: Connection, settings: Settings, *, token: str) -> State:
    """Another code for a request (admitted first), within its limits."""
    now = utcnow()
    limits = settings.subscriptions
    row = store.by_request(conn, token)
    if row is None or row.codes_sent >= limits.codes_per_request \
            or row.attempts >= limits.max_attempts:  # void after too many wrong codes
        return "invalid"
    if row.code_sent_at is not None and now - row.code_sent_at < limits.resend_after:
        return "wait"
    store.hold_contact(conn, row.contact)
    _code_limits(conn, settings, row.contact, now)
    _send_code(conn, settings, row.id, token, now)
    return "sent"


def confirm(conn: Connection, settings: Settings, *, token: str, code: str) -> State:
    """Check the code typed on the page; a right one activates the subscription."""
    row = store.by_request(conn, token, lock=True)
    if row is None or row.code_hash is None \
            or row.attempts >= settings.subscriptions.max_attempts:
        return "invalid"
    if row.code_expires_at is None or row.code_expires_at <= utcnow():
        return "expired"
    store.count_attempt(conn, row.id)
    given = "".join(code.split())[:12]
    if not hmac.compare_digest(store.code_hash(token, given), row.code_hash):
        return "wrong" if row.attempts + 1 < settings.subscriptions.max_attempts else "invalid"
    _room_for_one_more(conn, settings, row.contact)  # other requests confirmed meanwhile
    store.activate(conn, row, actor=ACTOR, source=Source.HTTP)
    return "confirmed"


def attempts_left(conn: Connection, settings: Settings, token: str) -> int:
    row = store.by_request(conn, token)
    return 0 if row is None else max(0, settings.subscriptions.max_attempts - row.attempts)


# --- by SMS ---------------------------------------------------------------------------

def sms_request(conn: Connection, settings: Settings, *, phone: str, argument: str,
                language: str) -> tuple[str, dict[str, Any]] | None:
    """"DK <code|district>": a pending subscription for the phone, confirmed by "CO". The
    reply (template, context), or None when the phone's daily requests are used up."""
    now = utcnow()
    limits = settings.subscriptions
    store.hold_contact(conn, phone)
    if store.count(conn, Scope.SMS, phone, since=now - _DAY) >= \
            limits.sms_requests_per_phone_per_day:
        return None
    store.note(conn, Scope.SMS, phone, at=now)
    try:
        chosen = resolve(conn, argument)
    except ValidationError:
        return "subscribe_invalid", {}
    if _full(conn, settings, phone):
        return "subscribe_full", {}
    store.create(conn, _new(chosen, ChannelName.SMS, phone, language, via="sms"),
                 status=Status.PENDING)
    minutes = int(limits.code_ttl.total_seconds() // 60)
    return "subscribe_confirm", {"target": chosen.keyword, "minutes": minutes}


def sms_confirm(conn: Connection, settings: Settings, *, phone: str) -> str | None:
    """"CO": confirm the phone's latest "DK" of the last subscriptions.code_ttl; the target's
    keyword, or None when there is none to confirm."""
    row = store.latest_pending_sms(conn, phone, since=utcnow() - settings.subscriptions.code_ttl)
    if row is None:
        return None
    _room_for_one_more(conn, settings, phone)
    store.activate(conn, row, actor=ACTOR, source=Source.WEBHOOK)
    return str(row.keyword)


def sms_end(conn: Connection, *, phone: str, argument: str) -> list[str]:
    """"HUY <code|district>" ends that subscription of the phone, "HUY" all of them; the
    keywords ended. An argument naming none of them ends none."""
    rows = store.active_of(conn, phone)
    given = _letters_and_digits(argument)
    chosen = [r for r in rows if not given or _letters_and_digits(r.keyword) == given]
    reason = "SMS HUY" if given else "SMS stop"
    ended = set(store.end(conn, [r.id for r in chosen], actor=ACTOR, source=Source.WEBHOOK,
                          reason=reason))
    return [r.keyword for r in chosen if r.id in ended]


# --- the code message, the stop link ----------------------------------------------------

def _send_code(conn: Connection, settings: Settings, row_id: int, token: str,
               now: datetime) -> None:
    row = conn.execute(select(store.SUBSCRIPTIONS).where(
        store.SUBSCRIPTIONS.c.id == row_id)).one()
    code = store.new_code()
    limits = settings.subscriptions
    store.set_code(conn, row_id, hashed=store.code_hash(token, code),
                   expires_at=now + limits.code_ttl, at=now)
    store.note(conn, Scope.CONTACT, row.contact, at=now)
    store.note(conn, Scope.ALL, "all", at=now)
    minutes = int(limits.code_ttl.total_seconds() // 60)
    context = {"code": code, "target": row.target, "minutes": minutes,
               "utility": settings.notices.utility_name, "hotline": settings.notices.hotline,
               "unsubscribe_url": None}
    text = render(settings, row.channel, row.language, CODE_KIND, context, now=now)
    outbox.enqueue(conn, [{
        "key": f"subscription{row_id}:{row.request_hash[:16]}:code{row.codes_sent}:{row.channel}",
        "outage_id": None, "revision": None, "customer_id": None, "subscription_id": row_id,
        "kind": CODE_KIND, "channel": row.channel, "recipient": row.contact,
        "language": row.language, "urgent": True, "due_at": now, "ref_at": None,
        "status": OutboxStatus.PENDING, "attempts": 0, "subject": text.subject,
        "body": text.body, "html": text.html, "encoding": text.encoding,
        "segments": text.segments, "cost": cost(settings, row.channel, text),
        "created_at": now, "updated_at": now,
    }])


def _signature(secret: str, subscription_id: int, address: str) -> str:
    message = f"subscription-stop:{subscription_id}:{address}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def link(settings: Settings, *, subscription_id: int, address: str) -> str | None:
    """The subscription's stop URL for emails; None without http.public_base_url and
    http.link_secret."""
    base, secret = settings.http.public_base_url.rstrip("/"), settings.http.link_secret
    if not (base and secret):
        return None
    return f"{base}{STOP_PATH}/{subscription_id}.{_signature(secret, subscription_id, address)}"


def links(settings: Settings) -> Callable[[Any], str | None]:
    """For the dispatcher: an outbox row to a subscriber's email -> its stop URL."""
    def for_row(row: Any) -> str | None:
        subscription_id = getattr(row, "subscription_id", None)
        if row.channel != ChannelName.EMAIL or subscription_id is None or row.kind == CODE_KIND:
            return None
        return link(settings, subscription_id=subscription_id, address=row.recipient)
    return for_row


def by_link(conn: Connection, settings: Settings, token: str) -> Any:
    """The subscription a stop link was signed for; NotFound for a forged or broken one."""
    given, _, signature = token.partition(".")
    secret = settings.http.link_secret
    row = None
    if secret and given.isascii() and given.isdigit() and len(given) <= 18:
        row = conn.execute(select(store.SUBSCRIPTIONS).where(
            store.SUBSCRIPTIONS.c.id == int(given))).first()
    expected = _signature(secret, row.id, row.contact) if row is not None else ""
    if row is None or not hmac.compare_digest(
            # As bytes: a str with a letter from another script would raise.
            expected.encode(), signature.encode("utf-8", "replace")):
        raise NotFound("this link is not valid (it may be incomplete)", field="token")
    return row


def stop_by_link(conn: Connection, settings: Settings, token: str) -> str:
    """End the link's subscription (audited); its language, for the answer."""
    row = by_link(conn, settings, token)
    store.end(conn, [row.id], actor=ACTOR, source=Source.HTTP, reason="link in an email")
    return str(row.language)


def _language(settings: Settings, language: str) -> str:
    return language if language in LANGUAGES else settings.locale.default_language


def _new(chosen: Target, channel: str, address: str, language: str, *,
         via: str) -> store.NewSubscription:
    return store.NewSubscription(
        channel=channel, contact=address, target_kind=chosen.kind, target=chosen.target,
        keyword=chosen.keyword, customer_id=chosen.customer_id, district=chosen.district,
        language=language, via=via)


