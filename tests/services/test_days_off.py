"""Who is given a day off: the screened path (a few sums per athlete in SQL, then ``assess_day`` on
the athletes they let through) names exactly the athletes, for exactly the same ``HeavyDay``, as
``assess_day`` run on every athlete's days, for one team (``compose``, ``/reminders test``) and for
a fan-out batch of many (issue 9); on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backrun_bot.domain.day_off import DayOff
from backrun_bot.domain.load import DayLog, Rule, assess_day
from backrun_bot.domain.schedule import Slot
from backrun_bot.services.delivery import DeliveryService
from backrun_bot.services.reminder_settings import ReminderSettingsService
from backrun_bot.services.training import TrainingService
from backrun_bot.storage.models import Athlete, Team
from tests.domain.test_load import random_history
from tests.services.test_delivery import (
    CHANNEL,
    GRACE,
    MONDAY,
    SEVEN,
    WARMUP,
    Clock,
    RecordingSender,
    World,
    statements_of,
)
from tests.storage.test_load_queries import in_lookback, store

SUNDAY = MONDAY - timedelta(days=1)  # the day Monday's warmup looks back on
# Teams with their heavy-day marks (a fan-out batch mixes them).
MARKS = {501: 1600.0, 502: 800.0, 503: 2500.0, 504: 20_000.0, 505: 100.0}


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


async def squads(world: World, seed: int, size: int = 40) -> dict[int, list[DayOff]]:
    """Teams of ``size`` athletes with random histories up to Sunday (and a few days after it,
    which must not count), some with mentions off; returns, by team, what ``assess_day`` run on
    every athlete's days names: the reference the screened path must match."""
    rnd = random.Random(seed)
    expected: dict[int, list[DayOff]] = {}
    for team_id, mark in MARKS.items():
        await world.team(team_id, heavy_meters=mark)
        athletes = []
        for n in range(size):
            logs = random_history(rnd, SUNDAY, mark)
            if rnd.random() < 0.2:
                logs.append(DayLog(MONDAY, (rnd.uniform(100, 5000),)))  # logged on the day itself
            athletes.append((team_id * 1000 + n, f"{rnd.choice('abcXYZ')}thlete {n}", logs))
        async with world.sessionmaker.begin() as s:
            ids = await store(s, team_id, athletes)
            muted = [ids[user_id] for user_id, _name, _logs in athletes if user_id % 5 == 0]
            for athlete_id in muted:
                athlete = await s.get(Athlete, athlete_id)
                assert athlete is not None
                athlete.mentions_enabled = False
        offs = []
        for user_id, name, logs in athletes:
            heavy = assess_day(in_lookback(logs, SUNDAY), SUNDAY, mark)
            if heavy is not None:
                offs.append(DayOff(user_id, name, user_id % 5 != 0, heavy))
        expected[team_id] = sorted(offs, key=lambda d: d.display_name.lower())
    return expected


def rules_fired(expected: dict[int, list[DayOff]]) -> Counter[tuple[Rule, ...]]:
    return Counter(off.heavy.rules for offs in expected.values() for off in offs if off.heavy is not None)


@pytest.mark.parametrize("seed", [1, 2])
async def test_one_team_names_exactly_whom_assessing_everyone_names(world: World, seed: int) -> None:
    expected = await squads(world, seed)
    fired = rules_fired(expected)
    # Every rule fired alone somewhere: a screen that held back any kind of heavy day would show.
    assert min(fired[(Rule.VOLUME,)], fired[(Rule.SPIKE,)]) >= 3, fired
    for team_id in MARKS:
        async with world.sessionmaker() as s:
            team = await s.get(Team, team_id)
            assert team is not None
            with statements_of(world) as statements:
                offs = await world.delivery.days_off(s, team, MONDAY)
        assert offs == expected[team_id]  # the same athletes, order and HeavyDay, to the last bit
        # The screen, then the days of those it let through (if any), and the day's sore check-ins.
        assert 2 <= len(statements) <= 3, statements


async def test_the_fan_out_names_exactly_whom_assessing_everyone_names(world: World) -> None:
    """One batch for all the teams: each message is the one the reference day-offs compose."""
    expected = await squads(world, 3)
    world.clock.now = SEVEN
    with statements_of(world) as statements:
        assert (await world.delivery.deliver(WARMUP, MONDAY, SEVEN)).sent == len(MARKS)
    async with world.sessionmaker() as s:
        for team_id in MARKS:
            team = await s.get(Team, team_id)
            assert team is not None
            want = DeliveryService._compose(team, MONDAY, Slot.WARMUP, expected[team_id])
            [sent] = world.sender.to(CHANNEL.get(team_id, team_id + 100_000))
            assert (sent.content, sent.mention_user_ids) == (want.content, want.mention_user_ids)
    assert sum(len(offs) for offs in expected.values()) >= 10
    # The due teams, then one batch: claim, the teams, the screen, the days let through, the sore
    # check-ins, the outcomes, and the named athletes' rest days.
    assert len(statements) <= 8, statements


async def test_nobody_ran_backward_so_nothing_but_the_screen_is_read(world: World) -> None:
    await world.team(501)
    async with world.sessionmaker.begin() as s:
        await store(
            s, 501, [(1, "forward only", [DayLog(SUNDAY - timedelta(days=k), (), 9000.0) for k in range(40)])]
        )
        await store(s, 501, [(2, "backward saturday", [DayLog(SUNDAY - timedelta(days=1), (5000.0,))])])
    async with world.sessionmaker() as s:
        team = await s.get(Team, 501)
        assert team is not None
        with statements_of(world) as statements:
            assert await world.delivery.days_off(s, team, MONDAY) == []
    assert len(statements) == 2, statements  # the screen and the sore check-ins


async def test_days_after_the_heavy_day_do_not_count(world: World) -> None:
    await world.team(501)
    day: date = SUNDAY
    async with world.sessionmaker.begin() as s:
        await store(
            s, 501, [(1, "steady", [DayLog(day - timedelta(days=k), (1000.0,)) for k in range(-3, 40)])]
        )
        await store(
            s, 501, [(2, "spiky", [DayLog(day - timedelta(days=3), (1000.0,)), DayLog(day, (1400.0,))])]
        )
    async with world.sessionmaker() as s:
        team = await s.get(Team, 501)
        assert team is not None
        offs = await world.delivery.days_off(s, team, day + timedelta(days=1))
    assert [(off.user_id, off.heavy and off.heavy.rules) for off in offs] == [(2, (Rule.SPIKE,))]
