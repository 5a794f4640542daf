"""Made-up time zones for cases tzdata does not have, so that the bisections over a gap are tested.

Every real gap that skips a midnight (Chile, Cuba, Iran...) begins exactly at midnight, and every gap
around a reminder time is a whole hour or half hour; the code must not rely on either.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

HOUR = timedelta(hours=1)
ZERO = timedelta(0)


class JumpZone(tzinfo):
    """UTC+0 until ``jump_utc`` (naive, in UTC), UTC+1 from then on: local clocks skip the hour
    ``[jump_utc, jump_utc + 1 h)``. Follows PEP 495: a wall time in the gap reads with the offset
    before the jump when ``fold=0`` and with the one after it when ``fold=1``."""

    def __init__(self, jump_utc: datetime) -> None:
        self.jump_utc = jump_utc

    def utcoffset(self, dt: datetime | None) -> timedelta:
        assert dt is not None
        wall = dt.replace(tzinfo=None)
        if wall < self.jump_utc:  # the offset before is 0, so the gap starts at jump_utc local
            return ZERO
        if wall >= self.jump_utc + HOUR:
            return HOUR
        return HOUR if dt.fold else ZERO

    def dst(self, dt: datetime | None) -> timedelta:
        return self.utcoffset(dt) if dt is not None else ZERO

    def tzname(self, dt: datetime | None) -> str:
        return "JUMP"

    def fromutc(self, dt: datetime) -> datetime:
        return dt + (ZERO if dt.replace(tzinfo=None) < self.jump_utc else HOUR)


class NoOffset(tzinfo):
    """A tzinfo that knows no offset: a datetime carrying it is still naive (Python's definition)."""

    def utcoffset(self, dt: datetime | None) -> None:
        return None

    def dst(self, dt: datetime | None) -> None:
        return None

    def tzname(self, dt: datetime | None) -> str:
        return "NONE"
