"""Which notices an outage event leads to, for whom, and when.

Called by `outages.lifecycle.events.publish` inside the lifecycle's transaction, so notices are
queued if and only if the change commits. Pending notices made stale by a change are marked
'skipped' here, at change time, rather than re-checked by the sender.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    Column,
    Connection,
    Integer,
    MetaData,
    Row,
    Table,
    exists,
    func,
    insert,
    not_,
    select,
)

from notifier import outbox
from notifier.enums import OutboxStatus
from notifier.store import outbox as outbox_t
from outages.enums import (
    ETR_STATED,
    FINISHED,
    IncidentStatus,
    NoticeKind,
    OutageKind,
    ReportSource,
)
from outages.lifecycle import core as lc
from outages.lifecycle import cut_rules, fault_grouping, fault_reports
from outages.models import FaultReport, Interruption, OutageCustomer
from outages.notices import desk, end_told, sms_commands, subscribers
from outages.notices.queue import (
    Batch,
    area_names,
    context,
    due_time,
    next_update,
    pressing,
    priority_only,
    queue,
    queue_to_phone,
)
from outages.settings import Settings
from outages.timeutil import utcnow

if TYPE_CHECKING:
    from outages.lifecycle.events import OutageEvent

members_t = OutageCustomer.__table__
PRE_START = (NoticeKind.ANNOUNCEMENT, NoticeKind.REMINDER, NoticeKind.CHANGED)
# Notices to customers still out, which their restoration makes stale.
AFTER_START = (NoticeKind.ETR_UPDATE, NoticeKind.ETR_PASSED, NoticeKind.CUT_EXTENDED,
               NoticeKind.RUNNING_LATE)
# Once a customer has power back, nothing ahead of or during the outage is true any more:
# not that it will start, has started, is being looked into, nor when power should return.
UNTRUE_WHEN_RESTORED = (*PRE_START, NoticeKind.STARTED, NoticeKind.FAULT_REPORT_RECEIVED,
                        NoticeKind.FAULT_ACK, *AFTER_START)
# Restorations come in steps of up to a feeder's customers: a few large statements each.
RESTORED_CHUNK = 5000
# Key scope of the notices to callers without an account (one acknowledgement each).
CALLERS = "callers"
# Why a duplicate's notices were skipped when it was merged into another incident.
MERGED = "fault_merged"


def plan(conn: Connection, settings: Settings, event: OutageEvent) -> None:
    """Queue the notices for `event` and retire the ones it makes stale."""
    handler = HANDLERS.get(event.kind)
    if handler is None:
        return
    handler(conn, settings, event, lc.load(conn, event.outage_id))


def current_members(outage_id: int) -> Any:
    m = members_t.c
    return select(m.customer_id).where(m.outage_id == outage_id, m.dropped_revision.is_(None))


def still_out(conn: Connection, outage_id: int) -> Any:
    """Current members not yet restored from this outage.

    Only a restoration step ends an interruption of a live outage, and each step writes a
    "restored" revision: before the first one, nobody can have been restored and the log is
    not read. (With a year of history in the log, PostgreSQL planned that check for a
    typhoon's million members as a scan of all 20 million interruptions.) An imported
    outage's ended rows come with no such revision, so it is always checked."""
    members = current_members(outage_id)
    r = lc.REVISIONS.c
    stepped = conn.execute(select(
        exists().where(r.outage_id == outage_id, r.action == "restored")
        | exists().where(lc.OUTAGES.c.id == outage_id, lc.OUTAGES.c.external_id.is_not(None))
    )).scalar_one()
    if not stepped:
        return members
    i = Interruption.__table__.c
    restored = exists().where(i.outage_id == outage_id, i.customer_id == members_t.c.customer_id,
                              i.end_at.is_not(None))
    return members.where(not_(restored))


def _skip(conn: Connection, outage_id: int, kinds: tuple[str, ...], **only: Any) -> int:
    return outbox.skip_pending(conn, outage_id=outage_id, kinds=kinds, now=utcnow(), **only)


def _batch(event: OutageEvent, outage: Row[Any], kind: str, ctx: dict[str, Any],
           **fields: Any) -> Batch:
    return Batch(outage_id=event.outage_id, revision=event.revision, kind=kind,
                 due_at=fields.pop("due_at", event.at), context=ctx, pressing=pressing(outage),
                 **fields)


def _announce(conn: Connection, settings: Settings, event: OutageEvent, outage: Row[Any],
              members: Any, kind: str = NoticeKind.ANNOUNCEMENT,
              deadline: datetime | None = None, **subscribers_by: Any) -> None:
    """Announcement (or change notice) now, and reminders before the start. The first goes
    to subscribers as `subscribers_by` (queue's subscribers_of and heard) says."""
    ctx, start = context(settings, outage), outage.planned_start
    if deadline is None:  # quiet hours may not hold it into the legal notice period
        deadline = cut_rules.legal_deadline(settings, start, urgent=bool(outage.urgent),
                                            now=event.at)
    batch = _batch(event, outage, kind, ctx, deadline=deadline, ref_at=start)
    queue(conn, settings, batch, members, now=utcnow(), **subscribers_by)
    _remind(conn, settings, event, outage, members, ctx,
            announced_at=due_time(settings, batch)[0])


def _tell_as_it_stands(conn: Connection, settings: Settings, event: OutageEvent,
                       outage: Row[Any], members: Any) -> None:
    """`members` hear of the cut as it now stands, after what each was last told: the
    announcement if they do not know of it, that it changed if they were told another
    window, and only its reminders if they know this one (a move undone before its notice
    went, a customer taken out and back before hearing so). Their subscribers likewise,
    by what each subscriber's contact was told (a house without a phone heard nothing)."""
    customer, start, end = members_t.c.customer_id, outage.planned_start, outage.planned_end
    known = _known_now(conn, event.outage_id)
    r = lc.REVISIONS.c
    this_window = set(conn.execute(select(r.revision).where(
        r.outage_id == event.outage_id, r.planned_start == start, r.planned_end == end))
        .scalars())
    knows = select(known.c.customer_id)
    same = knows.where(known.c.revision.in_(this_window))
    earliest, latest = _told_starts(conn, event.outage_id, known)
    deadline = min(earliest or start, start)
    if latest is not None and start < latest:
        # An earlier start than one they were told needs the notice period: quiet hours
        # may not hold its notice into it, as they may not hold an announcement.
        deadline = min(deadline, cut_rules.legal_deadline(
            settings, start, urgent=bool(outage.urgent), now=event.at))
    _announce(conn, settings, event, outage,
              members.where(customer.in_(knows), customer.not_in(same)),
              kind=NoticeKind.CHANGED, deadline=deadline, subscribers_of=members,
              heard=subscribers.told_other(event.outage_id, start, end))
    _announce(conn, settings, event, outage, members.where(customer.not_in(knows)),
              subscribers_of=members, heard=subscribers.untold(event.outage_id))
    _remind(conn, settings, event, outage, members.where(customer.in_(same)),
            context(settings, outage))
    known.drop(conn)


def _known_now(conn: Connection, outage_id: int) -> Table:
    """told_of(outage_id) computed once into a temporary table: the groups above read it
    several times each (a notice and its reminders per group), and as a subquery it was
    grouped over the outage's notices every time (a 50,000-customer reschedule took twice
    as long). Dropped by the caller; a failed change's rollback drops it too."""
    known = Table(KNOWN, MetaData(), Column("customer_id", Integer),
                  Column("revision", Integer), prefixes=["TEMPORARY"])
    known.drop(conn, checkfirst=True)
    known.create(conn)
    conn.execute(insert(known).from_select(["customer_id", "revision"], told_of(outage_id)))
    return known


KNOWN = "cut_known"


def _remind(conn: Connection, settings: Settings, event: OutageEvent, outage: Row[Any],
            members: Any, ctx: dict[str, Any], announced_at: datetime | None = None) -> None:
    """The reminders before the start still ahead, everyone's and the priority ones. One
    that would come less than half its lead after the announcement goes out (held for the
    morning, say) would only repeat it: it is skipped."""
    start = outage.planned_start
    for offset in settings.planned.reminders:
        at = start - offset
        if at <= event.at or _fresh(announced_at, at, offset):
            continue
        tag = f"r{event.revision}-{int(offset.total_seconds())}s"
        batch = _batch(event, outage, NoticeKind.REMINDER, ctx, due_at=at, scope=tag,
                       deadline=start, ref_at=start)
        queue(conn, settings, batch, members, now=utcnow())
    _remind_priority(conn, settings, event, outage, members, ctx, announced_at)


def _fresh(announced_at: datetime | None, at: datetime, offset: timedelta) -> bool:
    """Whether a reminder due `at`, `offset` before the start, would come less than half
    its lead after the announcement."""
    return announced_at is not None and at - announced_at < offset / 2


def _remind_priority(conn: Connection, settings: Settings, event: OutageEvent,
                     outage: Row[Any], members: Any, ctx: dict[str, Any],
                     announced_at: datetime | None = None) -> None:
    """Priority customers hear once more, planned.priority_reminders before the start."""
    start, planned = outage.planned_start, settings.planned
    for offset in planned.priority_reminders:
        at = start - offset
        if at <= event.at or offset in planned.reminders or _fresh(announced_at, at, offset):
            continue
        tag = f"r{event.revision}-priority-{int(offset.total_seconds())}s"
        batch = _batch(event, outage, NoticeKind.REMINDER, ctx, due_at=at, scope=tag,
                       deadline=start, ref_at=start)
        queue(conn, settings, batch, priority_only(members), now=utcnow())


def told_of(outage_id: int) -> Any:
    """(customer_id, revision) of the customers who know of the cut (subscribers.knowing),
    with the revision whose window the notice they had stated. Only they may hear of a
    change to it, or of its cancellation."""
    return subscribers.knowing(outage_id, outbox_t.c.customer_id, "customer_id")


def _changed_for(event: OutageEvent) -> tuple[Any, Any]:
    """The customers who joined and who left the set in this revision."""
    m = members_t.c
    base = select(m.customer_id).where(m.outage_id == event.outage_id)
    added = base.where(m.added_revision == event.revision, m.dropped_revision.is_(None))
    return added, base.where(m.dropped_revision == event.revision)


def _tell_moved(conn: Connection, settings: Settings, event: OutageEvent, outage: Row[Any],
                added: Any, dropped: Any) -> None:
    """Pending notices to customers leaving the set go, and those who were told hear they are
    out of it; a pending "no longer affected" to one coming back goes too."""
    _skip(conn, event.outage_id, (NoticeKind.NO_LONGER_AFFECTED,), customer_ids=added,
          reason=event.kind)
    _skip(conn, event.outage_id, PRE_START, customer_ids=dropped, reason=event.kind)
    _tell_each_their_window(conn, settings, event, outage, NoticeKind.NO_LONGER_AFFECTED,
                            among=dropped)


def _told_starts(conn: Connection, outage_id: int,
                 known: Table) -> tuple[datetime | None, datetime | None]:
    """The earliest and the latest start a customer or subscriber knows the cut by: a
    change must reach them before the earliest, and one earlier than the latest is news
    that needs the notice period. Not the window the change replaces: a move whose notice
    had not gone yet (replaced by this one) was never told."""
    r = lc.REVISIONS.c
    told = set(conn.execute(select(known.c.revision).distinct()).scalars())
    told |= subscribers.told_revisions(conn, outage_id)
    row = conn.execute(select(func.min(r.planned_start), func.max(r.planned_start)).where(
        r.outage_id == outage_id, r.revision.in_(told))).one()
    return row[0], row[1]


def cut_created(conn: Connection, settings: Settings, event: OutageEvent,
                outage: Row[Any]) -> None:
    _announce(conn, settings, event, outage, current_members(event.outage_id))


def cut_rescheduled(conn: Connection, settings: Settings, event: OutageEvent,
                    outage: Row[Any]) -> None:
    """Those told of the cut hear that it moved, before the earlier of the two starts; the
    others get, in place of the announcement they never received, one of the new window."""
    _skip(conn, event.outage_id, PRE_START, revision_below=event.revision, reason=event.kind)
    added, dropped = _changed_for(event)
    _tell_moved(conn, settings, event, outage, added, dropped)
    _tell_as_it_stands(conn, settings, event, outage, current_members(event.outage_id))


def cut_resized(conn: Connection, settings: Settings, event: OutageEvent,
                outage: Row[Any]) -> None:
    added, dropped = _changed_for(event)
    _tell_moved(conn, settings, event, outage, added, dropped)
    if not _renamed(conn, event):
        _tell_as_it_stands(conn, settings, event, outage, added)
        return
    # The area has a new name: what has not gone yet goes again under it, to everyone.
    _skip(conn, event.outage_id, PRE_START, revision_below=event.revision, reason=event.kind)
    _tell_as_it_stands(conn, settings, event, outage, current_members(event.outage_id))


def _renamed(conn: Connection, event: OutageEvent) -> bool:
    r = lc.REVISIONS.c
    details = conn.execute(select(r.details).where(
        r.outage_id == event.outage_id, r.revision == event.revision)).scalar()
    return bool(details and "renamed_from" in details)


def cut_cancelled(conn: Connection, settings: Settings, event: OutageEvent,
                  outage: Row[Any]) -> None:
    """Pending notices go; the cancellation only to those who know of the cut (a customer
    taken out of it who has not heard so yet does), naming the window each was told."""
    _skip(conn, event.outage_id, (*PRE_START, NoticeKind.NO_LONGER_AFFECTED), reason=event.kind)
    everyone = select(members_t.c.customer_id).where(members_t.c.outage_id == event.outage_id)
    _tell_each_their_window(conn, settings, event, outage, NoticeKind.CANCELLED,
                            among=everyone)


def _tell_each_their_window(conn: Connection, settings: Settings, event: OutageEvent,
                            outage: Row[Any], kind: str, *, among: Any) -> None:
    """`kind` (cancelled, no longer affected) to those of `among` (a select of customer
    ids) who know of the cut, and to their subscribers who do, each naming the window they
    were told (its revision in the key, by which the text is worded again when sent)."""
    known, r = told_of(event.outage_id).subquery(), lc.REVISIONS.c
    revisions = set(conn.execute(select(known.c.revision).distinct()).scalars())
    revisions |= subscribers.told_revisions(conn, event.outage_id)
    every = conn.execute(select(r.revision, r.planned_start, r.planned_end, r.details).where(
        r.outage_id == event.outage_id).order_by(r.revision)).all()
    # The area as they heard of it: one renamed since is a place they were never told of.
    names = area_names([(w.revision, w.details) for w in every], outage.area_name)
    customer = members_t.c.customer_id
    for revision, start, end, _ in (w for w in every if w.revision in revisions):
        ctx = context(settings, outage, start=start, end=end, area=names[revision])
        # The key names the revision told (queue.told_windows reads it to word it again).
        batch = _batch(event, outage, kind, ctx, scope=f"r{event.revision}w{revision}",
                       deadline=min(start, outage.planned_start), ref_at=start)
        told_then = select(known.c.customer_id).where(known.c.revision == revision)
        queue(conn, settings, batch, among.where(customer.in_(told_then)), now=utcnow(),
              subscribers_of=among, heard=subscribers.told_at(event.outage_id, revision))


def cut_started(conn: Connection, settings: Settings, event: OutageEvent,
                outage: Row[Any]) -> None:
    _skip(conn, event.outage_id, PRE_START, reason=event.kind)
    if settings.notices.start_notice:
        queue(conn, settings, _batch(event, outage, NoticeKind.STARTED, context(settings, outage)),
              current_members(event.outage_id), now=utcnow())
    _plan_running_late(conn, settings, event, outage)


def cut_extended(conn: Connection, settings: Settings, event: OutageEvent,
                 outage: Row[Any]) -> None:
    """Customers still out hear the new expected end; "running late" moves to it. A "started"
    not sent yet (quiet hours) would give the end replaced: the extension says it all."""
    _skip(conn, event.outage_id,
          (NoticeKind.RUNNING_LATE, NoticeKind.CUT_EXTENDED, NoticeKind.STARTED),
          reason=event.kind)
    batch = _batch(event, outage, NoticeKind.CUT_EXTENDED, context(settings, outage),
                   ref_at=outage.etr)
    queue(conn, settings, batch, still_out(conn, event.outage_id), now=utcnow())
    _plan_running_late(conn, settings, event, outage)


def _plan_running_late(conn: Connection, settings: Settings, event: OutageEvent,
                       outage: Row[Any]) -> None:
    """A notice at the cut's expected end to those still out then; a restoration or a new
    end skips it before it fires."""
    end = outage.etr or outage.planned_end
    if end is None or end <= event.at:
        return
    ctx = context(settings, outage, expected_end=end)
    batch = _batch(event, outage, NoticeKind.RUNNING_LATE, ctx, due_at=end,
                   scope=f"late{int(end.timestamp())}", ref_at=end)
    queue(conn, settings, batch, still_out(conn, event.outage_id), now=utcnow())
    # Those told a later end (a move their change notice never brought) are skipped at this
    # one: they hear at theirs. The revision in the key: an extension skips these and plans
    # them again, and a skipped key would keep the new one out.
    later = end_told.told_later(conn, event.outage_id, end, still_out(conn, event.outage_id))
    for told, customers in later.items():
        own = _batch(event, outage, NoticeKind.RUNNING_LATE,
                     context(settings, outage, expected_end=told), due_at=told,
                     scope=f"late{int(told.timestamp())}r{event.revision}", ref_at=told)
        queue(conn, settings, own, customers, now=utcnow())


def restored(conn: Connection, settings: Settings, event: OutageEvent,
             outage: Row[Any]) -> None:
    # Power came back when the dispatcher says, which may be well before it was recorded.
    back = event.restored_at or event.at
    ctx = context(settings, outage, restored_at=back)
    for ids in lc.chunks(list(event.customer_ids), size=RESTORED_CHUNK):
        _skip(conn, event.outage_id, UNTRUE_WHEN_RESTORED, customer_ids=ids, reason=event.kind)
        # Out in another outage, they have no power back: that one's restoration tells them.
        elsewhere = out_elsewhere(conn, event.outage_id, ids, at=event.at)
        queue(conn, settings, _batch(event, outage, NoticeKind.RESTORED, ctx, ref_at=back),
              [c for c in ids if c not in elsewhere], now=utcnow())
    if outage.status in FINISHED:  # the last step: callers without an account are done too
        _skip(conn, event.outage_id, (*UNTRUE_WHEN_RESTORED, desk.ETR_PASSING),
              reason=event.kind)
    if outage.status == IncidentStatus.RESTORED:
        _answer_reports_outside(conn, settings, event, outage)
        _tell_callers_inside(conn, settings, event, outage, ctx, back)
    elif outage.kind == OutageKind.FAULT and event.step_area is not None:
        _tell_callers_inside(conn, settings, event, outage, ctx, back, within=event.step_area)


def out_elsewhere(conn: Connection, outage_id: int, customer_ids: Sequence[int], *,
                  at: datetime) -> set[int]:
    """Those of `customer_ids` out at `at` in an outage other than `outage_id` (an
    interruption begun and not ended)."""
    i = Interruption.__table__.c
    return set(conn.execute(select(i.customer_id).distinct().where(
        i.customer_id.in_(list(customer_ids)), i.outage_id != outage_id, i.end_at.is_(None),
        i.start_at <= at)).scalars())


def _tell_callers_inside(conn: Connection, settings: Settings, event: OutageEvent,
                         outage: Row[Any], ctx: dict[str, Any], back: datetime,
                         within: BaseGeometry | None = None) -> None:
    """Callers without an account whose place is inside the incident's area called about no
    power: power is back for them with the step whose area covers their place (`within`),
    else when it is all restored. What was queued for them while out is no longer true."""
    phones = callers_inside(conn, outage, within=within)
    if within is not None:  # the last step skips everyone's
        _skip(conn, event.outage_id, UNTRUE_WHEN_RESTORED, phones=phones, reason=event.kind)
    # One key per incident: a caller hears it once, at whichever step that is.
    batch = _batch(event, outage, NoticeKind.RESTORED, ctx, scope=CALLERS, ref_at=back)
    _tell_callers(conn, settings, outage, batch, phones)


def callers_inside(conn: Connection, outage: Row[Any],
                   within: BaseGeometry | None = None) -> list[str]:
    """Phones of the incident's callers without an account whose place its area covers (and
    `within`, when given), in the order they first called: they are out with its customers,
    as far as anyone knows, until they are told power is back."""
    r, o = FaultReport.__table__.c, outbox_t.c
    outside = {report.id for report in fault_grouping.outside(conn, outage)}
    back = select(o.recipient).where(
        o.outage_id == outage.id, o.kind == NoticeKind.RESTORED,
        o.key.like(f"{outage.id}:{CALLERS}:%"), o.status.in_(outbox.TOLD))
    callers = conn.execute(select(r.id, r.phone, r.lon, r.lat).where(
        r.outage_id == outage.id, r.customer_id.is_(None), r.phone.is_not(None),
        r.phone.not_in(back)).order_by(r.first_at, r.id)).all()
    return list(dict.fromkeys(
        c.phone for c in callers if c.id not in outside
        and (within is None or (c.lon is not None and within.covers(Point(c.lon, c.lat))))))


def _tell_callers(conn: Connection, settings: Settings, outage: Row[Any], batch: Batch,
                  phones: Sequence[str] | None = None) -> None:
    """`batch` by SMS to the callers inside the incident (or `phones`): they reported, so
    they hear what its customers hear. Keyed by phone, so a replay or a redraw queues
    nothing twice; a STOP from the number bars it when sent (recipients.recheck). A number
    that has it as a subscriber already is not sent it again."""
    phones = callers_inside(conn, outage) if phones is None else phones
    if batch.kind in subscribers.KINDS:
        have = set(conn.execute(subscribers.same_notice(batch, as_caller=False)).scalars())
        phones = [phone for phone in phones if phone not in have]
    for phone in phones:
        queue_to_phone(conn, settings, batch, phone, now=utcnow())


def _answer_reports_outside(conn: Connection, settings: Settings, event: OutageEvent,
                            outage: Row[Any]) -> None:
    """Callers outside the incident's area heard "report received" and nothing since: ask
    them to reply if they still have no power."""
    batch = _batch(event, outage, NoticeKind.REPORT_UNRESOLVED, context(settings, outage),
                   scope="outside", ref_at=event.at)
    reports = fault_grouping.outside(conn, outage)
    customers = [r.customer_id for r in reports if r.customer_id is not None]
    phones = list(dict.fromkeys(r.phone for r in reports if r.customer_id is None and r.phone))
    # This says all that "not part of the outage" not sent yet would.
    for who in ({"customer_ids": customers}, {"phones": phones}):
        _skip(conn, event.outage_id, (NoticeKind.FAULT_NOT_AFFECTED,), reason=event.kind,
              **who)
    queue(conn, settings, batch, customers, now=utcnow())
    for phone in phones:
        queue_to_phone(conn, settings, batch, phone, now=utcnow())


def fault_reported(conn: Connection, settings: Settings, event: OutageEvent,
                   outage: Row[Any]) -> None:
    if event.report_id is None:
        return
    report = conn.execute(select(FaultReport.__table__)
                          .where(FaultReport.id == event.report_id)).one()
    if not _told_received(conn, event, report):
        ctx = context(settings, outage, reported_at=report.first_at, planned_until=(
            fault_reports.planned_until(conn, outage, report.customer_id, event.at)))
        batch = _batch(event, outage, NoticeKind.FAULT_REPORT_RECEIVED, ctx,
                       scope=f"report{report.id}", ref_at=report.first_at)
        if report.customer_id is not None:
            queue(conn, settings, batch, [report.customer_id], now=utcnow())
        elif report.phone:
            queue_to_phone(conn, settings, batch, report.phone, now=utcnow())
    if (report.customer_id is None and report.phone and outage.status == IncidentStatus.CONFIRMED
            and report.phone in callers_inside(conn, outage)):
        # what the incident's customers were told: it goes instead
        _tell_callers(conn, settings, outage, _caller_ack(settings, event, outage),
                      [report.phone])


def _told_received(conn: Connection, event: OutageEvent, report: Row[Any]) -> bool:
    """Whether the reporter already knows the report was received: the reply to a text said
    so; a report merged from a duplicate was acknowledged there, unless the merge withdrew
    that notice before it went (a repeat folded into the target's report has its own)."""
    if event.merged_from is None:
        return report.source == ReportSource.SMS and event.actor == sms_commands.ACTOR
    o = outbox_t.c
    withdrawn = exists().where(
        o.outage_id == event.merged_from, o.kind == NoticeKind.FAULT_REPORT_RECEIVED,
        o.key.startswith(f"{event.merged_from}:report{report.id}:", autoescape=True),
        o.status == OutboxStatus.SKIPPED, o.last_error_code == MERGED)
    return not conn.execute(select(withdrawn)).scalar_one()


def fault_confirmed(conn: Connection, settings: Settings, event: OutageEvent,
                    outage: Row[Any]) -> None:
    queue(conn, settings, _acknowledgement(settings, event, outage),
          still_out(conn, event.outage_id), now=utcnow())
    _tell_callers(conn, settings, outage, _caller_ack(settings, event, outage))
    _tell_reporters_left_out(conn, settings, event, outage,
                             fault_grouping.outside(conn, outage))
    _plan_etr_passed(conn, settings, event, outage)
    _warn_desk(conn, settings, event, outage)


def _tell_reporters_left_out(conn: Connection, settings: Settings, event: OutageEvent,
                             outage: Row[Any], reports: Sequence[Any]) -> None:
    """Reporters outside the area as now drawn were told their report was received (by
    MATDIEN: "we will text you the expected restoration time") and would hear nothing more
    until the incident is fixed: they hear now that their place is not part of it, and to
    call (or text, from a number on an account) if their power is off. Once per incident:
    one key for every confirmation and redraw."""
    batch = _batch(event, outage, NoticeKind.FAULT_NOT_AFFECTED, context(settings, outage),
                   scope="outside", ref_at=event.at)
    queue(conn, settings, batch, [r.customer_id for r in reports if r.customer_id is not None],
          now=utcnow())
    for phone in dict.fromkeys(r.phone for r in reports if r.customer_id is None and r.phone):
        queue_to_phone(conn, settings, batch, phone, now=utcnow())


def _acknowledgement(settings: Settings, event: OutageEvent, outage: Row[Any]) -> Batch:
    """The acknowledgement as of `event`. An ETR set while the incident was only reported
    may have passed by the time it is confirmed: customers are told none is known rather
    than a time behind them."""
    etr = outage.etr if outage.etr is not None and outage.etr > event.at else None
    ctx = context(settings, outage, etr=etr, end=etr or outage.planned_end)
    return _batch(event, outage, NoticeKind.FAULT_ACK, ctx, ref_at=etr)


def _caller_ack(settings: Settings, event: OutageEvent, outage: Row[Any]) -> Batch:
    """The acknowledgement to callers: one each per incident, whatever redraws it."""
    return replace(_acknowledgement(settings, event, outage), scope=CALLERS)


def restored_here(outage_id: int) -> Any:
    """Customers whose power came back from this outage (an interruption of it ended)."""
    i = Interruption.__table__.c
    return select(i.customer_id).where(i.outage_id == outage_id, i.end_at.is_not(None))


def etr_changed(conn: Connection, settings: Settings, event: OutageEvent,
                outage: Row[Any]) -> None:
    # The passing of the old ETR, and any update not yet sent, speak of a time no longer true.
    _skip(conn, event.outage_id, (NoticeKind.ETR_PASSED, desk.ETR_PASSING), reason=event.kind)
    _skip(conn, event.outage_id, (NoticeKind.ETR_UPDATE,), revision_below=event.revision,
          reason=event.kind)
    if outage.status == "reported" or outage.etr is None:  # the acknowledgement will carry it
        return
    _queue_etr_update(conn, settings, event, outage)
    _update_callers(conn, settings, event, outage)
    _plan_etr_passed(conn, settings, event, outage)
    _warn_desk(conn, settings, event, outage)


def _queue_etr_update(conn: Connection, settings: Settings, event: OutageEvent,
                      outage: Row[Any]) -> None:
    """The new ETR to customers still out whose last ETR heard is at least
    `notices.etr_change_min` away from it; those who heard an ETR notice within
    `notices.etr_min_interval` get it once that interval has passed for all of them."""
    now, notices = utcnow(), settings.notices
    c = members_t.c.customer_id
    # What each heard before this change: the groups below are queries run again for each
    # statement (the subscribers' after the customers'), and would otherwise find this
    # very update, just queued, and leave the subscribers out.
    # An ETR told that has passed is no reason to keep quiet: its passing promised the next
    # word, and this is it (so that notice does not hold it back for etr_min_interval either).
    close = outbox.told_near(outage_id=event.outage_id, kinds=ETR_STATED, at=outage.etr,
                             within=notices.etr_change_min, revision_below=event.revision,
                             after=now)
    targets = still_out(conn, event.outage_id).where(c.not_in(close))
    recent = outbox.told_between(outage_id=event.outage_id,
                                 since=now - notices.etr_min_interval, until=now,
                                 kinds=(NoticeKind.ETR_UPDATE,),
                                 timed_kinds=(NoticeKind.FAULT_ACK,),
                                 revision_below=event.revision).subquery()
    ctx = context(settings, outage)
    batch = _batch(event, outage, NoticeKind.ETR_UPDATE, ctx, ref_at=outage.etr)
    queue(conn, settings, batch, targets.where(c.not_in(select(recent.c.customer_id))), now=now)
    waiting = targets.where(c.in_(select(recent.c.customer_id)))
    last = conn.execute(select(func.max(recent.c.at)).where(
        recent.c.customer_id.in_(waiting))).scalar()
    if last is not None:
        later = _batch(event, outage, NoticeKind.ETR_UPDATE, ctx, ref_at=outage.etr,
                       due_at=last + notices.etr_min_interval)
        queue(conn, settings, later, waiting, now=now)


def _update_callers(conn: Connection, settings: Settings, event: OutageEvent,
                    outage: Row[Any]) -> None:
    """The new ETR to callers inside, but, as for customers, not to one whose last ETR told
    (still ahead) is within notices.etr_change_min of it."""
    o, now = outbox_t.c, utcnow()
    within = settings.notices.etr_change_min
    heard = dict(conn.execute(select(o.recipient, o.ref_at).where(
        o.outage_id == event.outage_id, o.customer_id.is_(None), o.kind.in_(ETR_STATED),
        o.status.in_(outbox.TOLD), o.revision < event.revision).order_by(o.id)).all())
    phones = [phone for phone in callers_inside(conn, outage)
              if (told := heard.get(phone)) is None or told <= now
              or abs(told - outage.etr) >= within]
    batch = _batch(event, outage, NoticeKind.ETR_UPDATE, context(settings, outage),
                   scope=f"{CALLERS}-r{event.revision}", ref_at=outage.etr)
    _tell_callers(conn, settings, outage, batch, phones)


def fault_resized(conn: Connection, settings: Settings, event: OutageEvent,
                  outage: Row[Any]) -> None:
    """Customers the new area covers get the acknowledgement (and the ETR notice); those it
    no longer covers lose their pending notices, and hear so if they were told."""
    added, dropped = _changed_for(event)
    _skip(conn, event.outage_id, (NoticeKind.FAULT_ACK, *AFTER_START), customer_ids=dropped,
          reason=event.kind)
    told = outbox.reached(outage_id=event.outage_id,
                          kinds=(NoticeKind.FAULT_ACK, NoticeKind.ETR_UPDATE))
    # One whose power came back was in the incident: "not in the fault area" would
    # contradict both notices they had; a redraw does not take it out again either.
    customer, back = members_t.c.customer_id, restored_here(event.outage_id)
    gone = _batch(event, outage, NoticeKind.FAULT_NOT_AFFECTED, context(settings, outage))
    queue(conn, settings, gone, dropped.where(customer.in_(told), customer.not_in(back)),
          now=utcnow())
    queue(conn, settings, _acknowledgement(settings, event, outage),
          added.where(customer.not_in(back)), now=utcnow())
    _tell_callers(conn, settings, outage, _caller_ack(settings, event, outage))
    # Reporters this redraw leaves out: customers dropped not told by `gone` (it says the
    # same), and callers whose place the area before covered.
    untold = set(conn.execute(dropped.where(customer.not_in(told), customer.not_in(back)))
                 .scalars())
    was_out = {r.id for r in fault_grouping.outside(conn, _before(conn, event, outage))}
    _tell_reporters_left_out(conn, settings, event, outage, [
        r for r in fault_grouping.outside(conn, outage)
        if r.customer_id in untold or (r.customer_id is None and r.id not in was_out)])
    _plan_etr_passed(conn, settings, event, outage)
    _warn_desk(conn, settings, event, outage)


def _before(conn: Connection, event: OutageEvent, outage: Row[Any]) -> Any:
    """`outage` with the area it had before `event`'s revision."""
    r = lc.REVISIONS.c
    area = conn.execute(select(r.area_geojson).where(
        r.outage_id == event.outage_id, r.revision < event.revision)
        .order_by(r.revision.desc()).limit(1)).scalar()
    return SimpleNamespace(id=outage.id, area_geojson=area)


def _plan_etr_passed(conn: Connection, settings: Settings, event: OutageEvent,
                     outage: Row[Any]) -> None:
    """A notice at the ETR itself, promising the next word by `next_update`; a restoration
    or a new ETR skips it before it fires. Its key names the ETR (`etr_set_in`), so it goes
    once. A customer
    who hears an ETR notice less than `notices.etr_min_interval` before the ETR gets it when
    that interval has passed."""
    if outage.etr is None or outage.etr <= event.at or outage.status == "reported":
        return
    interval, c = settings.notices.etr_min_interval, members_t.c.customer_id
    recent = outbox.told_between(outage_id=event.outage_id, since=outage.etr - interval,
                                 kinds=(NoticeKind.ETR_UPDATE,),
                                 timed_kinds=(NoticeKind.FAULT_ACK,)).subquery()
    revision = etr_set_in(conn, event.outage_id)
    # Those still waiting for another ETR they were told (a move within etr_change_min was
    # not told them) hear when that one passes: theirs is the time they expect.
    heard = outbox.last_ref_per_customer(outage_id=event.outage_id,
                                         kinds=ETR_STATED).subquery()
    own = select(heard.c.customer_id).where(heard.c.ref_at != outage.etr,
                                            heard.c.ref_at > event.at)
    targets = still_out(conn, event.outage_id)
    for told in conn.execute(select(heard.c.ref_at).distinct().where(
            heard.c.customer_id.in_(own), heard.c.customer_id.in_(targets))).scalars():
        ctx = context(settings, outage, etr=told, next_update=next_update(settings, told))
        batch = _batch(event, outage, NoticeKind.ETR_PASSED, ctx, due_at=told,
                       scope=f"etr{int(told.timestamp())}r{revision}", ref_at=told)
        queue(conn, settings, batch, targets.where(c.in_(
            select(heard.c.customer_id).where(heard.c.ref_at == told))), now=utcnow())
    targets = targets.where(c.not_in(own))
    last = conn.execute(select(func.max(recent.c.at)).where(
        recent.c.customer_id.in_(targets))).scalar()
    groups = [(outage.etr, targets.where(c.not_in(select(recent.c.customer_id))))]
    if last is not None:
        groups.append((last + interval, targets.where(c.in_(select(recent.c.customer_id)))))
    scope = f"etr{int(outage.etr.timestamp())}r{revision}"
    for due, members in groups:
        ctx = context(settings, outage, next_update=next_update(settings, due))
        batch = _batch(event, outage, NoticeKind.ETR_PASSED, ctx, due_at=due, scope=scope,
                       ref_at=outage.etr)
        queue(conn, settings, batch, members, now=utcnow())
    # Callers too; one not told this ETR is skipped or told their own when it is sent
    # (etr_told).
    ctx = context(settings, outage, next_update=next_update(settings, outage.etr))
    _tell_callers(conn, settings, outage, _batch(
        event, outage, NoticeKind.ETR_PASSED, ctx, due_at=outage.etr,
        scope=f"{CALLERS}-{scope}", ref_at=outage.etr))


def etr_set_in(conn: Connection, outage_id: int) -> int:
    """The revision that set the outage's ETR (0: none did). Keys of notices about an ETR
    carry it besides the time: an ETR moved and then moved back (a typo corrected) is a
    new ETR to announce, while a resize under the same ETR queues nothing twice."""
    r = lc.REVISIONS.c
    return int(conn.execute(select(func.coalesce(func.max(r.revision), 0)).where(
        r.outage_id == outage_id, r.action == "etr")).scalar_one())


def _warn_desk(conn: Connection, settings: Settings, event: OutageEvent,
               outage: Row[Any]) -> None:
    """The desk hears before the incident's ETR passes with customers still out."""
    if outage.etr is None or outage.status == "reported":
        return
    desk.queue_etr_warning(conn, settings, outage=outage, revision=event.revision, now=utcnow(),
                           etr_revision=etr_set_in(conn, event.outage_id))


def fault_dismissed(conn: Connection, settings: Settings, event: OutageEvent,
                    outage: Row[Any]) -> None:
    """No fault on the network: nothing queued about the incident is true any more (that a
    report is being looked into, an ETR), and each reporter hears once what the crew found,
    by the channels they take, or by text for a caller without an account."""
    _skip(conn, event.outage_id, (*UNTRUE_WHEN_RESTORED, desk.ETR_PASSING), reason=event.kind)
    r = FaultReport.__table__.c
    reports = conn.execute(select(r.customer_id, r.phone).where(r.outage_id == event.outage_id)
                           .order_by(r.first_at, r.id)).all()
    batch = _batch(event, outage, NoticeKind.FAULT_DISMISSED, context(settings, outage),
                   scope="dismissed", ref_at=event.at)
    customers = [row.customer_id for row in reports if row.customer_id is not None]
    queue(conn, settings, batch, list(dict.fromkeys(customers)), now=utcnow())
    for phone in dict.fromkeys(row.phone for row in reports
                               if row.customer_id is None and row.phone):
        queue_to_phone(conn, settings, batch, phone, now=utcnow())


def fault_merged(conn: Connection, settings: Settings, event: OutageEvent,
                 outage: Row[Any]) -> None:
    """A duplicate merged into another incident: nothing queued about it is true of it any
    more (a report being looked into here, its ETR). Its reporters hear from the incident
    their reports joined (fault_reported with merged_from)."""
    _skip(conn, event.outage_id, (*UNTRUE_WHEN_RESTORED, desk.ETR_PASSING), reason=MERGED)


def customer_reopened(conn: Connection, settings: Settings, event: OutageEvent,
                      outage: Row[Any]) -> None:
    """A customer told "restored" is still out: the "restored" notice not sent yet is untrue,
    the customer hears they were heard (unless an SMS reply already says it), and the desk
    is alerted."""
    ids = list(event.customer_ids)
    _skip(conn, event.outage_id, (NoticeKind.RESTORED,), customer_ids=ids, reason=event.kind)
    if event.acknowledge:
        ack = _batch(event, outage, NoticeKind.STILL_OUT_ACK, context(settings, outage))
        queue(conn, settings, ack, ids, now=utcnow())
    if event.alert_id is not None:
        desk.queue_alert(conn, settings, alert_id=event.alert_id, outage=outage, now=utcnow())


HANDLERS: dict[str, Callable[[Connection, Settings, OutageEvent, Row[Any]], None]] = {
    "cut_created": cut_created,
    "cut_rescheduled": cut_rescheduled,
    "cut_resized": cut_resized,
    "cut_cancelled": cut_cancelled,
    "cut_started": cut_started,
    "cut_extended": cut_extended,
    "restored": restored,
    "fault_reported": fault_reported,
    "fault_confirmed": fault_confirmed,
    "etr_changed": etr_changed,
    "fault_resized": fault_resized,
    "fault_dismissed": fault_dismissed,
    "fault_merged": fault_merged,
    "customer_reopened": customer_reopened,
}


