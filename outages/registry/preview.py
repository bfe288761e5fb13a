"""Preview of an area: who would be affected today, counted per region, district and feeder."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, select

from geo import Area, AreaError, load_area
from outages.errors import ValidationError
from outages.models import Customer
from outages.registry.matching import Affected, customers_in_area
from outages.registry.results import AreaPreview
from outages.registry.rows import territory_of
from outages.settings import Settings
from outages.text import CsvWriter
from outages.timeutil import utcnow

_c = Customer.__table__.c
CUSTOMER_COLUMNS = ("code", "name", "phone", "email", "district", "feeder", "lon", "lat")


def read_area(settings: Settings, source: str | Path, *, repair: bool = False,
              max_vertices: int | None = None) -> Area:
    """An area from a GeoJSON file or inline text, inside the territory; ValidationError
    (with the place in the input) when it cannot be used."""
    try:
        return load_area(source, territory=territory_of(settings), repair=repair,
                         max_vertices=max_vertices)
    except AreaError as exc:
        raise ValidationError(str(exc), field="area", hint=exc.hint) from None


def affected_today(conn: Connection, settings: Settings, area: Area, *,
                   feeders: Sequence[str] | None = None) -> Affected:
    """Customers in the area (boundary included) connected on today's local date."""
    today = utcnow().astimezone(settings.tz).date()
    return customers_in_area(conn, area, feeders=feeders or None, on=today)


def preview_json(area: Area, affected: Affected) -> AreaPreview:
    return AreaPreview(area=area.name, count=affected.count, customers=affected.codes,
                       by_region=affected.breakdown("region"),
                       by_district=affected.breakdown("district"),
                       by_feeder=affected.breakdown("feeder"), repairs=area.repairs,
                       priority=affected.priority_count)


def write_customers_csv(conn: Connection, ids: npt.NDArray[np.int64], path: Path,
                        chunk: int = 10_000) -> int:
    """The customers with these ids as CSV (written beside, then renamed); rows written."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    columns = [_c[name] for name in CUSTOMER_COLUMNS]
    try:
        with temp.open("w", encoding="utf-8", newline="") as handle:
            writer = CsvWriter(handle)
            writer.writerow(CUSTOMER_COLUMNS)
            for start in range(0, len(ids), chunk):
                part = [int(i) for i in ids[start:start + chunk]]
                query = select(*columns).where(_c.id.in_(part)).order_by(_c.code)
                writer.writerows(conn.execute(query))
        os.replace(temp, path)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise ValidationError(f"cannot write {path}: {exc.strerror}",
                              field="customers_out") from None
    return len(ids)
