"""Notices to subscribers, queued with the customers' own in the same INSERT ... SELECT style.

A batch for `members` also goes to the confirmed subscriptions naming one of those customers'
codes, and to those naming a district where one of them lives and the outage has at least
`public.min_count` houses (a district subscriber learns no more than the public map shows).
It is the customers' text in the subscription's language; an SMS ends with how to stop
("HUY <code>"), an email carries the subscription's own unsubscribe link
(notices.subscriptions.link).

Deduplicated per contact: a phone or email that already has this notice of this outage
(as an account's contact, a caller, or through another subscription) gets no second one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Connection,
    Float,
    Integer,
    Row,
    String,
    Text,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
)

from notifier import gsm, outbox
from notifier.channels import REGISTRY
from notifier.enums import ACCEPTED, ChannelName, OutboxStatus
from notifier.render import Rendered
from notifier.sqltypes import UTCDateTime
from notifier.store import outbox as outbox_t
from outages.enums import NoticeKind
from outages.models import Customer, Interruption, OutageCustomer, Revision
from outages.registry.subscriptions import SUBSCRIPTIONS, Status
from outages.settings import Settings
from outages.timeutil import utcnow

CHANNELS = (ChannelName.SMS, ChannelName.EMAIL)
CODE_KIND = "subscription_code"  # the outbox kind of a confirmation code
# Why a subscriber's row is not sent: the subscription ended (or the code's request is
# confirmed, ended or expired).
ENDED, CODE_VOID = "subscription_ended", "code_void"
# What a subscriber hears: the notices about the outage itself. Answers to the account's
# own report or reply (report received, still out, outside the area) stay the account's.
KINDS = frozenset({
    NoticeKind.ANNOUNCEMENT, NoticeKind.REMINDER, NoticeKind.CHANGED, NoticeKind.CANCELLED,
    NoticeKind.NO_LONGER_AFFECTED, NoticeKind.STARTED, NoticeKind.RESTORED,
    NoticeKind.FAULT_ACK, NoticeKind.ETR_UPDATE, NoticeKind.ETR_PASSED,
    NoticeKind.CUT_EXTENDED, NoticeKind.RUNNING_LATE,
})
# About one house, not a district: a district does not leave a cut because a few left it.
CUSTOMER_ONLY = frozenset({NoticeKind.NO_LONGER_AFFECTED})
# Only for subscribers who were told of the cut (as for its customers).
TOLD_ONLY = frozenset({NoticeKind.CANCELLED})
# Restorations come in steps: a subscriber hears "restored" once per outage, unless the one
# queued was never sent (skipped because the house was out again, which a later step ends).
ONCE = frozenset({NoticeKind.RESTORED})
# The words around the keyword in the SMS footer, rendered with this in its place.
KEYWORD = "%%keyword%%"
KEYWORD_LENGTH = 100  # subscriptions.keyword: String(100)
COLUMNS = ("key", "outage_id", "revision", "customer_id", "subscription_id", "kind", "channel",
           "recipient", "language", "urgent", "due_at", "ref_at", "deadline", "status", "attempts",
           "subject", "body", "html", "encoding", "segments", "cost", "created_at",
           "updated_at")
_s = SUBSCRIPTIONS.c
_customers = Customer.__table__.c
_members = OutageCustomer.__table__.c
REVISIONS = Revision.__table__


def chosen(settings: Settings, batch: Any, members: Any, channel: str) -> Any:
    """Ids of the subscriptions `batch` for `members` reaches on `channel`: one per contact.
    A district is reached when one of `members` lives there and the outage has at least
    public.min_count houses there (restorations come in steps of any size); for "restored",
    once none of the outage's houses there is still out."""
    reached: list[ColumnElement[bool]] = [_s.customer_id.in_(members)]
    if batch.kind not in CUSTOMER_ONLY:
        c, m = _customers, _members
        here = select(c.district).where(c.id.in_(members), c.district.is_not(None))
        covered: ColumnElement[bool] = m.dropped_revision.is_(None)
        if batch.kind == NoticeKind.CANCELLED:  # the cancellation took every house out
            covered = or_(covered, m.dropped_revision == batch.revision)
        many = (select(c.district).join(OutageCustomer.__table__, m.customer_id == c.id)
                .where(m.outage_id == batch.outage_id, covered, c.district.is_not(None))
                .group_by(c.district).having(func.count() >= settings.public.min_count))
        district = and_(_s.district.in_(here), _s.district.in_(many))
        if batch.kind == NoticeKind.RESTORED:  # power is back in the district, not a few houses
            district = and_(district, _s.district.not_in(_still_out_in(batch.outage_id)))
        reached.append(district)
    return (select(func.min(_s.id)).where(_s.status == Status.ACTIVE, _s.channel == channel,
                                         or_(*reached))
            .group_by(_s.contact))


def _still_out_in(outage_id: int) -> Any:
    """The districts where a house the outage covers still has no power from it."""
    c, m, i = _customers, _members, Interruption.__table__.c
    out = select(i.customer_id).where(i.outage_id == outage_id, i.end_at.is_(None))
    return (select(c.district).join(OutageCustomer.__table__, m.customer_id == c.id)
            .where(m.outage_id == outage_id, m.dropped_revision.is_(None),
                   m.customer_id.in_(out), c.district.is_not(None)))


def queue(conn: Connection, settings: Settings, batch: Any, members: Any, *,
          texts: Mapping[tuple[str, str], Rendered], footers: Mapping[str, str],
          prices: Mapping[str, float], due: datetime, urgent: bool, now: datetime,
          heard: ColumnElement[bool] | None = None) -> int:
    """Queue `batch` (a queue.Batch) to the subscribers of `members`; `texts` are the
    customers' messages by (channel, language), `footers` the SMS footer by language;
    `heard`, when given, keeps the subscriptions by what their contact was told (`untold`,
    `told_other`, `told_at`)."""
    if batch.kind not in KINDS or not any_active(conn):
        return 0
    total = 0
    for channel in CHANNELS:
        query = _select(batch, channel, texts, footers, prices[channel], due=due,
                        urgent=urgent, now=now).where(~_already(batch))
        if batch.kind in TOLD_ONLY:
            query = query.where(_s.contact.in_(_told(batch.outage_id)))
        if heard is not None:
            query = query.where(heard)
        ids = chosen(settings, batch, members, channel)
        total += outbox.enqueue_from(conn, COLUMNS, query.where(_s.id.in_(ids)))
    return total


# The notices that tell of a cut as it stands: a reminder names its area, window and reason
# too (one whose announcement failed knows of the cut from it).
STATES_CUT = (NoticeKind.ANNOUNCEMENT, NoticeKind.CHANGED, NoticeKind.REMINDER)


def _told(outage_id: int) -> Any:
    """Contacts a notice stating the cut reached (or is reaching): as a subscriber's, or as
    an account's own (the subscription's copy was then left out as the same notice)."""
    o = outbox_t.c
    return select(o.recipient).where(
        o.outage_id == outage_id, o.kind.in_(STATES_CUT),
        o.status.in_((OutboxStatus.SENDING, *ACCEPTED)))


def knowing(outage_id: int, who: Any, name: str) -> Any:
    """(`name`, revision) of each `who` (an outbox column: the customer, the recipient)
    that knows of the cut: of the notices stating it and those saying they (a house) left
    it, the latest that reached them (or is reaching them) states it, in `revision`."""
    o, heard = outbox_t.c, (*STATES_CUT, NoticeKind.NO_LONGER_AFFECTED)
    latest = (select(func.max(o.id))
              .where(o.outage_id == outage_id, o.kind.in_(heard), who.is_not(None),
                     o.status.in_((OutboxStatus.SENDING, *ACCEPTED)))
              .group_by(who))
    return select(who.label(name), o.revision).where(o.id.in_(latest.scalar_subquery()),
                                                     o.kind.in_(STATES_CUT))


def told_of(outage_id: int) -> Any:
    """(contact, revision) of the contacts that know of the cut (`knowing`), by what reached
    them as a subscriber or as an account's own contact."""
    return knowing(outage_id, outbox_t.c.recipient, "contact")


def untold(outage_id: int) -> ColumnElement[bool]:
    """Subscriptions whose contact does not know of the cut."""
    known = told_of(outage_id).subquery()
    return _s.contact.not_in(select(known.c.contact))


def told_other(outage_id: int, start: datetime | None,
               end: datetime | None) -> ColumnElement[bool]:
    """Subscriptions whose contact knows of the cut in a window other than `start`-`end`."""
    known, r = told_of(outage_id).subquery(), REVISIONS.c
    return _s.contact.in_(
        select(known.c.contact)
        .join(REVISIONS, and_(r.outage_id == outage_id, r.revision == known.c.revision))
        .where(or_(r.planned_start != start, r.planned_end != end)))


def told_at(outage_id: int, revision: int) -> ColumnElement[bool]:
    """Subscriptions whose contact knows of the cut as `revision` stated it."""
    known = told_of(outage_id).subquery()
    return _s.contact.in_(select(known.c.contact).where(known.c.revision == revision))


def told_revisions(conn: Connection, outage_id: int) -> set[int]:
    """The revisions whose window some subscriber's contact knows the cut by."""
    known = told_of(outage_id).subquery()
    return set(conn.execute(select(known.c.revision).distinct()).scalars())


def any_active(conn: Connection) -> bool:
    """Whether anyone subscribed at all: most deployments have few or none, and then a cut's
    notices cost no extra statement per channel."""
    return conn.execute(select(_s.id).where(_s.status == Status.ACTIVE).limit(1)).first() \
        is not None


def _scope(batch: Any) -> str:
    return batch.scope or f"r{batch.revision}"


def _already(batch: Any) -> ColumnElement[bool]:
    """The contact has this notice already: same outage, kind and moment; for ONCE kinds,
    any such notice sent or on its way."""
    o = outbox_t.c
    same = [o.outage_id == batch.outage_id, o.kind == batch.kind]
    if batch.kind in ONCE:
        same.append(o.status.in_(outbox.TOLD))
    else:
        same.append(o.key.like(f"{batch.outage_id}:{_scope(batch)}:{batch.kind}:%"))
    # One IN list, built once, rather than a correlated EXISTS: in the planner's transaction
    # the outage's rows were just written, so PostgreSQL's statistics do not know them and
    # it ran the EXISTS as a nested loop over them per subscriber (220 s for 2,000
    # subscribers of a 50,000-house cut, against 2.4 s this way); SQLite did the same.
    return or_(_s.contact.in_(select(o.recipient).where(*same)),
               _s.contact.in_(same_notice(batch, as_caller=True)))


def same_notice(batch: Any, *, as_caller: bool) -> Any:
    """Numbers that have `batch`'s notice as a caller without an account (`as_caller`), else
    as a subscriber: a number both hears it once, whichever is queued first. Their keys
    differ (a caller's acknowledgement is one per incident, a subscriber's per revision), so
    the notice is known by its moment (ref_at: the ETR, the restoration), or for ONCE kinds
    by its kind alone."""
    o = outbox_t.c
    same = [o.outage_id == batch.outage_id, o.kind == batch.kind, o.status.in_(outbox.TOLD),
            o.customer_id.is_(None),
            o.subscription_id.is_(None) if as_caller else o.subscription_id.is_not(None)]
    if batch.kind not in ONCE:
        same.append(o.ref_at.is_(None) if batch.ref_at is None else o.ref_at == batch.ref_at)
    return select(o.recipient).where(*same)


def _select(batch: Any, channel: str, texts: Mapping[tuple[str, str], Rendered],
            footers: Mapping[str, str], price: float, *, due: datetime, urgent: bool,
            now: datetime) -> Any:
    en = _s.language == "en"

    def by_lang(values: Mapping[str, Any], type_: Any) -> Any:
        if all(v is None for v in values.values()):
            return null()
        return case((en, literal(values["en"], type_)), else_=literal(values["vi"], type_))

    mine = {lang: texts[(channel, lang)] for lang in ("vi", "en")}
    if channel == ChannelName.SMS:
        body, encoding, segments, cost = _sms(mine, footers, price, by_lang)
    else:
        body = by_lang({k: t.body for k, t in mine.items()}, Text)
        encoding = by_lang({k: t.encoding for k, t in mine.items()}, String)
        segments = by_lang({k: t.segments for k, t in mine.items()}, Integer)
        cost = by_lang({k: REGISTRY[channel].cost(t, price) for k, t in mine.items()}, Float)
    prefix = f"{batch.outage_id}:{_scope(batch)}:{batch.kind}:"
    return select(
        literal(prefix, String) + _s.contact + literal(f":{channel}", String),
        literal(batch.outage_id, Integer), literal(batch.revision, Integer),
        cast(null(), Integer), _s.id, literal(batch.kind, String), literal(channel, String),
        _s.contact, _s.language, literal(urgent, Boolean), literal(due, UTCDateTime),
        literal(batch.ref_at, UTCDateTime), literal(batch.deadline, UTCDateTime),
        literal(OutboxStatus.PENDING.value, String),
        literal(0, Integer), by_lang({k: t.subject for k, t in mine.items()}, Text), body,
        by_lang({k: t.html for k, t in mine.items()}, Text), encoding, segments, cost,
        literal(now, UTCDateTime), literal(now, UTCDateTime),
    )


def _sms(mine: Mapping[str, Rendered], footers: Mapping[str, str], price: float,
         by_lang: Any) -> tuple[Any, Any, Any, Any]:
    """The SMS body with its footer naming the subscription's keyword, and its segments
    counted in SQL: the keyword is plain ASCII (one unit a character in either encoding)."""
    parts = {lang: f"{text.body} {footers[lang]}".split(KEYWORD) for lang, text in mine.items()}
    if len({len(p) for p in parts.values()}) != 1:
        raise ValueError("the subscriber footers must name the keyword as often in each language")
    info = {lang: gsm.measure("".join(p)) for lang, p in parts.items()}
    body = by_lang({lang: p[0] for lang, p in parts.items()}, Text)
    for i in range(1, len(parts["vi"])):
        body = body + _s.keyword + by_lang({lang: p[i] for lang, p in parts.items()}, Text)
    times = len(parts["vi"]) - 1
    total = by_lang({lang: i.units for lang, i in info.items()}, Integer) \
        + func.length(_s.keyword) * times
    gsm7 = {lang: i.encoding == "GSM-7" for lang, i in info.items()}
    per = by_lang({lang: 153 if g else 67 for lang, g in gsm7.items()}, Integer)
    single = by_lang({lang: 160 if g else 70 for lang, g in gsm7.items()}, Integer)
    # The count by length, but where a part's end would split an escape pair or an emoji:
    # it starts the next part instead (gsm.measure), for the keyword lengths that do it.
    length = func.length(_s.keyword)
    speaks = {"en": _s.language == "en", "vi": _s.language != "en"}  # as by_lang reads it
    split = [(and_(speaks[lang], length == n), literal(real, Integer))
             for lang, p in parts.items() for n, real in _uneven(p, gsm7[lang])]
    segments = case(*split, (total <= single, 1), else_=(total + per - 1) // per)
    encoding = by_lang({lang: i.encoding for lang, i in info.items()}, String)
    return body, encoding, segments, segments * literal(price, Float)


def _uneven(parts: list[str], gsm7: bool) -> list[tuple[int, int]]:
    """(keyword length, segments) where the segments of the text with a keyword that long
    differ from its length over 153 (67): an escape pair or an emoji on a part's end."""
    single, per = (160, 153) if gsm7 else (70, 67)
    found = []
    for n in range(KEYWORD_LENGTH + 1):
        measured = gsm.measure(("x" * n).join(parts))
        by_length = 1 if measured.units <= single else -(-measured.units // per)
        if measured.segments != by_length:
            found.append((n, measured.segments))
    return found


def _subscriptions(conn: Connection, rows: Sequence[Row[Any]]) -> dict[int, Any]:
    ids = {row.subscription_id for row in rows if getattr(row, "subscription_id", None)}
    if not ids:
        return {}
    query = select(_s.id, _s.status, _s.customer_id, _s.code_expires_at).where(_s.id.in_(ids))
    return {sub.id: sub for sub in conn.execute(query)}


def barred(conn: Connection, rows: Sequence[Row[Any]]) -> dict[int, str]:
    """Claimed rows to subscribers that must not go: the subscription ended since they were
    queued, or a code whose request was confirmed, ended or expired (row id -> why)."""
    found = _subscriptions(conn, rows)
    now = utcnow()
    skip: dict[int, str] = {}
    for row in rows:
        sub = found.get(getattr(row, "subscription_id", None) or 0)
        if getattr(row, "subscription_id", None) is None:
            continue
        if row.kind == CODE_KIND:
            expired = sub is None or sub.code_expires_at is None or sub.code_expires_at <= now
            if sub is None or sub.status != Status.PENDING or expired:
                skip[row.id] = CODE_VOID
        elif sub is None or sub.status != Status.ACTIVE:
            skip[row.id] = ENDED
    return skip


def followed(conn: Connection, rows: Sequence[Row[Any]]) -> dict[int, int]:
    """Row id -> the customer a subscriber's row follows (code subscriptions only)."""
    found = _subscriptions(conn, rows)
    return {row.id: found[row.subscription_id].customer_id for row in rows
            if getattr(row, "subscription_id", None) in found
            and found[row.subscription_id].customer_id is not None}



def sms_body(text: Rendered, footer: str, keyword: str) -> str:
    """A subscriber's SMS as _sms builds it in SQL: the customers' text, then the footer
    naming `keyword`."""
    return f"{text.body} {footer}".replace(KEYWORD, keyword)
