"""The fault-report hook behind the MATDIEN SMS keyword: the lifecycle's fault report, filed
inside the webhook's transaction so it is grouped into an incident like any other report."""

from __future__ import annotations

from sqlalchemy import Connection, select

from outages.lifecycle import fault_reports
from outages.models import Customer
from outages.settings import Settings

ACTOR = "sms"


def report_fault(conn: Connection, settings: Settings, customer_id: int, phone: str,
                 text: str) -> int | None:
    """File a fault report for `customer_id` from an SMS; the report id."""
    code = conn.execute(select(Customer.__table__.c.code)
                        .where(Customer.__table__.c.id == customer_id)).scalar_one()
    result = fault_reports.record(conn, settings, actor=ACTOR, source="webhook", customer=code,
                                  text=text.strip() or None, channel="sms")
    return int(result["report_id"])
