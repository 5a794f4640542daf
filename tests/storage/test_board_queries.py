"""The team's views in SQL (storage/board_queries.py), on SQLite and PostgreSQL: what they sum, what
they leave out, and the plans that serve them (the team's covering index; the athletes' own index)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from backrun_bot.storage import board_queries as bq
from backrun_bot.storage.models import Athlete, RunSession, Team
from tests.storage.test_query_plans import plan

NOW = datetime(2026, 3, 8, 12, tzinfo=UTC)
MONDAY, SUNDAY = date(2026, 3, 2), date(2026, 3, 8)


def entry(athlete: int, team: int, day: date, meters: float, kind: str = "backward") -> dict[str, object]:
    return {
        "athlete_id": athlete,
        "team_id": team,
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


async def small_world(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker.begin() as s:
        await s.execute(insert(Team), [{"id": 1, "created_at": NOW}, {"id": 2, "created_at": NOW}])
        await s.execute(
            insert(Athlete),
            [
                {"id": 1, "team_id": 1, "user_id": 11, "display_name": "alice", "created_at": NOW},
                {"id": 2, "team_id": 1, "user_id": 12, "display_name": "bob", "created_at": NOW},
                {"id": 3, "team_id": 1, "user_id": 13, "display_name": "carl", "created_at": NOW},
                {"id": 4, "team_id": 2, "user_id": 11, "display_name": "alice elsewhere", "created_at": NOW},
            ],
        )
        await s.execute(
            insert(RunSession),
            [
                entry(1, 1, MONDAY, 400.0),
                entry(1, 1, SUNDAY, 300.0, "backpedal"),
                entry(1, 1, SUNDAY, 5000.0, "forward"),
                entry(1, 1, MONDAY - timedelta(days=1), 900.0),  # the Sunday before
                entry(1, 1, SUNDAY + timedelta(days=1), 900.0),  # after today (another zone's today)
                entry(2, 1, date(2026, 3, 4), 250.0, "backpedal"),
                entry(3, 1, date(2026, 2, 1), 100.0),  # long ago only
                entry(4, 2, SUNDAY, 8000.0),  # another team
            ],
        )


async def test_the_board_sums_the_period_of_one_team(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    await small_world(sessionmaker)
    async with sessionmaker() as s:
        backward = await bq.board_totals(s, 1, MONDAY, SUNDAY, None)
        backpedal = await bq.board_totals(s, 1, MONDAY, SUNDAY, "backpedal")
        forward = await bq.board_totals(s, 1, MONDAY, SUNDAY, "forward")
        month = await bq.board_totals(s, 1, date(2026, 2, 1), SUNDAY, None)
    assert sorted((t.athlete_id, t.user_id, t.name, t.meters) for t in backward) == [
        (1, 11, "alice", 700.0),
        (2, 12, "bob", 250.0),
    ]
    assert sorted((t.name, t.meters) for t in backpedal) == [("alice", 300.0), ("bob", 250.0)]
    assert [(t.name, t.meters) for t in forward] == [("alice", 5000.0)]
    assert sorted((t.name, t.meters) for t in month) == [("alice", 1600.0), ("bob", 250.0), ("carl", 100.0)]


async def test_the_overview_reads_every_athlete_of_the_team(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await small_world(sessionmaker)
    async with sessionmaker() as s:
        rows = await bq.overview(s, 1, MONDAY, SUNDAY)
    assert sorted(rows, key=lambda r: r.athlete_id) == [
        bq.AthleteRecent(1, 11, "alice", 700.0, SUNDAY, SUNDAY),
        bq.AthleteRecent(2, 12, "bob", 250.0, date(2026, 3, 4), date(2026, 3, 4)),
        bq.AthleteRecent(3, 13, "carl", 0.0, date(2026, 2, 1), date(2026, 2, 1)),
    ]


async def test_the_latest_backward_day_skips_forward_days(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await small_world(sessionmaker)
    async with sessionmaker.begin() as s:
        await s.execute(insert(RunSession), [entry(3, 1, SUNDAY, 3000.0, "forward")])
    async with sessionmaker() as s:
        [carl] = [r for r in await bq.overview(s, 1, MONDAY, SUNDAY) if r.athlete_id == 3]
    assert (carl.backward_week, carl.last_backward, carl.last_entry) == (0.0, date(2026, 2, 1), SUNDAY)


async def test_an_athlete_without_entries_is_in_the_overview(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await small_world(sessionmaker)
    async with sessionmaker.begin() as s:
        await s.execute(
            insert(Athlete),
            [{"id": 9, "team_id": 1, "user_id": 19, "display_name": "new", "created_at": NOW}],
        )
    async with sessionmaker() as s:
        rows = {r.athlete_id: r for r in await bq.overview(s, 1, MONDAY, SUNDAY)}
        assert rows[9] == bq.AthleteRecent(9, 19, "new", 0.0, None, None)
        assert 9 not in {t.athlete_id for t in await bq.board_totals(s, 1, MONDAY, SUNDAY, None)}


BIG_TEAM, TEAMS, DAYS = 1, 120, 100
TODAY = date(2026, 3, 8)


async def many_teams(engine: AsyncEngine) -> None:
    """A team of 60 athletes and 119 of 4, each athlete with an entry on each of 100 days, analysed
    (and vacuumed on PostgreSQL, as autovacuum would, so index-only scans are costed as such)."""
    sizes = {team: 60 if team == BIG_TEAM else 4 for team in range(1, TEAMS + 1)}
    athletes = [(team, n) for team, size in sizes.items() for n in range(size)]
    async with engine.begin() as conn:
        await conn.execute(insert(Team), [{"id": team, "created_at": NOW} for team in sizes])
        await conn.execute(
            insert(Athlete),
            [
                {"id": i, "team_id": team, "user_id": i, "display_name": f"a{i}", "created_at": NOW}
                for i, (team, _) in enumerate(athletes, start=1)
            ],
        )
        kinds = ("backward", "backpedal", "forward")
        await conn.execute(
            insert(RunSession),
            [
                entry(i, team, TODAY - timedelta(days=d), 400.0, kinds[(i + d) % 3])
                for d in range(DAYS)
                for i, (team, _) in enumerate(athletes, start=1)
            ],
        )
    async with engine.connect() as conn:
        auto: AsyncConnection = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await auto.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))


async def test_the_board_reads_the_teams_covering_index_alone(engine: AsyncEngine) -> None:
    await many_teams(engine)
    async with engine.connect() as conn:
        for kind in (None, "backpedal"):
            statement, values = bq.board_query(BIG_TEAM, TODAY - timedelta(days=6), TODAY, kind)
            statement = statement.params(**values)
            shown = await plan(conn, statement)
            if conn.dialect.name == "sqlite":
                assert "USING COVERING INDEX ix_run_sessions_team_day" in shown, shown
            else:
                assert "Index Only Scan using ix_run_sessions_team_day" in shown, shown
            assert "SCAN run_sessions" not in shown and "Seq Scan on run_sessions" not in shown, shown


async def test_the_overview_walks_each_athletes_own_index(engine: AsyncEngine) -> None:
    await many_teams(engine)
    async with engine.connect() as conn:
        statement = bq.overview_statement().params(
            team_id=BIG_TEAM, week=TODAY - timedelta(days=6), today=TODAY
        )
        shown = await plan(conn, statement)
    if engine.dialect.name == "sqlite":
        assert shown.count("USING COVERING INDEX ix_run_sessions_athlete_day") == 3, shown
    else:
        assert shown.count("Index Only Scan") == 3 and "ix_run_sessions_athlete_day" in shown, shown
        assert shown.count("Index Only Scan Backward") == 2, shown
    assert "SCAN run_sessions" not in shown and "Seq Scan on run_sessions" not in shown, shown
    assert "SCAN athletes" not in shown and "Seq Scan on athletes" not in shown, shown
