"""The phone fast path against phonenumbers itself, over random and real-format numbers.

`mismatches(n, seed)` writes n numbers in the shapes a registry holds (Vietnamese mobiles and
landlines with and without the national prefix or +84, spaced, dotted, dashed, bracketed;
foreign numbers; random digit strings; junk) and counts those where the import's answer
(PhoneNormalizer.normalize_many, then normalize for what it leaves) differs from
phonenumbers.parse + is_valid_number + E.164. It must be 0.
"""

from __future__ import annotations

import random

import phonenumbers

from outages.registry.contacts import PhoneNormalizer

_MOBILE_PREFIXES = ("32", "33", "34", "35", "36", "37", "38", "39", "56", "58", "59", "70",
                    "76", "77", "78", "79", "81", "82", "83", "84", "85", "86", "88", "89",
                    "90", "91", "92", "93", "94", "96", "97", "98", "99", "87", "55", "52")
_LANDLINE_AREAS = ("24", "28", "236", "225", "251", "292", "206", "210", "299", "20", "29")


def sample(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.35:
        national = rng.choice(_MOBILE_PREFIXES) + _digits(rng, rng.choice((7, 7, 7, 6, 8)))
    elif kind < 0.5:
        area = rng.choice(_LANDLINE_AREAS)
        national = area + _digits(rng, 10 - len(area) + rng.choice((0, 0, -1, 1)))
    elif kind < 0.6:
        national = rng.choice(("1800", "1900", "672", "69", "80", "1")) + _digits(
            rng, rng.randint(3, 8))
    elif kind < 0.7:
        return rng.choice(("+1 202 555 ", "+44 20 7946 ", "+66 2 ", "+86 10 ", "+61 2 ")) \
            + _digits(rng, rng.randint(3, 6))
    elif kind < 0.9:
        return rng.choice(("0", "+84", "84", "", "+", "00", "+840", "0084")) + _digits(
            rng, rng.randint(1, 13))
    else:
        alphabet = "0123456789 +-.()/x#*abc\u0660\uff10"
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 16)))
    return _dress(rng, rng.choice(("0", "+84", "+84 ", "(+84) ", "84", "0")) + national)


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(max(n, 0)))


def _dress(rng: random.Random, number: str) -> str:
    """Separators as people type them, at random places."""
    if rng.random() < 0.5:
        return number
    separator = rng.choice((" ", ".", "-", " - ", "/", "\t"))
    cuts = sorted(rng.sample(range(1, len(number)), k=min(len(number) - 1, rng.randint(1, 3))))
    parts = [number[i:j] for i, j in zip([0, *cuts], [*cuts, len(number)], strict=True)]
    return separator.join(parts)


def reference(written: str, region: str = "VN") -> str | None:
    try:
        number = phonenumbers.parse(written, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mismatches(n: int, seed: int = 11, region: str = "VN") -> tuple[int, int, list[str]]:
    """(mismatch count, numbers the fast path decided, a few mismatching inputs)."""
    rng, normalizer = random.Random(seed), PhoneNormalizer(region)
    numbers = [sample(rng) for _ in range(n)]
    fast = normalizer.normalize_many(numbers)
    wrong: list[str] = []
    for written, quick in zip(numbers, fast, strict=True):
        ours = quick if quick is not None else normalizer.normalize(written)[0]
        if ours != reference(written, region):
            wrong.append(written)
    return len(wrong), sum(q is not None for q in fast), wrong[:10]
