"""Named polygons the console can pick instead of drawing: districts, wards, feeder zones."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from notifier.sqltypes import UTCDateTime
from outages.models.base import Base


class NamedArea(Base):
    """One named polygon (validated like any area), with its bounding box for map queries.
    A name is unique within its kind: importing it again replaces the polygon."""

    __tablename__ = "named_areas"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    geometry: Mapped[str] = mapped_column(Text)  # GeoJSON Polygon or MultiPolygon, lon/lat
    min_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(200))

    __table_args__ = (UniqueConstraint("name", "kind"),)
