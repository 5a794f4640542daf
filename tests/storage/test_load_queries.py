"""The load model's reads (storage/load_queries.py): the screen's sums in SQL are what
``screen_of`` says they are, the days read back are the days stored, and the screen's plan goes
through the athletes' own index (issue 9), on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Select, insert, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from backrun_bot.domain.load import LOAD_LOOKBACK_DAYS, DayLog, screen_of
from backrun_bot.storage import load_queries as lq
from backrun_bot.storage.models import Athlete, RunSession, Team
from tests.domain.test_load import MARKS, random_history

DAY = date(2026, 5, 20)
NOW = datetime(2026, 5, 21, 6, 0, tzinfo=UTC)


async def store(
    s: AsyncSession, team_id: int, athletes: Sequence[tuple[int, str, Sequence[DayLog]]]
) -> dict[int, int]:
    """Store each (user id, name, logs) as an athlete of ``team_id`` with one entry per backward
    session and one for a day's forward metres, as /log stores them; returns athlete ids by user."""
    if await s.get(Team, team_id) is None:
        s.add(Team(id=team_id, created_at=NOW))
        await s.flush()
    ids = {}
    for user_id, name, logs in athletes:
        athlete = Athlete(team_id=team_id, user_id=user_id, display_name=name, created_at=NOW)
        s.add(athlete)
        await s.flush()
        ids[user_id] = athlete.id
        rows = []
        for log in logs:
            entries = [(True, m) for m in log.backward_sessions]
            entries += [(False, log.forward_meters)] if log.forward_meters else []
            for is_backward, meters in entries:
                rows.append(
                    {
                        "athlete_id": athlete.id,
                        "team_id": team_id,
                        "kind": "backward" if is_backward else "forward",
                        "is_backward": is_backward,
                        "meters": meters,
                        "seconds": None,
                        "effective_meters": meters,
                        "amount_text": f"{meters:g}m",
                        "note": None,
                        "day": log.day,
                        "logged_at": NOW,
                    }
                )
        if rows:
            await s.execute(insert(RunSession), rows)
    return ids


def in_lookback(logs: Sequence[DayLog], day: date) -> list[DayLog]:
    """What the services read for ``day``: the lookback's days, up to and including it."""
    return [log for log in logs if day - timedelta(days=LOAD_LOOKBACK_DAYS) <= log.day <= day]


async def test_the_screen_in_sql_is_screen_of_each_athlete(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    rnd = random.Random(5)
    stored: dict[int, tuple[int, int, str, list[DayLog]]] = {}  # athlete id -> team, user, name, logs
    async with sessionmaker.begin() as s:
        for team_id in (1, 2, 3):
            team = [(u, f"u{u}", random_history(rnd, DAY, rnd.choice(MARKS))) for u in range(40)]
            # Entries outside the lookback, and after the day, which the screen must not see.
            team.append((99, "old", [DayLog(DAY - timedelta(days=61), (4000.0,)), DayLog(DAY, (100.0,))]))
            later = [DayLog(DAY - timedelta(days=5), (100.0,)), DayLog(DAY + timedelta(days=1), (9000.0,))]
            team.append((98, "later", later))
            ids = await store(s, team_id, team)
            stored |= {ids[u]: (team_id, u, name, logs) for u, name, logs in team}
    async with sessionmaker() as s:
        screened = await lq.screens(s, [1, 3], DAY)
        assert await lq.screens(s, [], DAY) == []
    by_id = {one.athlete.id: one for one in screened}
    assert len(by_id) == len(screened)
    expected = {
        athlete_id: screen_of(in_lookback(logs, DAY), DAY)
        for athlete_id, (team_id, _user, _name, logs) in stored.items()
        if team_id in (1, 3) and any(log.day == DAY and log.backward_sessions for log in logs)
    }
    # Only the asked teams' athletes who ran backward that day, each as stored.
    assert set(by_id) == set(expected)
    for athlete_id, want in expected.items():
        team_id, user_id, name, _logs = stored[athlete_id]
        assert by_id[athlete_id].athlete == lq.AthleteRef(athlete_id, team_id, user_id, name, True)
        got = by_id[athlete_id].screen
        assert got.longest_session == want.longest_session
        assert got.previous_longest == want.previous_longest
        # Sums in another order: equal within rounding (the screen's margin is far wider).
        assert got.backward_meters == pytest.approx(want.backward_meters, rel=1e-12)


async def test_the_days_read_back_are_the_days_stored(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    logs = [
        DayLog(DAY - timedelta(days=61), (4000.0,)),
        DayLog(DAY - timedelta(days=60), (700.0, 300.5), 1200.0),
        DayLog(DAY - timedelta(days=3), (), 5000.0),
        DayLog(DAY, (250.0, 1000.0, 125.25)),
        DayLog(DAY + timedelta(days=1), (9000.0,)),
    ]
    async with sessionmaker.begin() as s:
        ids = await store(s, 1, [(7, "seven", logs), (8, "eight", [DayLog(DAY, (1.0,))]), (9, "none", [])])
        await store(s, 2, [(7, "seven elsewhere", [DayLog(DAY, (3.0,))])])
        # A second forward entry on a day: the day's forward metres add up.
        await store(s, 1, [(6, "six", [DayLog(DAY - timedelta(days=3), (), 500.0)])])
        await s.execute(
            update(RunSession)
            .where(RunSession.team_id == 1, RunSession.meters == 500.0)
            .values(athlete_id=ids[7])
        )
    start = DAY - timedelta(days=LOAD_LOOKBACK_DAYS)
    async with sessionmaker() as s:
        days = await lq.day_logs(s, [ids[7], ids[8], ids[9], ids[7]], start, DAY)
        seven = [logs[1], DayLog(DAY - timedelta(days=3), (), 5500.0), logs[3]]
        assert _without_load(days) == {ids[7]: seven, ids[8]: [DayLog(DAY, (1.0,))]}  # sessions in order
        # Unrated: 4.05 × 0.42 s/m ÷ 60 = 0.02835 a backward metre, 3 × 0.33 ÷ 60 = 0.0165 forward.
        assert [log.load for log in days[ids[7]]] == pytest.approx(
            [1000.5 * 0.02835 + 1200 * 0.0165, 5500 * 0.0165, 1375.25 * 0.02835]
        )
        assert await lq.day_logs(s, [], start, DAY) == {}
        assert await lq.athlete_day_logs(s, 1, 7, start, DAY) == days[ids[7]]
        assert _without_load({0: await lq.athlete_day_logs(s, 2, 7, start, DAY)}) == {
            0: [DayLog(DAY, (3.0,))]
        }
        assert await lq.athlete_day_logs(s, 1, 12345, start, DAY) == []


def _without_load(days: dict[int, list[DayLog]]) -> dict[int, list[DayLog]]:
    return {a: [dataclasses.replace(log, load=0.0) for log in logs] for a, logs in days.items()}


async def test_the_days_carry_the_session_rpe_load_of_their_entries(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Each entry's load from its rating (or its kind's default) and its duration (or its metres at
    the kind's pace), added up per day: hand-computed, Foster et al. 2001's RPE × minutes."""
    async with sessionmaker.begin() as s:
        ids = await store(s, 1, [(7, "seven", [])])
        rows = [
            # kind, metres given, seconds given, counted metres, rpe, day
            ("backward-sprint", 200.0, 40.0, 200.0, 9, DAY),  # 9 × 40 s = 6
            ("forward", 1000.0, None, 1000.0, None, DAY),  # 3 × 330 s = 16.5
            ("backward-walk", None, 300.0, 333.33, None, DAY),  # 1.35 × 300 s = 6.75
            ("backward", 1000.0, None, 1000.0, 6, DAY - timedelta(days=1)),  # 6 × 420 s = 42
        ]
        await s.execute(
            insert(RunSession),
            [
                {
                    "athlete_id": ids[7],
                    "team_id": 1,
                    "kind": kind,
                    "is_backward": kind != "forward",
                    "meters": meters,
                    "seconds": seconds,
                    "effective_meters": counted,
                    "amount_text": "x",
                    "note": None,
                    "day": day,
                    "logged_at": NOW,
                    "rpe": rpe,
                }
                for kind, meters, seconds, counted, rpe, day in rows
            ],
        )
    async with sessionmaker() as s:
        days = await lq.athlete_day_logs(s, 1, 7, DAY - timedelta(days=60), DAY)
    assert [(log.day, log.backward_sessions, log.forward_meters) for log in days] == [
        (DAY - timedelta(days=1), (1000.0,), 0.0),
        (DAY, (200.0, 333.33), 1000.0),
    ]
    assert [log.load for log in days] == pytest.approx([42.0, 6.0 + 16.5 + 6.75])


async def fill_for_plans(conn: AsyncConnection) -> None:
    """A big team (60 athletes, 200 days each) among 3,000 small ones, analysed: real statistics
    for the planners to choose from."""
    rows = [{"id": 1, "created_at": NOW}] + [{"id": 1000 + n, "created_at": NOW} for n in range(3000)]
    await conn.execute(insert(Team), rows)
    athletes = [
        {"id": a, "team_id": 1, "user_id": a, "display_name": f"a{a}", "created_at": NOW}
        for a in range(1, 61)
    ] + [
        {"id": 10_000 + n, "team_id": 1000 + n, "user_id": 7, "display_name": "me", "created_at": NOW}
        for n in range(3000)
    ]
    await conn.execute(insert(Athlete), athletes)
    entries = [
        {
            "athlete_id": a,
            "team_id": 1,
            "kind": "backward",
            "is_backward": True,
            "meters": 400.0,
            "seconds": None,
            "effective_meters": 400.0,
            "amount_text": "400m",
            "note": None,
            "day": DAY - timedelta(days=d),
            "logged_at": NOW,
        }
        for a in range(1, 61)
        for d in range(200)
    ]
    await conn.execute(insert(RunSession), entries)
    await conn.execute(text("ANALYZE"))


async def plan(
    conn: AsyncConnection, statement: Select[*tuple[Any, ...]], parameters: dict[str, object]
) -> str:
    """SQLite's query plan; on PostgreSQL the generic plan of the prepared statement (what asyncpg's
    cached statements end up with), so that no plan depends on the day's values."""
    bound = statement.params(parameters)
    if conn.dialect.name == "sqlite":
        sql = bound.compile(conn.engine, compile_kwargs={"literal_binds": True})
        return "\n".join(str(r[-1]) for r in await conn.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
    expanded = bound.compile(conn.engine).construct_expanded_state()
    args = ", ".join(
        f"'{value.isoformat()}'" if isinstance(value, date) else repr(value)
        for value in (expanded.parameters[name] for name in expanded.positiontup or [])
    )
    await conn.exec_driver_sql(f"PREPARE screen AS {expanded.statement}")
    await conn.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
    rows = await conn.exec_driver_sql(f"EXPLAIN EXECUTE screen({args})")
    return "\n".join(str(r[0]) for r in rows)


async def test_the_screen_reads_the_athletes_own_index(engine: AsyncEngine) -> None:
    """Its cost follows the team's athletes and the 31 days, not the team's history or other teams."""
    async with engine.begin() as conn:
        await fill_for_plans(conn)
        shown = await plan(conn, lq.screen_statement(), lq.screen_parameters([1], DAY))
    assert "ix_run_sessions_athlete_day" in shown, shown
    assert "SCAN run_sessions" not in shown and "Seq Scan on run_sessions" not in shown, shown
    assert "SCAN athletes" not in shown and "Seq Scan on athletes" not in shown, shown
