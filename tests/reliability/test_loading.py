"""PostgreSQL reads the log as binary arrays of the stored microseconds; it must give the
milliseconds that the text path (EXTRACT, floored) gives, to the millisecond."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import Engine, func

from outages.reliability import data
from outages.reliability.sqlfuncs import epoch_ms
from tests.reliability import builders as b

EDGES = [  # (start, end): before 1970 and 2000 (negative counts), fractions at the ms edge
    (datetime(1969, 12, 31, 23, 59, 59, 999_500, tzinfo=UTC), timedelta(seconds=1)),
    (datetime(1999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC), timedelta(seconds=300.4)),
    (datetime(2025, 3, 10, 1, 0, 0, 300_000, tzinfo=UTC), timedelta(seconds=299.9995)),
    (datetime(2025, 3, 10, 1, 0, 0, 999, tzinfo=UTC), None),
]


@pytest.mark.postgres_only
def test_binary_arrays_give_the_milliseconds_the_text_path_gives(engine: Engine) -> None:
    customers = b.customers(engine, len(EDGES))
    outage = b.outage(engine)
    b.rows(engine, [{"outage_id": outage, "customer_id": c, "planned": k % 2 == 0,
                     "start_at": start, "end_at": None if length is None else start + length}
                    for k, (c, (start, length)) in enumerate(zip(customers, EDGES, strict=True))])
    since, until = datetime(1960, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC)
    cap = datetime(2025, 3, 10, 2, tzinfo=UTC)
    i = data._i
    where = [i.start_at.is_not(None), i.start_at >= since, i.start_at < until]
    with engine.connect() as conn:
        loaded = data.load_interruptions(conn, since=since, until=until, cap=cap,
                                         with_cause=False)
        text = data._packed_rows(conn, [i.customer_id, epoch_ms(i.start_at),
                                        func.coalesce(epoch_ms(i.end_at), -1)], where)
    # Neither path promises an order: both are compared by customer.
    order, mine = np.argsort(text[0]), np.argsort(loaded.customer)
    expected_end = np.where(text[2] < 0, data.to_ms(cap), text[2])[order]
    assert loaded.customer[mine].tolist() == text[0][order].tolist() == sorted(customers)
    assert loaded.start[mine].tolist() == text[1][order].tolist()
    assert loaded.end[mine].tolist() == expected_end.tolist()
    assert loaded.open[mine].tolist() == [False, False, False, True]
    assert loaded.start[mine].tolist()[:2] == [-1, 946_684_799_999]  # floored, as EXTRACT
