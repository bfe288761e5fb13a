"""Keywords customers text to the utility's number, and the replies.

Keywords are read in any case, with or without Vietnamese diacritics, spaces or punctuation
("mất điện", "MAT DIEN", "matdien", "Stop."). Reply text lives in
templates/sms/<lang>/reply_*.txt and quotes at most a few words of what the customer wrote.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, select

from notifier import gsm
from notifier.enums import ChannelName
from outages.enums import IncidentStatus, ReplyVia, ReportSource, Source
from outages.lifecycle import core as lc
from outages.lifecycle import fault_grouping, fault_reports, public, reopen
from outages.models import Customer
from outages.notices import queue, subscriptions, webhooks
from outages.registry import optout
from outages.settings import Settings
from outages.text import REPORT_MAX, cleaned
from outages.timeutil import utcnow

Action = Literal["stop", "start", "help", "status", "fault", "still_out", "subscribe",
                 "confirm", "unknown"]

KEYWORDS: dict[str, Action] = {
    **dict.fromkeys(("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "HUY",
                     "UNSUB"), "stop"),
    **dict.fromkeys(("START", "YES", "UNSTOP", "DK", "DANGKY"), "start"),
    # "DK <code|district>" (or DANG KY, SUB): follow a house's or a district's notices.
    **dict.fromkeys(("SUB", "SUBSCRIBE"), "subscribe"),
    **dict.fromkeys(("CO", "CONFIRM"), "confirm"),
    **dict.fromkeys(("HELP", "INFO", "TROGIUP"), "help"),
    **dict.fromkeys(("TINHTRANG", "STATUS"), "status"),
    **dict.fromkeys(("MATDIEN",), "fault"),
    # "vẫn mất (điện)", "còn mất (điện)", "still out": power did not come back for me.
    **dict.fromkeys(("VANMAT", "CONMAT", "OFF", "STILLOUT"), "still_out"),
}
ACTOR = "sms"
# With a code or district after them, these ask for a subscription; alone, DK is START.
SUBSCRIBE_WORDS = frozenset({"DK", "DANGKY", "SUB", "SUBSCRIBE"})
# English keywords: the subscription and the replies about it are in English.
ENGLISH = frozenset({"SUB", "SUBSCRIBE", "YES", "CONFIRM", "UNSUB", "UNSUBSCRIBE", "STOP",
                     "STOPALL", "CANCEL", "END", "QUIT", "START", "UNSTOP"})
log = logging.getLogger(__name__)
# A reply quotes at most this much of the customer's text: an account code fits, a flood
# of emoji or a pasted paragraph does not turn into a long (and costly) reply.
ECHO_WORDS, ECHO_CHARS = 2, 24
_NOT_WORD = re.compile(r"[^A-Z0-9]+")
SENTENCE_MARKS = " .,;:!?\"'()"


@dataclass(frozen=True)
class Command:
    action: Action
    argument: str = ""
    keyword: str = field(default="", compare=False)
    # As typed (a code's own spelling: "hn-0042").
    raw_argument: str = field(default="", compare=False)


@dataclass(frozen=True)
class Reply:
    template: str
    language: str
    context: dict[str, Any] = field(default_factory=dict)


def fold(text: str) -> str:
    """Upper-case words without diacritics or punctuation: 'mất  điện!' -> 'MAT DIEN';
    full-width 'ＳＴＯＰ' reads as the letters it shows (gsm.fold)."""
    return " ".join(_NOT_WORD.sub(" ", gsm.fold(text).upper()).split())


def echo(words: str) -> str:
    """The part of the customer's words a reply may quote back."""
    return " ".join(words.split()[:ECHO_WORDS])[:ECHO_CHARS]


def parse(text: str) -> Command:
    words = fold(text).split()
    # Two-word spellings first ("MAT DIEN", "TINH TRANG", "DANG KY").
    for size in (2, 1):
        keyword = "".join(words[:size])
        if len(words) >= size and keyword in KEYWORDS:
            if keyword in ("DK", "DANGKY") and words[size:] == ["LAI"]:
                return Command("start", "", keyword)  # "dang ky lai", as the STOP reply says
            raw = " ".join(text.split()[size:]) if len(text.split()) > size else ""
            return Command(KEYWORDS[keyword], " ".join(words[size:]), keyword, raw)
    return Command("unknown")


def receive(conn: Connection, settings: Settings, *, message_sid: str, phone: str,
            text: str) -> Reply | None:
    """Act on one inbound SMS once and within the number's hourly limits; the reply, or None
    to answer nothing (a replay, a flood, or the number's replies used up)."""
    text = cleaned(text, limit=REPORT_MAX)  # a customer's SMS is kept, never refused
    now = utcnow()
    webhooks.forget_before(conn, now - settings.twilio.remember_webhooks)
    if not webhooks.first_time(conn, message_sid=message_sid, event=webhooks.INBOUND, at=now,
                               phone=phone):
        log.info("inbound SMS %s was already handled; not acted on again", message_sid,
                 extra={"provider_message_id": message_sid})
        return None
    limits = settings.twilio
    received = webhooks.inbound_last_hour(conn, phone=phone, at=now)
    if received == limits.inbound_per_hour + 1:
        log.warning("more than %d SMS from %s within an hour: only STOP is acted on",
                    limits.inbound_per_hour, phone)
    # An opt-out is always honoured; anything else beyond the limit is dropped.
    if received > limits.inbound_per_hour and parse(text).action != "stop":
        return None
    reply = handle(conn, settings, phone=phone, text=text)
    if reply is None:
        return None
    if webhooks.inbound_last_hour(conn, phone=phone, at=now,
                                  replied=True) >= limits.replies_per_hour:
        return _last_word(conn, message_sid=message_sid, phone=phone, reply=reply, now=now)
    webhooks.mark_replied(conn, message_sid=message_sid)
    return reply


def _last_word(conn: Connection, *, message_sid: str, phone: str, reply: Reply,
               now: datetime) -> Reply | None:
    """The number's replies are used up: what it sent was acted on all the same (a report
    is recorded), and it is told so once per rolling hour, with no more answers coming,
    rather than left to wonder. One SMS more an hour at most: no cannon. A STOP gets none
    (the provider confirms it, and texts to the number are barred)."""
    if reply.template == "stop" or webhooks.told_limit(conn, phone=phone, at=now):
        return None
    webhooks.first_time(conn, message_sid=message_sid, event=webhooks.REPLY_LIMIT, at=now,
                        phone=phone)
    return Reply("limit", reply.language)


def handle(conn: Connection, settings: Settings, *, phone: str, text: str) -> Reply | None:
    """Act on one inbound SMS from `phone` and say what to answer (None: nothing)."""
    command = parse(text)
    accounts = conn.execute(
        select(Customer.__table__.c.id, Customer.__table__.c.code,
               Customer.__table__.c.language)
        .where(Customer.__table__.c.phone == phone).order_by(Customer.__table__.c.code)
    ).all()
    language = accounts[0].language if accounts else settings.locale.default_language
    # "DK <code>", "SUB", "CO" are about subscriptions only; "HUY <code>" and "YES" only when
    # the phone has a subscription they name or a "DK" waiting.
    # START, YES, UNSTOP with more words ("Start again") are still an opt-in.
    asks = command.action in ("subscribe", "confirm") or (
        command.keyword in SUBSCRIBE_WORDS and bool(command.argument))
    if asks or command.action == "stop" or command.keyword == "YES":
        reply = _subscription(conn, settings, phone, command, language)
        if reply is not None and command.keyword == "YES":
            # YES confirming a subscription opts the number back in at the provider all the
            # same: here too, or the subscription just confirmed would hear nothing.
            optout.set_sms_opt_out(conn, phone=phone, opted_out=False, actor=ACTOR,
                                   source=Source.WEBHOOK)
        if reply is not None or asks:
            return reply
    if command.action in ("stop", "start"):
        optout.set_sms_opt_out(conn, phone=phone, opted_out=command.action == "stop",
                               actor=ACTOR, source=Source.WEBHOOK)
        if command.action == "stop":  # an opt-out ends the phone's subscriptions too
            subscriptions.sms_end(conn, phone=phone, argument="")
        return Reply(command.action, language)
    if command.action == "status":
        return _status(conn, settings, accounts, language)
    if command.action == "fault":
        return _fault(conn, settings, accounts, language, command, text)
    if command.action == "still_out":
        return _still_out(conn, settings, accounts, language, command, text)
    return Reply(command.action, language)


def _subscription(conn: Connection, settings: Settings, phone: str, command: Command,
                  language: str) -> Reply | None:
    """Subscription keywords; None hands the message on to the account keywords (STOP, START,
    YES with nothing pending, HUY naming no subscription of this phone)."""
    if command.keyword in ENGLISH:
        language = "en"
    elif command.keyword in KEYWORDS and command.action != "stop":
        language = "vi"
    if command.action == "stop":
        if not command.argument:
            return None
        ended = subscriptions.sms_end(conn, phone=phone, argument=command.argument)
        return Reply("subscription_ended", language, {"targets": ended}) if ended else None
    if command.action == "confirm" or command.keyword == "YES":
        try:
            target = subscriptions.sms_confirm(conn, settings, phone=phone)
        except subscriptions.Limited:
            return Reply("subscribe_full", language)
        if target is None:
            return None if command.keyword == "YES" else Reply("confirm_none", language)
        return Reply("subscribed", language, {"target": target})
    if not command.argument:
        return Reply("subscribe_invalid", language)
    # As typed, but for the sentence's own punctuation ("DK PD0001.").
    typed = (command.raw_argument or command.argument).strip().strip(SENTENCE_MARKS)
    answer = subscriptions.sms_request(conn, settings, phone=phone, language=language,
                                       argument=typed or command.argument)
    if answer is None:
        return None
    template, context = answer
    return Reply(template, language, context)


def _status(conn: Connection, settings: Settings, accounts: Sequence[Any], language: str) -> Reply:
    outages = public.outages_for_customers(conn, [a.id for a in accounts])
    now = utcnow()
    # An expected time already passed is no longer expected: "not yet known", as the
    # acknowledgement says once its ETR has passed.
    items = [{"code": o["code"], "area": o["area_name"], "kind": o["kind"],
              "status": o["status"], "start": o["actual_start"] or o["planned_start"],
              "etr": end if (end := o["etr"] or o["planned_end"]) and end > now else None}
             for o in outages]
    return Reply("status", language, {"known": bool(accounts), "outages": items})


def _fault(conn: Connection, settings: Settings, accounts: Sequence[Any], language: str,
           command: Command, text: str) -> Reply:
    codes = [a.code for a in accounts]
    if not accounts:
        return Reply("fault_unknown_phone", language)
    # Codes compared as words are read: "hn-0042" names account HN-0042.
    given = command.argument.replace(" ", "")
    chosen = [a for a in accounts if fold(a.code).replace(" ", "") == given]
    if not chosen and len(accounts) == 1 and not _names_an_account(conn, command.argument):
        chosen = list(accounts)  # "MATDIEN tu 8h sang": their words, about their account
    if len(chosen) != 1:
        return Reply("fault_which", language, {"codes": codes, "given": echo(command.argument)})
    # Filed inside the webhook's transaction, grouped into an incident like any other report.
    result = fault_reports.record(conn, settings, actor=ACTOR, source=Source.WEBHOOK,
                                  customer=chosen[0].code, text=text.strip() or None,
                                  channel=ReportSource.SMS)
    outage = lc.load(conn, result.outage_id)
    return Reply("fault", language, {
        "code": chosen[0].code, "report_id": int(result.report_id), "area": outage.area_name,
        "planned_until": fault_reports.planned_until(conn, outage, chosen[0].id, utcnow()),
        "outside": _outside(conn, outage, int(result.report_id))})


def _outside(conn: Connection, outage: Any, report_id: int) -> bool:
    """Whether the report joined a confirmed incident whose area leaves the reporter out:
    its ETR is not theirs, and they hear only when it is fixed (report_unresolved)."""
    return outage.status == IncidentStatus.CONFIRMED and report_id in {
        report.id for report in fault_grouping.outside(conn, outage)}


def _names_an_account(conn: Connection, argument: str) -> bool:
    """Whether the words after the keyword are a customer code (anyone's)."""
    words = argument.split()
    return len(words) == 1 and lc.customer_by_code(conn, words[0]) is not None


def _still_out(conn: Connection, settings: Settings, accounts: Sequence[Any], language: str,
               command: Command, text: str) -> Reply:
    """Reopen the account restored within faults.still_out_window; without such an account
    (or when the number's accounts leave it open which one), this is a fault report."""
    # "VAN MAT DIEN [CODE]": the word for power is part of the keyword, not a code.
    words = command.argument.split()
    argument = " ".join(words[1:] if words[:1] == ["DIEN"] else words)
    given = argument.replace(" ", "")
    chosen = [a for a in accounts if fold(a.code).replace(" ", "") == given] if given \
        else list(accounts)
    now = utcnow()
    lately = [a for a in chosen if reopen.restored_lately(conn, settings, a.id, now)]
    if len(lately) > 1:
        return Reply("still_out_which", language,
                     {"codes": [a.code for a in lately], "given": echo(argument)})
    if lately:
        reopen.still_out(conn, settings, customer_id=lately[0].id, at=now, via=ReplyVia.SMS,
                         actor=ACTOR, source=Source.WEBHOOK, acknowledge=False)
        return Reply("still_out", language, {"code": lately[0].code})
    return _fault(conn, settings, accounts, language, Command("fault", argument), text)


def render(reply: Reply, settings: Settings) -> str:
    """The reply text from templates/sms/<language>/reply_<template>.txt on one line, worded
    for now. Always folded to GSM-7: the reply templates are written without diacritics, and
    one accented area name would otherwise make the whole reply UCS-2 (two to three times
    the segments) whatever `notices.sms_ascii` says."""
    language = (reply.language if reply.language in queue.LANGUAGES
                else settings.locale.default_language)
    context = {"hotline": settings.notices.hotline,
               "utility": settings.notices.utility_name, **reply.context}
    text = queue.render(settings, ChannelName.SMS, language, f"reply_{reply.template}", context,
                        now=utcnow(), ascii_only=True)
    return " ".join(text.body.split())
