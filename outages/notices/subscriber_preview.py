"""What a notice would cost for the subscribers it reaches, for the previews of a cut (drawn
or existing): the subscriptions naming one of its customers or one of its districts, one per
contact as subscribers.queue chooses them, each SMS measured with its own footer.

Subscriptions are few beside customers: they are read whole and matched to the customers'
ids in numpy; a customer is never read one by one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import ColumnElement, Connection, or_, select

from notifier import gsm
from notifier.channels import REGISTRY
from notifier.channels.email import UNSUBSCRIBE_URL
from notifier.enums import ChannelName
from notifier.render import Rendered
from outages.models import Customer
from outages.notices import subscribers
from outages.notices.queue import CHANNELS, contact_ok, prefers, subscriber_footers
from outages.notices.results import PreviewMessage
from outages.registry.subscriptions import SUBSCRIPTIONS, Status
from outages.settings import Settings

_s = SUBSCRIPTIONS.c
_customers = Customer.__table__.c
# Where a subscriber's SMS names its subscription: a code or a district is not shown.
KEYWORD_SHOWN = "<code>"


@dataclass(frozen=True)
class Priced:
    """A preview line for subscribers, with what all its messages add up to."""

    message: PreviewMessage
    segments: int  # SMS segments of all of them (0 for a channel not priced per segment)
    cost: float


@dataclass(frozen=True)
class Reached:
    """A subscriber a notice would reach."""

    channel: str
    language: str
    keyword: str


def messages(conn: Connection, settings: Settings, kind: str,
             texts: Mapping[tuple[str, str], Rendered], member_ids: npt.NDArray[np.int64],
             districts: Mapping[str, int], *, now: datetime,
             languages: Sequence[str]) -> list[Priced]:
    """One preview line per channel and language the subscribers are reached on: how many,
    the text (its keyword hidden) with the segments of the longest one, and the average
    cost_each."""
    found = reached(conn, settings, kind, member_ids, districts)
    if not found:
        return []
    footers = subscriber_footers(settings, now=now)
    lines = []
    for channel in subscribers.CHANNELS:
        for lang in languages:
            keywords = [r.keyword for r in found if r.channel == channel and r.language == lang]
            if not keywords:
                continue
            text = texts[(channel, lang)]
            price = getattr(settings.notices, REGISTRY[channel].price_setting)
            if channel == ChannelName.SMS:
                measured = [gsm.measure(subscribers.sms_body(text, footers[lang], k))
                            for k in keywords]
                longest = max(range(len(keywords)), key=lambda i: measured[i].segments)
                shown = subscribers.sms_body(text, footers[lang], KEYWORD_SHOWN)
                encoding: str | None = measured[longest].encoding
                segments = measured[longest].segments
                every = sum(m.segments for m in measured)
                total = sum(REGISTRY[channel].cost(Rendered(shown, segments=m.segments), price)
                            for m in measured)
            else:
                shown, encoding, segments, every = text.body, text.encoding, text.segments, 0
                total = len(keywords) * REGISTRY[channel].cost(text, price)
            line = PreviewMessage(
                audience="subscribers", channel=channel, language=lang,
                recipients=len(keywords), encoding=encoding, segments=segments,
                subject=text.subject, body=shown.replace(UNSUBSCRIBE_URL, "<unsubscribe link>"),
                cost_each=round(total / len(keywords), 6))
            lines.append(Priced(line, every, total))
    return lines


def reached(conn: Connection, settings: Settings, kind: str,
            member_ids: npt.NDArray[np.int64], districts: Mapping[str, int]) -> list[Reached]:
    """The subscribers a notice of `kind` to the customers `member_ids` would reach: those
    naming one of the customers, and those naming a district with at least public.min_count
    of them (`districts`: customers per district). One per contact and channel, the lowest
    id, as subscribers.chosen; a contact that is one of the customers' own on a channel that
    reaches them is left out, as subscribers.queue leaves it (it has the notice already)."""
    if kind not in subscribers.KINDS or not member_ids.size or not subscribers.any_active(conn):
        return []
    named = set()
    if kind not in subscribers.CUSTOMER_ONLY:
        named = {d for d, n in districts.items() if n >= settings.public.min_count}
    reach: list[ColumnElement[bool]] = [_s.customer_id.is_not(None)]
    if named:
        reach.append(_s.district.in_(sorted(named)))
    rows = conn.execute(
        select(_s.channel, _s.contact, _s.language, _s.keyword, _s.customer_id, _s.district)
        .where(_s.status == Status.ACTIVE, _s.channel.in_(subscribers.CHANNELS), or_(*reach))
        .order_by(_s.id)).all()
    naming = np.isin(np.asarray([r.customer_id or 0 for r in rows], dtype=np.int64), member_ids)
    chosen: dict[tuple[str, str], Any] = {}
    for row, names_member in zip(rows, naming, strict=True):
        if names_member or row.district in named:
            chosen.setdefault((row.channel, row.contact), row)
    own = _own_contacts(conn, settings, list(chosen), member_ids)
    # A subscription in another language reads Vietnamese, as subscribers._select words it.
    return [Reached(row.channel, "en" if row.language == "en" else "vi", row.keyword)
            for key, row in chosen.items() if key not in own]


def _own_contacts(conn: Connection, settings: Settings, chosen: Sequence[tuple[str, str]],
                  member_ids: npt.NDArray[np.int64]) -> set[tuple[str, str]]:
    """The (channel, contact) of `chosen` whose contact one of `member_ids` is told at, on
    any channel (Zalo reaches the phone an SMS subscriber gave): subscribers.queue leaves
    out a contact that has the notice already, whatever the channel."""
    contacts = sorted({contact for _, contact in chosen})
    if not contacts:
        return set()
    own: set[str] = set()
    for channel in CHANNELS:  # every channel a customer may be told on
        address = _customers[REGISTRY[channel].contact]
        found = conn.execute(select(_customers.id, address).where(
            address.in_(contacts), contact_ok(channel), prefers(settings, channel))).all()
        ids = np.asarray([r[0] for r in found], dtype=np.int64)
        own.update(r[1] for r, member in zip(found, np.isin(ids, member_ids), strict=True)
                   if member)
    return {key for key in chosen if key[1] in own}
