"""The ladder's read and mark on SQLite and PostgreSQL: week facts from entries, suggested days off
and check-ins in one statement; only after the mark and up to today; only the athlete's own; the
SQL soreness rule equal to the domain's; the mark kept only at the epoch it was read and forward."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backrun_bot.domain.ladder import LadderMark, Level, WeekFacts, ladder
from backrun_bot.domain.wellness import Area, sore_day_off
from backrun_bot.storage import ladder_queries as lq
from backrun_bot.storage import queries
from backrun_bot.storage.models import Athlete, Checkin, RestDay
from tests.conftest import POSTGRES_URL
from tests.storage.test_queries import log

Sessions = async_sessionmaker[AsyncSession]
NOW = datetime(2026, 3, 8, 15, 0, tzinfo=UTC)
MONDAY = date(2026, 3, 2)


def day(n: int) -> date:
    return MONDAY + timedelta(days=n)


async def athlete_id(sm: Sessions, guild: int = 1, user: int = 5) -> int:
    async with sm.begin() as s:
        return (await queries.get_or_create_athlete(s, guild, user, f"user{user}")).id


async def rest(sm: Sessions, athlete: int, on: date, source: str) -> None:
    async with sm.begin() as s:
        s.add(RestDay(athlete_id=athlete, day=on, source=source, recorded_at=NOW))


async def checkin(sm: Sessions, athlete: int, on: date, soreness: int, area: str, team: int = 1) -> None:
    async with sm.begin() as s:
        s.add(
            Checkin(athlete_id=athlete, day=on, team_id=team, soreness=soreness, area=area, recorded_at=NOW)
        )


async def read(sm: Sessions, end: date, guild: int = 1, user: int = 5) -> lq.LadderRead:
    async with sm() as s:
        return await lq.ladder_facts(s, guild, user, end)


async def test_week_facts_from_entries_days_off_and_checkins(sessionmaker: Sessions) -> None:
    me = await athlete_id(sessionmaker)
    # Week of Mon 2 March: a walk and a sprint on Monday (one day, hardest: sprint), a jog Tuesday,
    # two backpedal entries Wednesday (one day, a run), forward running Thursday (not backward).
    await log(sessionmaker, 1, 5, day(0), 400, kind="backward-walk")
    await log(sessionmaker, 1, 5, day(0), 80, kind="backward-sprint")
    await log(sessionmaker, 1, 5, day(1), 400, kind="backward-jog")
    await log(sessionmaker, 1, 5, day(2), 100, kind="backpedal")
    await log(sessionmaker, 1, 5, day(2), 100, kind="backpedal")
    await log(sessionmaker, 1, 5, day(3), 5000, kind="forward", backward=False)
    # Friday: a heavy-day rest from the warmup and /plan (one day off); Saturday: calf soreness 7
    # (no day off, but soreness 6+); Sunday: hamstring 6 (a soreness day off, by the check-in alone).
    await rest(sessionmaker, me, day(4), "warmup")
    await checkin(sessionmaker, me, day(5), 7, "calf")
    await checkin(sessionmaker, me, day(6), 6, "hamstring")
    # Week of Mon 9 March: a soreness rest day and a knee check-in on the same day (one day off).
    await log(sessionmaker, 1, 5, day(7), 300, kind="backward-skip")
    await rest(sessionmaker, me, day(8), "soreness")
    await checkin(sessionmaker, me, day(8), 8, "knee")
    # After today (Tuesday 10 March): not read.
    await log(sessionmaker, 1, 5, day(9), 300, kind="backward")
    await rest(sessionmaker, me, day(10), "plan")
    got = await read(sessionmaker, day(8))
    assert got.mark is None and got.epoch == 0
    assert sorted(got.weeks, key=lambda w: w.monday) == [
        WeekFacts(MONDAY, 3, days_off=2, max_soreness=7, sore_days_off=1, top_levels=(0, 1, 1, 0, 1)),
        WeekFacts(day(7), 1, days_off=1, max_soreness=8, sore_days_off=1, top_levels=(0, 0, 0, 1, 0)),
    ]


async def test_the_sql_soreness_rule_is_the_domains(sessionmaker: Sessions) -> None:
    """Every soreness 0-10 in every area: the check-in's day off in SQL agrees with sore_day_off."""
    me = await athlete_id(sessionmaker)
    cases = [(soreness, area) for soreness in range(11) for area in Area]
    async with sessionmaker.begin() as s:
        for n, (soreness, area) in enumerate(cases):
            s.add(
                Checkin(athlete_id=me, day=day(n), team_id=1, soreness=soreness, area=area, recorded_at=NOW)
            )
    async with sessionmaker() as s:
        rows = await s.execute(
            select(Checkin.soreness, Checkin.area, lq.sore_day_off_sql()).order_by(Checkin.day)
        )
        got = [(soreness, area, bool(off)) for soreness, area, off in rows]
    assert got == [(soreness, area.value, sore_day_off(soreness, area)) for soreness, area in cases]
    assert sum(off for _, _, off in got) == 3 * 5  # 6-10 in hamstring, knee and lower back


async def test_only_the_athletes_own_and_only_after_the_mark(sessionmaker: Sessions) -> None:
    me = await athlete_id(sessionmaker)
    other_team = await athlete_id(sessionmaker, guild=2, user=5)
    teammate = await athlete_id(sessionmaker, guild=1, user=6)
    for who, guild, user in ((other_team, 2, 5), (teammate, 1, 6)):
        await log(sessionmaker, guild, user, day(0), 400)
        await rest(sessionmaker, who, day(1), "soreness")
        await checkin(sessionmaker, who, day(2), 9, "knee", team=guild)
    assert (await read(sessionmaker, day(20))).weeks == []
    await log(sessionmaker, 1, 5, day(0), 400)  # week of 2 March
    await log(sessionmaker, 1, 5, day(7), 400)  # week of 9 March
    await checkin(sessionmaker, me, day(14), 2, "none")  # week of 16 March
    await rest(sessionmaker, me, day(6), "warmup")  # Sunday 8 March: the mark's own day, below
    assert [w.monday for w in sorted((await read(sessionmaker, day(20))).weeks, key=lambda w: w.monday)] == [
        day(0),
        day(7),
        day(14),
    ]
    async with sessionmaker.begin() as s:
        assert await lq.save_ladder_mark(s, 1, 5, LadderMark(day(6), Level.JOG, 1), 0)
    got = await read(sessionmaker, day(20))
    assert got.mark == LadderMark(day(6), Level.JOG, 1)
    assert sorted(w.monday for w in got.weeks) == [day(7), day(14)]  # nothing on or before Sun 8 March
    assert [w.monday for w in (await read(sessionmaker, day(13))).weeks] == [day(7)]  # nothing after `end`


async def test_the_mark_is_kept_only_at_its_epoch_forward_and_forgotten_by_an_older_change(
    sessionmaker: Sessions,
) -> None:
    await log(sessionmaker, 1, 5, day(0), 400)
    late = await log(sessionmaker, 1, 5, day(21), 400)
    before = await read(sessionmaker, day(30))
    async with sessionmaker.begin() as s:
        assert await lq.save_ladder_mark(s, 1, 5, LadderMark(day(13), Level.RUN, 0), before.epoch)
        # Not backward: an older mark (a slower /plan) never replaces a newer one.
        assert not await lq.save_ladder_mark(s, 1, 5, LadderMark(day(6), Level.WALK, 0), before.epoch)
    # Removing an entry after the mark keeps it, but moves the epoch on: a mark computed from the
    # facts read before that change is not written.
    async with sessionmaker.begin() as s:
        row = await queries.get_run_session(s, 1, late)
        assert row is not None and await queries.delete_run_session(s, row)
    got = await read(sessionmaker, day(30))
    assert (got.mark, got.epoch) == (LadderMark(day(13), Level.RUN, 0), 1)
    async with sessionmaker.begin() as s:
        assert not await lq.save_ladder_mark(s, 1, 5, LadderMark(day(20), Level.SKIP, 1), before.epoch)
        assert await lq.save_ladder_mark(s, 1, 5, LadderMark(day(20), Level.SKIP, 1), got.epoch)
    # A change on or before the mark (the entry of 2 March) forgets it: every week is read again.
    async with sessionmaker.begin() as s:
        first = (await queries.history(s, 1, 5, 1))[0]
        assert await queries.delete_run_session(s, first)
    got = await read(sessionmaker, day(30))
    assert (got.mark, got.epoch, got.weeks) == (None, 2, [])


@pytest.mark.skipif(not POSTGRES_URL, reason="BACKRUN_TEST_POSTGRES_URL is not set")
async def test_a_change_committed_while_a_mark_is_written_wins(db_url: str, sessionmaker: Sessions) -> None:
    """PostgreSQL, two connections: an old entry is removed (its transaction open, the athlete's row
    locked) while /plan writes the mark it computed before; the write waits, then finds the epoch
    moved on and writes nothing, so the removed entry's week is read again next time."""
    if not db_url.startswith("postgresql"):
        pytest.skip("needs two writers at once (PostgreSQL)")
    first = await log(sessionmaker, 1, 5, day(0), 400)
    before = await read(sessionmaker, day(30))
    async with sessionmaker.begin() as changing:
        row = await queries.get_run_session(changing, 1, first)
        assert row is not None and await queries.delete_run_session(changing, row)

        async def keep() -> bool:
            async with sessionmaker.begin() as s:
                return await lq.save_ladder_mark(s, 1, 5, LadderMark(day(13), Level.SPRINT, 0), before.epoch)

        writer = asyncio.create_task(keep())
        await asyncio.sleep(0.3)
        assert not writer.done()  # waiting for the change's lock
    assert await writer is False
    assert (await read(sessionmaker, day(30))).mark is None


async def test_a_year_of_weeks_with_a_mark_gives_what_the_whole_history_gives(sessionmaker: Sessions) -> None:
    """End to end over the store: three backward walks every week for 70 weeks (up to 5), a soreness
    day off in the last but one (down to 4); the mark the domain leaves is kept, and with it the read
    has only the last year's weeks and gives the same ladder."""
    start = date(2025, 1, 6)  # a Monday
    async with sessionmaker.begin() as s:
        athlete = await queries.get_or_create_athlete(s, 1, 5, "user5")
        for w in range(70):
            for d in (0, 2, 4):
                await queries.add_entry(
                    s,
                    athlete_id=athlete.id,
                    team_id=athlete.team_id,
                    kind="backward-walk",
                    is_backward=True,
                    meters=400,
                    seconds=None,
                    effective_meters=400,
                    amount_text="400m",
                    note=None,
                    day=start + timedelta(weeks=w, days=d),
                    logged_at=NOW,
                )
        # A soreness day off in week 68: down one, in a week that no mark can reach yet.
        s.add(
            RestDay(
                athlete_id=athlete.id,
                day=start + timedelta(weeks=68, days=1),
                source="soreness",
                recorded_at=NOW,
            )
        )
    today = start + timedelta(weeks=69, days=5)
    full = await read(sessionmaker, today)
    assert len(full.weeks) == 70
    whole = ladder(full.weeks, today)
    assert whole.level is Level.SKIP and whole.new_mark is not None
    async with sessionmaker.begin() as s:
        assert await lq.save_ladder_mark(s, 1, 5, whole.new_mark, full.epoch)
    again = await read(sessionmaker, today)
    assert again.mark == whole.new_mark and len(again.weeks) <= 54
    assert ladder(again.weeks, today, again.mark).level is whole.level


async def test_the_store_refuses_a_level_outside_the_ladder(sessionmaker: Sessions) -> None:
    """0013's CHECK: a level is 1-5 whatever a caller forgot to validate."""
    await athlete_id(sessionmaker)
    for bad in (0, 6):
        with pytest.raises(IntegrityError):
            async with sessionmaker.begin() as s:
                await s.execute(update(Athlete).values(ladder_level=bad))
    async with sessionmaker.begin() as s:
        await s.execute(update(Athlete).values(ladder_level=5))
