"""Discord snowflakes and timestamps.

Ids follow Discord's layout (milliseconds since the Discord epoch in the top 42 bits) so that
discord.py's ``created_at`` and ``snowflake_time`` give sensible values. The wall clock is
``time.time()``, which time-machine travels in tests: ids then agree with the test's "now".

:class:`StableIds` makes ids from names instead, for a world that must be the same in every run
(the sandbox keeps its database between runs, keyed by these ids).
"""

from __future__ import annotations

import hashlib
import os
import time
from datetime import UTC, datetime

DISCORD_EPOCH_MS = 1_420_070_400_000
# Stable ids are "made" during this day, so created_at is a plain past date, the same in every run
# and always before the time-based ids of messages and interactions.
STABLE_EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
_STABLE_EPOCH_MS = int(STABLE_EPOCH.timestamp() * 1000)
_DAY_MS = 86_400_000
# Discord's sharding: a guild belongs to shard (guild_id >> 22) % shard_count.
Shard = tuple[int, int]  # (shard id, shard count), as in IDENTIFY


def on_shard(snowflake: int, shard: Shard) -> int:
    """The smallest id at or after ``snowflake``, with the same low 22 bits, that falls on ``shard``
    (its timestamp moves less than ``shard_count`` milliseconds on)."""
    shard_id, count = shard
    return snowflake + (((shard_id - (snowflake >> 22)) % count) << 22)


class SnowflakeFactory:
    """Strictly increasing snowflakes, even when the (travelled) clock goes backwards."""

    def __init__(self) -> None:
        self._last = 0
        self._increment = 0
        self._process = os.getpid() & 0x1F

    def next(self, shard: Shard | None = None) -> int:
        """The next id; with ``shard``, the next one that falls on that shard (for a guild)."""
        millis = max(0, int(time.time() * 1000) - DISCORD_EPOCH_MS)
        self._increment = (self._increment + 1) & 0xFFF
        candidate = (millis << 22) | (1 << 17) | (self._process << 12) | self._increment
        if candidate <= self._last:
            candidate = self._last + 1
        if shard is not None:
            candidate = on_shard(candidate, shard)
        self._last = candidate
        return candidate


class StableIds:
    """Snowflakes derived from a key such as ``("channel", guild_id, "general")``.

    The same key gives the same id in every process and whatever the order things are made in. A
    64-bit hash of the key picks the millisecond within :data:`STABLE_EPOCH`'s day and the low 22
    bits, so two keys practically never meet; when they do (or one key is asked twice, e.g. two
    guilds with one name), the later one takes the next free id.
    """

    def __init__(self) -> None:
        self._issued: set[int] = set()

    def id_for(self, *key: str | int, shard: Shard | None = None) -> int:
        text = "\x1f".join(str(part) for part in key).encode()
        digest = int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")
        millis = _STABLE_EPOCH_MS - DISCORD_EPOCH_MS + digest % _DAY_MS
        candidate = (millis << 22) | ((digest // _DAY_MS) & 0x3FFFFF)
        if shard is not None:
            candidate = on_shard(candidate, shard)
        while candidate in self._issued:
            candidate = candidate + 1 if shard is None else on_shard(candidate + 1, shard)
        self._issued.add(candidate)
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
