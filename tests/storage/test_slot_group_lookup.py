"""The slot-group lookup (issue 9): read from the slots' partial indexes by seeking from one group to
the next, it gives exactly what the plain DISTINCT over every team gives, for every shard set and
after every kind of settings change the bot makes (set, pause, resume, a lost channel); and its
plan, like that of a group's due teams, goes through those indexes, never through every team. On
SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import CompoundSelect, Select, insert, literal, select, text, union
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from backrun_bot.domain.schedule import Slot
from backrun_bot.domain.shards import ShardSet
from backrun_bot.services.delivery import DeliveryService, SlotGroup
from backrun_bot.services.reminder_settings import ReminderSettingsService
from backrun_bot.storage import reminder_queries as rq
from backrun_bot.storage.models import Team

NOW = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
ZONES = ["Europe/Oslo", "America/Chicago", "Asia/Tokyo", "UTC"]
SHARD_SETS = [
    ShardSet.every(),
    ShardSet.of(2, [0]),
    ShardSet.of(2, [1]),
    ShardSet.of(4, [1, 3]),
    ShardSet.of(5, [4]),
    ShardSet.of(16, [7]),
]


def guild(n: int) -> int:
    """Made-up server ids whose shards ((id >> 22) % count) scatter."""
    return ((1_400_000_000_000 + n * 7_919) << 22) | n


def team_rows(count: int) -> list[dict[str, Any]]:
    """Teams over four timezones and a few times, with every way of not being in a group mixed in:
    a slot switched off, reminders off, no channel, paused for a lost channel (a pause until a date
    keeps a team in its groups: the date is checked per day)."""
    rows = []
    for n in range(count):
        rows.append(
            {
                "id": guild(n),
                "timezone": ZONES[n % 4],
                "created_at": NOW,
                "reminder_channel_id": None if n % 23 == 5 else 9_000 + n,
                "warmup_time": None if n % 11 == 3 else f"{6 + n % 3:02d}:{(n // 3) % 2 * 30:02d}",
                "cooldown_time": None if n % 13 == 4 else f"{17 + n % 5:02d}:00",
                "reminders_active": n % 17 != 2,
                "pause_reason": "channel gone" if n % 19 == 7 else None,
                "paused_until": NOW.date() + timedelta(days=3) if n % 29 == 1 else None,
                "reminders_updated_at": NOW,
            }
        )
    return rows


def every_team_query(shards: ShardSet) -> CompoundSelect[Any, Any, Any]:
    """The plain reading: every team with reminders on, DISTINCT (what the lookup replaced)."""
    goes_out = [
        Team.reminders_active.is_(True),
        Team.reminder_channel_id.is_not(None),
        Team.pause_reason.is_(None),
        rq._owned(shards),
    ]
    return union(
        *(
            select(Team.timezone, column.label("at"), literal(slot).label("slot")).where(*goes_out)
            for slot, column in rq.SLOT_COLUMNS.items()
        )
    )


async def every_team(s: AsyncSession, shards: ShardSet) -> set[tuple[str, str, str]]:
    return {(tz, at, slot) for tz, at, slot in (await s.execute(every_team_query(shards))).all() if at}


async def check_all_shard_sets(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as s:
        for shards in SHARD_SETS:
            looked_up = await rq.slot_groups(s, shards)
            assert len(looked_up) == len(set(looked_up)), "a group read twice"
            assert set(looked_up) == await every_team(s, shards), shards


async def test_the_lookup_is_the_distinct_groups_of_every_team(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as s:
        await s.execute(insert(Team), team_rows(400))
    await check_all_shard_sets(sessionmaker)
    async with sessionmaker() as s:
        groups = await rq.slot_groups(s)
    # Not vacuous: groups of both slots, in every zone, and some teams left out of them.
    assert {slot for _, _, slot in groups} == {"warmup", "cooldown"}
    assert {tz for tz, _, _ in groups} == set(ZONES)


async def test_no_team_no_group(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as s:
        assert await rq.slot_groups(s) == []
    async with sessionmaker.begin() as s:
        await s.execute(insert(Team), [team_rows(1)[0] | {"reminders_active": False}])
    async with sessionmaker() as s:
        assert await rq.slot_groups(s) == []


NEW = guild(10_000)  # a team that joins during the test, with a time of its own (05:15)
Change = Callable[[ReminderSettingsService, async_sessionmaker[AsyncSession]], Awaitable[object]]


def the_changes(first: int, second: int, third: int) -> list[tuple[str, bool, Change]]:
    """(what, whether it moves a group, the change) for each kind of change the bot makes."""
    return [
        ("a new team's first settings", True, lambda r, _: r.update(NEW, channel_id=1, warmup=time(5, 15))),
        ("a timezone moved", True, lambda r, _: r.update(first, timezone="Australia/Perth")),
        ("a warmup moved", True, lambda r, _: r.update(second, warmup=time(9, 45))),
        ("a cooldown moved", True, lambda r, _: r.update(third, cooldown=time(22, 0))),
        ("paused until a date", False, lambda r, _: r.pause(NEW, NOW.date() + timedelta(days=2))),
        ("paused for good", True, lambda r, _: r.pause(NEW, None)),
        ("resumed", True, lambda r, _: r.resume(NEW)),
        ("the channel lost", True, lambda _, sm: lost_channel(sm, [NEW])),
        ("a new channel lifts that pause", True, lambda r, _: r.update(NEW, channel_id=77)),
    ]


async def lost_channel(sessionmaker: async_sessionmaker[AsyncSession], teams: list[int]) -> None:
    async with sessionmaker.begin() as s:
        await rq.pause_for_channels(s, {team: "the bot cannot post in <#1>" for team in teams})


async def test_the_lookup_follows_every_kind_of_change(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """After each change, the lookup (and the DeliveryService's cached groups of every shard set,
    re-read because the change moved the settings generation) equals the plain DISTINCT."""
    rows = team_rows(60)
    async with sessionmaker.begin() as s:
        await s.execute(insert(Team), rows)
        await rq.bump_settings_generation(s)
    settings = ReminderSettingsService(sessionmaker, clock=lambda: NOW)
    services = {
        shards: DeliveryService(
            sessionmaker, _NoSender(), clock=lambda: NOW, grace=timedelta(hours=2), shards=shards
        )
        for shards in SHARD_SETS
    }
    # Teams in groups now, alone in theirs once moved (the new zone and times are nobody else's).
    first, second, third = [
        row["id"]
        for row in rows
        if row["reminders_active"] and row["reminder_channel_id"] and not row["pause_reason"]
    ][:3]
    before: set[tuple[str, str, str]] | None = None
    for what, moves, change in the_changes(first, second, third):
        await change(settings, sessionmaker)
        await check_all_shard_sets(sessionmaker)
        async with sessionmaker() as s:
            for shards, delivery in services.items():
                expected = {
                    SlotGroup(tz, time.fromisoformat(at), Slot(slot))
                    for tz, at, slot in await every_team(s, shards)
                }
                assert await delivery.slot_groups() == expected, (what, shards)
            now = await every_team(s, ShardSet.every())
        # Not vacuous: a change that moves a group did move one.
        assert (now != before) is moves, what
        before = now


class _NoSender:
    async def send(self, *args: object, **kwargs: object) -> int:
        raise AssertionError("nothing is sent here")

    async def find(self, *args: object, **kwargs: object) -> int | None:
        raise AssertionError("nothing is looked for here")


# --- plans ------------------------------------------------------------------------------------


async def plan(
    conn: AsyncConnection, statement: Select[*tuple[Any, ...]] | CompoundSelect[*tuple[Any, ...]]
) -> list[str]:
    sql = str(statement.compile(conn.engine, compile_kwargs={"literal_binds": True}))
    if conn.dialect.name == "sqlite":
        return [str(row[-1]) for row in await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]
    return [str(row[0]) for row in await conn.exec_driver_sql(f"EXPLAIN {sql}")]


def reads_of_teams(lines: list[str]) -> list[str]:
    """The plan's lines that read the teams table (SQLite: SCAN/SEARCH teams; PostgreSQL: … on teams)."""
    return [
        line
        for line in lines
        if " teams" in line and ("SCAN" in line or "SEARCH" in line or " on teams" in line)
    ]


@pytest.fixture
async def big(engine: AsyncEngine) -> AsyncEngine:
    """3,000 teams, analysed, so that the planner chooses with real statistics."""
    async with engine.begin() as conn:
        await conn.execute(insert(Team), team_rows(3000))
        await conn.execute(text("ANALYZE"))
    return engine


@pytest.mark.parametrize("shards", [ShardSet.every(), ShardSet.of(4, [1])], ids=["all", "sharded"])
async def test_the_lookup_seeks_in_the_slot_indexes(big: AsyncEngine, shards: ShardSet) -> None:
    async with big.connect() as conn:
        lines = reads_of_teams(await plan(conn, rq.slot_groups_query(shards)))
    assert lines, "the plan reads the teams somewhere"
    for line in lines:
        assert "ix_teams_warmup_groups" in line or "ix_teams_cooldown_groups" in line, line
    if big.dialect.name == "sqlite":
        # Every read but the first of each recursion (ORDER BY … LIMIT 1 from the start) is a seek.
        assert sum("SEARCH" in line for line in lines) >= 4
    else:
        assert not any("Seq Scan" in line for line in lines)


async def test_the_due_teams_of_a_group_are_one_range_of_its_slot_index(big: AsyncEngine) -> None:
    for slot, index in (("warmup", "ix_teams_warmup_groups"), ("cooldown", "ix_teams_cooldown_groups")):
        due = rq.due_team_ids_query("UTC", "07:00", slot, NOW.date(), NOW, shards=ShardSet.of(4, [1]))
        async with big.connect() as conn:
            lines = await plan(conn, due)
        if big.dialect.name == "sqlite":
            reads = reads_of_teams(lines)
            assert reads and all(index in line for line in reads), lines
        else:  # an index scan, or a bitmap of the index and its heap pages
            assert any(index in line for line in lines), lines
            assert not any("Seq Scan on teams" in line for line in lines), lines
