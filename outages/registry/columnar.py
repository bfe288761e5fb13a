"""RowChecker.check_many for plain CSV lines held by pyarrow: each column tested as an array.

The tests only vouch for values whose typed form is certain: a row any of them cannot vouch
for is doubtful, and RowChecker.check decides it from its raw values, so every stored value
and every reason is exactly what check() gives. What they vouch for:
- text with no control character, no surrounding whitespace but spaces, within its length;
- coordinates written as plain decimals inside the territory (not within 1e-9 of its edge);
- phones the fast path of PhoneNormalizer gives an E.164 form for;
- emails matching the email pattern with its length limits;
- languages vi or en in any case, or empty with a known default;
- dates written YYYY-MM-DD, real, in range, a disconnection not before the connection;
- no priority or channel preference (check() normalises those).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import product
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from outages.registry.contacts import LANGUAGES
from outages.registry.csvblocks import Lines
from outages.registry.rows import (
    CHANNELS,
    CODE,
    COLUMNS,
    COMPOSED,
    CONNECTED,
    CONNECTED_EARLIEST,
    DISCONNECTED,
    EMAIL,
    LANGUAGE,
    LAT,
    LON,
    MAX_LENGTH,
    PHONE,
    PRIORITY,
    Row,
    RowChecker,
)
from outages.timeutil import LATEST

Mask = npt.NDArray[np.bool_]
TYPES = [pa.float64() if k in (LON, LAT) else pa.string() for k in range(len(COLUMNS))]
MARGIN = 1e-9  # degrees: a point this close to the territory's edge is left to check()

# Control characters (C0, DEL, C1), Unicode spaces and direction overrides (and a few other
# invisible characters), searched for when the block's bytes hint at one.
_ODD_TEXT = ("[\\x{0}-\\x{1f}\\x{7f}-\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}-\\x{202f}"
             "\\x{205f}-\\x{2069}\\x{3000}\\x{fffe}\\x{ffff}]")
_DECIMAL = r"^-?[0-9]{1,3}(?:\.[0-9]{1,17})?$"
_EMAIL = (r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@"
          r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")
_ISO_DAY = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
# Every way of writing a known language in upper and lower case (check() lowers it).
_LANGUAGE_SPELLINGS = pa.array(sorted({"".join(letters) for code in LANGUAGES
                                       for letters in product(*({c, c.upper()} for c in code))}))


class ColumnChecker:
    """Checks Lines of a file whose header is `header` (its columns in its order)."""

    def __init__(self, checker: RowChecker, header: Sequence[str]) -> None:
        self.checker = checker
        names = [h.strip().lower() for h in header]
        self.where = [names.index(c) if c in names else -1 for c in COLUMNS]

    def check(self, lines: Lines) -> tuple[list[pa.Array], Mask]:
        """The typed columns (in COLUMNS order; anything where doubtful) and the mask of
        doubtful rows."""
        count = len(lines)
        doubtful = np.zeros(count, dtype=bool)
        columns = [self._column(lines.table, k, lines.odd, doubtful) for k in range(len(COLUMNS))]
        self._coordinates(columns, doubtful)
        self._phones(columns, doubtful)
        _emails(columns[EMAIL], doubtful)
        columns[LANGUAGE] = self._languages(columns[LANGUAGE], doubtful)
        _dates(columns[CONNECTED], columns[DISCONNECTED], doubtful)
        for index in (PRIORITY, CHANNELS):
            doubtful |= _given(columns[index])
        return columns, doubtful

    def raw(self, lines: Lines, positions: list[int]) -> tuple[list[list[Any]], list[list[Any]]]:
        """(values aligned to COLUMNS, original values) of the rows at `positions`."""
        picked = lines.table.take(pa.array(positions, pa.int64())).to_pylist()
        originals = [list(row.values()) for row in picked]
        aligned = [[row[i] if i >= 0 else None for i in self.where] for row in originals]
        return aligned, originals

    def _column(self, table: pa.Table, index: int, odd: bool, doubtful: Mask) -> pa.Array:
        """Spaces trimmed, empty as null; rows with an odd character or too long marked."""
        where = self.where[index]
        if where < 0:
            if index == CODE:
                doubtful[:] = True
            return pa.nulls(table.num_rows, pa.string())
        raw = table.column(where).combine_chunks()
        if odd:
            doubtful |= _mask(pc.match_substring_regex(raw, _ODD_TEXT))
        values = pc.utf8_trim(raw, " ")
        if index in COMPOSED:
            values = pc.utf8_normalize(values, form="NFC")
        limit = MAX_LENGTH.get(COLUMNS[index])
        if limit is not None:
            doubtful |= _mask(pc.greater(pc.utf8_length(values), limit))
        empty = pc.equal(values, "")
        if index in (CODE, LON, LAT):
            doubtful |= _mask(empty)
        return pc.if_else(empty, pa.scalar(None, pa.string()), values)

    def _coordinates(self, columns: list[pa.Array], doubtful: Mask) -> None:
        numbers = []
        for index in (LON, LAT):
            plain = _mask(pc.match_substring_regex(columns[index], _DECIMAL))
            doubtful |= ~plain
            written = pc.if_else(pa.array(plain), columns[index], "0")
            numbers.append(pc.cast(written, pa.float64()))
        lon, lat = (n.to_numpy(zero_copy_only=False) for n in numbers)
        t = self.checker.territory
        inside = ((lon >= t.min_lon + MARGIN) & (lon <= t.max_lon - MARGIN)
                  & (lat >= t.min_lat + MARGIN) & (lat <= t.max_lat - MARGIN)
                  & (np.abs(lon) <= 180) & (np.abs(lat) <= 90))
        doubtful |= ~inside
        columns[LON], columns[LAT] = numbers

    def _phones(self, columns: list[pa.Array], doubtful: Mask) -> None:
        given = _given(columns[PHONE]) & ~doubtful
        if not given.any():
            return
        positions = np.flatnonzero(given)
        written = pc.take(columns[PHONE], pa.array(positions)).to_pylist()
        found = self.checker.phones.normalize_many(written)
        e164 = pa.array(found, pa.string())
        doubtful[positions[_mask(pc.is_null(e164))]] = True
        full = np.full(len(doubtful), -1, dtype=np.int64)
        full[positions] = np.arange(len(positions))
        columns[PHONE] = pc.take(e164, pa.array(full, mask=full < 0))

    def _languages(self, values: pa.Array, doubtful: Mask) -> pa.Array:
        default = self.checker.default_language.lower()
        known = _mask(pc.is_in(values, value_set=_LANGUAGE_SPELLINGS))
        if default in LANGUAGES:
            known |= ~_given(values)
        doubtful |= ~known
        return pc.fill_null(pc.utf8_lower(values), default)


def _mask(values: Any) -> Mask:
    """A boolean array (nulls false) as numpy."""
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)


def _given(values: pa.Array) -> Mask:
    return _mask(pc.is_valid(values))


def _emails(values: pa.Array, doubtful: Mask) -> None:
    given = _given(values)
    if not given.any():
        return
    good = _mask(pc.match_substring_regex(values, _EMAIL)) \
        & _mask(pc.less_equal(pc.utf8_length(values), 254))
    doubtful |= given & ~good


def _dates(connected: pa.Array, disconnected: pa.Array, doubtful: Mask) -> None:
    for values in (connected, disconnected):
        given = _given(values)
        if given.any():
            doubtful |= given & ~_real_days(values, given)
    both = _given(connected) & _given(disconnected)
    if both.any():
        doubtful |= both & _mask(pc.less(disconnected, connected))


def _real_days(values: pa.Array, given: Mask) -> Mask:
    """Where the value is a real YYYY-MM-DD date within the import's range (ISO text
    compares as the dates do)."""
    shaped = given & _mask(pc.match_substring_regex(values, _ISO_DAY))
    shaped &= _mask(pc.greater_equal(values, CONNECTED_EARLIEST.isoformat()))
    shaped &= _mask(pc.less_equal(values, LATEST.isoformat()))
    positions = np.flatnonzero(shaped)
    if not len(positions):
        return shaped
    text = "".join(pc.take(values, pa.array(positions)).to_pylist())
    chars = np.frombuffer(text.encode("ascii"), dtype=np.uint8).reshape(-1, 10)
    digits = chars[:, [0, 1, 2, 3, 5, 6, 8, 9]].astype(np.int32) - ord("0")
    year = digits[:, :4] @ np.array([1000, 100, 10, 1])
    month, day = digits[:, 4] * 10 + digits[:, 5], digits[:, 6] * 10 + digits[:, 7]
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_ok = (month >= 1) & (month <= 12)
    days = _MONTH_DAYS[np.where(month_ok, month, 0)] + ((month == 2) & leap)
    real = month_ok & (day >= 1) & (day <= days)
    shaped[positions[~real]] = False
    return shaped


_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def replace_rows(columns: list[pa.Array], positions: list[int], rows: list[Row]
                 ) -> list[pa.Array]:
    """The columns with the rows at `positions` replaced by `rows` (from check())."""
    if not positions:
        return columns
    mask = np.zeros(len(columns[0]), dtype=bool)
    mask[positions] = True
    arrow_mask = pa.array(mask)
    return [pc.replace_with_mask(column, arrow_mask, pa.array([r[k] for r in rows], TYPES[k]))
            for k, column in enumerate(columns)]
