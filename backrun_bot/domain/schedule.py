"""When reminders go out: reading times and days, and turning a local wall-clock time into UTC instants.

A team's reminders are set as a local time (``07:00``) on some days of the week, in the team's IANA zone.
The scheduler needs UTC instants, and a wall-clock time does not always name exactly one instant:

* **Gap** (clocks spring forward): the time does not exist that day. The reminder goes out at the first
  valid instant after the gap, i.e. at the moment of the change (02:30 in New York on 2026-03-08 is sent
  at 03:00 EDT, 07:00 UTC).
* **Fold** (clocks fall back): the time happens twice. The reminder goes out at the first one (fold=0),
  once.

Gaps are found by round-tripping through UTC: a wall time exists if and only if converting it to UTC and
back gives the same wall time. This works for any shift, including Lord Howe Island's 30 minutes.

Input rules decided here:

* Times are strict 24-hour ``H:MM`` or ``HH:MM`` (``7:05``, ``07:00``, ``19:30``); ``0700``, ``7pm``,
  ``24:00`` and seconds are refused, so there is one obvious way to write a time.
* Days are ``every day`` / ``daily`` / ``all``, ``weekdays``, ``weekends``, or a list of day names (full or
  abbreviated, separated by commas and/or spaces) and ranges (``tue-thu``; ``fri-mon`` wraps round the
  weekend). Monday is 0, as in :meth:`datetime.date.weekday`.
* Error messages never repeat what was typed.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import Final
from zoneinfo import ZoneInfo

from backrun_bot.errors import InvalidInput

TIME_FORMATS: Final = "Times are 24-hour HH:MM, e.g. 07:00 or 18:30."
DAY_FORMATS: Final = "Days: every day, weekdays, weekends, or a list such as mon,wed,fri or tue-thu."
DAY_ABBREVIATIONS: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
ALL_DAYS: Final = frozenset(range(7))
WEEKDAYS: Final = frozenset(range(5))
WEEKENDS: Final = frozenset({5, 6})

_MAX_TIME_TEXT: Final = 10
_MAX_DAYS_TEXT: Final = 100
_CLOCK: Final = re.compile(r"(\d{1,2}):(\d{2})", re.ASCII)
_DAY_NAMES: Final[dict[str, int]] = {
    **dict.fromkeys(("mon", "monday"), 0),
    **dict.fromkeys(("tue", "tues", "tuesday"), 1),
    **dict.fromkeys(("wed", "weds", "wednesday"), 2),
    **dict.fromkeys(("thu", "thur", "thurs", "thursday"), 3),
    **dict.fromkeys(("fri", "friday"), 4),
    **dict.fromkeys(("sat", "saturday"), 5),
    **dict.fromkeys(("sun", "sunday"), 6),
}
_DAY_GROUPS: Final[dict[str, frozenset[int]]] = {
    **dict.fromkeys(("everyday", "daily", "all"), ALL_DAYS),
    **dict.fromkeys(("weekdays", "weekday"), WEEKDAYS),
    **dict.fromkeys(("weekends", "weekend"), WEEKENDS),
}
_DAYS_ALLOWED: Final = frozenset("abcdefghijklmnopqrstuvwxyz ,-")
# At most this many local days are tried when looking for the next occurrence. A zone can skip a whole
# calendar day (Samoa, 2011-12-30), so two are needed in the worst case; the rest is margin.
_MAX_DAYS_AHEAD: Final = 7


class Slot(StrEnum):
    """A daily reminder: the warmup before training or the cooldown after it."""

    WARMUP = "warmup"
    COOLDOWN = "cooldown"

    @property
    def label(self) -> str:
        """Lower-case word for sentences: ``"warmup"`` or ``"cooldown"``."""
        return self.value


def parse_local_time(text: str) -> time:
    """A 24-hour wall-clock time, ``H:MM`` or ``HH:MM`` (00:00 to 23:59); :class:`InvalidInput` otherwise."""
    stripped = text.strip()
    if not stripped:
        raise InvalidInput("Give a time, such as 07:00.", hint=TIME_FORMATS)
    if len(stripped) > _MAX_TIME_TEXT:
        raise InvalidInput("That time is too long.", hint=TIME_FORMATS)
    match = _CLOCK.fullmatch(stripped)
    if match is None:
        raise InvalidInput("I could not read that time.", hint=TIME_FORMATS)
    hour, minute = int(match[1]), int(match[2])
    if hour > 23:
        raise InvalidInput("Hours go from 0 to 23 (midnight is 00:00).", hint=TIME_FORMATS)
    if minute > 59:
        raise InvalidInput("Minutes go from 00 to 59.", hint=TIME_FORMATS)
    return time(hour, minute)


def parse_days(text: str) -> frozenset[int]:
    """Days of the week (Monday=0) from ``every day``, ``weekdays``, ``weekends`` or a list and ranges.

    Items can be mixed (``weekends, wed``); repeats are harmless. Raises :class:`InvalidInput` on empty
    text, unknown words, and half-written ranges.
    """
    normal = " ".join(text.lower().split())
    if not normal:
        raise InvalidInput("Give the days, such as weekdays.", hint=DAY_FORMATS)
    if len(normal) > _MAX_DAYS_TEXT:
        raise InvalidInput("That list of days is too long.", hint=DAY_FORMATS)
    if not set(normal) <= _DAYS_ALLOWED:
        raise InvalidInput("Days are written with letters, commas and dashes only.", hint=DAY_FORMATS)
    normal = re.sub(r"\bevery day\b", "everyday", normal)
    normal = re.sub(r" ?- ?", "-", normal)
    days: set[int] = set()
    for item in re.split(r"[ ,]+", normal):
        if not item:
            continue
        if item in _DAY_GROUPS:
            days |= _DAY_GROUPS[item]
        elif "-" in item:
            days |= _day_range(item)
        elif item in _DAY_NAMES:
            days.add(_DAY_NAMES[item])
        else:
            raise InvalidInput("I don't know one of those days.", hint=DAY_FORMATS)
    if not days:
        raise InvalidInput("Give the days, such as weekdays.", hint=DAY_FORMATS)
    return frozenset(days)


def _day_range(item: str) -> set[int]:
    """``tue-thu`` → {1, 2, 3}; ``fri-mon`` wraps: {4, 5, 6, 0}; ``mon-mon`` is just Monday."""
    ends = item.split("-")
    if len(ends) != 2 or not all(end in _DAY_NAMES for end in ends):
        raise InvalidInput("A range of days is written like tue-thu.", hint=DAY_FORMATS)
    first, last = _DAY_NAMES[ends[0]], _DAY_NAMES[ends[1]]
    return {(first + step) % 7 for step in range((last - first) % 7 + 1)}


def format_days(days: frozenset[int]) -> str:
    """``"every day"``, ``"weekdays"``, ``"weekends"``, else ``"Mon, Wed, Fri"``; ``"no days"`` if empty."""
    if not days <= ALL_DAYS:
        raise ValueError("days of the week are 0 (Monday) to 6 (Sunday)")
    if days == ALL_DAYS:
        return "every day"
    if days == WEEKDAYS:
        return "weekdays"
    if days == WEEKENDS:
        return "weekends"
    if not days:
        return "no days"
    return ", ".join(DAY_ABBREVIATIONS[day] for day in sorted(days))


def occurrence_utc(day: date, at: time, tz: tzinfo) -> datetime:
    """The aware UTC instant at which the wall clock in ``tz`` shows ``at`` on the local ``day``.

    In a fold the first of the two instants; in a gap the first valid instant after it (the change).
    Any tzinfo or fold on ``at`` is ignored.
    """
    wall = datetime.combine(day, at.replace(tzinfo=None, fold=0))
    first = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == wall:
        return first
    # A gap. zoneinfo reads a missing time with the offset before the change (fold=0) or after it
    # (fold=1); the change lies between those two readings. Find the earliest instant whose wall time
    # has reached `wall` by bisection over whole seconds (offsets and changes are whole seconds, so
    # the search starts on a whole second: a time such as 02:00:00.5 still gives the change itself).
    second = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    low, high = min(first, second).replace(microsecond=0), max(first, second)
    lo_s, hi_s = 0, int((high - low).total_seconds())
    while hi_s - lo_s > 1:
        mid = (lo_s + hi_s) // 2
        if (low + timedelta(seconds=mid)).astimezone(tz).replace(tzinfo=None) >= wall:
            hi_s = mid
        else:
            lo_s = mid
    return low + timedelta(seconds=hi_s)


def next_occurrence(at: time, tz: ZoneInfo, after_utc: datetime) -> tuple[date, datetime]:
    """The first ``(local_day, utc_instant)`` of the daily time ``at`` in ``tz`` strictly after ``after_utc``.

    ``after_utc`` must be timezone-aware (any zone). Every local day yields one occurrence; a day whose
    occurrence would not be later than the one before (only possible when a zone skips a whole day) is
    passed over, so occurrences strictly increase.
    """
    if after_utc.tzinfo is None or after_utc.utcoffset() is None:
        raise ValueError("next_occurrence needs a timezone-aware datetime")
    after = after_utc.astimezone(UTC)
    # Start a day early: the local day of `after` may already be past its occurrence, or not.
    day = after.astimezone(tz).date() - timedelta(days=1)
    for _ in range(_MAX_DAYS_AHEAD):
        instant = occurrence_utc(day, at, tz)
        if instant > after:
            return day, instant
        day += timedelta(days=1)
    raise RuntimeError("no occurrence found within a week")  # pragma: no cover - impossible in tzdata


def due_occurrences(
    at: time, tz: ZoneInfo, since_utc: datetime, until_utc: datetime
) -> list[tuple[date, datetime]]:
    """Every occurrence with ``since_utc < instant <= until_utc``, oldest first (empty if none)."""
    if until_utc.tzinfo is None or until_utc.utcoffset() is None:
        raise ValueError("due_occurrences needs timezone-aware datetimes")
    result: list[tuple[date, datetime]] = []
    cursor = since_utc
    while True:
        day, instant = next_occurrence(at, tz, cursor)
        if instant > until_utc:
            return result
        result.append((day, instant))
        cursor = instant
