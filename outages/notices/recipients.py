"""Who a claimed notice goes to, and whether it is still true, decided again just before it
is sent.

Rows are written when an outage changes, maybe days before they fall due. By then the customer
may have opted out, changed their number, language or channels, or the provider may have
refused the address for another notice. The customer's current contact, flags and language
decide: a row the customer may no longer receive is skipped with the flag that bars it, a row
whose address or language changed goes to the new address, rendered again in the new
language; their channels decide as notices.preference says.

The planner skips the notices a change makes untrue when it happens; a row in flight then
(claimed by a worker that died, or an email queued because its SMS failed) comes back later,
so the outage's state is read again here too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, Row, Table, and_, func, or_, select

from notifier import gsm
from notifier.channels import REGISTRY
from notifier.dispatcher import Recheck
from notifier.enums import ChannelName
from notifier.render import Rendered
from outages import db
from outages.enums import ETR_STATED, CutStatus, NoticeKind
from outages.lifecycle import core as lc
from outages.notices import desk, end_told, etr_told, preference, subscribers
from outages.notices.desk import ETR_PASSING
from outages.notices.planner import AFTER_START, PRE_START, UNTRUE_WHEN_RESTORED
from outages.notices.queue import (
    LANGUAGES,
    ToldWindow,
    channel_flags,
    cost,
    notice_context,
    render,
    told_windows,
)
from outages.notices.refusals import fall_back
from outages.registry import optout
from outages.registry.subscriptions import SUBSCRIPTIONS
from outages.settings import Settings
from outages.timeutil import utcnow

log = logging.getLogger(__name__)
# What a customer taken out of an outage's area may no longer be told (the planner skips
# these for them when the area shrinks).
UNTRUE_WHEN_DROPPED = (*PRE_START, NoticeKind.FAULT_ACK, *AFTER_START)
NOT_AFFECTED = "no_longer_affected"
# "You are not in it" is untrue of a customer the outage covers again.
UNTRUE_WHEN_MEMBER = (NoticeKind.NO_LONGER_AFFECTED, NoticeKind.FAULT_NOT_AFFECTED)

# "Power is back" to a customer still out in another outage.
OUT_ELSEWHERE = "out_elsewhere"
# The customer row is gone (merged or removed from the registry).
NO_CUSTOMER = "no_customer"
SMS_OPT_OUT = "sms_opt_out"  # as the customers' flag reads
# Channels whose words the provider fixed (Zalo's approved templates, filled with parameters):
# a notice that must be worded otherwise than planned ("running late" to one not told that
# end) would still read "as announced" there, so it goes by the channel's fallback instead.
FIXED_WORDING = frozenset({ChannelName.ZALO})
WORDING_FIXED = "wording_fixed"
# What is worded again when sent on another day than it was worded for: customers' notices
# (from the outage) and the desk's ETR warning. A desk alert of customers still out is worded
# from its alert, not the outage: it goes as queued.
WORDED_AGAIN = frozenset({*NoticeKind, ETR_PASSING})


def recheck(conn: Connection, settings: Settings, rows: Sequence[Row[Any]]) -> Recheck:
    """The verdict on claimed `rows`: one read of their customers' current contact and
    channels, one of
    their outages' state (and one of the outages to render again, when a language changed)."""
    found = _customers(conn, settings, rows)
    by_id = {c.id: c for c in found}
    # A text to a caller without an account is barred when an account with that number is.
    phone_bars = {c.phone: flag for c in found for flag in channel_flags(ChannelName.SMS)
                  if getattr(c, flag)}
    # A number that texted STOP hears nothing more, whoever it is to.
    stopped = optout.opted_out_numbers(conn, {row.recipient for row in rows
                                              if row.channel == ChannelName.SMS})
    skip: dict[int, str] = subscribers.barred(conn, rows)
    followed = subscribers.followed(conn, rows)
    changes: dict[int, dict[str, Any]] = {}
    today = utcnow().astimezone(settings.tz).date()
    for row in rows:
        if row.channel not in REGISTRY or row.id in skip:
            continue
        if row.channel == ChannelName.SMS and row.recipient in stopped:
            skip[row.id] = SMS_OPT_OUT
            continue
        if row.customer_id is None:  # a subscriber, or a caller without an account
            if row.channel == ChannelName.SMS and row.recipient in phone_bars:
                skip[row.id] = phone_bars[row.recipient]
            elif row.outage_id is not None and row.kind in WORDED_AGAIN and _another_day(
                    settings, row.first_due_at or row.due_at, today):
                changes[row.id] = {"language": row.language}  # worded again, as it was
            continue
        customer = by_id.get(row.customer_id)
        reason = NO_CUSTOMER if customer is None else barred(row.channel, customer)
        if customer is None or reason is not None:
            skip[row.id] = reason or NO_CUSTOMER
            continue
        change = _change(settings, row, customer, today)
        if change:
            changes[row.id] = change
    _fall_back_refused(conn, settings, [row for row in rows if row.id in skip], skip)
    skip |= untrue(conn, [row for row in rows if row.id not in skip], followed)
    # Before supersede (the dispatcher's next step): an update this skips for goes out.
    not_told, told = etr_told.as_told(conn, [row for row in rows if row.id not in skip])
    skip |= not_told
    not_late, late_told = end_told.as_told(conn, [row for row in rows if row.id not in skip])
    skip |= not_late
    fixed = [row for row in rows if row.id in late_told and row.channel in FIXED_WORDING
             and row.customer_id is not None]  # a customer's: the fallback reaches them
    skip |= {row.id: WORDING_FIXED for row in fixed}
    _fall_back(conn, settings, fixed)
    skip |= preference.channel_changed(
        conn, settings, [row for row in rows if row.id not in skip], by_id, skip)
    kept = [row for row in rows if row.id not in skip]
    _about(changes, kept, told)
    _about(changes, kept, late_told)
    _about(changes, kept, _etr_moved(conn, kept))
    not_ready = _render_again(conn, settings, [row for row in rows if row.id not in skip],
                              changes)
    return Recheck(skip=skip, not_ready=not_ready,
                   changes={k: v for k, v in changes.items()
                            if k not in skip and k not in not_ready})


def untrue(conn: Connection, rows: Sequence[Row[Any]],
           followed: Mapping[int, int] | None = None) -> dict[int, str]:
    """Rows the outage's state now contradicts (id -> why): anything before the start of a
    cut no longer scheduled, or of a revision before the cut was last rescheduled; anything
    before the end to a customer with power back, or to one the outage no longer covers (to
    a subscriber of a customer code: that customer, `followed` row id -> customer id);
    "you are no longer in it" to one it covers again;
    "power is back" to a customer out again (reopened); a desk
    warning of an ETR no longer set or with nobody left out. The planner skips these when
    the outage changes; a row in flight then (its worker died) comes back here later."""
    rows = [row for row in rows if row.outage_id is not None]
    if not rows:
        return {}
    found = _stale_etr_warnings(conn, [row for row in rows if row.kind == ETR_PASSING])
    rows = [row for row in rows if row.kind != ETR_PASSING]
    if not rows:
        return found
    followed = followed or {}
    customer_of = {row.id: row.customer_id or followed.get(row.id) for row in rows}
    status, restored, back = _outage_state(conn, rows, set(customer_of.values()))
    now = utcnow()
    rescheduled = _last_rescheduled(conn, rows)
    # Customers the outage covers now, and those out again in it (told "restored", they
    # said power was still off, and the outage reopened them).
    members = _pairs(conn, lc.MEMBERS, [row for row in rows if row.kind in UNTRUE_WHEN_DROPPED
                                        or row.kind in UNTRUE_WHEN_MEMBER],
                     customer_of, lc.MEMBERS.c.dropped_revision.is_(None))
    told_back = [row for row in rows if row.kind == NoticeKind.RESTORED]
    out_again = _pairs(conn, lc.INTERRUPTIONS, told_back, customer_of,
                       lc.INTERRUPTIONS.c.end_at.is_(None))
    elsewhere = _out_elsewhere(conn, told_back, customer_of, now)
    for row in rows:
        customer = customer_of[row.id]
        if row.kind in PRE_START and status.get(row.outage_id, CutStatus.SCHEDULED) \
                != CutStatus.SCHEDULED:
            found[row.id] = status[row.outage_id]
        elif row.kind in PRE_START and row.revision < rescheduled.get(row.outage_id, 0):
            found[row.id] = "rescheduled"
        elif row.kind in UNTRUE_WHEN_RESTORED and (row.outage_id, customer) in restored:
            found[row.id] = "restored"
        elif row.kind in UNTRUE_WHEN_DROPPED and customer is not None \
                and (row.outage_id, customer) not in members:
            found[row.id] = NOT_AFFECTED
        elif row.kind in UNTRUE_WHEN_MEMBER and customer is not None \
                and (row.outage_id, customer) in members:
            found[row.id] = "back_in"  # taken out, then put back before this went out
        elif row.kind == NoticeKind.RESTORED and (row.outage_id, customer) in out_again:
            found[row.id] = "reopened"
        elif row.kind == NoticeKind.RESTORED and row.outage_id in elsewhere.get(customer or 0, ()):
            found[row.id] = OUT_ELSEWHERE
        elif row.kind == NoticeKind.STARTED and row.outage_id in back \
                and back[row.outage_id] <= now:
            # Held for the morning, it would say power comes back at a time already past:
            # "running late" or "restored" has told them since.
            found[row.id] = "end_passed"
    return found


def _etr_moved(conn: Connection, rows: Sequence[Row[Any]]) -> dict[int, datetime | None]:
    """Acknowledgements and ETR updates stating an ETR the incident no longer has (it moved
    while they waited: a retry, quiet hours; or it passed while an update waited out
    notices.etr_min_interval): worded again, they give the one it has now (none once it has
    passed, as queue.notice_context words them). Row id -> that ETR."""
    acks = [row for row in rows if row.kind in ETR_STATED and row.outage_id]
    if not acks:
        return {}
    o, now = lc.OUTAGES.c, utcnow()
    etr = {outage_id: at if at is not None and at > now else None for outage_id, at in
           conn.execute(select(o.id, o.etr).where(o.id.in_({r.outage_id for r in acks})))}
    return {row.id: etr.get(row.outage_id) for row in acks
            if etr.get(row.outage_id) != row.ref_at}


def _about(changes: dict[int, dict[str, Any]], rows: Sequence[Row[Any]],
           moments: Mapping[int, datetime | None]) -> None:
    """Rows (id in `moments`) worded again about another moment, kept as their ref_at: the
    ETR an update now states is the one the customer was told, which later notices go by
    (told_near, etr_told)."""
    for row in rows:
        if row.id in moments:
            changes.setdefault(row.id, {}).setdefault("language", row.language)
            changes[row.id]["ref_at"] = moments[row.id]


def _pairs(conn: Connection, table: Table, rows: Sequence[Row[Any]],
           customer_of: Mapping[int, int | None], *where: Any) -> set[tuple[int, int]]:
    """(outage id, customer id) of `table` (members, interruptions) for the customers of
    `rows` in their outages, where `where` holds."""
    customers = {customer_of[row.id] for row in rows} - {None}
    if not customers:
        return set()
    t = table.c
    query = select(t.outage_id, t.customer_id).where(
        t.outage_id.in_({row.outage_id for row in rows}),
        db.among(conn, t.customer_id, customers), *where)
    return {(outage_id, customer_id) for outage_id, customer_id in conn.execute(query)}


def _out_elsewhere(conn: Connection, rows: Sequence[Row[Any]],
                   customer_of: Mapping[int, int | None], now: datetime) -> dict[int, set[int]]:
    """Customer -> the outages of `rows` other than one they are out in now: power is not
    back for them, whatever outage of theirs was restored."""
    customers = {customer_of[row.id] for row in rows} - {None}
    if not customers:
        return {}
    i = lc.INTERRUPTIONS.c
    out: dict[int, set[int]] = {}
    for customer, outage in conn.execute(select(i.customer_id, i.outage_id).where(
            db.among(conn, i.customer_id, customers), i.end_at.is_(None), i.start_at <= now)):
        out.setdefault(customer, set()).add(outage)
    return {customer: {row.outage_id for row in rows if customer_of[row.id] == customer}
            - outages for customer, outages in out.items()}


def _last_rescheduled(conn: Connection, rows: Sequence[Row[Any]]) -> dict[int, int]:
    """Outage id -> the revision that last moved its window, for cuts with notices before
    their start among `rows`."""
    outages = {row.outage_id for row in rows if row.kind in PRE_START}
    if not outages:
        return {}
    r = lc.REVISIONS.c
    query = (select(r.outage_id, func.max(r.revision))
             .where(r.outage_id.in_(outages), r.action == "rescheduled").group_by(r.outage_id))
    return {outage_id: revision for outage_id, revision in conn.execute(query)}


def _stale_etr_warnings(conn: Connection, rows: Sequence[Row[Any]]) -> dict[int, str]:
    """Desk warnings whose ETR was replaced, or whose incident has nobody out any more."""
    if not rows:
        return {}
    o, i = lc.OUTAGES.c, lc.INTERRUPTIONS.c
    still_out = (select(i.id).where(i.outage_id == o.id, i.end_at.is_(None))
                 .exists().label("out"))
    state = {row.id: (row.etr, row.out) for row in conn.execute(
        select(o.id, o.etr, still_out).where(o.id.in_({row.outage_id for row in rows})))}
    found: dict[int, str] = {}
    for row in rows:
        etr, out = state.get(row.outage_id, (None, False))
        if etr is None or row.ref_at is None or etr != row.ref_at:
            found[row.id] = "etr_changed"
        elif not out:
            found[row.id] = "restored"
    return found


def _outage_state(conn: Connection, rows: Sequence[Row[Any]], customers: set[int | None],
                  ) -> tuple[dict[int, str], set[tuple[int, int]], dict[int, datetime]]:
    """Each outage's status, which of `customers` each has restored, and when power is
    expected back (its ETR, else its planned end): one query."""
    o, i = lc.OUTAGES.c, lc.INTERRUPTIONS.c
    customers = {c for c in customers if c is not None}
    ended = and_(i.outage_id == o.id, db.among(conn, i.customer_id, customers),
                 i.end_at.is_not(None))
    query = (select(o.id, o.status, i.customer_id, func.coalesce(o.etr, o.planned_end))
             .select_from(lc.OUTAGES.outerjoin(lc.INTERRUPTIONS, ended))
             .where(o.id.in_({row.outage_id for row in rows})))
    status: dict[int, str] = {}
    restored: set[tuple[int, int]] = set()
    back: dict[int, datetime] = {}
    for outage_id, outage_status, customer_id, expected in conn.execute(query):
        status[outage_id] = outage_status
        if expected is not None:
            back[outage_id] = expected
        if customer_id is not None:
            restored.add((outage_id, customer_id))
    return status, restored, back


# The flags that say the provider refused the address for good (not an opt-out).
_REFUSED = frozenset(flag for channel in REGISTRY for flag in channel_flags(channel)
                     if flag.endswith("_invalid"))


def _fall_back_refused(conn: Connection, settings: Settings, rows: Sequence[Row[Any]],
                       skip: Mapping[int, str]) -> None:
    """Customers' notices skipped because the provider refused the address for good (the
    announcement's SMS, say) go the way the refused notice went: by the channel's fallback,
    as refusals.fall_back queues it. A reminder queued with the announcement would else be
    lost where the announcement was not."""
    _fall_back(conn, settings, [row for row in rows if skip[row.id] in _REFUSED])


def _fall_back(conn: Connection, settings: Settings, rows: Sequence[Row[Any]]) -> None:
    """The customers' notices among `rows` queued again on each row's channel's fallback."""
    by_fallback: dict[str, list[Row[Any]]] = {}
    for row in rows:
        fallback = REGISTRY[row.channel].fallback if row.channel in REGISTRY else None
        if row.customer_id is not None and fallback is not None:
            by_fallback.setdefault(fallback, []).append(row)
    for fallback, skipped in by_fallback.items():
        fall_back(conn, settings, skipped, to=fallback)


def barred(channel: str, customer: Row[Any]) -> str | None:
    """Why `customer` may not receive a notice on `channel` now (no address, or the flag
    set), or None."""
    contact = REGISTRY[channel].contact
    if not getattr(customer, contact):
        return f"no_{contact}"
    return next((flag for flag in channel_flags(channel) if getattr(customer, flag)), None)


def _customers(conn: Connection, settings: Settings,
               rows: Sequence[Row[Any]]) -> list[Row[Any]]:
    c = lc.CUSTOMERS.c
    ids = {row.customer_id for row in rows if row.customer_id is not None}
    phones = {row.recipient for row in rows
              if row.customer_id is None and row.channel == ChannelName.SMS}
    flags = sorted({flag for channel in REGISTRY for flag in channel_flags(channel)})
    contacts = sorted({kind.contact for kind in REGISTRY.values()})
    query = select(c.id, c.language, *(c[name] for name in (*contacts, *flags)),
                   *preference.columns(settings)).where(
        or_(db.among(conn, c.id, ids), db.among(conn, c.phone, phones)))
    return list(conn.execute(query).all())


def _change(settings: Settings, row: Row[Any], customer: Row[Any],
            today: date) -> dict[str, Any]:
    change: dict[str, Any] = {}
    address = getattr(customer, REGISTRY[row.channel].contact)
    if address != row.recipient:
        change["recipient"] = address
    language = language_of(settings, customer.language)
    worded_for = row.first_due_at or row.due_at  # a retry or a restart moves due_at
    if row.outage_id is not None and (  # else no text to render
            language != row.language or _another_day(settings, worded_for, today)):
        change["language"] = language
    return change


def _another_day(settings: Settings, due_at: datetime, today: date) -> bool:
    """A notice was worded for its due time ("08:00 tomorrow"); sent on a later local day
    (a worker down overnight, a retry), its words are no longer true."""
    return today != due_at.astimezone(settings.tz).date()


def language_of(settings: Settings, language: str | None) -> str:
    return language if language in LANGUAGES else settings.locale.default_language


def _render_again(conn: Connection, settings: Settings, rows: Sequence[Row[Any]],
                  changes: Mapping[int, dict[str, Any]]) -> dict[int, str]:
    """New text for the rows whose language changed or that go out on another day than
    they were worded for, rendered once per distinct notice. Rows whose text will not
    render (a template mistake) are returned (id -> error), to be tried again later: their
    old text may no longer be true, and the rest of the batch must not wait for them."""
    again = [row for row in rows if "language" in changes.get(row.id, {})]
    if not again:
        return {}
    outages = {o.id: o for o in conn.execute(
        select(lc.OUTAGES).where(lc.OUTAGES.c.id.in_({row.outage_id for row in again})))}
    texts: dict[tuple[Any, ...], dict[str, Any] | str] = {}
    not_ready: dict[int, str] = {}
    keywords, windows = _sms_keywords(conn, again), told_windows(conn, again)
    for row in (_as_changed(row, changes[row.id]) for row in again):
        language = changes[row.id]["language"]
        key = (row.outage_id, row.kind, row.channel, language, row.ref_at, row.due_at,
               windows.get(row.id))
        if key not in texts:
            texts[key] = _text_or_error(settings, outages[row.outage_id], row, language,
                                        windows.get(row.id))
        text = texts[key]
        if not isinstance(text, str) and row.id in keywords:
            text = _footed_or_error(settings, row, text, language, keywords[row.id])
        if isinstance(text, str):
            not_ready[row.id] = text
        else:
            changes[row.id].update(text)
    return not_ready


def _as_changed(row: Row[Any], change: Mapping[str, Any]) -> Any:
    """`row` as it will be worded: about the moment `change` gives it, if any."""
    if "ref_at" not in change:
        return row
    return SimpleNamespace(**{**row._mapping, "ref_at": change["ref_at"]})


def _sms_keywords(conn: Connection, rows: Sequence[Row[Any]]) -> dict[int, str]:
    """Row id -> the keyword a subscriber's SMS names in its footer."""
    ids = {row.subscription_id for row in rows
           if getattr(row, "subscription_id", None) and row.channel == ChannelName.SMS}
    if not ids:
        return {}
    s = SUBSCRIPTIONS.c
    keyword = dict(conn.execute(select(s.id, s.keyword).where(s.id.in_(ids))).all())
    return {row.id: keyword[row.subscription_id] for row in rows
            if row.channel == ChannelName.SMS and row.subscription_id in keyword}


def _footed_or_error(settings: Settings, row: Row[Any], text: Mapping[str, Any],
                     language: str, keyword: str) -> dict[str, Any] | str:
    return _or_error(row, language,
                     lambda: {**text, **_with_footer(settings, text, language, keyword)})


def _with_footer(settings: Settings, text: Mapping[str, Any], language: str,
                 keyword: str) -> dict[str, Any]:
    """A subscriber's SMS as queued: the customers' text, then the footer naming the
    subscription's keyword (how to stop it)."""
    footer = render(settings, ChannelName.SMS, language, "subscriber_footer",
                    {"keyword": subscribers.KEYWORD}, now=utcnow(), ascii_only=True).body
    body = f"{text['body']} {footer}".replace(subscribers.KEYWORD, keyword)
    info = gsm.measure(body)
    rendered = Rendered(body=body, encoding=info.encoding, segments=info.segments)
    return {"body": body, "encoding": info.encoding, "segments": info.segments,
            "cost": cost(settings, ChannelName.SMS, rendered)}


def _text_or_error(settings: Settings, outage: Row[Any], row: Row[Any], language: str,
                   window: ToldWindow | None) -> dict[str, Any] | str:
    return _or_error(row, language, lambda: _text(settings, outage, row, language, window))


def _or_error(row: Row[Any], language: str,
              make: Callable[[], dict[str, Any]]) -> dict[str, Any] | str:
    """The new text `make` gives, or what went wrong making it."""
    try:
        return make()
    except Exception as exc:  # any template or context mistake: this notice, not the batch
        log.exception("%s notice of outage %s could not be rendered for %s in %s",
                      row.kind, row.outage_id, row.channel, language)
        return f"rendering {row.channel}/{language}/{row.kind} failed: {exc!r}"


def _text(settings: Settings, outage: Row[Any], row: Row[Any], language: str,
          window: ToldWindow | None) -> dict[str, Any]:
    context = (desk.warning_context(settings, outage, row.ref_at) if row.kind == ETR_PASSING
               else notice_context(settings, outage, row, window))
    rendered = render(settings, row.channel, language, row.kind, context, now=utcnow())
    return {"subject": rendered.subject, "body": rendered.body, "html": rendered.html,
            "encoding": rendered.encoding, "segments": rendered.segments,
            "cost": cost(settings, row.channel, rendered)}
