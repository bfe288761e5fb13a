"""Free text typed by a person (an area name, a reason, a note): capped, and without control
characters, which would be stored, rendered and sent as they are. Also the CSV cell escape
that keeps such text from running as a spreadsheet formula."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import IO, Any

# Limits a utility's texts stay well inside: an area name fits an SMS line, a reason or a
# note a short paragraph, a customer's report a long message.
NAME_MAX = 200
FEEDER_MAX = 100  # as in the customer registry
REASON_MAX = 500
NOTE_MAX = 500
REPORT_MAX = 1000

# Control characters (Unicode category Cc), the invisible direction overrides that make
# text display other than it reads, and the noncharacters XML refuses (U+FFFE, U+FFFF: text
# goes into the Atom and CAP feeds as it is). Line breaks and tabs are text in a reason or a
# note.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufffe\uffff]")
_CONTROL_BUT_LINES = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufffe\uffff]")


def problem(value: str, *, limit: int | None = None, multiline: bool = False) -> str | None:
    """What is wrong with `value` as free text, or None when it is acceptable."""
    if limit is not None and len(value) > limit:
        return f"is {len(value)} characters long: keep it to at most {limit}"
    found = (_CONTROL_BUT_LINES if multiline else CONTROL).search(value)
    if found:
        return (f"contains the control character U+{ord(found.group()):04X}: "
                "remove it and send plain text")
    return None


def cleaned(value: str, *, limit: int) -> str:
    """Text nobody can be asked to correct (an inbound SMS): control characters dropped,
    cut to `limit`, so it is kept rather than refused."""
    return _CONTROL_BUT_LINES.sub("", value)[:limit]


# Cells a spreadsheet would read as a formula; a leading apostrophe makes them text.
_FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
_SIGNED_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")


def csv_cell(value: Any) -> Any:
    """`value` safe to open in a spreadsheet: text starting like a formula gets a leading
    apostrophe (OWASP's advice). Numbers, and text that is just a signed number such as an
    E.164 phone number or a negative amount, stay as they are."""
    if not isinstance(value, str) or not value.startswith(_FORMULA_LEADS):
        return value
    # A lone "-" is the reports' "none" (no cause, no district), and no formula: as written,
    # the CSV's keys are the JSON's.
    return value if value == "-" or _SIGNED_NUMBER.fullmatch(value) else "'" + value


class CsvWriter:
    """csv.writer whose every cell goes through csv_cell: every CSV the project writes is
    opened by someone in a spreadsheet sooner or later."""

    def __init__(self, handle: IO[str], **options: Any) -> None:
        self._writer = csv.writer(handle, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([csv_cell(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)
