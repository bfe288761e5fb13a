"""Free text checks and the CSV cell escape shared by every CSV the project writes."""

from __future__ import annotations

import csv
import io

import pytest

from outages import text


@pytest.mark.parametrize(("cell", "written"), [
    ("=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")"),
    ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"),
    ("+84912345678", "+84912345678"),  # an E.164 phone number is a number, not a formula
    ("-12.5", "-12.5"),
    ("-", "-"),  # the reports' "none": no formula
    ("-x", "'-x"),
    ("Pho Hue", "Pho Hue"),
    ("", ""),
    (-3, -3),
    (None, None),
])
def test_csv_cell(cell: object, written: object) -> None:
    assert text.csv_cell(cell) == written


def test_csv_writer_escapes_every_cell() -> None:
    buffer = io.StringIO()
    writer = text.CsvWriter(buffer, lineterminator="\n")
    writer.writerow(["name", "=1+1"])
    writer.writerows([["@x", 5], ["ok", "-1"]])
    assert list(csv.reader(io.StringIO(buffer.getvalue()))) == [
        ["name", "'=1+1"], ["'@x", "5"], ["ok", "-1"]]


def test_free_text_problems() -> None:
    assert text.problem("Phố Huế, ngõ 12", limit=200) is None
    assert text.problem("x" * 201, limit=200) == ("is 201 characters long: keep it to at "
                                                   "most 200")
    assert "U+0000" in (text.problem("a\x00b") or "")
    assert "U+202E" in (text.problem("a\u202eb") or "")
    assert "U+000A" in (text.problem("two\nlines") or "")
    assert text.problem("two\nlines\twith tab", multiline=True) is None
    assert "U+001B" in (text.problem("a\x1bb", multiline=True) or "")
