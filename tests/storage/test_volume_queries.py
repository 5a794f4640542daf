"""The charts' reads (``storage/volume_queries.py``): what they sum, whom they scope to, and that
each is served by the athletes' covering index alone, on SQLite and PostgreSQL (generic plans)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import CompoundSelect, Select, insert, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from backrun_bot.domain.volume import DayVolume
from backrun_bot.storage import volume_queries as vq
from backrun_bot.storage.models import Athlete, RunSession, Team
from tests.storage.test_query_plans import BIG_TEAM, ME, TODAY, fill, plan

NOW = datetime(2026, 3, 8, 12, tzinfo=UTC)
D1, D2, D3 = date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)


def entry(athlete_id: int, team_id: int, kind: str, meters: float, day: date) -> dict[str, Any]:
    return {
        "athlete_id": athlete_id,
        "team_id": team_id,
        "kind": kind,
        "is_backward": kind != "forward",
        "meters": meters,
        "seconds": None,
        "effective_meters": meters,
        "amount_text": f"{meters:g}m",
        "note": None,
        "day": day,
        "logged_at": NOW,
    }


async def seed(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """Team 1: athletes 1 (user 11) and 2 (user 12); team 2: athlete 3, who is user 11 too."""
    async with sessionmaker.begin() as s:
        await s.execute(
            insert(Team),
            [
                {"id": 1, "created_at": NOW, "timezone": "Europe/Oslo", "units": "imperial"},
                {"id": 2, "created_at": NOW},
            ],
        )
        await s.execute(
            insert(Athlete),
            [
                {"id": 1, "team_id": 1, "user_id": 11, "display_name": "a", "created_at": NOW},
                {"id": 2, "team_id": 1, "user_id": 12, "display_name": "b", "created_at": NOW},
                {"id": 3, "team_id": 2, "user_id": 11, "display_name": "a", "created_at": NOW},
            ],
        )
        await s.execute(
            insert(RunSession),
            [
                entry(1, 1, "backward", 400, D1),
                entry(1, 1, "backpedal", 100, D1),
                entry(1, 1, "forward", 3000, D1),
                entry(1, 1, "forward", 1000, D3),
                entry(2, 1, "backward-walk", 250, D1),
                entry(2, 1, "backward", 800, D2),
                entry(3, 2, "backward", 5000, D1),  # the same user in another server
            ],
        )


async def athlete_days(
    s: AsyncSession, guild: int, user: int, first: date, last: date
) -> dict[date, DayVolume]:
    read = await vq.athlete_chart(s, guild, user, first, last)
    return {} if read is None else read.days


async def team_days(s: AsyncSession, guild: int, first: date, last: date) -> dict[date, DayVolume]:
    read = await vq.team_chart(s, guild, first, last)
    return {} if read is None else read.days


async def test_an_athletes_days_split_backward_and_forward_within_the_range(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await seed(sessionmaker)
    async with sessionmaker() as s:
        assert await athlete_days(s, 1, 11, D1, D3) == {
            D1: DayVolume(500.0, 3000.0),
            D3: DayVolume(0.0, 1000.0),
        }
        assert await athlete_days(s, 1, 11, D2, D2) == {}
        assert await athlete_days(s, 2, 11, D1, D3) == {D1: DayVolume(5000.0, 0.0)}
        assert await athlete_days(s, 1, 99, D1, D3) == {}  # no such athlete
        assert await athlete_days(s, 1, 11, D2, D3) == {D3: DayVolume(0.0, 1000.0)}


async def test_a_teams_days_and_totals_sum_its_athletes_only(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await seed(sessionmaker)
    async with sessionmaker() as s:
        assert await team_days(s, 1, D1, D3) == {
            D1: DayVolume(750.0, 3000.0),
            D2: DayVolume(800.0, 0.0),
            D3: DayVolume(0.0, 1000.0),
        }
        assert await vq.team_totals(s, 1, D1, D3) == vq.TeamTotals(1550.0, 4000.0, 2)
        assert await vq.team_totals(s, 1, D2, D3) == vq.TeamTotals(800.0, 1000.0, 2)
        assert await vq.team_totals(s, 1, D3, D3) == vq.TeamTotals(0.0, 1000.0, 1)
        assert await vq.team_totals(s, 2, D2, D3) == vq.TeamTotals(0.0, 0.0, 0)
        # With the team's timezone and units, in one statement; the team alone when nothing ran.
        # and, for all time, the first day anything was logged, ever, whatever the days read.
        assert await vq.team_chart(s, 1, D2, D3) == vq.ChartRead(
            "Europe/Oslo", "imperial", None, {D2: DayVolume(800.0, 0.0), D3: DayVolume(0.0, 1000.0)}
        )
        assert await vq.athlete_chart(s, 1, 12, D1, D3) == vq.ChartRead(
            "Europe/Oslo", "imperial", None, {D1: DayVolume(250.0, 0.0), D2: DayVolume(800.0, 0.0)}
        )
        assert await vq.athlete_chart(s, 2, 11, D2, D3) == vq.ChartRead("UTC", "metric", None, {})
        since = date(2020, 1, 1)
        assert await vq.athlete_chart(s, 2, 11, D2, D3, monthly_before=since) == vq.ChartRead(
            "UTC", "metric", D1, {}
        )
        assert (await vq.team_chart(s, 1, D3, D3, monthly_before=since)) == vq.ChartRead(
            "Europe/Oslo", "imperial", D1, {D3: DayVolume(0.0, 1000.0)}
        )
        assert await vq.athlete_chart(s, 1, 99, D1, D3, monthly_before=since) == vq.ChartRead(
            "Europe/Oslo", "imperial", None, {}
        )
        assert await vq.team_chart(s, 3, D1, D3) is None and await vq.athlete_chart(s, 3, 11, D1, D3) is None


OTHER_TEAMS, OTHER_ATHLETES = 20, 10


async def fill_more(conn: Any) -> None:
    """:func:`fill`, plus 20 more teams of 10 athletes with an entry a day for the same 200 days, so
    that the team read (the big team) is a twentieth of the table, as any one team is in a real
    database, and not all of it."""
    await fill(conn)
    now = datetime.now(UTC)
    await conn.execute(insert(Team), [{"id": 100 + t, "created_at": now} for t in range(OTHER_TEAMS)])
    ids = [(20_000 + t * 100 + a, 100 + t, a) for t in range(OTHER_TEAMS) for a in range(OTHER_ATHLETES)]
    await conn.execute(
        insert(Athlete),
        [
            {"id": i, "team_id": team, "user_id": user, "display_name": "x", "created_at": now}
            for i, team, user in ids
        ],
    )
    back = [TODAY - timedelta(days=d) for d in range(200)]
    rows = [entry(i, team, "backward", 400, day) for i, team, _ in ids for day in back]
    await conn.execute(insert(RunSession), rows)
    await conn.execute(text("ANALYZE"))


async def test_an_all_time_read_of_a_long_history_comes_by_month(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await seed(sessionmaker)
    async with sessionmaker.begin() as s:
        await s.execute(
            insert(RunSession),
            [
                entry(1, 1, "backward", 300, date(2026, 1, 20)),
                entry(2, 1, "forward", 700, date(2025, 12, 31)),
            ],
        )
    everything = (date.min, D3)
    async with sessionmaker() as s:
        # The first entry (20 January) before the day given: months, each under its first day,
        # the first month under the first entry's day.
        monthly = await vq.athlete_chart(s, 1, 11, *everything, monthly_before=date(2026, 2, 1))
        assert monthly == vq.ChartRead(
            "Europe/Oslo",
            "imperial",
            date(2026, 1, 20),
            {date(2026, 1, 20): DayVolume(300.0, 0.0), date(2026, 3, 1): DayVolume(500.0, 4000.0)},
        )
        # Not before it: days, as ever.
        daily = await vq.athlete_chart(s, 1, 11, *everything, monthly_before=date(2026, 1, 20))
        assert daily is not None and daily.first_day == date(2026, 1, 20)
        assert daily.days == {
            date(2026, 1, 20): DayVolume(300.0, 0.0),
            D1: DayVolume(500.0, 3000.0),
            D3: DayVolume(0.0, 1000.0),
        }
        team = await vq.team_chart(s, 1, *everything, monthly_before=date(2026, 1, 1))
        assert team is not None and team.first_day == date(2025, 12, 31)
        assert team.days == {
            date(2025, 12, 31): DayVolume(0.0, 700.0),
            date(2026, 1, 1): DayVolume(300.0, 0.0),
            date(2026, 3, 1): DayVolume(1550.0, 4000.0),
        }


READS: dict[str, Callable[[date], Select[*tuple[Any, ...]] | CompoundSelect[*tuple[Any, ...]]]] = {
    "athlete days": lambda first: vq.bound(
        vq.athlete_days_query(), guild_id=BIG_TEAM, user_id=ME, first=first, last=TODAY
    ),
    "team days": lambda first: vq.bound(vq.team_days_query(), guild_id=BIG_TEAM, first=first, last=TODAY),
    "athlete chart": lambda first: vq.bound(
        vq.athlete_chart_query(all_time=False), guild_id=BIG_TEAM, user_id=ME, first=first, last=TODAY
    ),
    "athlete chart, all time": lambda first: vq.bound(
        vq.athlete_chart_query(all_time=True),
        guild_id=BIG_TEAM,
        user_id=ME,
        first=first,
        last=TODAY,
        monthly_before=TODAY - timedelta(days=30),
    ),
    "team chart": lambda first: vq.bound(
        vq.team_chart_query(all_time=False), guild_id=BIG_TEAM, first=first, last=TODAY
    ),
    "team chart, all time": lambda first: vq.bound(
        vq.team_chart_query(all_time=True),
        guild_id=BIG_TEAM,
        first=first,
        last=TODAY,
        monthly_before=TODAY - timedelta(days=30),
    ),
    "team totals": lambda first: vq.bound(vq.team_totals_query(), guild_id=BIG_TEAM, first=first, last=TODAY),
}


@pytest.mark.parametrize(
    ("read", "back"),
    [
        ("athlete days", 7),
        ("athlete days", 5 * 365),
        ("athlete chart", 5 * 365),
        ("athlete chart, all time", 5 * 365),
        ("team days", 7),
        ("team days", 31),
        ("team chart", 7),
        ("team chart, all time", 31),
        ("team totals", 7),
    ],
)
async def test_each_read_is_served_by_the_athletes_covering_index_alone(
    engine: AsyncEngine, read: str, back: int
) -> None:
    async with engine.begin() as conn:
        await fill_more(conn)
    if engine.dialect.name == "postgresql":
        # What autovacuum does to a table that has stopped changing: the visibility map, without
        # which PostgreSQL must visit the table for every index entry and plans accordingly.
        async with engine.connect() as conn:
            autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text("VACUUM ANALYZE"))
    async with engine.connect() as conn:
        shown = await plan(conn, READS[read](TODAY - timedelta(days=back)))
    if engine.dialect.name == "sqlite":
        assert "USING COVERING INDEX ix_run_sessions_athlete_day" in shown, shown
    else:
        assert "Index Only Scan using ix_run_sessions_athlete_day" in shown, shown
    assert "ix_run_sessions_team_day" not in shown, shown
    assert "SCAN athletes" not in shown and "Seq Scan on athletes" not in shown, shown
    assert "Seq Scan on run_sessions" not in shown and "SCAN run_sessions" not in shown, shown
