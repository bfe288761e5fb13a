""""ETR passed" as the recipient heard the ETR, decided just before it is sent.

It is planned for everyone still out when the ETR is set, but not everyone heard that ETR:
an update held back by notices.etr_min_interval past it said "not yet known", an update
falling due with it is still on its way (supersede would drop it for this notice), a move
smaller than notices.etr_change_min was not told at all. "Not fixed by 10:20 as expected"
to them names a time they never expected.

Each goes by the last ETR notice that reached its recipient (a customer, else the
subscriber's contact): the same ETR, it goes as it is; an earlier ETR already passed, it is
worded again with that one ("not fixed by 12:00", true, and what they were waiting for);
otherwise it is skipped: told "not yet known", or a time still ahead, or that their ETR
passed, there is nothing they were told to take back, and an update of their own comes
with the next ETR. Skipped rather than worded without a time: "we are still working on it"
adds nothing to "not yet known", and skipped before supersede, the update it would have
beaten goes out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, or_, select

from notifier.enums import ACCEPTED
from notifier.store import outbox
from outages import db
from outages.enums import ETR_STATED, NoticeKind
from outages.timeutil import utcnow

NOT_TOLD = "etr_not_told"
# What a recipient was last told of the ETR: one stated, or that one passed.
_HEARD = (*ETR_STATED, NoticeKind.ETR_PASSED)


def as_told(conn: Connection, rows: Sequence[Row[Any]],
            ) -> tuple[dict[int, str], dict[int, datetime]]:
    """The "ETR passed" rows among `rows` to skip (id -> why), and those to word again with
    the ETR their recipient was told (id -> that ETR): one query for the batch."""
    passed = [row for row in rows if row.kind == NoticeKind.ETR_PASSED and row.outage_id]
    if not passed:
        return {}, {}
    last = _last_heard(conn, passed)
    skip: dict[int, str] = {}
    told: dict[int, datetime] = {}
    now = utcnow()
    for row in passed:
        kind, etr = last.get((row.outage_id, _who(row)), (None, None))
        if kind in ETR_STATED and etr == row.ref_at:
            continue
        if kind in ETR_STATED and etr is not None and etr <= now:
            told[row.id] = etr
        else:
            skip[row.id] = NOT_TOLD
    return skip, told


def _who(row: Any) -> tuple[str, Any]:
    if row.customer_id is not None:
        return ("customer", row.customer_id)
    return ("contact", row.recipient)


def _last_heard(conn: Connection, rows: Sequence[Row[Any]],
                ) -> dict[tuple[int, tuple[str, Any]], tuple[str, datetime | None]]:
    """(outage, recipient) -> kind and ref_at of the last ETR notice that reached them. A row
    still in flight (in this very batch, say) has not: an update going with this notice may
    be worded without its time."""
    o = outbox.c
    customers = {row.customer_id for row in rows} - {None}
    contacts = {row.recipient for row in rows if row.customer_id is None}
    query = (select(o.outage_id, o.customer_id, o.recipient, o.kind, o.ref_at)
             .where(o.outage_id.in_({row.outage_id for row in rows}), o.kind.in_(_HEARD),
                    o.status.in_(ACCEPTED),
                    or_(db.among(conn, o.customer_id, customers),
                        db.among(conn, o.recipient, contacts)))
             .order_by(o.sent_at, o.id))
    last: dict[tuple[int, tuple[str, Any]], tuple[str, datetime | None]] = {}
    for heard in conn.execute(query):
        last[(heard.outage_id, ("contact", heard.recipient))] = (heard.kind, heard.ref_at)
        if heard.customer_id is not None:
            last[(heard.outage_id, ("customer", heard.customer_id))] = (heard.kind,
                                                                        heard.ref_at)
    return last
