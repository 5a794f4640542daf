"""Reminders when several processes share one database (SHARD_IDS): each sends those of its own
servers only, the catch-up and the skips included, and two copies owning the same shard (a rolling
deploy) never send one twice. The real ``DeliveryService`` and scheduler on a migrated database
(SQLite, and PostgreSQL when configured: there the copies race on separate connections)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backrun_bot.domain.schedule import Slot
from backrun_bot.domain.shards import ShardSet, shard_of
from backrun_bot.scheduling.scheduler import ReminderScheduler
from backrun_bot.services.delivery import DeliveryService, DoneTarget, Picture, SlotGroup
from backrun_bot.services.reminder_settings import ReminderSettingsService
from backrun_bot.storage import reminder_queries as rq

OSLO = "Europe/Oslo"
MONDAY = date(2026, 3, 9)
SEVEN = datetime(2026, 3, 9, 6, 0, tzinfo=UTC)  # 07:00 in Oslo
WARMUP = SlotGroup(OSLO, time(7), Slot.WARMUP)
COOLDOWN = SlotGroup(OSLO, time(19), Slot.COOLDOWN)  # the default cooldown time
GRACE = timedelta(hours=2)


def guild_on(shard: int, count: int, n: int) -> int:
    """The ``n``-th made-up server id on ``shard`` of ``count`` (a snowflake of 2026)."""
    base = 1_470_000_000_000 + n * count  # milliseconds since Discord's epoch
    guild_id = ((base - base % count + shard) << 22) | (n & 0xFFF)
    assert shard_of(guild_id, count) == shard
    return guild_id


# Three servers on shard 0 of 2 and two on shard 1.
ON_0 = [guild_on(0, 2, n) for n in range(3)]
ON_1 = [guild_on(1, 2, n) for n in range(2)]
FIRST, SECOND = ShardSet.of(2, [0]), ShardSet.of(2, [1])


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Recorder:
    """A Sender recording (channel, nonce) of each message; yields once per send so that copies
    running together interleave as network round trips would."""

    sent: list[tuple[int, str]] = field(default_factory=list)

    async def send(
        self,
        channel_id: int,
        content: str,
        *,
        mention_user_ids: Sequence[int],
        nonce: str,
        key: str,
        picture: Picture | None = None,
        done: DoneTarget | None = None,
    ) -> int:
        await asyncio.sleep(0)
        self.sent.append((channel_id, nonce))
        return len(self.sent)

    async def find(self, channel_id: int, key: str, *, since: datetime) -> int | None:
        return None  # nothing here is ever re-taken


def channel_of(guild_id: int) -> int:
    return guild_id + 1


@pytest.fixture
def clock() -> Clock:
    return Clock(SEVEN - timedelta(minutes=10))


@pytest.fixture
async def teams(sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> list[int]:
    """Every server has the 07:00 Oslo warmup, set a little before 07:00."""
    settings = ReminderSettingsService(sessionmaker, clock=clock)
    for guild_id in ON_0 + ON_1:
        # The weekly summary off: Monday is only a day here (test_weekly.py has the summary).
        await settings.update(
            guild_id, channel_id=channel_of(guild_id), timezone=OSLO, warmup=time(7), weekly=False
        )
    clock.now = SEVEN
    return ON_0 + ON_1


def process(
    sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, shards: ShardSet
) -> tuple[DeliveryService, Recorder]:
    sender = Recorder()
    return DeliveryService(sessionmaker, sender, clock=clock, grace=GRACE, shards=shards), sender


def channels(sender: Recorder) -> list[int]:
    return sorted(channel for channel, _ in sender.sent)


async def test_each_process_sends_its_own_servers_reminders(
    sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, teams: list[int]
) -> None:
    first, to_first = process(sessionmaker, clock, FIRST)
    second, to_second = process(sessionmaker, clock, SECOND)

    assert (await first.deliver(WARMUP, MONDAY, SEVEN)).sent == 3
    assert channels(to_first) == sorted(map(channel_of, ON_0))
    # The second process has not run yet: the first left the other shard's servers alone.
    async with sessionmaker() as s:
        for guild_id in ON_1:
            assert await rq.deliveries(s, guild_id) == []

    assert (await second.deliver(WARMUP, MONDAY, SEVEN)).sent == 2
    assert channels(to_second) == sorted(map(channel_of, ON_1))


async def test_the_due_teams_query_filters_by_shard(
    sessionmaker: async_sessionmaker[AsyncSession], teams: list[int]
) -> None:
    async with sessionmaker() as s:

        async def due(shards: ShardSet | None) -> list[int]:
            return await rq.due_team_ids(s, OSLO, "07:00", "warmup", MONDAY, SEVEN, shards=shards)

        assert await due(FIRST) == sorted(ON_0)
        assert await due(SECOND) == sorted(ON_1)
        assert await due(None) == await due(ShardSet.of(2, None)) == sorted(ON_0 + ON_1)
        # Three shards split the same servers differently; still each exactly once.
        thirds = [await due(ShardSet.of(3, [k])) for k in range(3)]
        assert sorted(g for part in thirds for g in part) == sorted(ON_0 + ON_1)
        for k, part in enumerate(thirds):
            assert all(shard_of(g, 3) == k for g in part)


async def test_a_process_arms_no_job_for_a_time_only_other_shards_use(
    sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, teams: list[int]
) -> None:
    settings = ReminderSettingsService(sessionmaker, clock=clock)
    await settings.update(ON_1[0], warmup=time(6, 15))  # only a shard-1 server reminds at 06:15
    early = SlotGroup(OSLO, time(6, 15), Slot.WARMUP)
    first, _ = process(sessionmaker, clock, FIRST)
    second, _ = process(sessionmaker, clock, SECOND)
    assert await first.slot_groups() == {WARMUP, COOLDOWN}
    assert await second.slot_groups() == {WARMUP, COOLDOWN, early}


async def test_the_catch_up_sends_only_its_own_servers_reminders(
    sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, teams: list[int]
) -> None:
    # Both processes start at 07:30 after an outage: today's 07:00 is inside the grace window.
    clock.now = SEVEN + timedelta(minutes=30)
    first, to_first = process(sessionmaker, clock, FIRST)
    await ReminderScheduler(first, grace=GRACE, clock=clock).catch_up()
    assert channels(to_first) == sorted(map(channel_of, ON_0))
    async with sessionmaker() as s:
        for guild_id in ON_1:
            assert await rq.deliveries(s, guild_id) == []  # not even a skip recorded by the wrong one

    second, to_second = process(sessionmaker, clock, SECOND)
    await ReminderScheduler(second, grace=GRACE, clock=clock).catch_up()
    assert channels(to_second) == sorted(map(channel_of, ON_1))


async def test_too_late_only_its_own_servers_are_recorded_skipped(
    sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, teams: list[int]
) -> None:
    clock.now = SEVEN + GRACE + timedelta(minutes=1)
    first, to_first = process(sessionmaker, clock, FIRST)
    await first.skip(WARMUP, MONDAY, SEVEN, reason="the bot was down")
    assert to_first.sent == []
    async with sessionmaker() as s:
        for guild_id in ON_0:
            assert [r.status for r in await rq.deliveries(s, guild_id)] == ["skipped"]
        for guild_id in ON_1:
            assert await rq.deliveries(s, guild_id) == []


async def test_two_copies_owning_the_same_shard_send_each_reminder_once(
    sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, teams: list[int]
) -> None:
    """A rolling deploy: the new copy of shard 0 is up before the old one stopped. Both fire at
    07:00 (and both run the catch-up); the claim lets one of them send each server's reminder."""
    old, to_old = process(sessionmaker, clock, FIRST)
    new, to_new = process(sessionmaker, clock, FIRST)
    await asyncio.gather(
        old.deliver(WARMUP, MONDAY, SEVEN),
        new.deliver(WARMUP, MONDAY, SEVEN),
        ReminderScheduler(new, grace=GRACE, clock=clock).catch_up(),
    )
    assert sorted(channels(to_old) + channels(to_new)) == sorted(map(channel_of, ON_0))
    async with sessionmaker() as s:
        for guild_id in ON_0:
            [row] = await rq.deliveries(s, guild_id)
            assert row.status == "sent"
