"""Pure pieces of the HTTP service: the rate limiter's refill and SMS keyword parsing."""

from __future__ import annotations

from outages.api.limits import RateLimiter
from outages.notices.sms_commands import Command, fold, parse


def test_rate_limiter_refills_over_time() -> None:
    now = [1000.0]
    limiter = RateLimiter(per_minute=2, clock=lambda: now[0])
    assert limiter.acquire("a") == 0 and limiter.acquire("a") == 0
    wait = limiter.acquire("a")
    assert 29 < wait <= 30  # one request every 30 s
    assert limiter.acquire("b") == 0  # other clients have their own bucket
    now[0] += 30
    assert limiter.acquire("a") == 0
    assert limiter.acquire("a") > 0


def test_keywords_in_any_case_with_or_without_diacritics() -> None:
    assert fold("  mất   Điện ") == "MAT DIEN"
    assert parse("mất điện pd0001") == Command("fault", "PD0001")
    assert parse("MATDIEN") == Command("fault", "")
    assert parse("Tình trạng") == Command("status", "")
    assert parse("đăng ký") == Command("start", "")
    assert parse("hủy") == Command("stop", "")
    assert parse("Stop please") == Command("stop", "PLEASE")
    assert parse("hello") == Command("unknown")
    assert parse("") == Command("unknown")


def test_keywords_typed_in_other_forms_of_the_same_letters() -> None:
    # Full-width letters (some phones' keyboards), a decomposed Vietnamese spelling, and
    # the Latin Eth some keyboards give for Đ: the same keyword.
    assert parse("ＳＴＯＰ") == Command("stop", "")
    assert parse("hu\u0309y") == Command("stop", "")
    assert parse("\u00d0ăng ký") == Command("start", "")
    # The STOP reply says "Soan DK de dang ky lai": "DK lai" is opting back in, not a
    # subscription to a code LAI.
    assert parse("DK lai") == Command("start", "")
    assert parse("Đăng ký lại") == Command("start", "")
    assert parse("DK Lai Chau") == Command("start", "LAI CHAU")
