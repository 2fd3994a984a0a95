"""When alerts may go out: the alerts' time zone (``WPP_ALERT_TIMEZONE``) and quiet hours (``WPP_ALERT_QUIET_HOURS``,
e.g. ``22:00-07:00``: nothing is sent from 22:00 until 07:00 in that time zone; what is still true at 07:00 is sent
then). Light: the configuration imports it."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_QUIET_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-\u2013\u2014]\s*(\d{1,2}):(\d{2})\s*$")


def parse_quiet_hours(value: Any) -> tuple[int, int]:
    """``"22:00-07:00"`` -> ``(1320, 420)`` (minutes of the day: start, end). ValueError when it is no such text, a
    time is not a time of day, or both are the same."""
    if not isinstance(value, str):
        raise ValueError("not text")
    m = _QUIET_RE.match(value)
    if not m:
        raise ValueError("not HH:MM-HH:MM")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if not (0 <= h1 <= 23 and 0 <= h2 <= 23 and 0 <= m1 <= 59 and 0 <= m2 <= 59):
        raise ValueError("not a time of day")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if start == end:
        raise ValueError("empty")
    return start, end


def quiet_text(value: Any) -> str:
    """The setting's value, checked and written the same way every time: ``"22:00-07:00"``."""
    start, end = parse_quiet_hours(value)
    return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"


def parse_working_hours(value: Any) -> tuple[int, int]:
    """``"09:00-18:00"`` -> ``(540, 1080)``: the working day, Monday to Friday (the start before the end)."""
    start, end = parse_quiet_hours(value)
    if not start < end:
        raise ValueError("the end before the start")
    return start, end


def working_text(value: Any) -> str:
    start, end = parse_working_hours(value)
    return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"


def working_seconds(start: float, end: float, hours: tuple[int, int], tz: dt.tzinfo) -> float:
    """Seconds between ``start`` and ``end`` that fall in the working day (``hours``, minutes of the day), Monday to
    Friday, read in ``tz``."""
    if end <= start:
        return 0.0
    total = 0.0
    day = dt.datetime.fromtimestamp(float(start), tz=dt.timezone.utc).astimezone(tz).date()
    last = dt.datetime.fromtimestamp(float(end), tz=dt.timezone.utc).astimezone(tz).date()
    while day <= last:
        if day.weekday() < 5:
            midnight = dt.datetime(day.year, day.month, day.day, tzinfo=tz)
            open_ = (midnight + dt.timedelta(minutes=hours[0])).timestamp()
            close = (midnight + dt.timedelta(minutes=hours[1])).timestamp()
            total += max(0.0, min(close, end) - max(open_, start))
        day += dt.timedelta(days=1)
    return total


def in_quiet_hours(now: float, quiet: tuple[int, int] | None, tz: dt.tzinfo) -> bool:
    """Whether ``now`` (Unix seconds) falls in the quiet hours, read in ``tz`` (the end is not quiet any more)."""
    if not quiet:
        return False
    local = dt.datetime.fromtimestamp(float(now), tz=dt.timezone.utc).astimezone(tz)
    minute = local.hour * 60 + local.minute
    start, end = quiet
    if start < end:
        return start <= minute < end
    return minute >= start or minute < end


def check_timezone(value: Any) -> str:
    """A time zone name the system knows (``Europe/Moscow``); ValueError otherwise."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("not text")
    name = value.strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError("unknown time zone") from None
    return name


def zone(name: str | None) -> dt.tzinfo:
    try:
        return ZoneInfo(name) if name else dt.timezone.utc
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return dt.timezone.utc


__all__ = ["check_timezone", "in_quiet_hours", "parse_quiet_hours", "parse_working_hours", "quiet_text",
           "working_seconds", "working_text", "zone"]
