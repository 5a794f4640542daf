"""The settings service tells its ``on_change`` callback about every saved change, and only then.

(That the scheduler is re-armed through it is tested end to end in tests/discord_app/test_reminders.py.)
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backrun_bot.errors import InvalidInput
from backrun_bot.services.reminder_settings import ReminderSettingsService
from backrun_bot.storage.models import Team
from tests.services.settings_change import SettingsChange

NOW = datetime(2026, 3, 9, 6, 0, tzinfo=UTC)
GUILD = 42


class Calls:
    def __init__(self, *, fail: bool = False) -> None:
        self.count = 0
        self.fail = fail

    async def __call__(self) -> None:
        self.count += 1
        if self.fail:
            raise RuntimeError("the scheduler is down")


def service(sm: async_sessionmaker[AsyncSession], calls: Calls) -> ReminderSettingsService:
    return ReminderSettingsService(sm, clock=lambda: NOW, on_change=calls)


async def test_each_saved_change_is_announced_once(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    calls = Calls()
    settings = service(sessionmaker, calls)
    await settings.update(GUILD, channel_id=7, warmup=time(7))
    assert calls.count == 1
    await settings.pause(GUILD, date(2026, 3, 12))
    assert calls.count == 2
    await settings.resume(GUILD)
    assert calls.count == 3
    await settings.settings(GUILD)  # reading changes nothing
    assert calls.count == 3


@pytest.mark.parametrize(
    "change",
    [
        SettingsChange(warmup=time(7)),  # the first change needs a channel
        SettingsChange(channel_id=7, heavy_meters=50.0),
        SettingsChange(channel_id=7, days=frozenset()),
    ],
)
async def test_a_refused_change_is_not_announced(
    sessionmaker: async_sessionmaker[AsyncSession], change: SettingsChange
) -> None:
    calls = Calls()
    with pytest.raises(InvalidInput):
        await service(sessionmaker, calls).update(GUILD, **change)
    assert calls.count == 0


async def test_the_change_is_announced_after_it_is_committed(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    seen: list[int | None] = []

    async def read_back() -> None:
        # What the scheduler does: read the teams in a transaction of its own.
        async with sessionmaker() as s:
            team = await s.get(Team, GUILD)
            seen.append(None if team is None else team.reminder_channel_id)

    await ReminderSettingsService(sessionmaker, clock=lambda: NOW, on_change=read_back).update(
        GUILD, channel_id=7
    )
    assert seen == [7]


async def test_a_failing_callback_does_not_undo_or_hide_the_saved_change(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    calls = Calls(fail=True)
    saved = await service(sessionmaker, calls).update(GUILD, channel_id=7)
    assert calls.count == 1 and saved.channel_id == 7
    assert (await service(sessionmaker, Calls()).settings(GUILD)).channel_id == 7


async def test_the_heavy_day_bounds_are_shown_as_distances(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    with pytest.raises(InvalidInput) as refused:
        await service(sessionmaker, Calls()).update(GUILD, channel_id=7, heavy_meters=25_000.0)
    assert refused.value.message == "The heavy-day mark must be between 100 m and 20 km."
