"""Validation of one registry row (from a CSV line or a GeoJSON feature).

A row arrives as strings aligned to COLUMNS and leaves as a tuple of typed values in the same
order, or as the list of every problem found, each one a sentence a person can act on.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np

from geo import BBox, point_problem
from outages import text
from outages.enums import Priority
from outages.registry.contacts import (
    EMAIL_PATTERN,
    LANGUAGES,
    PhoneNormalizer,
    email_problem,
    language_problem,
)
from outages.settings import Settings, channel_preference
from outages.timeutil import LATEST, parse_date

COLUMNS = ("code", "name", "phone", "email", "lon", "lat", "address", "region", "district",
           "feeder", "language", "connected_on", "disconnected_on", "priority",
           "channels")
REQUIRED = ("code", "lon", "lat")
# Column widths of the customers table: longer text would fail a whole batch on PostgreSQL.
MAX_LENGTH = {"code": 64, "name": 200, "address": 500, "region": 100, "district": 100,
              "feeder": 100}
_LIMITS = tuple((COLUMNS.index(c), n) for c, n in MAX_LENGTH.items())
(CODE, NAME, PHONE, EMAIL, LON, LAT, ADDRESS, REGION, DISTRICT, FEEDER, LANGUAGE, CONNECTED,
 DISCONNECTED, PRIORITY, CHANNELS) = range(len(COLUMNS))
# Words people read and group by, stored composed (NFC): "Hoàn Kiếm" typed on one system and
# decomposed by another (NFD) is one district, in reports as everywhere.
COMPOSED = frozenset({NAME, ADDRESS, REGION, DISTRICT, FEEDER})


def composed(value: str) -> str:
    return value if value.isascii() else unicodedata.normalize("NFC", value)

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
        for index in COMPOSED:
            if values[index] is not None:
                values[index] = composed(values[index])
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
        if values[PRIORITY] is not None:
            values[PRIORITY], problem = priority_problem(values[PRIORITY])
            if problem:
                problems.append(problem)
        return (None, problems) if problems else (tuple(values), problems)

    def check_many(self, raws: Sequence[Sequence[str | None]]
                   ) -> tuple[list[Row | None], dict[int, list[str]]]:
        """check() for each row, a column at a time: the rows (None where refused) and the
        reasons by position of the refused ones.

        Each column is tested for all rows at once (a regex over the joined values, numpy on
        the coordinates); a row that any column test cannot vouch for goes through check(),
        so every reason and every value is exactly what check() gives.
        """
        if not raws:
            return [], {}
        doubtful = np.zeros(len(raws), dtype=bool)
        columns = [self._column(index, list(values), doubtful)
                   for index, values in enumerate(zip(*raws, strict=True))]
        self._coordinates(columns, doubtful)
        self._phones(columns, doubtful)
        _emails(columns[EMAIL], doubtful)
        columns[LANGUAGE] = self._languages(columns[LANGUAGE], doubtful)
        _bulk_dates(columns[CONNECTED], columns[DISCONNECTED], doubtful)
        # Priorities and channel preferences are few: check() normalises those columns.
        doubtful |= np.fromiter((p is not None or c is not None
                                 for p, c in zip(columns[PRIORITY], columns[CHANNELS],
                                                 strict=True)), dtype=bool, count=len(raws))
        rows: list[Row | None] = list(zip(*columns, strict=True))
        refused: dict[int, list[str]] = {}
        for position in np.flatnonzero(doubtful).tolist():
            rows[position], reasons = self.check(raws[position])
            if reasons:
                refused[position] = reasons
        return rows, refused

    def _column(self, index: int, values: list[Any], doubtful: Any) -> list[Any]:
        """Stripped, empty as None, and rows with a control character or too long marked."""
        count = len(values)
        nones = values.count(None)
        if nones == count:
            if index == CODE:
                doubtful[:] = True
            return values
        if nones:
            values = ["" if v is None else v for v in values]
        # Every control character is unprintable, and isprintable() is several times faster
        # than a search; a column with an unprintable character (a line break, a
        # non-breaking space) is searched as before.
        spaced = " ".join(values)
        if not spaced.isprintable() and text.CONTROL.search(spaced):
            doubtful |= np.fromiter((text.CONTROL.search(v) is not None for v in values),
                                    dtype=bool, count=count)
        values = list(map(str.strip, values))
        if index in COMPOSED:
            values = list(map(composed, values))
        limit = MAX_LENGTH.get(COLUMNS[index])
        if limit is not None and max(map(len, values)) > limit:
            doubtful |= np.fromiter((len(v) > limit for v in values), dtype=bool, count=count)
        if "" in values:
            values = [v or None for v in values]
            if index in (CODE, LON, LAT):
                doubtful |= np.fromiter((v is None for v in values), dtype=bool, count=count)
        return values

    def _coordinates(self, columns: list[list[Any]], doubtful: Any) -> None:
        lon, lat = _numbers(columns[LON], doubtful), _numbers(columns[LAT], doubtful)
        t = self.territory
        inside = ((lon >= t.min_lon) & (lon <= t.max_lon) & (lat >= t.min_lat)
                  & (lat <= t.max_lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90))
        doubtful |= ~inside  # NaN compares false: not finite is not inside
        columns[LON], columns[LAT] = lon.tolist(), lat.tolist()

    def _phones(self, columns: list[list[Any]], doubtful: Any) -> None:
        phones = columns[PHONE]
        given = [k for k, v in enumerate(phones) if v is not None]
        if not given:
            return
        found = self.phones.normalize_many([phones[k] if "\n" not in phones[k] else ""
                                            for k in given])
        for k, e164 in zip(given, found, strict=True):
            if e164 is None:
                doubtful[k] = True  # not a common form: phonenumbers decides, in check()
            phones[k] = e164

    def _languages(self, values: list[Any], doubtful: Any) -> list[Any]:
        meaning = {v: (v or self.default_language).lower() for v in set(values)}
        for written, language in meaning.items():
            if language not in LANGUAGES:
                doubtful |= np.fromiter((v == written for v in values), dtype=bool,
                                        count=len(values))
        return list(map(meaning.__getitem__, values))

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


def _numbers(values: list[Any], doubtful: Any) -> Any:
    """The column as floats; NaN (so: doubtful) where a value is missing or not a number."""
    try:
        return np.fromiter(map(float, values), dtype=float, count=len(values))
    except (TypeError, ValueError):
        return np.fromiter((_float_or_nan(v) for v in values), dtype=float, count=len(values))


def _float_or_nan(value: str | None) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")


# An email line by line: what email_problem accepts, with its two length limits.
_EMAIL_LINES = re.compile(f"^(?=[^\n]{{1,254}}$)(?=[^@\n]{{1,64}}@){EMAIL_PATTERN[1:-1]}$",
                          re.MULTILINE)
_ISO_DAYS = re.compile("^(?:[0-9]{4}-[0-9]{2}-[0-9]{2})?$", re.MULTILINE)


# One match a line: the address where the line is one, else an empty group.
_EMAIL_OR_NOT = re.compile(f"^(?:({_EMAIL_LINES.pattern[1:-1]})$|.*$)", re.MULTILINE)


def _emails(values: list[Any], doubtful: Any) -> None:
    """Rows whose address the line pattern does not vouch for are doubtful (check()
    words the reason); a value with a line break is one of them."""
    given = [k for k, v in enumerate(values) if v is not None]
    if not given:
        return
    lines = "\n".join(values[k] if "\n" not in values[k] else "" for k in given)
    found = _EMAIL_OR_NOT.findall(lines)
    if found.count(""):
        doubtful[[k for k, address in zip(given, found, strict=True) if not address]] = True


def _bulk_dates(connected: list[Any], disconnected: list[Any], doubtful: Any) -> None:
    """Dates already written as YYYY-MM-DD in range pass as they are (ISO text compares as
    the dates do); anything else is left to check()."""
    low, high = CONNECTED_EARLIEST.isoformat(), LATEST.isoformat()
    for values in (connected, disconnected):
        if values.count(None) == len(values):
            continue
        written = ["" if v is None else v for v in values]
        if not _plain_dates(written, low, high):
            doubtful |= np.fromiter((_date_doubtful(v, low, high) for v in written),
                                    dtype=bool, count=len(written))
    if disconnected.count(None) == len(disconnected):
        return
    both = [k for k, (a, b) in enumerate(zip(connected, disconnected, strict=True))
            if a is not None and b is not None and b < a]
    doubtful[both] = True


def _plain_dates(written: list[str], low: str, high: str) -> bool:
    """True when every value is empty or a real YYYY-MM-DD date within low..high (ISO text
    compares as the dates do), checked as an array of characters."""
    given = list(filter(None, written))
    if not given:
        return True
    if not (low <= min(given) and max(given) <= high):
        return False
    joined = "".join(given)
    if not joined.isascii() or len(joined) != 10 * len(given) or set(map(len, given)) != {10}:
        return False
    chars = np.frombuffer(joined.encode("ascii"), dtype=np.uint8).reshape(-1, 10)
    digits = chars[:, _DIGITS].astype(np.int32) - ord("0")
    if not ((chars[:, _DASHES] == ord("-")).all() and ((digits >= 0) & (digits <= 9)).all()):
        return False
    year = digits[:, :4] @ np.array([1000, 100, 10, 1])
    month, day = digits[:, 4] * 10 + digits[:, 5], digits[:, 6] * 10 + digits[:, 7]
    if not ((month >= 1) & (month <= 12) & (day >= 1)).all():
        return False
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    return bool((day <= _MONTH_DAYS[month] + ((month == 2) & leap)).all())


_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9]
_DASHES = [4, 7]
_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def _date_doubtful(value: str, low: str, high: str) -> bool:
    if not value:
        return False
    if not _ISO_DAYS.fullmatch(value) or not low <= value <= high:
        return True
    try:
        date.fromisoformat(value)
    except ValueError:
        return True
    return False


def priority_problem(value: str) -> tuple[str, str | None]:
    """(the stored value, None), or (value, why) when it is not a known priority."""
    wanted = value.strip().lower()
    if wanted in set(Priority):
        return wanted, None
    return value, (f"priority {value!r} is not known: use {', '.join(Priority)} "
                   "or leave it empty")


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
