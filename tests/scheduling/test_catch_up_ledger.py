"""The occurrence ledger behind the catch-up at start (issue 9): a restart with nothing missed costs
one query, an occurrence is recorded as finished only when nothing of it is pending, and one left
unfinished by a crash is finished by the next start, once.

The real scheduler and ``DeliveryService`` on a migrated database (SQLite, and PostgreSQL when
configured), with the stand-still clock and recording sender of ``tests/services/test_delivery.py``.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backrun_bot.domain.schedule import Slot
from backrun_bot.domain.shards import ShardSet
from backrun_bot.errors import DeliveryError
from backrun_bot.scheduling.scheduler import RETRY_JOB_PREFIX, ReminderScheduler
from backrun_bot.services.delivery import CLAIM_LEASE, OCCURRENCE_DAYS, DeliveryService, SlotGroup
from backrun_bot.services.reminder_settings import ReminderSettingsService
from backrun_bot.services.training import TrainingService
from backrun_bot.storage import occurrence_queries as oq
from backrun_bot.storage import reminder_queries as rq
from tests.services.test_delivery import (
    CHANNEL,
    COOLDOWN,
    GRACE,
    MONDAY,
    OSLO,
    SEVEN,
    TEAM_A,
    TEAM_B,
    TEAM_C,
    TEAM_D,
    TUESDAY,
    WARMUP,
    Clock,
    Crash,
    RecordingSender,
    World,
    statements_of,
)

pytestmark = pytest.mark.timeout(60)

HALF_PAST = SEVEN + timedelta(minutes=30)  # 07:30 in Oslo: today's warmup is inside the grace window
SUNDAY = MONDAY - timedelta(days=1)
TEAMS = (TEAM_A, TEAM_B, TEAM_C, TEAM_D)


@pytest.fixture
def world(sessionmaker: async_sessionmaker[AsyncSession]) -> World:
    clock = Clock(SEVEN - timedelta(minutes=10))
    sender = RecordingSender()
    return World(
        sessionmaker,
        clock,
        sender,
        DeliveryService(sessionmaker, sender, clock=clock, grace=GRACE),
        ReminderSettingsService(sessionmaker, clock=clock),
        TrainingService(sessionmaker, clock),
    )


def restarted(world: World, shards: ShardSet | None = None) -> tuple[DeliveryService, ReminderScheduler]:
    """A new process on the same database (and Discord): a fresh service and scheduler."""
    service = DeliveryService(
        world.sessionmaker, world.sender, clock=world.clock, grace=GRACE, shards=shards or ShardSet.every()
    )
    return service, ReminderScheduler(service, grace=GRACE, clock=world.clock)


async def finished(service: DeliveryService) -> set[tuple[SlotGroup, date]]:
    return await service.settled(SEVEN - timedelta(days=2))


def messages_per_channel(world: World) -> list[int]:
    return [len(world.sender.to(CHANNEL[team])) for team in TEAMS]


async def test_a_restart_after_everything_was_sent_runs_one_statement_for_the_catch_up(world: World) -> None:
    for team in TEAMS:
        await world.team(team)
    world.clock.now = HALF_PAST
    service, scheduler = restarted(world)
    await scheduler.catch_up()
    # Today's warmup sent; yesterday's cooldown (its settings are newer) had nobody due.
    assert messages_per_channel(world) == [1, 1, 1, 1]
    assert await finished(service) == {(WARMUP, MONDAY), (COOLDOWN, SUNDAY)}

    world.clock.advance(timedelta(minutes=5))
    service, scheduler = restarted(world)
    groups = await service.slot_groups()  # as the start's refresh reads them
    with statements_of(world) as statements:
        await scheduler.catch_up(groups)
    assert len(statements) == 1 and "reminder_occurrences" in statements[0], statements
    assert messages_per_channel(world) == [1, 1, 1, 1]
    assert scheduler.job_count() == 0  # nothing left to retry


async def test_a_restart_after_a_crash_mid_fan_out_finishes_the_occurrence_once(world: World) -> None:
    for team in TEAMS:
        await world.team(team)
    world.clock.now = HALF_PAST
    # The process dies once Discord has taken team B's warmup, before any outcome is recorded.
    world.sender.sent_then[CHANNEL[TEAM_B]] = Crash()
    service, scheduler = restarted(world)
    with pytest.raises(Crash):
        await scheduler.catch_up()
    assert (WARMUP, MONDAY) not in await finished(service)

    # Restarted at once: the dead process's claims are not stale yet, so the occurrence is pending,
    # left to a retry in the background, and still not finished.
    world.clock.advance(timedelta(seconds=10))
    service, scheduler = restarted(world)
    await scheduler.catch_up()
    assert [job.id.startswith(RETRY_JOB_PREFIX) for job in scheduler._scheduler.get_jobs()] == [True]
    assert (WARMUP, MONDAY) not in await finished(service)

    # Restarted once they are stale: every team's warmup is in its channel once.
    world.clock.advance(CLAIM_LEASE)
    service, scheduler = restarted(world)
    await scheduler.catch_up()
    assert messages_per_channel(world) == [1, 1, 1, 1]
    assert {(await world.row(team)).status for team in TEAMS} == {"sent"}
    assert (WARMUP, MONDAY) in await finished(service)

    service, scheduler = restarted(world)
    groups = await service.slot_groups()
    with statements_of(world) as statements:
        await scheduler.catch_up(groups)
    assert len(statements) == 1, statements
    assert messages_per_channel(world) == [1, 1, 1, 1]


async def test_an_occurrence_with_a_retry_pending_is_not_recorded_as_finished(world: World) -> None:
    await world.team(TEAM_A)
    await world.team(TEAM_B)
    world.clock.now = HALF_PAST
    world.sender.failures[CHANNEL[TEAM_B]] = [DeliveryError("503 Service Unavailable")]
    service, scheduler = restarted(world)
    await scheduler.catch_up()
    assert (await world.row(TEAM_B)).status == "retry"
    assert (WARMUP, MONDAY) not in await finished(service)

    # The next start runs it again and sends B's (only B's).
    world.clock.advance(timedelta(minutes=1))
    service, scheduler = restarted(world)
    await scheduler.catch_up()
    assert [len(world.sender.to(CHANNEL[t])) for t in (TEAM_A, TEAM_B)] == [1, 1]
    assert (WARMUP, MONDAY) in await finished(service)


async def test_a_skip_that_leaves_a_team_to_another_run_is_not_recorded_as_finished(world: World) -> None:
    await world.team(TEAM_A)
    await world.team(TEAM_B)
    late = SEVEN + GRACE + timedelta(minutes=1)
    # Another copy claimed A's warmup just now (it is sending it, for all this one knows).
    async with world.sessionmaker.begin() as s:
        assert (await rq.claim(s, TEAM_A, MONDAY, "warmup", late, stale_before=late - CLAIM_LEASE)).won
    world.clock.now = late
    service, scheduler = restarted(world)
    await scheduler.catch_up()
    assert (await world.row(TEAM_A)).status == "claimed"
    assert (await world.row(TEAM_B)).status == "skipped"
    assert (WARMUP, MONDAY) not in await finished(service)

    # That copy died: once its claim is stale, the next start records A as skipped, and finishes it.
    world.clock.advance(CLAIM_LEASE + timedelta(seconds=1))
    service, scheduler = restarted(world)
    await scheduler.catch_up()
    assert (await world.row(TEAM_A)).status == "skipped"
    assert (WARMUP, MONDAY) in await finished(service)
    assert world.sender.sent == []


async def test_a_pause_shortened_to_today_does_not_make_a_finished_reminder_due(world: World) -> None:
    """The catch-up trusts a finished occurrence to stay finished because a team is due only for
    reminders whose time came after its settings were saved: a pause saves them too."""
    await world.team(TEAM_A)
    await world.settings.pause(TEAM_A, TUESDAY)  # no warmup on Monday
    world.clock.now = SEVEN
    service, scheduler = restarted(world)
    assert await scheduler._run_occurrence(WARMUP, MONDAY, SEVEN)
    assert world.sender.sent == []
    assert (WARMUP, MONDAY) in await finished(service)

    world.clock.now = SEVEN + timedelta(hours=1)
    await world.settings.pause(TEAM_A, MONDAY)  # "until today": reminders from today on
    async with world.sessionmaker() as s:
        assert await rq.due_team_ids(s, OSLO, "07:00", "warmup", MONDAY, SEVEN) == []
        # Tomorrow's goes out.
        tomorrow = SEVEN + timedelta(days=1)
        assert await rq.due_team_ids(s, OSLO, "07:00", "warmup", TUESDAY, tomorrow) == [TEAM_A]


async def test_another_shard_layout_never_trusts_these_records(world: World) -> None:
    await world.team(TEAM_A)
    world.clock.now = SEVEN
    service, _ = restarted(world)
    await service.settle(WARMUP, MONDAY, SEVEN)
    same_servers, _ = restarted(world, ShardSet.of(2, [0, 1]))  # every server, as two shards
    half, _ = restarted(world, ShardSet.of(2, [0]))
    assert await finished(same_servers) == {(WARMUP, MONDAY)}
    assert await finished(half) == set()


def test_a_shard_set_is_keyed_by_the_servers_it_serves() -> None:
    assert oq.shards_key(ShardSet.every()) == oq.shards_key(ShardSet.of(4, None)) == "all"
    assert oq.shards_key(ShardSet.of(16, [3, 0, 1, 2, 9, 11, 10])) == "16:0-3,9-11"
    assert oq.shards_key(ShardSet.of(16, [5])) == "16:5"
    assert oq.shards_key(ShardSet.of(16, [0, 1])) != oq.shards_key(ShardSet.of(32, [0, 1]))
    scattered = ShardSet.of(1000, list(range(0, 1000, 2)))
    key = oq.shards_key(scattered)
    assert len(key) <= 200 and key != oq.shards_key(ShardSet.of(1000, list(range(1, 1000, 2))))


async def test_the_catch_up_reads_only_its_look_back(world: World) -> None:
    """Records of occurrences before the look-back are not returned (they would not be asked for)."""
    await world.team(TEAM_A)
    world.clock.now = SEVEN
    service, _ = restarted(world)
    await service.settle(WARMUP, SUNDAY, SEVEN - timedelta(days=1))
    await service.settle(WARMUP, MONDAY, SEVEN)
    assert await service.settled(SEVEN - timedelta(days=1)) == {(WARMUP, MONDAY)}
    assert await service.settled(SEVEN - timedelta(days=1, seconds=1)) == {(WARMUP, MONDAY), (WARMUP, SUNDAY)}


async def test_occurrence_records_are_pruned_after_a_few_days(world: World) -> None:
    await world.team(TEAM_A)
    service, _ = restarted(world)
    for days_ago in (0, OCCURRENCE_DAYS - 1, OCCURRENCE_DAYS, OCCURRENCE_DAYS + 1, 40):
        await service.settle(WARMUP, MONDAY - timedelta(days=days_ago), SEVEN - timedelta(days=days_ago))
    world.clock.now = SEVEN
    await service.prune()
    kept = sorted((MONDAY - day).days for _, day in await service.settled(SEVEN - timedelta(days=100)))
    assert kept == [0, OCCURRENCE_DAYS - 1, OCCURRENCE_DAYS]


async def test_recording_an_occurrence_twice_is_harmless(world: World) -> None:
    await world.team(TEAM_A)
    service, _ = restarted(world)
    other_instant: datetime = SEVEN + timedelta(seconds=1)
    await service.settle(WARMUP, MONDAY, SEVEN)
    await service.settle(WARMUP, MONDAY, other_instant)  # another copy, a moment later
    assert await finished(service) == {(WARMUP, MONDAY)}
    # The slot is part of the key: a cooldown at the same time is another occurrence.
    cooldown_seven = SlotGroup(OSLO, time(7), Slot.COOLDOWN)
    await service.settle(cooldown_seven, MONDAY, SEVEN)
    assert await finished(service) == {(WARMUP, MONDAY), (cooldown_seven, MONDAY)}
