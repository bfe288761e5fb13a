"""Time handling: UTC inside, local time at the edges.

Every datetime in the code is timezone-aware. Input without an offset is read as local time in
the configured zone; DST gaps and folds are refused rather than guessed. Dates and times typed
by a person must lie in 1970..2100: beyond, they are typing mistakes, and the arithmetic on them
(a day after 9999-12-31, local midnight of year 1 in UTC) would overflow.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_DURATION = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)\s*([dhms])\s*)+$", re.IGNORECASE)
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([dhms])", re.IGNORECASE)
_ISO = re.compile(
    r"^P(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?"
    r"(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$",
    re.IGNORECASE,
)
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
EARLIEST = date(1970, 1, 1)
LATEST = date(2100, 12, 31)


def utcnow() -> datetime:
    return datetime.now(UTC)


def parse_duration(text: str) -> timedelta:
    """`5d`, `2h30m`, `45s` or ISO 8601 (`P5D`, `PT2H30M`) to a timedelta."""
    raw = text.strip()
    if _DURATION.match(raw):
        seconds = sum(float(n) * _UNIT_SECONDS[u.lower()] for n, u in _PART.findall(raw))
        return timedelta(seconds=seconds)
    iso = _ISO.match(raw)
    if iso and raw.upper() not in ("P", "PT"):
        parts = {k: float(v) for k, v in iso.groupdict().items() if v}
        return timedelta(
            weeks=parts.get("w", 0),
            days=parts.get("d", 0),
            hours=parts.get("h", 0),
            minutes=parts.get("m", 0),
            seconds=parts.get("s", 0),
        )
    raise ValueError(
        f"invalid duration {text!r}: write it as 5d, 2h, 30m, 45s (combinable: 1h30m) "
        "or ISO 8601 such as P5D or PT2H30M"
    )


def format_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    if seconds == 0:
        return "0s"
    sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return sign + "".join(parts)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {name!r}: use an IANA name such as Asia/Ho_Chi_Minh"
        ) from exc


def localize(naive: datetime, tz: ZoneInfo) -> datetime:
    """Attach `tz` to a wall-clock time, refusing times that do not exist or exist twice."""
    aware = naive.replace(tzinfo=tz, fold=0)
    other = naive.replace(tzinfo=tz, fold=1)
    if aware.utcoffset() != other.utcoffset():
        roundtrip = aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
        if roundtrip != naive:
            raise ValueError(
                f"{naive:%Y-%m-%d %H:%M} does not exist in {tz.key} (clocks jump forward): "
                "pick a time outside the gap or give an explicit offset"
            )
        raise ValueError(
            f"{naive:%Y-%m-%d %H:%M} happens twice in {tz.key} (clocks go back): "
            "give an explicit offset such as +01:00 or +02:00"
        )
    return aware


def parse_datetime(text: str, tz: ZoneInfo) -> datetime:
    """ISO 8601 to an aware UTC datetime; without an offset the time is local in `tz`."""
    raw = text.strip()
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00") if raw.endswith("Z") else raw)
    except ValueError:
        raise ValueError(
            f"invalid time {text!r}: use ISO 8601, e.g. '2026-12-07 08:00' (local time) "
            "or '2026-12-07T08:00+07:00'"
        ) from None
    _check_range(value.date(), text)
    if value.tzinfo is None:
        value = localize(value, tz)
    return value.astimezone(UTC)


def parse_date(text: str, *, earliest: date = EARLIEST) -> date:
    """YYYY-MM-DD within earliest..2100 (a record of the past, such as the day a customer
    was connected, may reach further back than 1970)."""
    try:
        value = date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"invalid date {text!r}: use YYYY-MM-DD, e.g. 2026-12-07") from None
    _check_range(value, text, earliest)
    return value


def _check_range(day: date, text: str, earliest: date = EARLIEST) -> None:
    if not earliest <= day <= LATEST:
        raise ValueError(f"{text.strip()!r} is out of range: give a date between "
                         f"{earliest.isoformat()} and {LATEST.isoformat()}")


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant at which local calendar day `day` begins."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def local_day_bounds(first: date, last: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Half-open UTC interval covering local days `first`..`last` inclusive."""
    return day_start(first, tz), day_start(last + timedelta(days=1), tz)


def to_local(value: datetime, tz: ZoneInfo) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime inside the code: attach UTC before converting")
    return value.astimezone(tz)


def iso_local(value: datetime | None, tz: ZoneInfo, *, exact: bool = False) -> str | None:
    """ISO 8601 with the local offset, for JSON output; `exact` keeps a fraction of a
    second (records read back by a program: the interruption log)."""
    if value is None:
        return None
    return to_local(value, tz).isoformat(timespec="auto" if exact else "seconds")


def show_local(value: datetime | None, tz: ZoneInfo) -> str:
    """For tables: '2026-12-07 08:00 +07' ('+05:30' where the offset has minutes)."""
    if value is None:
        return "-"
    return show_offset(to_local(value, tz))


def show_offset(local: datetime) -> str:
    """A local time as tables show it, with its offset: '2026-12-07 08:00 +07'."""
    offset = local.strftime("%z")  # "+0700", "+0530", "-0330"
    return local.strftime("%Y-%m-%d %H:%M ") + (
        offset[:3] if offset.endswith("00") else f"{offset[:3]}:{offset[3:5]}")
