"""Readers of registry files: CSV (streamed) and GeoJSON FeatureCollections of Points.

A reader yields, per record, its location (CSV line or feature index), the raw values aligned
to COLUMNS, the original values (for the rejects file) and a reason when the record cannot even
be read as a row. A file that cannot be used at all raises ValidationError.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import ijson

from outages.errors import ValidationError
from outages.registry.rows import COLUMNS, REQUIRED

Record = tuple[int, list[Any] | None, list[Any], str | None]


@dataclass
class Source:
    present: tuple[str, ...]  # canonical columns the file provides
    original_header: list[str]
    location_name: str  # "line" or "feature"
    records: Iterator[Record]
    position: Callable[[], int]  # bytes read so far, for progress
    size: int


def open_source(path: Path, stack: Any) -> Source:
    """Open `path` (CSV or GeoJSON, chosen by content) inside the ExitStack `stack`."""
    try:
        binary = stack.enter_context(path.open("rb"))
    except FileNotFoundError:
        raise ValidationError(f"file {path} does not exist", field="path") from None
    except OSError as exc:
        raise ValidationError(f"cannot read {path}: {exc.strerror}", field="path") from None
    size = path.stat().st_size
    if _looks_like_json(binary):
        return _geojson_source(path, binary, size)
    return _csv_source(path, binary, size)


def _looks_like_json(binary: IO[bytes]) -> bool:
    head = binary.peek(64)[:64] if hasattr(binary, "peek") else b""
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")


_LONE_CR = re.compile(r"(?<=\r)(?!\n)(?=.)", re.S)


class _Lines:
    """The file's lines as the csv reader takes them, numbered: the lines of the record
    being read, and lines given back to be read again. Each line is decoded alone (no
    UTF-8 character holds a line break), so text that is not UTF-8 is found at its line and
    column, and every line before it is read."""

    def __init__(self, path: Path, binary: IO[bytes]) -> None:
        self._path, self._binary = path, binary
        self._again: list[str] = []
        self.record: list[str] = []
        self.number = 0  # lines taken so far

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if not self._again:
            # A lone carriage return ends a line too (old Mac files), as text mode reads it.
            self._again = _LONE_CR.split(self._decoded(next(self._binary)))[::-1]
        line = self._again.pop()
        self.number += 1
        self.record.append(line)
        return line

    def _decoded(self, raw: bytes) -> str:
        try:
            return raw.decode("utf-8-sig" if self.number == 0 else "utf-8")
        except UnicodeDecodeError as exc:
            column = len(raw[:exc.start].decode("utf-8", "replace")) + 1
            raise ValidationError(
                f"{self._path} line {self.number + 1}, column {column}: the text is not "
                "UTF-8; save the file as UTF-8 (Excel: 'CSV UTF-8') and import again",
                field="path") from None

    def give_back(self, lines: list[str]) -> None:
        self._again.extend(reversed(lines))
        self.number -= len(lines)


def _csv_source(path: Path, binary: IO[bytes], size: int) -> Source:
    lines = _Lines(path, binary)
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        raise ValidationError(f"{path} is empty: expected a header row "
                              f"({','.join(COLUMNS)})", field="path") from None
    except csv.Error as exc:
        raise ValidationError(f"{path}: cannot read the header row ({exc})",
                              field="path") from None
    names = [h.strip().lower() for h in header]
    _check_columns(path, names, "column")
    index = [names.index(c) if c in names else -1 for c in COLUMNS]
    present = tuple(c for c in COLUMNS if c in names)
    return Source(present, header, "line",
                  _csv_records(path, reader, lines, index, len(names)), binary.tell, size)


# The columns a rejects file adds: a fixed rejects file is imported as it is.
REJECTS_COLUMNS = ("line", "feature", "reason")


def _check_columns(path: Path, names: list[str], what: str) -> None:
    unknown = [n for n in names if n not in COLUMNS and n not in REJECTS_COLUMNS]
    if unknown:
        hint = " (an empty name: a trailing comma in the header?)" if "" in unknown else ""
        for mark, called in ((";", "semicolons"), ("\t", "tabs")):
            if any(set(n.split(mark)) & set(COLUMNS) for n in unknown if mark in n):
                hint = (f" (the file separates its values with {called}: save it with "
                        "commas, as Excel's 'CSV UTF-8')")
        raise ValidationError(
            f"{path}: unknown {what}(s) {', '.join(repr(n) for n in unknown)}{hint}; "
            f"the known ones are {', '.join(COLUMNS)}", field="path")
    doubled = sorted({n for n in names if names.count(n) > 1})
    if doubled:
        raise ValidationError(f"{path}: {what}(s) {', '.join(doubled)} appear more than once",
                              field="path")
    missing = [c for c in REQUIRED if c not in names]
    if missing and what == "column":
        raise ValidationError(f"{path}: required column(s) {', '.join(missing)} missing from "
                              f"the header row; found {', '.join(names) or 'nothing'}",
                              field="path")


def _csv_records(path: Path, reader: Any, lines: _Lines, index: list[int],
                 width: int) -> Iterator[Record]:
    natural = index == list(range(len(COLUMNS)))  # header in COLUMNS order: rows as they are
    lines.record = []
    try:
        for row in reader:
            raw, lines.record = lines.record, []
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank line
            line = lines.number
            if len(raw) > 1 and _never_closed(raw):
                # A quote never closed took in every line after it: refuse its own line and
                # read the others again as the rows they are.
                first = line - len(raw) + 1
                lines.give_back(raw[1:])
                yield first, None, _fit(next(csv.reader(raw[:1])), width), (
                    "a quote opened on this line is never closed, so the lines after it "
                    "were read as part of one value: close it, or double a quote inside a "
                    'value ("")')
                continue
            if len(row) != width:
                yield line, None, _fit(row, width), _width_problem(row, width)
                continue
            yield line, row if natural else [row[i] if i >= 0 else None for i in index], row, None
    except csv.Error as exc:
        raise ValidationError(f"{path} line {lines.number}: {exc}", field="path") from None


def _never_closed(raw: list[str]) -> bool:
    """Whether a record of several lines ran to the end of the file inside a quote: the csv
    module's strict reading of it ends in the middle of a quoted value."""
    try:
        for _ in csv.reader(raw, strict=True):
            pass
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False


def _fit(row: list[str], width: int) -> list[str]:
    """The row cut or padded to the header, so the rejects file keeps its columns."""
    return (row + [""] * width)[:width]


def _width_problem(row: list[str], width: int) -> str:
    extra = f" (extra values: {', '.join(repr(v) for v in row[width:])})" \
        if len(row) > width else ""
    return (f"row has {len(row)} fields but the header has {width}{extra}: quote values "
            "that contain commas")


def _geojson_source(path: Path, binary: IO[bytes], size: int) -> Source:
    """Two streaming passes (ijson), so a registry of millions of features never sits in
    memory: the first checks the document and collects the property names, which decide
    the columns an upsert may change before any row is written; the second yields features."""
    start = 3 if binary.peek(3)[:3] == b"\xef\xbb\xbf" else 0  # type: ignore[attr-defined]
    binary.seek(start)
    keys = _survey(path, binary)
    _check_columns(path, keys, "property")
    present = tuple(c for c in COLUMNS if c in keys or c in ("lon", "lat"))
    binary.seek(start)
    features = ijson.items(binary, "features.item", use_float=True)
    return Source(present, list(present), "feature", _features(path, features, present),
                  binary.tell, size)


def _survey(path: Path, binary: IO[bytes]) -> list[str]:
    """Property names of all features, after checking the document is a FeatureCollection
    with a "features" array."""
    kind, has_features = None, False
    keys: dict[str, None] = {}
    try:
        # Numbers read as the second pass reads them: one too large for a float fails here.
        for prefix, event, value in ijson.parse(binary, use_float=True):
            if prefix == "features.item.properties" and event == "map_key":
                keys[str(value).strip().lower()] = None
            elif prefix == "type" and event == "string":
                kind = value
            elif prefix == "features" and event == "start_array":
                has_features = True
            elif prefix == "" and event not in ("start_map", "map_key", "end_map"):
                break  # not an object: refused below
    except ijson.JSONError as exc:
        raise ValidationError(f"{path}: not valid GeoJSON ({_reason(exc)})",
                              field="path") from None
    if kind != "FeatureCollection" or not has_features:
        raise ValidationError(f"{path}: expected a GeoJSON FeatureCollection with a "
                              "\"features\" array of Point features", field="path")
    return list(keys)


def _reason(exc: Exception) -> str:
    # yajl's message ends with the offending text and a caret under it, over several lines,
    # and comes as bytes when that text is not UTF-8.
    text = exc.args[0] if exc.args else exc
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return " ".join(str(text).split())


def _features(path: Path, features: Iterator[Any],
              present: tuple[str, ...]) -> Iterator[Record]:
    number = -1
    try:
        for number, feature in enumerate(features):
            yield _record(number, feature, present)
    except ijson.JSONError as exc:  # the file changed after it was checked
        raise ValidationError(f"{path}: not valid GeoJSON after feature {number} "
                              f"({_reason(exc)})", field="path") from None


def _record(number: int, feature: Any, present: tuple[str, ...]) -> Record:
    props, lon, lat, problem = _feature_parts(feature)
    values = {**props, "lon": lon, "lat": lat}
    original = ["" if values.get(c) is None else str(values[c]) for c in present]
    if problem:
        return number, None, original, problem
    return number, [_string(values.get(c)) for c in COLUMNS], original, None


def _feature_parts(feature: Any) -> tuple[dict[str, Any], Any, Any, str | None]:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        return {}, None, None, "not a GeoJSON Feature object"
    raw = feature.get("properties")
    props = {str(k).strip().lower(): v for k, v in raw.items()} if isinstance(raw, dict) else {}
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        got = geometry.get("type") if isinstance(geometry, dict) else geometry
        return props, None, None, f"geometry must be a Point, got {got!r}"
    position = geometry.get("coordinates")
    if (not isinstance(position, list) or len(position) < 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool)
                       for v in position[:2])):
        return props, None, None, f"Point coordinates must be [lon, lat] numbers, got " \
                                  f"{json.dumps(position)}"
    return props, position[0], position[1], None


def _string(value: Any) -> str | None:
    return None if value is None else str(value)
