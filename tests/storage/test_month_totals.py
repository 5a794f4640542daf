"""The month totals (migration 0014) follow every write to ``run_sessions``, on SQLite and
PostgreSQL: after each step of a seeded mix of inserts, edits (of the day, the kind — backward to
forward and between backward kinds —, the amount, or only the note) and deletes, by statements of
every shape the bot uses, the table equals a recount of the entries; a month whose last entry goes
is gone; and the leaderboard summed through whole months equals the plain sum over the entries for
periods that start and end anywhere."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backrun_bot.storage import board_queries as bq
from backrun_bot.storage.models import Athlete, MonthTotal, RunSession, Team
from backrun_bot.storage.month_totals import backfill
from tests.storage.test_board_queries import entry

NOW = datetime(2026, 3, 8, 12, tzinfo=UTC)
KINDS = ("backward", "backpedal", "backward-walk", "forward")
FIRST_DAY = date(2025, 11, 20)


async def two_teams(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker.begin() as s:
        await s.execute(insert(Team), [{"id": 1, "created_at": NOW}, {"id": 2, "created_at": NOW}])
        await s.execute(
            insert(Athlete),
            [
                {"id": a, "team_id": 1 + a % 2, "user_id": 10 + a, "display_name": f"a{a}", "created_at": NOW}
                for a in range(1, 5)
            ],
        )


async def kept(s: AsyncSession) -> set[tuple[object, ...]]:
    rows = await s.execute(select(MonthTotal.__table__))
    return {tuple(row) for row in rows}


async def recounted(s: AsyncSession) -> set[tuple[object, ...]]:
    """What the migration's backfill would make of the entries now (in a savepoint, rolled back)."""
    async with s.begin_nested() as nested:
        await s.execute(delete(MonthTotal))
        await s.execute(text(backfill(s.get_bind().dialect.name)))
        rows = await kept(s)
        await nested.rollback()
    return rows


def random_entry(rng: random.Random) -> dict[str, object]:
    athlete = rng.randint(1, 4)
    meters = rng.choice([400.0, 0.3048 * rng.randint(1, 5000), rng.uniform(1, 3000)])
    return entry(
        athlete, 1 + athlete % 2, FIRST_DAY + timedelta(days=rng.randint(0, 130)), meters, rng.choice(KINDS)
    )


async def test_the_totals_follow_every_write(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    await two_teams(sessionmaker)
    rng = random.Random(11)
    for step in range(120):
        async with sessionmaker.begin() as s:
            ids = list(await s.scalars(select(RunSession.id)))
            action = rng.random() if ids else 0.0
            if action < 0.45:
                rows = [random_entry(rng) for _ in range(rng.randint(1, 3))]
                await s.execute(insert(RunSession), rows)  # one row or several in one statement
            elif action < 0.7:
                moved = random_entry(rng)
                changes = {k: moved[k] for k in rng.sample(["day", "kind", "effective_meters", "note"], 2)}
                if "kind" in changes:
                    changes["is_backward"] = changes["kind"] != "forward"
                await s.execute(update(RunSession).where(RunSession.id == rng.choice(ids)).values(**changes))
            elif action < 0.9:
                await s.execute(delete(RunSession).where(RunSession.id == rng.choice(ids)))
            else:  # a whole athlete's entries at once (/forget-me deletes them like this)
                await s.execute(delete(RunSession).where(RunSession.athlete_id == rng.randint(1, 4)))
            assert await kept(s) == await recounted(s), f"step {step}"
    async with sessionmaker() as s:
        assert (await s.scalar(select(func.count()).select_from(MonthTotal)) or 0) > 0
        # Every month row stands for at least one entry: none is left at zero.
        assert (await s.scalar(select(func.min(MonthTotal.entries))) or 0) >= 1


async def test_a_month_whose_last_entry_goes_is_gone(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    await two_teams(sessionmaker)
    async with sessionmaker.begin() as s:
        await s.execute(
            insert(RunSession), [entry(1, 2, date(2026, 1, 5), 0.1), entry(1, 2, date(2026, 1, 6), 0.2)]
        )
        assert await kept(s) == {(2, date(2026, 1, 1), 1, True, 300, 2)}
        await s.execute(delete(RunSession).where(RunSession.day == date(2026, 1, 5)))
        assert await kept(s) == {(2, date(2026, 1, 1), 1, True, 200, 1)}
        await s.execute(delete(RunSession))
        assert await kept(s) == set()


async def test_the_board_through_whole_months_equals_the_plain_sum(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await two_teams(sessionmaker)
    rng = random.Random(5)
    async with sessionmaker.begin() as s:
        await s.execute(insert(RunSession), [random_entry(rng) for _ in range(400)])
    periods = [(date(2026, 1, 1), date(2026, 3, 8)), (date(2025, 12, 1), date(2026, 2, 28))]
    periods += [(date(2026, 1, 1), date(2026, 1, 31)), (date(2026, 2, 3), date(2026, 2, 9))]
    for _ in range(20):
        start = FIRST_DAY + timedelta(days=rng.randint(0, 130))
        periods.append((start, start + timedelta(days=rng.randint(0, 120))))
    async with sessionmaker() as s:
        for start, end in periods:
            for kind in (None, "backpedal", "backward-walk", "forward"):
                which = RunSession.is_backward.is_(True) if kind is None else RunSession.kind == kind
                rows = await s.execute(
                    select(RunSession.athlete_id, func.sum(RunSession.effective_meters))
                    .where(RunSession.team_id == 1, RunSession.day.between(start, end), which)
                    .group_by(RunSession.athlete_id)
                )
                plain = {athlete: float(meters) for athlete, meters in rows}
                board = {t.athlete_id: t.meters for t in await bq.board_totals(s, 1, start, end, kind)}
                assert board.keys() == plain.keys(), (start, end, kind)
                for athlete, meters in plain.items():
                    # Whole months count whole millimetres: at most half a millimetre off per entry.
                    assert abs(board[athlete] - meters) < 0.01, (start, end, kind, athlete)
