"""A CSV registry read a block at a time by pyarrow, as long as the file is plain.

A block is plain when pyarrow and the csv module cannot read it differently and every record
is one line: valid UTF-8, no blank line, no carriage return but in a CRLF line end, every quote
opening or closing a field or doubled inside one, no line break inside quotes,
every line with the header's number of fields. Its records are then the lines, numbered from
the header's, and their values are the csv module's.

At the first block that is not plain the rest of the file is read as before, by the source's
own csv reader (its records before that point skipped): line numbers, refusals and the
errors of a file that is not CSV or not UTF-8 stay exactly what that reader gives.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

from outages.registry.sources import Record, Source

BLOCK_BYTES = 8 << 20  # read at a time: a few tens of MB in memory, whatever the file's size
_QUOTE, _COMMA, _NEWLINE, _RETURN = ord('"'), ord(","), ord("\n"), ord("\r")


@dataclass(frozen=True)
class Lines:
    """Records of a plain stretch of the file: its raw values, one line each."""

    table: pa.Table  # every value a string, the file's columns in the file's order
    first_line: int
    odd: bool  # a value may hold a control character or a space other than " "

    def __len__(self) -> int:
        return self.table.num_rows


Chunk = Lines | list[Record]


class BlockReader:
    """Chunks of `size` records of a CSV source: Lines while the file is plain, then lists
    of the source's own records."""

    def __init__(self, path: Path, source: Source) -> None:
        self.path, self.source = path, source
        self.done = 0  # bytes read by the block reader
        self.yielded = 0  # records in the chunks of Lines
        self._fallen_back = False

    def position(self) -> int:
        return self.source.position() if self._fallen_back else self.done

    def chunks(self, size: int, *, plain: int = 0) -> Iterator[Chunk]:
        """Chunks of `size` records; Lines come in chunks of the largest multiple of `size`
        up to `plain` (fewer calls per row), so the source's chunks start where they would
        have started had it read the file from its beginning."""
        lines = size * max(1, plain // size)
        start = _records_start(self.path, self.source.original_header)
        if start is not None and (yield from self._plain_chunks(start, lines)):
            return
        self._fallen_back = True
        records = islice(self.source.records, self.yielded, None)
        while chunk := list(islice(records, size)):
            yield chunk

    def _plain_chunks(self, start: int, size: int) -> Generator[Lines, None, bool]:
        """Chunks of exactly `size` lines (the last one shorter) until the end of the file
        (then True) or a block that is not plain (False; the lines not yet yielded are read
        again by the source)."""
        names = [f"c{k}" for k in range(len(self.source.original_header))]
        pending: list[tuple[pa.Table, int, bool]] = []  # table, offset its block ends at, odd
        end, line = start, 2  # the header is line 1
        for block in _blocks(self.path, start):
            table = _plain_table(block, names)
            if table is None:
                return False
            end += len(block)
            self.done = end
            pending.append((table, end, _odd(block)))
            for lines in _full_chunks(pending, size, end, line):
                yield lines
                self.yielded += size
                line += size
        for lines in _full_chunks(pending, size, end, line):
            yield lines
            line += size
        if pending:
            yield Lines(pa.concat_tables([table for table, _, _ in pending]), line,
                        any(odd for _, _, odd in pending))
        return True


def _full_chunks(pending: list[tuple[pa.Table, int, bool]], size: int, safe: int,
                 line: int) -> Iterator[Lines]:
    """Chunks of `size` lines taken from the front of `pending`, while their last line's
    block ends by `safe`."""
    while True:
        rows = taken = 0
        while taken < len(pending) and rows < size:
            rows += pending[taken][0].num_rows
            taken += 1
        if rows < size or pending[taken - 1][1] > safe:
            return
        end = pending[taken - 1][1]
        joined = pa.concat_tables([table for table, _, _ in pending[:taken]])
        odd = any(odd for _, _, odd in pending[:taken])
        yield Lines(joined.slice(0, size), line, odd)
        line += size
        rest = joined.slice(size)
        pending[:taken] = [(rest, end, odd)] if rest.num_rows else []


def _records_start(path: Path, header: list[str]) -> int | None:
    """Offset of the first record when the header is one plain line, else None."""
    with path.open("rb") as binary:
        head = binary.read(64 * 1024)
    start = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    end = head.find(b"\n", start)
    if end < 0:
        return None
    line = head[start:end]
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if text.endswith("\r"):
        text = text[:-1]
    if '"' in text or "\r" in text:
        return None
    return end + 1 if text.split(",") == header else None


def _blocks(path: Path, start: int) -> Iterator[bytes]:
    """The file from `start` in blocks of whole lines (the last one as it ends)."""
    with path.open("rb") as binary:
        binary.seek(start)
        rest = b""
        while data := binary.read(BLOCK_BYTES):
            data = rest + data
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                rest = data
                continue
            rest = data[cut:]
            yield data[:cut]
        if rest:
            yield rest


def _plain_table(block: bytes, names: list[str]) -> pa.Table | None:
    """The block's values as strings when it is plain (see the module docstring)."""
    if not block.endswith(b"\n") or block.startswith((b"\n", b"\r")) or b"\n\n" in block \
            or (b"\r" in block and (b"\n\r" in block
                                   or block.count(b"\r") != block.count(b"\r\n"))) \
            or not _quotes_close_fields(block):
        return None
    try:  # pyarrow refuses what is not UTF-8 (by the standard, as Python does)
        table = pa_csv.read_csv(
            io.BytesIO(block),
            read_options=pa_csv.ReadOptions(column_names=names, use_threads=False,
                                            block_size=len(block) + 1),
            parse_options=pa_csv.ParseOptions(ignore_empty_lines=False),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False,
                quoted_strings_can_be_null=False))
    except pa.ArrowInvalid:
        return None
    if table.num_rows != block.count(b"\n"):  # a line break inside quotes
        return None
    if max((_longest(column) for column in table.columns), default=0) > csv.field_size_limit():
        return None
    return table


# Bytes of text that is plain ASCII (line ends included), and of the non-ASCII characters.
_PLAIN_ASCII = bytes(range(0x20, 0x7F)) + b"\n\r"
_NON_ASCII = bytes(range(0x80, 0x100))
# UTF-8 leads of the control characters U+0080-U+009F, the spaces str.strip() removes
# (U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000) and the direction
# overrides (U+202A-U+202E, U+2066-U+2069) and the noncharacters U+FFFE and U+FFFF; some
# others share them, which costs nothing.
_ODD_LEADS = (b"\xc2", b"\xe1\x9a\x80", b"\xe2\x80", b"\xe2\x81", b"\xe3\x80\x80",
              b"\xef\xbf\xbe", b"\xef\xbf\xbf")


def _odd(block: bytes) -> bool:
    """Whether a value of the block may hold a control character, a direction override or
    a space other than " " (then each value is searched)."""
    rest = block.translate(None, _PLAIN_ASCII)
    return bool(rest.translate(None, _NON_ASCII)) or any(lead in rest for lead in _ODD_LEADS)


def _quotes_close_fields(block: bytes) -> bool:
    """Quotes come in pairs, each opening a field (after a comma or at a line's start) and
    closing it (before a comma or the line's end), or doubled inside it: every value quoted
    whole, as both readers take it."""
    if b'"' not in block:
        return True
    data = np.frombuffer(block, dtype=np.uint8)
    quotes = np.flatnonzero(data == _QUOTE)
    if len(quotes) % 2:
        return False
    opens, closes = quotes[0::2], quotes[1::2]
    before = data[np.maximum(opens - 1, 0)]
    after = data[np.minimum(closes + 1, len(data) - 1)]
    doubled = np.zeros(len(opens), dtype=bool)  # the quote before an open closed at its left
    doubled[1:] = closes[:-1] == opens[1:] - 1
    opened = (before == _COMMA) | (before == _NEWLINE) | (opens == 0) | doubled
    closed = (after == _COMMA) | (after == _NEWLINE) | (after == _RETURN)
    closed[:-1] |= doubled[1:]
    return bool(opened.all() and closed.all() and closes[-1] + 1 < len(data))


def _longest(column: pa.ChunkedArray) -> int:
    import pyarrow.compute as pc

    longest = pc.max(pc.utf8_length(column)).as_py()
    return int(longest or 0)
