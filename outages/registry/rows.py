"""Validation of one registry row (from a CSV line or a GeoJSON feature).

A row arrives as strings aligned to COLUMNS and leaves as a tuple of typed values in the same
order, or as the list of every problem found, each one a sentence a person can act on.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from geo import BBox, point_problem
from outages import text
from outages.registry.contacts import PhoneNormalizer, email_problem, language_problem
from outages.settings import Settings, channel_preference
from outages.timeutil import parse_date

COLUMNS = ("code", "name", "phone", "email", "lon", "lat", "address", "region", "district",
           "feeder", "language", "connected_on", "disconnected_on", "channels")
REQUIRED = ("code", "lon", "lat")
# Column widths of the customers table: longer text would fail a whole batch on PostgreSQL.
MAX_LENGTH = {"code": 64, "name": 200, "address": 500, "region": 100, "district": 100,
              "feeder": 100}
_LIMITS = tuple((COLUMNS.index(c), n) for c, n in MAX_LENGTH.items())
(CODE, NAME, PHONE, EMAIL, LON, LAT, ADDRESS, REGION, DISTRICT, FEEDER, LANGUAGE, CONNECTED,
 DISCONNECTED, CHANNELS) = range(len(COLUMNS))

Row = tuple[Any, ...]
# Connection dates are history: a registry holds customers connected long before 1970.
CONNECTED_EARLIEST = date(1900, 1, 1)


def territory_of(settings: Settings) -> BBox:
    t = settings.territory
    return BBox(t.min_lon, t.min_lat, t.max_lon, t.max_lat)


class RowChecker:
    """Checks rows against the settings (territory, phone region, default language)."""

    def __init__(self, settings: Settings) -> None:
        self.territory = territory_of(settings)
        self.phones = PhoneNormalizer(settings.locale.phone_region)
        self.default_language = settings.locale.default_language

    def check(self, raw: Sequence[str | None]) -> tuple[Row | None, list[str]]:
        """(typed row, []) when good, (None, reasons) when not. Values are str or None."""
        problems: list[str] = []
        values: list[Any] = [(v.strip() or None) if v else None for v in raw]
        if values[CODE] is None:
            problems.append("missing code: every row needs the customer's account number")
        for index, limit in _LIMITS:
            if values[index] is not None and len(values[index]) > limit:
                problems.append(f"{COLUMNS[index]} is {len(values[index])} characters long, "
                                f"more than the limit of {limit}: shorten it")
        for index, value in enumerate(values):
            wrong = value and text.problem(value)
            if wrong:
                problems.append(f"{COLUMNS[index]} {wrong}")
        self._location(values, problems)
        self._contacts(values, problems)
        if values[CONNECTED] is not None or values[DISCONNECTED] is not None:
            _dates(values, problems)
        return (None, problems) if problems else (tuple(values), problems)

    def _location(self, values: list[Any], problems: list[str]) -> None:
        lon = _coordinate(values[LON], "lon", problems)
        lat = _coordinate(values[LAT], "lat", problems)
        if lon is None or lat is None:
            return
        problem = point_problem(lon, lat, self.territory)
        if problem:
            problems.append(problem)
        values[LON], values[LAT] = lon, lat

    def _contacts(self, values: list[Any], problems: list[str]) -> None:
        if values[PHONE] is not None:
            values[PHONE], problem = self.phones.normalize(values[PHONE])
            if problem:
                problems.append(problem)
        if values[EMAIL] is not None:
            problem = email_problem(values[EMAIL])
            if problem:
                problems.append(problem)
        language = (values[LANGUAGE] or self.default_language).lower()
        problem = language_problem(language)
        if problem:
            problems.append(problem)
        values[LANGUAGE] = language
        if values[CHANNELS] is not None:
            try:
                values[CHANNELS] = channel_preference(values[CHANNELS])
            except ValueError as exc:
                problems.append(f"channels {values[CHANNELS]!r}: {exc}")


def _dates(values: list[Any], problems: list[str]) -> None:
    """Dates are checked, then kept as ISO text (what both databases take for a DATE)."""
    connected = _date(values[CONNECTED], "connected_on", problems)
    disconnected = _date(values[DISCONNECTED], "disconnected_on", problems)
    if connected and disconnected and disconnected < connected:
        problems.append(f"disconnected_on {disconnected} is before connected_on "
                        f"{connected}: check both dates")
    values[CONNECTED] = connected.isoformat() if connected else None
    values[DISCONNECTED] = disconnected.isoformat() if disconnected else None


def _coordinate(value: str | None, name: str, problems: list[str]) -> float | None:
    if value is None:
        problems.append(f"missing {name}: give decimal degrees (WGS84), e.g. "
                        f"{'105.85' if name == 'lon' else '21.03'}")
        return None
    try:
        return float(value)
    except ValueError:
        hint = "; use a dot as the decimal separator" if "," in value else ""
        problems.append(f"{name} {value!r} is not a number: give decimal degrees{hint}")
        return None


def _date(value: str | None, name: str, problems: list[str]) -> date | None:
    if value is None:
        return None
    try:
        return parse_date(value, earliest=CONNECTED_EARLIEST)
    except ValueError as exc:
        problems.append(f"{name}: {exc}")
        return None
