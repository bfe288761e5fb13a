from __future__ import annotations

import pytest

from notifier import gsm

VI = ("Điện lực Hà Nội thông báo: tạm ngừng cấp điện khu vực phường Láng Hạ từ 08:00 đến "
      "16:30 ngày 07/12/2026 để bảo dưỡng lưới điện. Hotline: 1900 6769 ạ!!!")


def test_vietnamese_with_diacritics_is_ucs2_and_folded_is_one_gsm7_segment() -> None:
    assert len(VI) == 151
    assert gsm.measure(VI) == gsm.SmsInfo("UCS-2", 151, 3)
    folded = gsm.fold(VI)
    assert folded.startswith("Dien luc Ha Noi thong bao: tam ngung cap dien")
    assert gsm.measure(folded) == gsm.SmsInfo("GSM-7", 151, 1)


def test_d_with_stroke_is_folded_explicitly() -> None:
    assert gsm.fold("Đường đây ĐIỆN") == "Duong day DIEN"


@pytest.mark.parametrize(("text", "units", "segments"), [
    ("a" * 160, 160, 1),
    ("a" * 161, 161, 2),
    ("a" * 306, 306, 2),
    ("a" * 307, 307, 3),
    ("€" * 80, 160, 1),  # extension characters take two septets
    ("[" * 81, 162, 2),
    ("a" * 159 + "{", 161, 2),
])
def test_gsm7_segments(text: str, units: int, segments: int) -> None:
    info = gsm.measure(text)
    assert (info.encoding, info.units, info.segments) == ("GSM-7", units, segments)


@pytest.mark.parametrize(("length", "segments"), [(70, 1), (71, 2), (134, 2), (135, 3)])
def test_ucs2_segments(length: int, segments: int) -> None:
    assert gsm.measure("ạ" * length).segments == segments


def test_invisible_ucs2_triggers_are_cleaned_even_without_folding() -> None:
    text = "Mat\u00a0dien \u201ctam thoi\u201d \u2013 xin loi\u2026\u200b"
    assert gsm.measure(text).encoding == "UCS-2"
    cleaned, info = gsm.prepare(text, ascii_only=False)
    assert cleaned == 'Mat dien "tam thoi" - xin loi...'
    assert info.encoding == "GSM-7"


def test_diacritics_kept_when_folding_is_off() -> None:
    text, info = gsm.prepare("Điện lực", ascii_only=False)
    assert (text, info.encoding) == ("Điện lực", "UCS-2")


def test_an_escaped_character_is_never_split_between_two_parts() -> None:
    # 152 + 2 ('[': escape and letter) + 152 = 306 septets, two parts' worth; but '[' does
    # not fit in the first part's last septet, so it starts the second, and one is left over.
    assert gsm.measure("x" * 152 + "[" + "x" * 152) == gsm.SmsInfo("GSM-7", 306, 3)
    assert gsm.measure("x" * 151 + "[" + "x" * 153) == gsm.SmsInfo("GSM-7", 306, 2)


def test_an_emoji_is_never_split_between_two_parts() -> None:
    # One surrogate pair (2 UTF-16 units) after 66 units: it starts the second part.
    assert gsm.measure("á" * 66 + "\U0001f50c" + "á" * 66) == gsm.SmsInfo("UCS-2", 134, 3)
    assert gsm.measure("á" * 65 + "\U0001f50c" + "á" * 67) == gsm.SmsInfo("UCS-2", 134, 2)
