"""Discord snowflakes and timestamps.

Ids follow Discord's layout (milliseconds since the Discord epoch in the top 42 bits) so that
discord.py's ``created_at`` and ``snowflake_time`` give sensible values. The wall clock is
``time.time()``, which time-machine travels in tests: ids then agree with the test's "now".
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

DISCORD_EPOCH_MS = 1_420_070_400_000


class SnowflakeFactory:
    """Strictly increasing snowflakes, even when the (travelled) clock goes backwards."""

    def __init__(self) -> None:
        self._last = 0
        self._increment = 0
        self._process = os.getpid() & 0x1F

    def next(self) -> int:
        millis = max(0, int(time.time() * 1000) - DISCORD_EPOCH_MS)
        self._increment = (self._increment + 1) & 0xFFF
        candidate = (millis << 22) | (1 << 17) | (self._process << 12) | self._increment
        if candidate <= self._last:
            candidate = self._last + 1
        self._last = candidate
        return candidate


def snowflake_time(snowflake: int) -> datetime:
    """When ``snowflake`` was made, as Discord would say."""
    return datetime.fromtimestamp(((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000, tz=UTC)


def now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime | None) -> str | None:
    """Discord's ISO 8601 form, e.g. ``2026-03-08T15:00:00.000000+00:00``."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
