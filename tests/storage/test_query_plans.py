"""Every per-athlete read is served by one of the athlete's own indexes (``(athlete_id, day)``,
``(athlete_id, id)``), on SQLite and on
PostgreSQL, also with PostgreSQL's generic plans (what asyncpg's prepared statements end up using):
its cost follows the athlete's entries, not the team's or everyone's (issue 9).

The plans are read with EXPLAIN on a database with a big team and many small ones, analysed, so the
planner has real statistics to choose from.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import CompoundSelect, Select, TextualSelect, insert, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from backrun_bot.domain.stats import settled_day
from backrun_bot.storage import ladder_queries, queries
from backrun_bot.storage.models import Athlete, Checkin, RestDay, RunSession, Team

AnySelect = Select[*tuple[Any, ...]] | CompoundSelect[*tuple[Any, ...]] | TextualSelect

BIG_TEAM, ATHLETES, DAYS = 1, 60, 200
SMALL_TEAMS = 3000
ME = 7  # a user of the big team
FIRST = date(2025, 1, 1)
TODAY = FIRST + timedelta(days=DAYS)


async def fill(conn: AsyncConnection) -> None:
    now = datetime.now(UTC)
    teams = [{"id": BIG_TEAM, "created_at": now}] + [
        {"id": 1000 + n, "created_at": now} for n in range(SMALL_TEAMS)
    ]
    await conn.execute(insert(Team), teams)
    athletes = [
        {"id": a, "team_id": BIG_TEAM, "user_id": a, "display_name": f"a{a}", "created_at": now}
        for a in range(1, ATHLETES + 1)
    ] + [
        {"id": 10_000 + n, "team_id": 1000 + n, "user_id": ME, "display_name": "me", "created_at": now}
        for n in range(SMALL_TEAMS)
    ]
    await conn.execute(insert(Athlete), athletes)
    rows = [
        {
            "athlete_id": a,
            "team_id": BIG_TEAM,
            "kind": "backward",
            "is_backward": True,
            "meters": 400.0,
            "seconds": None,
            "effective_meters": 400.0,
            "amount_text": "400m",
            "note": None,
            "day": FIRST + timedelta(days=d),
            "logged_at": now,
        }
        for a in range(1, ATHLETES + 1)
        for d in range(DAYS)
    ]
    await conn.execute(insert(RunSession), rows)
    # Suggested days off: one a week for everyone of the big team.
    rests = [
        {"athlete_id": a, "day": FIRST + timedelta(days=d), "source": "warmup", "recorded_at": now}
        for a in range(1, ATHLETES + 1)
        for d in range(3, DAYS, 7)
    ]
    await conn.execute(insert(RestDay), rests)
    # Check-ins (the ladder reads them): every other day for everyone of the big team.
    checkins = [
        {
            "athlete_id": a,
            "day": FIRST + timedelta(days=d),
            "team_id": BIG_TEAM,
            "soreness": 3,
            "recorded_at": now,
        }
        for a in range(1, ATHLETES + 1)
        for d in range(0, DAYS, 2)
    ]
    await conn.execute(insert(Checkin), checkins)
    await conn.execute(text("ANALYZE"))


def per_athlete_reads() -> dict[str, AnySelect]:
    start = TODAY - timedelta(days=30)
    return {
        "history": queries.history_query(BIG_TEAM, ME, 10),
        "latest": queries.latest_query(BIG_TEAM, ME),
        "totals": queries.totals_query(BIG_TEAM, ME, start, TODAY),
        "backward meters": queries.backward_meters_query(BIG_TEAM, ME, start, TODAY),
        "active days": queries.active_days_query(BIG_TEAM, ME, start, TODAY, backward_only=True),
        "streaks": queries.streak_islands_query(BIG_TEAM, ME, TODAY, settled_day(TODAY)),
        "active day count": queries.active_day_count_query(BIG_TEAM, ME, start, TODAY),
        "log, a process's first": queries.logger_query(BIG_TEAM, ME, (start, TODAY)),
        "log, one statement": queries.known_entry_query(BIG_TEAM, ME, TODAY, (TODAY - timedelta(6), TODAY)),
        "stats, one read": queries.period_stats_query(BIG_TEAM, ME, start, TODAY, settled_day(TODAY)),
        "stats all, one read": queries.period_stats_query(BIG_TEAM, ME, None, TODAY, settled_day(TODAY)),
        "ladder, one read": ladder_queries.ladder_statement().params(
            guild_id=BIG_TEAM, user_id=ME, end=TODAY
        ),
    }


async def plan(conn: AsyncConnection, statement: AnySelect) -> str:
    compiled = statement.compile(conn.engine, compile_kwargs={"literal_binds": True})
    if conn.dialect.name == "sqlite":
        rows = await conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
        return "\n".join(str(r[-1]) for r in rows)
    # The generic plan, as a prepared statement gets after five runs (plan_cache_mode=auto).
    await conn.execute(text("SET plan_cache_mode = force_generic_plan"))
    rows = await conn.execute(text(f"EXPLAIN {compiled}"))
    return "\n".join(str(r[0]) for r in rows)


@pytest.mark.parametrize("read", list(per_athlete_reads()))
async def test_a_per_athlete_read_uses_the_athletes_own_index(engine: AsyncEngine, read: str) -> None:
    async with engine.begin() as conn:
        await fill(conn)
        shown = await plan(conn, per_athlete_reads()[read])
    assert "ix_run_sessions_athlete_day" in shown or "ix_run_sessions_athlete_id_id" in shown, shown
    assert "ix_run_sessions_team_day" not in shown, shown
    # The athlete is found by (team, user), never by scanning the athletes.
    assert "SCAN athletes" not in shown and "Seq Scan on athletes" not in shown, shown
    assert "Seq Scan on run_sessions" not in shown and "SCAN run_sessions" not in shown, shown
    assert "Seq Scan on rest_days" not in shown and "SCAN rest_days" not in shown, shown
    assert "Seq Scan on checkins" not in shown and "SCAN checkins" not in shown, shown
