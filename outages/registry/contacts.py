"""Contact fields a customer row carries: phone (to E.164), email, language.

Shared by the bulk import and single-customer updates so both accept and refuse the same input.
"""

from __future__ import annotations

import re
from typing import Any

import phonenumbers
from phonenumbers import PhoneNumber

LANGUAGES = ("vi", "en")

# A sane syntax check, no network: one @, no spaces, a dotted domain of sensible labels.
EMAIL_PATTERN = (r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
                 r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")
_EMAIL = re.compile(EMAIL_PATTERN)
_SEPARATORS = str.maketrans("", "", " .-()/")  # a tab is not one to phonenumbers


class PhoneNormalizer:
    """Phone numbers to E.164 for one default region.

    phonenumbers.parse costs ~16 µs a number, too slow for a million rows. The common shapes
    (national prefix + digits, or +country code + digits) skip the parse, and their validity
    is checked against the pattern of the number type that the same leading digits matched
    last time: a full match there is exactly what phonenumbers calls valid (the general pattern
    and one type pattern match). Anything else gets phonenumbers' full treatment.
    """

    def __init__(self, region: str) -> None:
        self.region = region.upper()
        meta = phonenumbers.PhoneMetadata.metadata_for_region(self.region)
        self.country_code = phonenumbers.country_code_for_region(self.region)
        prefix = meta.national_prefix if meta is not None else None
        simple = (meta is not None and meta.national_prefix_transform_rule is None
                  and (meta.national_prefix_for_parsing or prefix) == prefix)
        self._national_prefix = prefix if simple and prefix and prefix.isdigit() else None
        # Digits that start like the region's international dialling prefix (Israel's 019
        # begins with its national prefix 0) are phonenumbers' to read.
        international = meta.international_prefix if meta is not None else None
        self._international = re.compile(international) if international else None
        self._plus_cc = f"+{self.country_code}"
        self._general = _Pattern.of(meta.general_desc) if meta is not None else None
        self._types: dict[tuple[str, int], _Pattern] = {}
        self._meta = meta
        self._lines = _valid_lines(meta, self._plus_cc, self._national_prefix, international)

    def normalize_many(self, values: list[str]) -> list[str | None]:
        """E.164 of each value the fast path can vouch for, None for the rest (which
        `normalize` must decide). Values must not contain line breaks.

        One pass of one regular expression over all the values, a line each: the national
        prefix or +country code, then a national number that matches the region's general
        description and one of its number types, each with its possible lengths: what
        phonenumbers.is_valid_number checks.
        """
        if self._lines is None or not values:
            return [None] * len(values)
        joined = "\n".join(values).translate(_SEPARATORS)
        plus = self._plus_cc
        # One match a line; the national number is empty where the line is not vouched for.
        return [plus + national if national else None
                for national in self._lines.findall(joined)]

    def normalize(self, raw: str) -> tuple[str | None, str | None]:
        """(E.164, None) for a valid number, (None, reason) otherwise."""
        digits = raw.translate(_SEPARATORS)
        national = self._shortcut(digits)
        if national is not None and self._known_valid(national):
            return f"{self._plus_cc}{national}", None
        return self._full(raw)

    def _shortcut(self, digits: str) -> str | None:
        if digits.startswith(self._plus_cc):
            rest = digits[len(self._plus_cc):]
        elif self._national_prefix and digits.startswith(self._national_prefix) and not (
                self._international and self._international.match(digits)):
            rest = digits[len(self._national_prefix):]
        else:
            return None
        return rest if rest.isdigit() and rest.isascii() and not rest.startswith("0") else None

    def _known_valid(self, national: str) -> bool:
        key = (national[:3], len(national))
        pattern = self._types.get(key)
        if pattern is not None and self._general is not None \
                and pattern.matches(national) and self._general.matches(national):
            return True
        number = PhoneNumber(country_code=self.country_code, national_number=int(national))
        if not phonenumbers.is_valid_number(number):
            return False
        desc = _TYPE_DESC.get(phonenumbers.number_type(number))
        found = getattr(self._meta, desc, None) if desc else None
        if found is not None:
            self._types[key] = _Pattern.of(found)
        return True

    def _full(self, raw: str) -> tuple[str | None, str | None]:
        try:
            number = phonenumbers.parse(raw, self.region)
        except phonenumbers.NumberParseException:
            return None, (f"phone {raw!r} is not a phone number: write it as a local number "
                          f"(e.g. 0912345678) or with the country code (e.g. +84912345678)")
        if not phonenumbers.is_valid_number(number):
            return None, (f"phone {raw!r} is not a valid number for region "
                          f"{phonenumbers.region_code_for_number(number) or self.region}: "
                          "check the digits")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), None


_T = phonenumbers.PhoneNumberType
_TYPE_DESC = {_T.FIXED_LINE: "fixed_line", _T.MOBILE: "mobile",
              _T.FIXED_LINE_OR_MOBILE: "mobile", _T.TOLL_FREE: "toll_free",
              _T.PREMIUM_RATE: "premium_rate", _T.SHARED_COST: "shared_cost",
              _T.VOIP: "voip", _T.PERSONAL_NUMBER: "personal_number", _T.PAGER: "pager",
              _T.UAN: "uan", _T.VOICEMAIL: "voicemail"}


# Tried in this order by the lookahead (any one matching is enough): the common types first.
_TYPES = ("mobile", "fixed_line", "premium_rate", "toll_free", "shared_cost", "voip",
          "personal_number", "pager", "uan", "voicemail")


def _valid_lines(meta: Any, plus_cc: str, national_prefix: str | None,
                 international: str | None) -> re.Pattern[str] | None:
    """A multiline pattern whose group 1 is the national number of a line holding a valid
    number of the region written in a common form; other lines match with no group."""
    if meta is None or meta.general_desc is None:
        return None
    types = [_desc_regex(getattr(meta, t, None)) for t in _TYPES]
    usable = [t for t in types if t is not None]
    general = _desc_regex(meta.general_desc)
    if general is None or not usable:
        return None
    lead = re.escape(plus_cc)
    if national_prefix:  # not where the digits begin with the international prefix
        unless = f"(?!(?:{international}))" if international else ""
        lead += f"|{unless}{re.escape(national_prefix)}"
    # A national number: ASCII digits only, no leading zero; the lookaheads test it whole.
    number = f"(?=(?:{general})$)(?=(?:{'|'.join(usable)})$)([1-9][0-9]*)"
    return re.compile(f"^(?:{lead}){number}$|^.*$", re.MULTILINE | re.ASCII)


def _desc_regex(desc: Any) -> str | None:
    """A description's test as one regex (phonenumbers' _is_number_matching_desc): the
    possible lengths, when given, then a full match of the pattern."""
    if desc is None or not desc.national_number_pattern:
        return None
    lengths = [n for n in (desc.possible_length or ()) if n > 0]
    if desc.possible_length and not lengths:
        return None
    length = f"(?=(?:{'|'.join(f'[0-9]{{{n}}}' for n in lengths)})$)" if lengths else ""
    return f"{length}(?:{desc.national_number_pattern})"


class _Pattern:
    """A number description's test, as phonenumbers applies it: length, then full match."""

    def __init__(self, lengths: tuple[int, ...], regex: re.Pattern[str] | None) -> None:
        self.lengths, self.regex = lengths, regex

    @classmethod
    def of(cls, desc: Any) -> _Pattern:
        pattern = desc.national_number_pattern
        return cls(tuple(desc.possible_length or ()), re.compile(pattern) if pattern else None)

    def matches(self, national: str) -> bool:
        if self.lengths and len(national) not in self.lengths:
            return False
        return self.regex is not None and self.regex.fullmatch(national) is not None


def email_problem(value: str) -> str | None:
    if len(value) > 254 or not _EMAIL.match(value):
        return f"email {value!r} is not a valid address: expected name@domain.tld"
    if len(value.partition("@")[0]) > 64:
        return f"email {value!r} has a name part longer than 64 characters"
    return None


def language_problem(value: str) -> str | None:
    if value in LANGUAGES:
        return None
    return f"unknown language {value!r}: use vi or en (or leave it empty for the default)"
