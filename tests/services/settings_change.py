"""A change of a team's reminder settings as data, for tests that build one up or parametrize it."""

from __future__ import annotations

from datetime import time
from typing import TypedDict


class SettingsChange(TypedDict, total=False):
    """The keyword arguments of ``ReminderSettingsService.update``: ``update(guild, **change)``
    type-checks (mypy compares the keys and value types with the method's parameters)."""

    channel_id: int | None
    timezone: str | None
    warmup: time | None
    cooldown: time | None
    days: frozenset[int] | None
    heavy_meters: float | None
    weekly: bool | None
