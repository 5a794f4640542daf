"""The store on SQLite and PostgreSQL: created on first use, scoped per server, UTC in and out."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backrun_bot.domain.stats import Island, StreakMark
from backrun_bot.storage import queries
from backrun_bot.storage.models import Athlete, RestDay, RunSession

Sessions = async_sessionmaker[AsyncSession]
NOW = datetime(2026, 3, 8, 15, 0, tzinfo=UTC)


async def log(
    sm: Sessions,
    guild: int,
    user: int,
    day: date,
    meters: float,
    *,
    kind: str = "backward",
    backward: bool = True,
) -> int:
    async with sm.begin() as s:
        athlete = await queries.get_or_create_athlete(s, guild, user, f"user{user}")
        return await queries.add_entry(
            s,
            athlete_id=athlete.id,
            team_id=athlete.team_id,
            kind=kind,
            is_backward=backward,
            meters=meters,
            seconds=None,
            effective_meters=meters,
            amount_text=f"{meters}m",
            note=None,
            day=day,
            logged_at=NOW,
        )


async def rest(sm: Sessions, guild: int, user: int, day: date) -> None:
    async with sm.begin() as s:
        athlete = await queries.get_or_create_athlete(s, guild, user, f"user{user}")
        s.add(RestDay(athlete_id=athlete.id, day=day, source="warmup", recorded_at=datetime.now(UTC)))


async def test_team_and_athlete_created_once(sessionmaker: Sessions) -> None:
    async with sessionmaker.begin() as s:
        a = await queries.get_or_create_athlete(s, 10, 1, "alice")
        b = await queries.get_or_create_athlete(s, 10, 1, "Alice B")
        assert a.id == b.id
        assert b.display_name == "Alice B"
        team = await queries.get_or_create_team(s, 10)
        assert team.timezone == "UTC"
        assert team.created_at.tzinfo is not None


async def test_concurrent_first_use_creates_one_athlete(sessionmaker: Sessions) -> None:
    """Two commands of a new athlete racing (two bot copies, or a double click) make one record."""

    async def first_use() -> int:
        async with sessionmaker.begin() as s:
            return (await queries.get_or_create_athlete(s, 20, 7, "racer")).id

    ids = await asyncio.gather(*(first_use() for _ in range(8)))
    assert len(set(ids)) == 1


async def test_entries_are_scoped_to_their_server(sessionmaker: Sessions) -> None:
    day = date(2026, 3, 8)
    here = await log(sessionmaker, 1, 5, day, 400)
    await log(sessionmaker, 2, 5, day, 900)
    async with sessionmaker() as s:
        assert [r.meters for r in await queries.history(s, 1, 5, 10)] == [400]
        assert await queries.get_run_session(s, 2, here) is None  # not visible from another server
        assert await queries.backward_meters_between(s, 1, 5, day, day) == 400
        assert await queries.backward_meters_between(s, 2, 5, day, day) == 900


async def add_known(sm: Sessions, day: date, **changes: object) -> queries.KnownEntry | None:
    """:func:`queries.add_known_entry` of 50 m backward for user 5 ("user5") of team 1 (UTC)."""
    values: dict[str, Any] = {
        "guild_id": 1,
        "user_id": 5,
        "display_name": "user5",
        "timezone": "UTC",
        "kind": "backward",
        "is_backward": True,
        "meters": 50.0,
        "seconds": None,
        "effective_meters": 50.0,
        "amount_text": "50m",
        "note": "easy",
        "day": day,
        "week": (date(2026, 3, 2), date(2026, 3, 8)),
        "logged_at": NOW,
    } | changes
    async with sm.begin() as s:
        return await queries.add_known_entry(s, **values)


async def test_a_known_members_entry_in_one_statement(sessionmaker: Sessions) -> None:
    sunday, monday = date(2026, 3, 8), date(2026, 3, 2)
    await log(sessionmaker, 1, 5, sunday, 400)
    await log(sessionmaker, 1, 5, monday, 300)
    await log(sessionmaker, 1, 5, date(2026, 3, 1), 200)  # the week before
    await log(sessionmaker, 1, 5, sunday, 1000, kind="forward", backward=False)
    await log(sessionmaker, 1, 6, sunday, 900)  # a teammate
    await log(sessionmaker, 2, 5, sunday, 800)  # the same member in another team
    stored = await add_known(sessionmaker, sunday)
    # The day's and the week's backward meters before this entry, the athlete's own.
    assert stored is not None and (stored.backward_day_m, stored.backward_week_m) == (400, 700)
    async with sessionmaker() as s:
        row = await queries.get_run_session(s, 1, stored.id, user_id=5)
    assert row is not None and (row.day, row.meters, row.note, row.logged_at) == (sunday, 50, "easy", NOW)
    # Nothing stored unless the member is known by that name in a team with that timezone.
    others: list[dict[str, object]] = [
        {"user_id": 7},
        {"display_name": "renamed"},
        {"timezone": "Europe/Paris"},
        {"guild_id": 3},
    ]
    for changes in others:
        assert await add_known(sessionmaker, sunday, **changes) is None, changes
    async with sessionmaker() as s:
        assert len(await queries.history(s, 1, 5, 25)) == 5


async def test_totals_days_and_latest(sessionmaker: Sessions) -> None:
    d1, d2 = date(2026, 3, 7), date(2026, 3, 8)
    await log(sessionmaker, 1, 5, d2, 600)
    await log(sessionmaker, 1, 5, d1, 400)  # logged later, for an earlier day
    await log(sessionmaker, 1, 5, d2, 1000, kind="forward", backward=False)
    async with sessionmaker() as s:
        totals = {t.kind: t for t in (await queries.period_stats(s, 1, 5, None, d2)).totals}
        assert totals["backward"].count == 2 and totals["backward"].meters == 1000
        assert totals["forward"].meters == 1000
        only_today = (await queries.period_stats(s, 1, 5, d2, d2)).totals
        assert {t.kind: t.meters for t in only_today} == {"backward": 600, "forward": 1000}
        assert await queries.active_days(s, 1, 5, None, d2) == [d1, d2]
        assert await queries.active_days(s, 1, 5, d2, d2, backward_only=True) == [d2]
        latest = await queries.latest_run_session(s, 1, 5)
        assert latest is not None and latest.meters == 1000  # newest logged, not newest day
        newest = await queries.history(s, 1, 5, 2)
        assert [r.day for r in newest] == [d2, d2]


async def test_active_days_are_counted_in_the_database(sessionmaker: Sessions) -> None:
    d1, d2, d3 = date(2026, 3, 6), date(2026, 3, 7), date(2026, 3, 8)
    for day, kind in ((d1, "backward"), (d2, "forward"), (d2, "backward"), (d3, "forward"), (d3, "forward")):
        await log(sessionmaker, 1, 5, day, 100, kind=kind, backward=kind != "forward")
    await log(sessionmaker, 1, 5, d3 + timedelta(days=1), 100)  # after the end
    await log(sessionmaker, 1, 6, date(2026, 3, 1), 100)  # someone else
    await log(sessionmaker, 2, 5, date(2026, 3, 2), 100)  # the same user in another server
    async with sessionmaker() as s:
        # A day with two entries counts once.
        assert (await queries.period_stats(s, 1, 5, None, d3)).active_days == 3
        assert (await queries.period_stats(s, 1, 5, d2, d3)).active_days == 2
        assert (await queries.period_stats(s, 1, 5, d3, d3)).active_days == 1
        assert await queries.period_stats(s, 1, 7, None, d3) == queries.PeriodStats([], 0, [], None, 0)
        assert await queries.team_timezone(s, 1) == "UTC"
        assert await queries.team_timezone(s, 99) is None


async def test_streak_islands_are_grouped_in_the_database(sessionmaker: Sessions) -> None:
    """Runs of consecutive backward days as (first, last, backward days), across month, year and
    leap-day boundaries; several entries a day count once; a suggested rest day joins its neighbours
    without counting; forward days, days after the end and other athletes' days are not counted."""
    runs = {
        Island(date(2024, 2, 24), date(2024, 2, 27), 4): [
            date(2024, 2, 27) - timedelta(days=n) for n in range(4)
        ],
        Island(date(2024, 2, 29), date(2024, 3, 2), 3): [
            date(2024, 2, 29),
            date(2024, 3, 1),
            date(2024, 3, 2),
        ],
        Island(date(2024, 12, 31), date(2025, 1, 1), 2): [date(2024, 12, 31), date(2025, 1, 1)],
        # 2025-05-30 backward, 05-31 a rest day, 06-01 backward: one island of two.
        Island(date(2025, 5, 30), date(2025, 6, 1), 2): [date(2025, 5, 30), date(2025, 6, 1)],
    }
    for days in runs.values():
        for day in days:
            await log(sessionmaker, 1, 5, day, 100)
    await log(sessionmaker, 1, 5, date(2025, 1, 1), 50)  # a second entry that day
    await log(sessionmaker, 1, 5, date(2025, 1, 2), 900, kind="forward", backward=False)
    await log(sessionmaker, 1, 5, date(2025, 6, 2), 100)  # after the end
    await log(sessionmaker, 1, 6, date(2025, 1, 2), 100)  # another athlete
    await log(sessionmaker, 2, 5, date(2025, 1, 2), 100)  # the same user in another server
    await rest(sessionmaker, 1, 5, date(2025, 5, 31))
    await rest(sessionmaker, 1, 5, date(2024, 3, 2))  # a rest day with backward work: counted once
    await rest(sessionmaker, 1, 6, date(2025, 1, 3))  # another athlete's rest day
    async with sessionmaker() as s:
        read = await queries.period_stats(s, 1, 5, date(2025, 6, 2), date(2025, 6, 1))
        assert sorted(read.islands, key=lambda i: i.first) == sorted(runs, key=lambda i: i.first)
        assert (read.mark, read.epoch) == (None, 0)
        assert (await queries.period_stats(s, 1, 7, None, date(2025, 6, 1))).islands == []


async def test_the_streak_read_starts_after_the_mark(sessionmaker: Sessions) -> None:
    """With a mark kept, only the days after it are read; a change on or before it forgets it, a
    change after it keeps it; both move the epoch on, so a mark read before them is not written."""
    days = [date(2024, 1, 1) + timedelta(days=n) for n in range(10)]  # Jan 1-10
    ids = [await log(sessionmaker, 1, 5, day, 100) for day in days]
    await log(sessionmaker, 1, 5, date(2024, 3, 1), 100)
    async with sessionmaker.begin() as s:
        before = await queries.period_stats(s, 1, 5, None, date(2024, 3, 1))
        assert before.islands == [
            Island(days[0], days[-1], 10),
            Island(date(2024, 3, 1), date(2024, 3, 1), 1),
        ]
        assert await queries.save_streak_mark(s, 1, 5, StreakMark(days[-1], 10, 10), before.epoch)
    async with sessionmaker() as s:
        after = await queries.period_stats(s, 1, 5, None, date(2024, 3, 1))
    assert after.mark == StreakMark(days[-1], 10, 10)
    assert after.islands == [Island(date(2024, 3, 1), date(2024, 3, 1), 1)]  # Jan not read again
    assert after.active_days == 11  # the totals still cover the whole period
    # Removing the March entry (after the mark) keeps the mark; the epoch moves on.
    async with sessionmaker.begin() as s:
        row = await queries.get_run_session(s, 1, ids[0] + 10)
        assert row is not None and await queries.delete_run_session(s, row)
    async with sessionmaker.begin() as s:
        read = await queries.period_stats(s, 1, 5, None, date(2024, 3, 1))
        assert (read.mark, read.islands, read.epoch) == (StreakMark(days[-1], 10, 10), [], 1)
        # A mark computed before that change is not written.
        assert not await queries.save_streak_mark(s, 1, 5, StreakMark(days[-1], 99, 99), before.epoch)
    # Correcting an entry on the mark's own day (Jan 10) forgets the mark too.
    async with sessionmaker.begin() as s:

        async def correct(entry_id: int, day: date) -> bool:
            return await queries.update_entry(
                s,
                entry_id,
                kind="backward",
                is_backward=True,
                meters=100.0,
                seconds=None,
                effective_meters=100.0,
                amount_text="100m",
                note="corrected",
                day=day,
                athlete_id=1,
                was_on=day,
                rpe=None,
            )

        assert not await correct(ids[0] + 10, date(2024, 3, 1))  # removed above: nothing to correct
        assert await correct(ids[9], days[9])
    async with sessionmaker() as s:
        read = await queries.period_stats(s, 1, 5, None, date(2024, 3, 1))
    assert (read.mark, read.epoch) == (None, 2)  # Jan 10 is the mark's own day: forgotten
    async with sessionmaker.begin() as s:
        assert await queries.save_streak_mark(s, 1, 5, StreakMark(days[-1], 10, 10), read.epoch)
    # Removing Jan 5 (on or before the mark) forgets it: every day is read again.
    async with sessionmaker.begin() as s:
        row = await queries.get_run_session(s, 1, ids[4])
        assert row is not None and await queries.delete_run_session(s, row)
    async with sessionmaker() as s:
        read = await queries.period_stats(s, 1, 5, None, date(2024, 3, 1))
    assert read.mark is None and read.epoch == 3
    assert read.islands == [Island(days[0], days[3], 4), Island(days[5], days[-1], 5)]


async def test_delete(sessionmaker: Sessions) -> None:
    entry = await log(sessionmaker, 1, 5, date(2026, 3, 8), 400)
    async with sessionmaker.begin() as s:
        row = await queries.get_run_session(s, 1, entry)
        assert row is not None
        await queries.delete_run_session(s, row)
    async with sessionmaker() as s:
        assert await queries.latest_run_session(s, 1, 5) is None


async def test_an_undone_id_is_never_handed_out_again(sessionmaker: Sessions) -> None:
    """Ids live in Undo buttons: a new entry must not take the id of an undone one (SQLite reuses
    the highest rowid unless the table is AUTOINCREMENT)."""
    first = await log(sessionmaker, 1, 5, date(2026, 3, 8), 400)
    async with sessionmaker.begin() as s:
        row = await queries.get_run_session(s, 1, first)
        assert row is not None
        await queries.delete_run_session(s, row)
    assert await log(sessionmaker, 1, 5, date(2026, 3, 8), 300) > first


async def test_an_entry_by_id_can_be_scoped_to_its_athlete(sessionmaker: Sessions) -> None:
    bobs = await log(sessionmaker, 1, 6, date(2026, 3, 8), 400)
    await log(sessionmaker, 1, 5, date(2026, 3, 8), 400)
    async with sessionmaker() as s:
        assert await queries.get_run_session(s, 1, bobs, user_id=5) is None
        found = await queries.get_run_session(s, 1, bobs, user_id=6)
        assert found is not None and found.id == bobs


async def test_instants_round_trip_as_utc(sessionmaker: Sessions) -> None:
    plus_two = timezone(timedelta(hours=2))
    async with sessionmaker.begin() as s:
        athlete = await queries.get_or_create_athlete(s, 1, 5, "a")
        entry = await queries.add_entry(
            s,
            athlete_id=athlete.id,
            team_id=athlete.team_id,
            kind="backward",
            is_backward=True,
            meters=400,
            seconds=None,
            effective_meters=400,
            amount_text="400m",
            note=None,
            day=date(2026, 3, 8),
            logged_at=datetime(2026, 3, 8, 17, 0, tzinfo=plus_two),
        )
    async with sessionmaker() as s:
        stored = await s.get(RunSession, entry)
        assert stored is not None
        assert stored.logged_at == datetime(2026, 3, 8, 15, 0, tzinfo=UTC)
        assert stored.logged_at.utcoffset() == timedelta(0)


async def test_naive_instants_are_refused(sessionmaker: Sessions) -> None:
    with pytest.raises(StatementError, match="naive"):
        async with sessionmaker.begin() as s:
            s.add(Athlete(team_id=1, user_id=1, display_name="x", created_at=datetime(2026, 1, 1)))
            await queries.get_or_create_team(s, 1)


async def test_an_entry_needs_an_amount(sessionmaker: Sessions) -> None:
    async with sessionmaker.begin() as s:
        athlete = await queries.get_or_create_athlete(s, 1, 5, "a")
        athlete_id = athlete.id
    with pytest.raises(IntegrityError):
        async with sessionmaker.begin() as s:
            s.add(
                RunSession(
                    athlete_id=athlete_id,
                    team_id=1,
                    kind="backward",
                    is_backward=True,
                    meters=None,
                    seconds=None,
                    effective_meters=1,
                    amount_text="?",
                    day=date(2026, 3, 8),
                    logged_at=NOW,
                )
            )


async def test_state(sessionmaker: Sessions) -> None:
    async with sessionmaker.begin() as s:
        assert await queries.get_state(s, "k") is None
        await queries.set_state(s, "k", "one")
    async with sessionmaker.begin() as s:
        await queries.set_state(s, "k", "two")
    async with sessionmaker() as s:
        assert await queries.get_state(s, "k") == "two"
