"""What the dispatch desk's screens read beyond an outage's view: the districts each outage
touches (to filter lists) and its area as GeoJSON (to draw it)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select

from outages.lifecycle import core as lc


def districts_by_outage(conn: Connection, ids: Sequence[int]) -> dict[int, list[str]]:
    """Per outage, the districts of the customers ever in its set, sorted: a cancelled cut
    (whose set is empty now) still belongs to the districts it was planned for."""
    m, c = lc.MEMBERS, lc.CUSTOMERS
    found: dict[int, set[str]] = {outage_id: set() for outage_id in ids}
    for part in lc.chunks(list(ids)):
        query = (select(m.c.outage_id, c.c.district).distinct()
                 .select_from(m.join(c, c.c.id == m.c.customer_id))
                 .where(m.c.outage_id.in_(part)))
        for outage_id, district in conn.execute(query):
            if district:
                found[outage_id].add(district)
    return {outage_id: sorted(names) for outage_id, names in found.items()}


def all_districts(conn: Connection) -> list[str]:
    """Every district customers are registered in, sorted."""
    c = lc.CUSTOMERS.c
    rows = conn.execute(select(c.district).distinct().where(c.district.is_not(None)))
    return sorted(name for (name,) in rows if name)


def area_geojson(conn: Connection, outage_id: int) -> dict[str, Any] | None:
    """The outage's area as a GeoJSON geometry, or None when it has none."""
    o = lc.OUTAGES.c
    text = conn.execute(select(o.area_geojson).where(o.id == outage_id)).scalar()
    return json.loads(text) if text else None
