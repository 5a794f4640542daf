"""Days, time zones and periods.

A team has one IANA time zone; "today", the day an entry counts for, and the periods of ``/stats`` are
all in that zone. The database stores moments in UTC, so a local day is turned into a UTC range with
:func:`day_bounds_utc`, which stays right on days that are 23, 23.5, 24.5 or 25 hours long.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo, available_timezones

from backrun_bot.errors import DateError, InvalidInput

MAX_DAYS_BACK: Final = 365
_MAX_DATE_TEXT: Final = 40  # refuse longer text before looking at it
_ISO_DAY: Final = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
# The longest IANA name today is 32 characters ("America/Argentina/ComodRivadavia").
_MAX_TZ_NAME: Final = 64
_TZ_NAME: Final = re.compile(r"[A-Za-z0-9_+-]+(?:/[A-Za-z0-9_+-]+)*", re.ASCII)


def date_formats(today: date) -> str:
    """The hint after a refused date: the forms accepted, with an example that is valid when read
    (yesterday's date, in the zone ``today`` was taken in)."""
    example = today if today == date.min else today - timedelta(days=1)
    return f"Dates: today, yesterday or YYYY-MM-DD (for example {example.isoformat()})."


def parse_day(text: str | None, *, today: date) -> date:
    """The day an entry is for: ``None``/``""``/``today``, ``yesterday`` or ``YYYY-MM-DD``.

    Refused with :class:`DateError` (hint: :func:`date_formats`): unreadable text, impossible dates
    (2025-02-30), days after ``today``, and days more than :data:`MAX_DAYS_BACK` days before it.
    Messages never echo the text.
    """

    def refuse(message: str) -> DateError:
        return DateError(message, hint=date_formats(today))

    if text is None:
        return today
    if len(text) > _MAX_DATE_TEXT:
        raise refuse("I could not read that date.")
    word = text.strip().lower()
    if word in ("", "today"):
        return today
    if word == "yesterday":
        if today == date.min:
            raise refuse("That date is too far back.")
        return today - timedelta(days=1)
    match = _ISO_DAY.fullmatch(word)
    if match is None:
        raise refuse("I could not read that date.")
    try:
        day = date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise refuse("There is no such date.") from None
    if day > today:
        raise refuse("That date is in the future; log a session once it is done.")
    if (today - day).days > MAX_DAYS_BACK:
        raise refuse(f"That date is more than {MAX_DAYS_BACK} days back.")
    return day


def local_date(moment_utc: datetime, tz: ZoneInfo) -> date:
    """The calendar day in ``tz`` at an aware moment; a naive datetime is a bug, so ValueError."""
    if moment_utc.tzinfo is None or moment_utc.utcoffset() is None:
        raise ValueError("local_date needs a timezone-aware datetime")
    return moment_utc.astimezone(tz).date()


def day_bounds_utc(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """``[start, end)`` of the local ``day`` in ``tz``, as aware UTC datetimes.

    The end is the start of the next day, so a day is 23 h or 25 h long across a DST change (23.5 h /
    24.5 h on Lord Howe Island), and days in a row share their bounds exactly.
    """
    return _day_start_utc(day, tz), _day_start_utc(day + timedelta(days=1), tz)


def _day_start_utc(day: date, tz: tzinfo) -> datetime:
    """The first instant whose local date in ``tz`` is ``day``.

    Usually local midnight. When midnight is repeated (clocks go back to 00:00) the earlier one counts
    (fold=0). When midnight does not exist (clocks jump over it, as in Chile or formerly Brazil), the day
    begins at the jump: it lies between the two readings of midnight, found by bisection.
    """
    naive = datetime.combine(day, time.min)
    first, second = (naive.replace(tzinfo=tz, fold=fold).astimezone(UTC) for fold in (0, 1))
    low, high = min(first, second), max(first, second)
    if low.astimezone(tz).date() == day:
        return low
    # In a gap: local date at `low` is the day before and at `high` it is `day`; one transition between.
    lo_s, hi_s = 0, int((high - low).total_seconds())
    while hi_s - lo_s > 1:
        mid = (lo_s + hi_s) // 2
        if (low + timedelta(seconds=mid)).astimezone(tz).date() == day:
            hi_s = mid
        else:
            lo_s = mid
    return low + timedelta(seconds=hi_s)


def week_start(day: date) -> date:
    """The Monday of ``day``'s ISO week."""
    return day - timedelta(days=day.weekday())


class Period(StrEnum):
    """A ``/stats`` period: the current calendar week, month or year, or all time."""

    WEEK = "week"
    MONTH = "month"
    YEAR = "year"
    ALL = "all"


def period_start(period: Period, today: date) -> date | None:
    """First day of the calendar period containing ``today`` (week from Monday); None for all time."""
    if period is Period.WEEK:
        return week_start(today)
    if period is Period.MONTH:
        return today.replace(day=1)
    if period is Period.YEAR:
        return today.replace(month=1, day=1)
    return None


def is_valid_timezone(name: str) -> bool:
    """True if ``name`` is an IANA zone zoneinfo knows (e.g. ``Europe/Oslo``); never raises.

    Only names from :func:`zoneinfo.available_timezones` pass, so paths such as ``../etc/passwd`` or
    ``/usr/share/zoneinfo/UTC`` are never handed to :class:`ZoneInfo`.
    """
    try:
        if not isinstance(name, str) or not 0 < len(name) <= _MAX_TZ_NAME:
            return False
        if _TZ_NAME.fullmatch(name) is None:
            return False
        return name in _known_timezones()
    except Exception:  # a broken tz database must not take a command down; say "unknown" instead
        return False


def require_timezone(name: str) -> str:
    """``name`` if it is a timezone :func:`is_valid_timezone` accepts; :class:`InvalidInput` if not."""
    if not is_valid_timezone(name):
        raise InvalidInput(
            "That is not a timezone name I know.",
            hint="Use an IANA name such as Europe/London or America/New_York (the list offers them).",
        )
    return name


@lru_cache(maxsize=1)
def _known_timezones() -> frozenset[str]:
    # available_timezones() walks the tz database on disk; the answer does not change while we run.
    return frozenset(available_timezones())


def find_timezones(query: str, limit: int = 25) -> list[str]:
    """IANA names for a timezone picker, best first.

    ``"lord"`` finds ``Australia/Lord_Howe`` before ``Asia/Qyzylorda``: a name where a part
    (between ``/`` and ``_``) starts with the query ranks above one that merely contains it.
    Spaces count as underscores (``new york``). Legacy aliases without a region
    (``EST5EDT``) are left out unless typed in full.
    """
    needle = query.strip().lower().replace(" ", "_")
    ranked: list[tuple[int, str]] = []
    for name in _known_timezones():
        lowered = name.lower()
        if needle not in lowered:
            continue
        if lowered == needle:
            rank = 0
        elif "/" not in name:
            continue  # legacy alias such as EST5EDT, only offered when typed in full
        elif any(part.startswith(needle) for part in re.split(r"[/_]", lowered)):
            rank = 1
        else:
            rank = 2
        ranked.append((rank, name))
    return [name for _, name in sorted(ranked)[:limit]]
