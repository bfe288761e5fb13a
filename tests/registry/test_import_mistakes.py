"""Import mistakes a person makes in a registry file, each answered where it is: an
unclosed quote, a rejects file fixed twice, text that is not UTF-8, a file stopped part
way, semicolons for commas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from outages.errors import ValidationError
from outages.registry.importer import import_customers
from tests.registry.conftest import read_rejects, row


def test_an_unclosed_quote_does_not_swallow_the_rest_of_the_file(
        engine: Any, settings: Any, write_csv: Any, stored: Any) -> None:
    # Line 7 (customer D0005) has a stray opening quote in its name; 44 good customers follow.
    path = write_csv([row(f"D{k:04d}") for k in range(50)])
    path.write_bytes(path.read_bytes().replace(b"D0005,", b'D0005,"', 1))
    try:
        result = import_customers(engine, settings, path)
    except ValidationError as exc:  # refusing the file is fine, if it names the quote's line
        assert "line 7" in str(exc), str(exc)
        return
    rejects = read_rejects(result.rejects_file)
    assert rejects[0]["line"] == "7", rejects[0]["line"]
    assert result.imported + result.rejected == 50, (result.imported, result.rejected)


def test_a_rejects_file_of_a_rejects_file_can_be_imported_again(
        engine: Any, settings: Any, write_csv: Any, stored: Any) -> None:
    path = write_csv([row("A1"), row("A2", phone="0123"), row("A3", email="x@")])
    first = import_customers(engine, settings, path).rejects_file
    first.write_text(first.read_text(encoding="utf-8").replace(",0123,", ",0912345679,"),
                     encoding="utf-8")  # fix A2 only
    second = import_customers(engine, settings, first).rejects_file
    assert second is not None
    header = second.read_text(encoding="utf-8").splitlines()[0].split(",")
    second.write_text(second.read_text(encoding="utf-8").replace(",x@,", ",x@example.vn,"),
                      encoding="utf-8")  # fix A3
    assert header.count("line") == 1 and header.count("reason") == 1, header
    import_customers(engine, settings, second)
    assert set(stored()) == {"A1", "A2", "A3"}


def test_a_stopped_import_does_not_claim_rows_were_stored_when_they_were_not(
        engine: Any, settings: Any, write_csv: Any, stored: Any) -> None:
    rows = [row(f"E{k:04d}") for k in range(50)]
    rows[10]["address"] = "x" * 200_000  # line 12: beyond the csv module's field limit
    with pytest.raises(ValidationError) as caught:
        import_customers(engine, settings, write_csv(rows))
    message = str(caught.value)
    if "rows before it were imported" in message:
        assert len(stored()) == 10, (len(stored()), message)


def test_text_that_is_not_utf8_is_reported_at_its_line(
        engine: Any, settings: Any, write_csv: Any) -> None:
    path = write_csv([row(f"B{k}") for k in range(10)])
    data = path.read_bytes()
    cut = data.index(b"B6")  # line 8
    path.write_bytes(data[:cut] + b"Nguy\xe9n" + data[cut:])
    with pytest.raises(ValidationError) as caught:
        import_customers(engine, settings, path)
    assert "line 8" in str(caught.value), str(caught.value)


def test_a_semicolon_separated_file_is_told_to_use_commas(
        engine: Any, settings: Any, tmp_path: Path) -> None:
    path = tmp_path / "data" / "semicolons.csv"
    path.parent.mkdir()
    path.write_text("code;lon;lat\nA;105.85;21.03\n", encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        import_customers(engine, settings, path)
    message = str(caught.value).replace(str(path), "FILE").lower()
    assert "semicolon" in message or "separat" in message or "delimit" in message, message


def test_a_closed_multiline_value_beside_an_inch_mark_is_not_an_unclosed_quote(
        engine: Any, settings: Any, write_csv: Any, stored: Any) -> None:
    # A properly quoted two-line address, and an unquoted name with an inch mark in it
    # (csv reads a quote inside an unquoted value as itself): 3 quotes in the record, an
    # odd number, yet the quote that opens the address closes it. The csv module reads one
    # record of 15 values; the row is refused for its line break, once, and nothing else.
    rows = [row("Q1", name='Kiosk 5" pipes', address="12 Tràng Tiền\nBlock B"), row("Q2")]
    path = write_csv(rows)
    # As a spreadsheet exports it: the name unquoted (the csv writer would quote it).
    path.write_bytes(path.read_bytes().replace(b'"Kiosk 5"" pipes"', b'Kiosk 5" pipes'))
    assert path.read_bytes().count(b'"') == 3
    result = import_customers(engine, settings, path)
    assert set(stored()) == {"Q2"}
    rejects = read_rejects(result.rejects_file)
    assert [r["code"] for r in rejects] == ["Q1"], rejects  # not a second, garbled row
    assert "never closed" not in rejects[0]["reason"], rejects[0]["reason"]
    assert rejects[0]["name"] == 'Kiosk 5" pipes'
