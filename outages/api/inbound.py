"""The fault-report hook behind the MATDIEN SMS keyword.

The outage lifecycle (outages.faults) files fault reports and groups them into incidents.
Until it is wired in here, an SMS fault report is acknowledged to the customer but NOT
recorded: this function returns None and writes nothing.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection

from outages.settings import Settings

log = logging.getLogger(__name__)


def report_fault(conn: Connection, settings: Settings, customer_id: int, phone: str,
                 text: str) -> int | None:
    """File a fault report for `customer_id` from an SMS; the report id, or None."""
    log.warning("SMS fault report for customer %s acknowledged but not recorded: "
                "fault reporting is not wired in yet", customer_id)
    return None
