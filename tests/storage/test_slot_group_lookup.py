"""The slot-group lookup (issue 9): read from the slots' partial indexes by seeking from one group to
the next, it gives exactly what the plain DISTINCT over every team gives, for every shard set and
after every kind of settings change the bot makes (set, pause, resume, a lost channel); and its
plan, like that of a group's due teams, goes through those indexes, never through every team. On
SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import CompoundSelect, Select, insert, literal, select, text, union, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from backrun_bot.domain.schedule import Slot
from backrun_bot.domain.shards import ShardSet
from backrun_bot.services.delivery import DeliveryService, SlotGroup
from backrun_bot.services.reminder_settings import ReminderSettingsService
from backrun_bot.storage import reminder_queries as rq
from backrun_bot.storage.models import ReminderSettingsChange, Team

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


async def test_the_lookup_of_some_timezones_is_their_groups(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as s:
        await s.execute(insert(Team), team_rows(400))
    async with sessionmaker() as s:
        for shards in SHARD_SETS:
            every = await every_team(s, shards)
            for zones in (["UTC"], ["Asia/Tokyo", "Europe/Oslo"], ["Nowhere/Else", "UTC"], []):
                looked_up = await rq.slot_groups(s, shards, timezones=zones)
                assert len(looked_up) == len(set(looked_up)), "a group read twice"
                assert set(looked_up) == {g for g in every if g[0] in zones}, (shards, zones)
                if shards.owns_all:  # not vacuous: every zone of the teams has groups
                    assert bool(looked_up) is bool(zones), zones


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


# --- the re-read after a change -------------------------------------------------------------------


class ReadsOfGroups:
    """Records the ``timezones`` of every read of the slot groups (None: all of them)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.timezones: list[list[str] | None] = []
        real = rq.slot_groups

        async def recorded(
            s: AsyncSession, shards: ShardSet | None = None, *, timezones: Sequence[str] | None = None
        ) -> list[tuple[str, str, str]]:
            self.timezones.append(None if timezones is None else list(timezones))
            return await real(s, shards, timezones=timezones)

        monkeypatch.setattr(rq, "slot_groups", recorded)

    def take(self) -> list[list[str] | None]:
        taken, self.timezones = self.timezones, []
        return taken


async def test_after_a_change_only_the_timezones_it_touched_are_read_again(
    sessionmaker: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each writer names the timezones its change touched (a team's old and new one); a process
    re-reads the groups of those only, and all of them when some change could not say, when a
    change's record is gone, or when it has read none yet. Every result equals a full read."""
    rows = team_rows(60)
    async with sessionmaker.begin() as s:
        await s.execute(insert(Team), rows)
        await rq.bump_settings_generation(s)  # teams written straight into the table: it cannot say
    settings = ReminderSettingsService(sessionmaker, clock=lambda: NOW)
    services = [
        DeliveryService(sessionmaker, _NoSender(), clock=lambda: NOW, grace=timedelta(hours=2), shards=shards)
        for shards in SHARD_SETS
    ]
    reads = ReadsOfGroups(monkeypatch)
    first = next(row for row in rows if row["timezone"] == "Europe/Oslo" and row["reminders_active"])["id"]

    async def check(expected: list[list[str] | None]) -> None:
        async with sessionmaker() as s:
            for delivery in services:
                full = {
                    SlotGroup(tz, time.fromisoformat(at), Slot(slot))
                    for tz, at, slot in await every_team(s, delivery._shards)
                }
                assert await delivery.slot_groups() == full, delivery._shards
        assert reads.take() == expected * len(services)

    await check([None])  # the first read is a full one
    await check([])  # nothing changed: nothing read
    await settings.update(first, timezone="Australia/Perth")
    await check([["Australia/Perth", "Europe/Oslo"]])
    await settings.update(NEW, channel_id=1, warmup=time(5, 15))  # a new team: created in UTC
    await settings.pause(first, None)
    await check([["Australia/Perth", "UTC"]])  # two changes since the last read, at once
    await settings.resume(first)
    await check([["Australia/Perth"]])
    await settings.pause(NEW, NOW.date() + timedelta(days=2))
    await check([["UTC"]])
    await lost_channel(sessionmaker, [first, NEW])
    await check([["Australia/Perth", "UTC"]])
    async with sessionmaker.begin() as s:
        await rq.bump_settings_generation(s)
    await check([None])
    # A change whose record was pruned (or that an older version of the bot made): all of them.
    await settings.update(first, channel_id=2)
    await settings.update(NEW, cooldown=time(23, 0))
    async with sessionmaker.begin() as s:
        await s.execute(text("DELETE FROM reminder_settings_changes WHERE timezones = 'Australia/Perth'"))
    await check([None])
    await settings.update(NEW, cooldown=time(23, 30))
    await check([["UTC"]])


async def test_the_settings_change_log_is_pruned_after_a_day(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    settings = ReminderSettingsService(sessionmaker, clock=lambda: NOW)
    await settings.update(NEW, channel_id=1, timezone="Asia/Tokyo")
    async with sessionmaker() as s:
        generation = await rq.settings_generation(s)
        assert await rq.touched_timezones(s, generation - 1, generation) == {"UTC", "Asia/Tokyo"}
        await rq.prune_settings_changes(s, datetime.now(UTC) - timedelta(days=1))
        assert await rq.touched_timezones(s, generation - 1, generation) == {"UTC", "Asia/Tokyo"}
        await rq.prune_settings_changes(s, datetime.now(UTC) + timedelta(seconds=1))
        assert await rq.touched_timezones(s, generation - 1, generation) is None


async def test_the_daily_pruning_drops_the_change_log_older_than_a_day(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    now = datetime.now(UTC)  # the log is stamped with the writers' wall clock
    async with sessionmaker.begin() as s:
        for generation, age in ((1, timedelta(days=2)), (2, timedelta(hours=23))):
            s.add(ReminderSettingsChange(generation=generation, timezones="UTC", changed_at=now - age))
    delivery = DeliveryService(sessionmaker, _NoSender(), clock=lambda: NOW, grace=timedelta(hours=2))
    await delivery.prune()
    async with sessionmaker() as s:
        assert await rq.touched_timezones(s, 0, 2) is None
        assert await rq.touched_timezones(s, 1, 2) == {"UTC"}


async def test_a_change_names_the_timezone_a_concurrent_change_moved_the_team_to(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Two changes of one team at once (PostgreSQL runs them truly at once): the second waits for the
    first and names the timezone the first moved the team to, the one its groups are in by then."""
    if sessionmaker.kw["bind"].dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time")
    settings = ReminderSettingsService(sessionmaker, clock=lambda: NOW)
    await settings.update(NEW, channel_id=1, timezone="Europe/Oslo")
    async with sessionmaker() as first:
        await first.execute(update(Team).where(Team.id == NEW).values(timezone="Asia/Tokyo"))
        await rq.bump_settings_generation(first, {"Europe/Oslo", "Asia/Tokyo"})
        second = asyncio.ensure_future(settings.update(NEW, warmup=time(6, 45)))
        await asyncio.sleep(0.3)  # the second is waiting for the team's row
        assert not second.done()
        await first.commit()
    await asyncio.wait_for(second, timeout=10)
    async with sessionmaker() as s:
        generation = await rq.settings_generation(s)
        assert await rq.touched_timezones(s, generation - 1, generation) == {"Asia/Tokyo"}
