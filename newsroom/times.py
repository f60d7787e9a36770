"""Times as the newsroom writes them, read strictly.

Stored in UTC, shown in the calendar's timezone. A naive time takes the item's or the project's
timezone; a local time that does not exist or is ambiguous on a DST change is an error naming both
readings, never a guess.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = timezone.utc

# The forms as patterns that read the same in Python and in an editor's JSON Schema (ECMA 262):
# no flags, so case is spelled out.
_DURATION_BODY = r"(?:\d+(?:\.\d+)?\s*[wdhmsWDHMS]\s*)+"
DURATION_PATTERN = rf"^\s*{_DURATION_BODY}$"  # 30m, 6h, 2d, 1d 12h
OFFSET_PATTERN = rf"^\s*[+-]\s*{_DURATION_BODY}$"  # +2h, -30m
TIME_OF_DAY = r"([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?"  # 09:00, 13:30:00
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
#: The date-times people write (fromisoformat reads a few rarer forms too).
DATETIME_PATTERN = r"^\s*\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?\s*$"
_DURATION = re.compile(rf"^\s*([+-])?\s*({_DURATION_BODY})$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([wdhms])", re.I)
_UNIT = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_DATE = re.compile(DATE_PATTERN)
_TIME = re.compile(f"^{TIME_OF_DAY}$")


class TimeError(ValueError):
    """A time the newsroom wrote that cannot be read; the message says what to write instead."""


@lru_cache(maxsize=None)
def zone(name: str) -> ZoneInfo:
    """The IANA zone called ``name``; TimeError when there is none."""
    try:
        if not name or "/" not in name and name not in ("UTC", "GMT"):
            raise ZoneInfoNotFoundError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, IsADirectoryError):
        raise TimeError(f"'{name}' is not a known timezone (use an IANA name such as Europe/Berlin or UTC)") from None


def parse_duration(text: object, *, signed: bool = False) -> timedelta:
    """'48h', '90m', '1d 12h', '+2h' (signed offsets when ``signed``)."""
    if isinstance(text, bool):
        raise TimeError(f"'{text}' is not a duration (write it like 30m, 6h or 2d)")
    if isinstance(text, (int, float)):
        return timedelta(seconds=float(text))
    m = _DURATION.match(str(text))
    if not m or (m.group(1) and not signed):
        example = "+2h or -30m" if signed else "30m, 6h or 2d"
        raise TimeError(f"'{text}' is not a duration (write it like {example})")
    seconds = sum(float(n) * _UNIT[u.lower()] for n, u in _DURATION_PART.findall(m.group(2)))
    return timedelta(seconds=-seconds if m.group(1) == "-" else seconds)


def format_duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    out = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            out.append(f"{seconds // size}{unit}")
            seconds %= size
    return sign + ("".join(out) or "0m")


def parse_time_of_day(text: object) -> time:
    """'09:00' or '13:30:00'. YAML 1.1 would have read 09:00 as 540; the loader keeps it text."""
    m = _TIME.match(str(text).strip())
    if not m:
        raise TimeError(f"'{text}' is not a time of day (use HH:MM, e.g. 09:00)")
    return time(int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))


def parse_date(text: object) -> date:
    if isinstance(text, date) and not isinstance(text, datetime):
        return text
    s = str(text).strip()
    if not _DATE.match(s):
        raise TimeError(f"'{text}' is not a date (use YYYY-MM-DD, e.g. 2026-11-27)")
    try:
        return date.fromisoformat(s)
    except ValueError:
        raise TimeError(f"'{text}' is not a date (use YYYY-MM-DD, e.g. 2026-11-27)") from None


def localize(naive: datetime, tz: ZoneInfo) -> datetime:
    """Attach ``tz`` to a naive local time, refusing a time a DST change skips or repeats."""
    first = naive.replace(tzinfo=tz, fold=0)
    second = naive.replace(tzinfo=tz, fold=1)
    off1, off2 = first.utcoffset(), second.utcoffset()
    if off1 != off2:
        # fold=0 and fold=1 disagree: the wall time is either skipped (spring) or repeated (autumn).
        round_trip = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
        a = naive.strftime("%Y-%m-%dT%H:%M")
        if round_trip != naive:
            raise TimeError(
                f"{a} does not exist in {tz.key} (clocks jump at the DST change); "
                f"it could mean {_iso(first.astimezone(UTC).astimezone(tz))} or "
                f"{_iso(second.astimezone(UTC).astimezone(tz))}; write the one you mean")
        raise TimeError(
            f"{a} happens twice in {tz.key} (clocks go back at the DST change): it could mean "
            f"{_iso(first)} or {_iso(second)}; write the offset you mean")
    return first


def _offset(delta: timedelta | None) -> str:
    """'+01:00', '-03:30'; the seconds of an old local mean time too ('-00:25:21'), never rounded."""
    seconds = int((delta or timedelta()).total_seconds())
    sign = "+" if seconds >= 0 else "-"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{sign}{hours:02d}:{minutes:02d}" + (f":{seconds:02d}" if seconds else "")


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M") + _offset(dt.utcoffset())


def parse_datetime(text: object, tz: ZoneInfo | None) -> datetime:
    """An aware UTC datetime from '2026-11-27T09:00+01:00', '2026-11-27 09:00' (naive + tz) or 'Z'.

    A bare date is refused for a publish time: it does not say when on that day.
    """
    if isinstance(text, datetime):
        dt = text
    else:
        s = str(text).strip()
        if _DATE.match(s):
            raise TimeError(f"'{s}' is a date without a time (use {s}T09:00 or add the time you mean)")
        if _TIME.match(s):
            raise TimeError(f"'{s}' is a time without a date (use YYYY-MM-DDT{s})")
        try:
            dt = datetime.fromisoformat(s)
        except ValueError:
            raise TimeError(f"'{s}' is not a date-time (use 2026-11-27T09:00 or 2026-11-27T09:00+01:00)") from None
    if dt.tzinfo is None:
        if tz is None:
            raise TimeError(f"'{text}' has no timezone (add an offset or set timezone)")
        dt = localize(dt, tz)
    return dt.astimezone(UTC)


def parse_instant(text: str) -> datetime:
    """A CLI time (--now, --since): ISO date-time, 'Z' allowed; a bare date means its midnight UTC."""
    s = text.strip()
    if _DATE.match(s):
        return datetime.fromisoformat(s).replace(tzinfo=UTC)
    dt = datetime.fromisoformat(s)  # Python 3.11 reads a trailing Z
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(UTC)


def now_option(text: str | None) -> datetime:
    """``--now`` read strictly, or the clock when it is not given; ``UsageError`` when it is not a time."""
    from .problems import UsageError

    if text is None:
        return datetime.now(UTC)
    try:
        return parse_instant(text)
    except ValueError:
        raise UsageError(f"--now: '{text}' is not a date-time (use 2026-11-27T09:00Z or 2026-11-27T09:00+01:00)"
                         ) from None


def iso_utc(dt: datetime) -> str:
    u = dt.astimezone(UTC)
    return f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}Z"


def stamp(when: datetime) -> str:
    """The stored form of a time (snapshots, replies, pulls): UTC, whole seconds, ``Z``; such stamps
    compare as strings without parsing."""
    if when.tzinfo is None:
        raise ValueError("naive datetime")
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_stamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)
