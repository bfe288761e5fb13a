""""Running late" as the recipient heard the cut's end, decided just before it is sent.

It is planned for everyone still out when the cut starts or is extended, and says the work
"did not finish by 12:00 as announced". Not everyone was told 12:00: an announcement refused
for good with no other way to reach them, one skipped when the cut started before it went
(a customer added late to an urgent cut), a change notice that never reached them, a
customer last told they had left the cut.

Each goes by the last notice stating the cut's end that reached its recipient (a customer,
else the subscriber's contact), as etr_told does for "ETR passed": the same end, it goes as
it is; an earlier end, it is worded again with that one; a later end, it is skipped (nothing
they expect is late yet: the planner gave them a "running late" of their own at the end they
were told, `told_later`, which goes only if that end is still theirs); no end told, it is
worded without one ("is taking longer than planned"): they are out of power and hear why,
but not "as announced".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, func, or_, select

from notifier.enums import ACCEPTED
from notifier.store import outbox
from outages import db
from outages.enums import NoticeKind
from outages.lifecycle import core as lc

END_AHEAD = "end_not_passed"
# A "running late" planned at the end one recipient was told, who was told another since.
END_RETOLD = "end_told_since"
# Its key's scope: the end and the revision that planned it (planner._plan_running_late).
OWN_SCOPE = re.compile(r"late\d+r\d+")
# Notices that state the cut's end: of their own revision's window (the extension: its ref_at).
_STATES_END = (NoticeKind.ANNOUNCEMENT, NoticeKind.REMINDER, NoticeKind.CHANGED,
               NoticeKind.STARTED, NoticeKind.CUT_EXTENDED)
# The last word may also be that they left the cut: no end of it is theirs then.
_HEARD = (*_STATES_END, NoticeKind.NO_LONGER_AFFECTED)


def as_told(conn: Connection, rows: Sequence[Row[Any]],
            ) -> tuple[dict[int, str], dict[int, datetime | None]]:
    """The "running late" rows among `rows` to skip (id -> why), and those to word again
    with the end their recipient was told, None for none (id -> that end)."""
    late = [row for row in rows if row.kind == NoticeKind.RUNNING_LATE and row.outage_id]
    if not late:
        return {}, {}
    last = _last_heard(conn, late)
    skip: dict[int, str] = {}
    told: dict[int, datetime | None] = {}
    for row in late:
        end = last.get((row.outage_id, _who(row)))
        if end == row.ref_at:
            continue
        if OWN_SCOPE.fullmatch(str(row.key).split(":")[1]):
            skip[row.id] = END_RETOLD
        elif end is not None and end > row.ref_at:
            # Told a later end, they have one planned at it (told_later), which says this
            # one's words when it passes; a worker catching up past both sends that only.
            skip[row.id] = END_AHEAD
        else:
            told[row.id] = end
    return skip, told


def told_later(conn: Connection, outage_id: int, end: datetime,
               members: Any) -> dict[datetime, list[int]]:
    """Told end -> the customers of `members` (a select of ids) whose last notice about the
    cut gave an end after `end`: "running late" at `end` is skipped for them (END_AHEAD),
    so each is told at the end they expect."""
    later: dict[datetime, list[int]] = {}
    for (_, who), told in _heard(conn, _query([outage_id]).where(
            outbox.c.customer_id.in_(members))).items():
        if who[0] == "customer" and told is not None and told > end:
            later.setdefault(told, []).append(who[1])
    return later


def _who(row: Any) -> tuple[str, Any]:
    if row.customer_id is not None:
        return ("customer", row.customer_id)
    return ("contact", row.recipient)


def _last_heard(conn: Connection, rows: Sequence[Row[Any]],
                ) -> dict[tuple[int, tuple[str, Any]], datetime | None]:
    """(outage, recipient) -> the end stated by the last notice about the cut that reached
    them (None: one saying they left it). Absent: none reached them."""
    o = outbox.c
    customers = {row.customer_id for row in rows} - {None}
    contacts = {row.recipient for row in rows if row.customer_id is None}
    return _heard(conn, _query({row.outage_id for row in rows}).where(
        or_(db.among(conn, o.customer_id, customers), db.among(conn, o.recipient, contacts))))


def _query(outage_ids: Any) -> Any:
    o, r = outbox.c, lc.REVISIONS.c
    stated = func.coalesce(r.etr, r.planned_end)
    return (select(o.outage_id, o.customer_id, o.recipient, o.kind, o.ref_at,
                   stated.label("end"))
            .outerjoin(lc.REVISIONS, and_(r.outage_id == o.outage_id,
                                          r.revision == o.revision))
            .where(o.outage_id.in_(outage_ids), o.kind.in_(_HEARD), o.status.in_(ACCEPTED))
            .order_by(o.sent_at, o.id))


def _heard(conn: Connection, query: Any,
           ) -> dict[tuple[int, tuple[str, Any]], datetime | None]:
    last: dict[tuple[int, tuple[str, Any]], datetime | None] = {}
    for heard in conn.execute(query):
        end = (None if heard.kind == NoticeKind.NO_LONGER_AFFECTED
               else heard.ref_at if heard.kind == NoticeKind.CUT_EXTENDED else heard.end)
        last[(heard.outage_id, ("contact", heard.recipient))] = end
        if heard.customer_id is not None:
            last[(heard.outage_id, ("customer", heard.customer_id))] = end
    return last
