"""Queueing notices for a set of customers in one INSERT ... SELECT per channel.

The text is not personal, so each (kind, channel, language) is rendered once per outage
revision and the database copies it onto every customer's row; 50,000 customers cost two
statements, not 50,000 round trips.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from itertools import permutations
from typing import Any, NamedTuple, get_args

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Connection,
    Float,
    Integer,
    Row,
    Select,
    String,
    Text,
    and_,
    case,
    cast,
    column,
    func,
    literal,
    not_,
    null,
    or_,
    select,
    table,
)

from notifier import outbox, quiet
from notifier.channels import REGISTRY
from notifier.channels.email import UNSUBSCRIBE_URL
from notifier.enums import BARS_ADDRESS, ChannelName, OutboxStatus, Outcome
from notifier.render import Rendered, Renderer
from notifier.sqltypes import UTCDateTime
from outages import db, paths
from outages.enums import ETR_STATED, NoticeKind, OutageKind
from outages.models import Customer, Outage, Revision
from outages.notices import subscribers, unsubscribe
from outages.registry.optout import ContactFlag
from outages.settings import Settings, parse_quiet_hours
from outages.timeutil import utcnow

CHANNELS = tuple(REGISTRY)
LANGUAGES = ("vi", "en")
KINDS = tuple(NoticeKind)
customers = Customer.__table__
COLUMNS = ("key", "outage_id", "revision", "customer_id", "kind", "channel", "recipient",
           "language", "urgent", "due_at", "ref_at", "deadline", "status", "attempts",
           "subject", "body", "html", "encoding", "segments", "cost", "created_at",
           "updated_at")


@dataclass(frozen=True)
class Batch:
    """One notice kind for one outage revision, to go to `members` at `due_at`."""

    outage_id: int
    revision: int
    kind: str
    due_at: datetime
    context: Mapping[str, Any]
    scope: str = ""  # key part that makes the notice unique (defaults to the revision)
    ref_at: datetime | None = None
    deadline: datetime | None = None  # quiet hours must not push the notice past this
    # About a fault or an urgent cut: priority customers hear first, whatever the hour.
    pressing: bool = False


def pressing(outage: Row[Any]) -> bool:
    """Whether priority customers must hear of this outage at once: a fault, or a cut
    declared urgent (its notice period was not kept)."""
    return outage.kind == OutageKind.FAULT or bool(outage.urgent)


def priority_only(members: Any) -> Any:
    """The customers among `members` (a select or id list) that have a priority."""
    return select(customers.c.id).where(customers.c.id.in_(members),
                                        customers.c.priority.is_not(None))


class PerLanguage(dict[str, str]):
    """A context value worded per language: each message reads its own language's."""


def renderer(settings: Settings) -> Renderer:
    return Renderer(paths.templates_dir(), sms_ascii=settings.notices.sms_ascii, tz=settings.tz)


def render(settings: Settings, channel: str, language: str, kind: str,
           context: Mapping[str, Any], *, now: datetime,
           ascii_only: bool | None = None) -> Rendered:
    """templates/<channel>/<language>/<kind>.*, as the channel's messages are made, worded
    for a reader at `now` (when the message is due to go out)."""
    values = {name: value[language] if isinstance(value, PerLanguage) else value
              for name, value in context.items()}
    return renderer(settings).render(REGISTRY[channel].templates, f"{channel}/{language}/{kind}",
                                     values, language=language, now=now, ascii_only=ascii_only)


def render_all(settings: Settings, kind: str, context: Mapping[str, Any], *,
               now: datetime) -> dict[tuple[str, str], Rendered]:
    return {(ch, lang): render(settings, ch, lang, kind, context, now=now)
            for ch in CHANNELS for lang in LANGUAGES}


def cost(settings: Settings, channel: str, rendered: Rendered) -> float:
    kind = REGISTRY[channel]
    return kind.cost(rendered, getattr(settings.notices, kind.price_setting))


def due_time(settings: Settings, batch: Batch) -> tuple[datetime, bool]:
    urgent = batch.kind in settings.notices.urgent_kinds
    if urgent or not settings.notices.quiet_hours:
        return batch.due_at, urgent
    window = parse_quiet_hours(settings.notices.quiet_hours)
    return quiet.defer(batch.due_at, settings.tz, window, batch.deadline), urgent


def contact_flag(channel: str, outcome: Outcome) -> ContactFlag | None:
    """The customer flag recording `outcome` on `channel`: `<contact>_invalid` for an address
    that cannot receive, `<channel>_opt_out` for a refusal; None when customers have no such
    flag (that channel keeps none), or when the outcome bars only the channel (no Zalo
    account: see `zalo_absent_at`)."""
    if outcome not in BARS_ADDRESS:
        return None
    name = (f"{REGISTRY[channel].contact}_invalid" if outcome is Outcome.INVALID
            else f"{channel}_opt_out")
    return next((flag for flag in get_args(ContactFlag) if flag == name), None)


@cache
def channel_flags(channel: str) -> tuple[ContactFlag, ...]:
    """The customer flags that bar notices on `channel`."""
    return tuple(flag for outcome in Outcome
                 if (flag := contact_flag(channel, outcome)) is not None)


def contact_ok(channel: str, source: Any = customers) -> ColumnElement[bool]:
    """Customers reachable on `channel`: an address, and no flag barring it."""
    address = source.c[REGISTRY[channel].contact]
    flags = [source.c[flag] for flag in channel_flags(channel)]
    return and_(address.is_not(None), address != "", *(flag.is_(False) for flag in flags))


@cache
def preferences_using(channel: str) -> tuple[str, ...]:
    """Every channel preference (as stored: "zalo,sms,email") under which `channel` is used:
    it is listed, and no channel reaching the same contact is listed before it."""
    contact = REGISTRY[channel].contact
    return tuple(",".join(order) for size in range(1, len(CHANNELS) + 1)
                 for order in permutations(CHANNELS, size)
                 if channel in order
                 and next(c for c in order if REGISTRY[c].contact == contact) == channel)


def prefers(settings: Settings, channel: str, source: Any = customers) -> ColumnElement[bool]:
    """Customers whose own preference, or else the notices.channels setting, uses `channel`.
    Zalo is passed over for customers it lately said it cannot reach (`zalo_absent_at`, for
    zalo.retry_absent_after): their Zalo notices go by SMS, as they would fall back."""
    preference = func.coalesce(source.c.channels, ",".join(settings.notices.channels))
    uses = preference.in_(preferences_using(channel))
    zalo = REGISTRY[ChannelName.ZALO]
    if channel == zalo.name:
        return and_(uses, not_(_zalo_absent(settings, source)))
    if channel == zalo.fallback:
        return or_(uses, and_(preference.in_(preferences_using(zalo.name)),
                              _zalo_absent(settings, source)))
    return uses


def _zalo_absent(settings: Settings, source: Any) -> ColumnElement[bool]:
    absent_at = source.c.zalo_absent_at
    return and_(absent_at.is_not(None), absent_at > utcnow() - settings.zalo.retry_absent_after)


def queue(conn: Connection, settings: Settings, batch: Batch, members: Any, *,
          now: datetime, channels: Sequence[str] | None = None, subscribers_of: Any = None,
          heard: Any = None) -> int:
    """Queue `batch` for the customers whose id is in `members` (a select or id list), on
    `channels`, or by default on the channels each customer prefers.

    A pressing batch (a fault, an urgent cut) goes to priority customers when due, quiet
    hours or not, and their rows are written first: workers claim by (due_at, id), so among
    rows due together theirs are sent before everyone else's.

    Queued on each customer's own channels, the batch then goes to the members' subscribers
    too (notices.subscribers), after the customers so that a contact both have hears once:
    to those of `subscribers_of` instead when given, kept by `heard` (what their contact was
    told of the cut: a subscriber's story is their own, not their house's)."""
    source = _targets(conn, members)
    chosen = members
    if source is not None:  # every row of the temporary table is a target
        chosen = None
    else:
        source = customers
    if not batch.pressing:
        total = _queue(conn, settings, batch, chosen, due_time(settings, batch), now=now,
                       channels=channels, source=source)
    else:
        total = _queue(conn, settings, batch, chosen, (batch.due_at, True), now=now,
                       channels=channels, priority=True, source=source)
        total += _queue(conn, settings, batch, chosen, due_time(settings, batch), now=now,
                        channels=channels, priority=False, source=source)
    if source is not customers:
        conn.exec_driver_sql(f"DROP TABLE {TARGETS}")
    if channels is None:
        total += _queue_subscribers(conn, settings, batch,
                                    members if subscribers_of is None else subscribers_of,
                                    now=now, heard=heard)
    db.refresh_statistics(conn, "outbox", total)  # workers claim these with fitting plans
    return total


def _queue_subscribers(conn: Connection, settings: Settings, batch: Batch, members: Any, *,
                       now: datetime, heard: Any = None) -> int:
    if batch.kind not in subscribers.KINDS or not subscribers.any_active(conn):
        return 0
    due, urgent = due_time(settings, batch)
    footers = subscriber_footers(settings, now=due)
    prices: dict[str, float] = {ch: getattr(settings.notices, REGISTRY[ch].price_setting)
              for ch in subscribers.CHANNELS}
    return subscribers.queue(conn, settings, batch, members,
                             texts=render_all(settings, batch.kind, batch.context, now=due),
                             footers=footers, prices=prices, due=due, urgent=urgent, now=now,
                             heard=heard)


def subscriber_footers(settings: Settings, *, now: datetime) -> dict[str, str]:
    """The SMS footer by language, with subscribers.KEYWORD where a subscription's keyword
    goes."""
    return {lang: render(settings, ChannelName.SMS, lang, "subscriber_footer",
                         {"keyword": subscribers.KEYWORD}, now=now, ascii_only=True).body
            for lang in LANGUAGES}


TARGETS = "notice_targets"


def _targets(conn: Connection, members: Any) -> Any:
    """PostgreSQL, members given as a query: the targets' registry rows copied once into a
    temporary table (dropped at commit at the latest), or None for the customers table.

    A pressing notice is queued by up to six statements (each channel, priority customers
    first); at a typhoon's million customers, finding them six times over the membership and
    interruption indexes costs more than the writing. The copy finds them once, in id order,
    and each statement then reads the copy from start to end."""
    if conn.dialect.name != "postgresql" or not isinstance(members, Select):
        return None
    query = select(*_target_columns()).where(customers.c.id.in_(members)) \
        .order_by(customers.c.id)
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {TARGETS}")
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {TARGETS} ON COMMIT DROP AS {compiled}",
                         compiled.params)
    conn.exec_driver_sql(f"ANALYZE {TARGETS}")
    return table(TARGETS, *(column(c.name, c.type) for c in _target_columns()))


@cache
def _target_columns() -> tuple[Any, ...]:
    """The registry columns queueing reads: the id, language, priority, channel preference,
    when Zalo last could not reach them, and each channel's contact and the flags that bar it
    (names and addresses stay behind)."""
    needed = {"id", "language", "priority", "channels", "zalo_absent_at"}
    for channel in CHANNELS:
        needed.add(REGISTRY[channel].contact)
        needed.update(channel_flags(channel))
    return tuple(c for c in customers.c if c.name in needed)


def _queue(conn: Connection, settings: Settings, batch: Batch, members: Any,
           due_urgent: tuple[datetime, bool], *, now: datetime, channels: Sequence[str] | None,
           priority: bool | None = None, source: Any = customers) -> int:
    """`priority` True or False keeps only the customers with or without one; `members`
    None takes every row of `source`."""
    due, urgent = due_urgent
    texts = render_all(settings, batch.kind, batch.context, now=due)
    # Customers with no phone on record get the words for a number on no account.
    unphoned = (render_all(settings, batch.kind, {**batch.context, "by_text": False}, now=due)
                if batch.kind in BY_TEXT else None)
    chosen = [] if members is None else [source.c.id.in_(members)]
    if priority is not None:
        has = source.c.priority.is_not(None)
        chosen.append(has if priority else ~has)
    total = 0
    for channel in channels or CHANNELS:
        query = _select(settings, batch, channel, texts, due=due, urgent=urgent, now=now,
                        source=source, unphoned=unphoned)
        chosen_here = ([*chosen, prefers(settings, channel, source)] if channels is None
                       else chosen)
        total += outbox.enqueue_from(conn, COLUMNS, query.where(*chosen_here),
                                     fresh=source is not customers)
    return total


def channel_key(key: str, channel: str) -> str:
    """A customer's notice key ("<outage>:<scope>:<kind>:<customer>:<channel>", as _select
    builds it) for the same notice on `channel`."""
    return f"{key.rpartition(':')[0]}:{channel}"


def _select(settings: Settings, batch: Batch, channel: str,
            texts: Mapping[tuple[str, str], Rendered], *, due: datetime, urgent: bool,
            now: datetime, source: Any = customers,
            unphoned: Mapping[tuple[str, str], Rendered] | None = None) -> Any:
    c = source.c
    lang = case((c.language.in_(LANGUAGES), c.language), else_=settings.locale.default_language)
    no_phone = or_(c.phone.is_(None), c.phone == "")

    def by_lang(pick: Any, type_: Any) -> Any:
        values = {code: pick(texts[(channel, code)]) for code in LANGUAGES}
        plain = ({code: pick(unphoned[(channel, code)]) for code in LANGUAGES}
                 if unphoned is not None else values)
        if all(v is None for v in (*values.values(), *plain.values())):
            return null()
        whens = [] if plain == values else [
            (and_(no_phone, lang == "en"), literal(plain["en"], type_)),
            (no_phone, literal(plain["vi"], type_))]
        return case(*whens, (lang == "en", literal(values["en"], type_)),
                    else_=literal(values["vi"], type_))

    scope = batch.scope or f"r{batch.revision}"
    prefix = f"{batch.outage_id}:{scope}:{batch.kind}:"
    recipient = c[REGISTRY[channel].contact]
    return select(
        literal(prefix, String) + cast(c.id, String) + literal(f":{channel}", String),
        literal(batch.outage_id, Integer), literal(batch.revision, Integer), c.id,
        literal(batch.kind, String), literal(channel, String), recipient, lang,
        literal(urgent, Boolean), literal(due, UTCDateTime),
        literal(batch.ref_at, UTCDateTime), literal(batch.deadline, UTCDateTime),
        literal(OutboxStatus.PENDING.value, String), literal(0, Integer),
        by_lang(lambda t: t.subject, Text), by_lang(lambda t: t.body, Text),
        by_lang(lambda t: t.html, Text), by_lang(lambda t: t.encoding, String),
        by_lang(lambda t: t.segments, Integer),
        by_lang(lambda t: cost(settings, channel, t), Float),
        literal(now, UTCDateTime), literal(now, UTCDateTime),
    ).where(contact_ok(channel, source))


def queue_to_phone(conn: Connection, settings: Settings, batch: Batch, phone: str, *,
                   now: datetime) -> int:
    """A notice to a caller who is not a registered customer (fault reports by phone)."""
    language, sms = settings.locale.default_language, ChannelName.SMS
    due, urgent = due_time(settings, batch)  # not a registered customer: no priority known
    text = render(settings, sms, language, batch.kind, {**batch.context, "by_text": False},
                  now=due)
    row = {
        "key": f"{batch.outage_id}:{batch.scope}:{batch.kind}:{phone}:{sms}",
        "outage_id": batch.outage_id, "revision": batch.revision, "customer_id": None,
        "kind": batch.kind, "channel": sms, "recipient": phone, "language": language,
        "urgent": urgent, "due_at": due, "ref_at": batch.ref_at, "deadline": batch.deadline,
        "status": OutboxStatus.PENDING, "attempts": 0, "subject": None, "body": text.body,
        "html": None, "encoding": text.encoding, "segments": text.segments,
        "cost": cost(settings, sms, text), "created_at": now, "updated_at": now,
    }
    return outbox.enqueue(conn, [row])


def reasons(settings: Settings, outage: Row[Any]) -> PerLanguage:
    """Why, as customers read it in each language: the dispatcher's reason in that language
    (`reason` is written in the default one), else the cause's wording, else the one reason
    there is. Only dispatchers' words and settings reach here, never a caller's report."""
    default = settings.locale.default_language
    own = {"en": outage.reason_en}
    own[default] = own.get(default) or outage.reason
    wording = settings.faults.causes.get(outage.cause or "")
    return PerLanguage({
        language: own.get(language) or (getattr(wording, language) if wording else None)
        or outage.reason or outage.work or "-"
        for language in LANGUAGES})


def notice_context(settings: Settings, outage: Row[Any], row: Any,
                   window: ToldWindow | None = None) -> dict[str, Any]:
    """The context to render an outbox row again (in another language or channel): the
    outage now, the moment the row speaks about (a restoration's or report's time, the end a
    cut ran past), for a notice that the ETR passed when the next word is due, and for one
    naming the window the customer was told (told_windows), that window. Each kind's
    template finds what the planner gave it."""
    extra: dict[str, Any] = {"restored_at": row.ref_at, "reported_at": row.ref_at,
                             "expected_end": row.ref_at}
    if row.kind == NoticeKind.ETR_PASSED:  # the ETR that passed, as the customer was told it
        extra["etr"], extra["next_update"] = row.ref_at, next_update(settings, row.due_at)
    if row.kind in ETR_STATED and outage.etr is not None and outage.etr <= utcnow():
        extra["etr"], extra["end"] = None, outage.planned_end  # no time behind them
    if window is not None:
        extra.update(start=window.start, end=window.end, area=window.area)
    if row.customer_id is None:  # a caller's or a subscriber's number: on no account
        extra["by_text"] = False
    return context(settings, outage, **extra)


# Notices that ask the recipient to report by SMS (context "by_text"), when they can.
BY_TEXT = frozenset({NoticeKind.REPORT_UNRESOLVED, NoticeKind.FAULT_NOT_AFFECTED})

# Notices naming the window the customer was told, which may no longer be the cut's.
TOLD_WINDOW = frozenset({NoticeKind.CANCELLED, NoticeKind.NO_LONGER_AFFECTED})


class ToldWindow(NamedTuple):
    """A revision's window, and the area's name then: what a customer told of the cut in
    that revision knows it by (an area renamed since is not the one they heard of)."""

    start: datetime
    end: datetime | None
    area: str | None


def area_names(revisions: Sequence[tuple[int, Mapping[str, Any] | None]],
               current: str | None) -> dict[int, str | None]:
    """Revision -> the area's name in it, from the (revision, details) of all of an
    outage's revisions and its name now: a resize that renamed it keeps the name before."""
    names: dict[int, str | None] = {}
    name = current
    for revision, details in sorted(revisions, key=lambda r: r[0], reverse=True):
        names[revision] = name or None
        if details and "renamed_from" in details:
            name = details["renamed_from"]
    return names


# Their key's scope, "r<revision>w<revision told>" (planner._tell_each_their_window).
_TOLD_SCOPE = re.compile(r"r\d+w(\d+)")


def told_windows(conn: Connection, rows: Sequence[Any]) -> dict[int, ToldWindow]:
    """Row id -> the window a cancellation or "no longer affected" among `rows` named: that
    of the revision its key names (older rows: the latest revision, up to the row's,
    starting at its ref_at)."""
    told: dict[int, int | None] = {}
    for row in rows:
        if row.kind in TOLD_WINDOW:
            scope = _TOLD_SCOPE.fullmatch(str(row.key).split(":")[1])
            if scope is not None or row.ref_at is not None:
                told[row.id] = int(scope.group(1)) if scope else None
    if not told:
        return {}
    wanted = [row for row in rows if row.id in told]
    r, o = Revision.__table__.c, Outage.__table__.c
    outages = {row.outage_id for row in wanted}
    found = conn.execute(select(r.outage_id, r.revision, r.planned_start, r.planned_end,
                                r.details).where(r.outage_id.in_(outages))
                         .order_by(r.revision)).all()
    current = dict(conn.execute(select(o.id, o.area_name).where(o.id.in_(outages))).all())
    names = {outage: area_names([(f.revision, f.details) for f in found
                                 if f.outage_id == outage], current.get(outage))
             for outage in outages}
    windows = {}
    for row in wanted:
        for outage_id, revision, start, end, _ in found:
            if outage_id != row.outage_id:
                continue
            if revision == told[row.id] or (told[row.id] is None and start == row.ref_at
                                              and revision <= row.revision):
                # Of old rows, the latest such revision wins.
                windows[row.id] = ToldWindow(start, end, names[outage_id][revision])
    return windows


def next_update(settings: Settings, passed_at: datetime) -> datetime:
    """When a customer told at `passed_at` that the ETR passed hears from us next at the
    latest: the soonest a new ETR notice may reach them after that one."""
    return passed_at + settings.notices.etr_min_interval


def context(settings: Settings, outage: Row[Any], **extra: Any) -> dict[str, Any]:
    """What notice templates are given: names as the public knows them (an outage without an
    area name has none: its id means nothing to a customer) and times as aware datetimes,
    which the templates word for their language (the `when` filter)."""
    return {
        "utility": settings.notices.utility_name,
        "hotline": settings.notices.hotline,
        "area": outage.area_name or None,
        "reason": reasons(settings, outage),
        "start": outage.actual_start or outage.planned_start,
        "end": outage.etr or outage.planned_end,  # an extended cut's new end
        "etr": outage.etr,
        "restored_at": None,
        "reported_at": None,
        # A report that joined a planned cut under way: when that cut is expected to end.
        # Worded again from its row, a report is only "received": true, if less precise.
        "planned_until": None,
        # Each email gets its recipient's own link when sent (see notices.unsubscribe).
        "unsubscribe_url": UNSUBSCRIBE_URL if unsubscribe.enabled(settings) else None,
        # Whether the recipient may report by SMS: a text from a number on no account is
        # not taken as a report (sms_commands), so such a number is given the hotline only.
        "by_text": True,
        **extra,
    }
