"""A member's or a team's data as a whole, on SQLite and PostgreSQL: the export's stream, and a
deletion that leaves nothing behind in any table (every table of the models, found by its foreign
keys, so a table added later is checked too)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backrun_bot.storage import data_queries as dq
from backrun_bot.storage import guild_queries as gq
from backrun_bot.storage import queries
from backrun_bot.storage.models import Checkin, GuildWelcome, ReminderDelivery, RestDay
from tests.rows import nothing_left, references, rows_of, snapshot

Sessions = async_sessionmaker[AsyncSession]
NOW = datetime(2026, 3, 8, 15, tzinfo=UTC)
TEAM, OTHER = 10 << 22, 11 << 22
ALICE, BOB = 501, 502


@dataclass
class World:
    athletes: dict[tuple[int, int], int]  # (team, user) -> athlete id


async def build(sm: Sessions, entries: int = 3) -> World:
    """Alice in both teams, Bob in the first: entries, a rest day and a check-in each, a reminder of
    each team and the first team's welcome."""
    athletes: dict[tuple[int, int], int] = {}
    async with sm.begin() as s:
        for team, user, name in ((TEAM, ALICE, "Alice"), (TEAM, BOB, "Bob"), (OTHER, ALICE, "Alice")):
            athlete = await queries.get_or_create_athlete(s, team, user, name)
            athletes[(team, user)] = athlete.id
            for n in range(entries):
                await queries.add_entry(
                    s,
                    athlete_id=athlete.id,
                    team_id=team,
                    kind="backward",
                    is_backward=True,
                    meters=100.0 + n,
                    seconds=None,
                    effective_meters=100.0 + n,
                    amount_text=f"{100 + n}m",
                    note=None if n % 2 else f"note {n}",
                    day=date(2026, 3, 8) - timedelta(days=n % 7),
                    logged_at=NOW,
                )
            s.add(RestDay(athlete_id=athlete.id, day=date(2026, 3, 1), source="plan", recorded_at=NOW))
            s.add(
                Checkin(
                    athlete_id=athlete.id,
                    team_id=team,
                    day=date(2026, 3, 8),
                    soreness=7,
                    area="knee",
                    sleep=3,
                    note="sore",
                    recorded_at=NOW,
                )
            )
        for team in (TEAM, OTHER):
            s.add(
                ReminderDelivery(
                    team_id=team, local_day=date(2026, 3, 8), slot="warmup", status="sent", claimed_at=NOW
                )
            )
        s.add(GuildWelcome(guild_id=TEAM, welcomed_at=NOW))
    return World(athletes)


def test_every_table_that_holds_an_athletes_rows_points_at_it() -> None:
    """What "nothing left" looks in: each table with an athlete's rows has a foreign key to them."""
    from backrun_bot.storage.models import Base  # noqa: PLC0415

    holding = {t.name for t in Base.metadata.sorted_tables if references(t, "athletes.id")}
    assert holding >= {"run_sessions", "rest_days", "checkins"}


async def test_deleting_an_athlete_leaves_nothing_of_them_and_touches_nobody_else(
    sessionmaker: Sessions,
) -> None:
    world = await build(sessionmaker)
    alice = world.athletes[(TEAM, ALICE)]
    assert not nothing_left(await rows_of(sessionmaker, athlete_id=alice))
    others = {k: await rows_of(sessionmaker, athlete_id=v) for k, v in world.athletes.items() if v != alice}
    async with sessionmaker.begin() as s:
        assert await dq.delete_athlete(s, alice) == 3
    assert nothing_left(await rows_of(sessionmaker, athlete_id=alice))
    assert {
        k: await rows_of(sessionmaker, athlete_id=v) for k, v in world.athletes.items() if v != alice
    } == others
    async with sessionmaker() as s:
        assert await dq.athlete_id(s, TEAM, ALICE) is None
        assert await dq.athlete_id(s, OTHER, ALICE) == world.athletes[(OTHER, ALICE)]


async def test_the_export_streams_a_teams_entries_oldest_day_first_in_batches(sessionmaker: Sessions) -> None:
    world = await build(sessionmaker, entries=20)
    before = await snapshot(sessionmaker)
    async with sessionmaker() as s:
        batches = [list(b) async for b in dq.stream_entries(s, TEAM, batch=7)]
        own = [
            row async for b in dq.stream_entries(s, TEAM, athlete=world.athletes[(TEAM, BOB)]) for row in b
        ]
        names = await dq.members(s, TEAM)
    assert [len(b) for b in batches] == [7, 7, 7, 7, 7, 5]
    rows = [row for b in batches for row in b]
    assert [(r.day, r.id) for r in rows] == sorted((r.day, r.id) for r in rows)
    assert {names[r.athlete_id].display_name for r in rows} == {"Alice", "Bob"}
    assert {r.athlete_id for r in own} == {world.athletes[(TEAM, BOB)]} and len(own) == 20
    assert await snapshot(sessionmaker) == before


async def test_deleting_a_removed_team_leaves_nothing_of_it_but_its_welcome(sessionmaker: Sessions) -> None:
    await build(sessionmaker, entries=25)
    kept = await rows_of(sessionmaker, team_id=OTHER)
    async with sessionmaker.begin() as s:
        assert await gq.mark_removed(s, TEAM, NOW)
        assert not await gq.mark_removed(s, TEAM, NOW + timedelta(days=1))  # the first removal counts
    async with sessionmaker() as s:
        assert await gq.removed_before(s, NOW + timedelta(days=30)) == [TEAM]
        assert await gq.delete_team(s, TEAM, NOW + timedelta(days=30), batch=7)  # 50 entries: 8 batches
    assert nothing_left(await rows_of(sessionmaker, team_id=TEAM))
    assert await rows_of(sessionmaker, team_id=OTHER) == kept
    async with sessionmaker() as s:
        assert await s.get(GuildWelcome, TEAM) is not None


async def test_a_team_removed_too_recently_or_back_again_is_not_deleted(sessionmaker: Sessions) -> None:
    await build(sessionmaker)
    before = await snapshot(sessionmaker)
    async with sessionmaker() as s:
        assert not await gq.delete_team(s, TEAM, NOW)  # never removed
    async with sessionmaker.begin() as s:
        await gq.mark_removed(s, TEAM, NOW)
    async with sessionmaker() as s:
        assert not await gq.delete_team(s, TEAM, NOW)  # removed at, not before, the cut-off
    async with sessionmaker.begin() as s:
        assert await gq.mark_back(s, [OTHER, TEAM, 999]) == [TEAM]
    async with sessionmaker() as s:
        assert not await gq.delete_team(s, TEAM, NOW + timedelta(days=99))
    assert await snapshot(sessionmaker) == before


async def test_of_two_claims_of_one_welcome_at_once_one_wins(sessionmaker: Sessions) -> None:
    both = asyncio.Barrier(2)

    async def claim() -> bool:
        async with sessionmaker.begin() as s:
            await both.wait()
            return await gq.claim_welcome(s, 77 << 22, NOW)

    assert sorted(await asyncio.gather(claim(), claim())) == [False, True]
    async with sessionmaker.begin() as s:
        assert not await gq.claim_welcome(s, 77 << 22, NOW)
        await gq.release_welcome(s, 77 << 22)
        assert await gq.claim_welcome(s, 77 << 22, NOW)
