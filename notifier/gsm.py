"""SMS text: GSM 03.38 encoding, Vietnamese folding and segment counting.

One character outside GSM-7 turns the whole message into UCS-2 (70 characters a segment
instead of 160), so a Vietnamese notice with diacritics costs two to three times as much.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Reached through the escape character: each takes two septets.
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

# Look-alikes that slip in from word processors and silently force UCS-2.
_LOOKALIKES = {
    # Every Unicode space (category Zs) but the plain one.
    **dict.fromkeys("\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
                    "\u2009\u200a\u202f\u205f\u3000", " "),
    "\u2044": "/",  # the fraction slash compatibility folding gives for "½"
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"',
    "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2010": "-", "\u2011": "-",
    "\u2026": "...", "\t": " ",
}
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_TRANSLATE = {**{ord(k): v for k, v in _LOOKALIKES.items()}, **_INVISIBLE}
# Letters Unicode does not decompose; "Ð" (Latin Eth) is how some keyboards type "Đ".
_NO_DECOMPOSITION = str.maketrans({"đ": "d", "Đ": "D", "Ð": "D", "ø": "o", "Ø": "O"})


@dataclass(frozen=True)
class SmsInfo:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int


def clean(text: str) -> str:
    """Replace characters that force UCS-2 without being visible in the message."""
    return text.translate(_TRANSLATE)


def fold(text: str) -> str:
    """Vietnamese (and other Latin letters) without diacritics: 'Điện lực' -> 'Dien luc';
    compatibility forms as the letters they show: 'mm²' -> 'mm2', 'ﬁ' -> 'fi'. Cleaned
    after decomposing, which gives a fraction slash for '½'."""
    decomposed = clean(unicodedata.normalize("NFKD", text.translate(_NO_DECOMPOSITION)))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped)


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def measure(text: str) -> SmsInfo:
    """Encoding and segment count per GSM 03.38: 160/153 for GSM-7, 70/67 for UCS-2."""
    if is_gsm7(text):
        widths = [2 if ch in GSM7_EXTENSION else 1 for ch in text]
        return SmsInfo("GSM-7", sum(widths), _segments(widths, 160, 153))
    widths = [2 if ord(ch) > 0xFFFF else 1 for ch in text]  # UTF-16 surrogate pairs
    return SmsInfo("UCS-2", sum(widths), _segments(widths, 70, 67))


def _segments(widths: list[int], single: int, multi: int) -> int:
    """Segments of a message of characters this wide. A character is never split between
    two parts of a long message (an escape and its letter, the halves of an emoji): one that
    does not fit whole starts the next part (3GPP TS 23.038, 6.2.1.1)."""
    if sum(widths) <= single:
        return 1
    count, used = 1, 0
    for width in widths:
        if used + width > multi:
            count, used = count + 1, 0
        used += width
    return count


def prepare(text: str, *, ascii_only: bool) -> tuple[str, SmsInfo]:
    """The text to send and its measure: always cleaned, folded when asked."""
    final = fold(text) if ascii_only else clean(text)
    return final, measure(final)
