"""Composing the morning warmup of a big team (issue 9, benchmark 4).

Fills a fresh database (migrated to head) with one team of ``--athletes`` athletes, each with a
backward entry on every day of ``--years`` years up to and including yesterday (the day the warmup
looks back on), and a forward one every third day, plus 50 small teams around it. Then times
``DeliveryService.compose`` of the warmup (the day-off data of every athlete: a few sums per
athlete in SQL, then the exact rules on the few they let through) in two cases:

- ``steady``: every day 300-1199 m backward, changing gently; nobody has a heavy day.
- ``heavy``: the same, after ``--heavy-share`` of the athletes (10 % by default) were given a heavy
  yesterday, half each by one rule alone: volume (4 × 400 m, the 1,600 m mark exactly), spike
  (one 1,599 m session, over 30 % longer than any earlier one). (The load ratio no longer decides a
  day off, issue 11.)

Each case asserts that the message names exactly the athletes expected, for the rule expected, and
reports how many athletes the SQL screen let through to the exact check and how many statements one
composition took. The JSON also has the screen query's plan (SQLite's query plan; on PostgreSQL
EXPLAIN ANALYZE of the generic plan of the prepared statement, what asyncpg ends up using).

    .venv/bin/python benchmarks/bench_compose.py [--athletes 300] [--years 5] [--runs 30] \
        [--heavy-share 0.1] [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/bench]

The database given must be empty (the run fills it). Target (issue 9): under 20 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, event, insert, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from backrun_bot.domain.load import Rule, may_be_heavy
from backrun_bot.domain.schedule import Slot
from backrun_bot.services.delivery import DeliveryService
from backrun_bot.storage import load_queries as lq
from backrun_bot.storage.engine import create_engine, make_sessionmaker
from backrun_bot.storage.migrate import upgrade_to_head
from backrun_bot.storage.models import Athlete, RunSession, Team

BIG_TEAM = 1 << 40
TODAY = date(2026, 12, 1)  # the warmup's day
YESTERDAY = TODAY - timedelta(days=1)  # the day it looks back on


async def fill(url: str, athletes: int, years: int) -> int:
    engine = create_engine(url)
    now = datetime.now(UTC)
    days = years * 365
    try:
        async with engine.begin() as conn:
            teams = [{"id": BIG_TEAM, "created_at": now}] + [
                {"id": n, "created_at": now} for n in range(1, 51)
            ]
            await conn.execute(insert(Team), teams)
            await conn.execute(
                insert(Athlete),
                [
                    {
                        "id": a,
                        "team_id": BIG_TEAM,
                        "user_id": a,
                        "display_name": f"athlete {a}",
                        "created_at": now,
                    }
                    for a in range(1, athletes + 1)
                ],
            )
            rows = 0
            for a in range(1, athletes + 1):
                entries = []
                for d in range(days):
                    day = YESTERDAY - timedelta(days=days - 1 - d)
                    meters = 300.0 + (a * 7 + d * 13) % 900
                    entries.append(_entry(a, "backward", True, meters, day, now))
                    if d % 3 == 0:
                        entries.append(_entry(a, "forward", False, 3000.0, day, now))
                await conn.execute(insert(RunSession), entries)
                rows += len(entries)
            await _analyze(conn)
        return rows
    finally:
        await engine.dispose()


def heavy_athletes(athletes: int, share: float) -> dict[int, Rule]:
    """The athletes given a heavy yesterday, each with the one rule it fires: spread over the team,
    half per rule."""
    count = round(athletes * share)
    step = athletes / count if count else 1
    rules = (Rule.VOLUME, Rule.SPIKE)
    return {int(n * step) + 1: rules[n % 2] for n in range(count)}


async def make_heavy(url: str, heavy: dict[int, Rule]) -> int:
    """Replace the entries of the ``heavy`` athletes' last days with ones that fire their rule."""
    engine = create_engine(url)
    now = datetime.now(UTC)
    try:
        async with engine.begin() as conn:
            entries = []
            for a, rule in heavy.items():
                await conn.execute(
                    delete(RunSession).where(RunSession.athlete_id == a, RunSession.day == YESTERDAY)
                )
                sessions = (400.0,) * 4 if rule is Rule.VOLUME else (1599.0,)
                entries += [_entry(a, "backward", True, m, YESTERDAY, now) for m in sessions]
            if entries:
                await conn.execute(insert(RunSession), entries)
            await _analyze(conn)
            return len(entries)
    finally:
        await engine.dispose()


async def _analyze(conn: AsyncConnection) -> None:
    # Planner statistics, as a database that has been running a while has them.
    await conn.execute(text("ANALYZE"))


def _entry(
    athlete: int, kind: str, backward: bool, meters: float, day: date, now: datetime
) -> dict[str, object]:
    return {
        "athlete_id": athlete,
        "team_id": BIG_TEAM,
        "kind": kind,
        "is_backward": backward,
        "meters": meters,
        "seconds": None,
        "effective_meters": meters,
        "amount_text": f"{meters:g}m",
        "note": None,
        "day": day,
        "logged_at": now,
    }


class NoSender:
    async def send(self, *args: object, **kwargs: object) -> int:
        raise AssertionError("compose sends nothing")

    async def find(self, *args: object, **kwargs: object) -> int | None:
        raise AssertionError("compose looks for nothing")


@contextmanager
def statements_of(engine: AsyncEngine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def time_case(
    name: str,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    service: DeliveryService,
    runs: int,
    expected: dict[int, Rule],
) -> dict[str, Any]:
    timings, cpu = [], []
    for _ in range(runs + 3):
        async with sessionmaker() as s:
            team = await s.get(Team, BIG_TEAM)
            assert team is not None
            began, began_cpu = time.perf_counter(), time.process_time()
            composed = await service.compose(s, team, TODAY, Slot.WARMUP)
            timings.append(time.perf_counter() - began)
            cpu.append(time.process_time() - began_cpu)
    timings, cpu = timings[3:], cpu[3:]  # warm caches first, as a running bot has them
    async with sessionmaker() as s:
        team = await s.get(Team, BIG_TEAM)
        assert team is not None
        with statements_of(engine) as statements:
            await service.compose(s, team, TODAY, Slot.WARMUP)
        offs = await service.days_off(s, team, TODAY)
        screened = await lq.screens(s, [BIG_TEAM], YESTERDAY)
    # The message names exactly the athletes made heavy, each for its one rule.
    assert composed.days_off == len(expected), (composed.days_off, len(expected))
    assert {off.user_id: off.heavy and off.heavy.rules for off in offs} == {
        a: (rule,) for a, rule in expected.items()
    }
    return {
        "case": name,
        "p50_ms": round(statistics.median(timings) * 1000, 2),
        "max_ms": round(max(timings) * 1000, 2),
        # CPU time of this process (all its threads, SQLite's too, not PostgreSQL's server): what the
        # composition costs without the waits for a CPU that a busy machine adds to p50.
        "process_cpu_p50_ms": round(statistics.median(cpu) * 1000, 2),
        "named_for_a_day_off": composed.days_off,
        "by_rule": {rule.value: sum(r is rule for r in expected.values()) for rule in Rule},
        "ran_backward_yesterday": len(screened),
        "let_through_by_the_screen": sum(may_be_heavy(a.screen, team.heavy_meters) for a in screened),
        "statements": len(statements),
    }


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, date):
        return f"'{value.isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"


async def explain(engine: AsyncEngine) -> list[str]:
    """The screen query's plan: SQLite's query plan; on PostgreSQL EXPLAIN ANALYZE of the generic
    plan of the statement prepared with parameters (what asyncpg's cached statements end up with)."""
    statement = lq.screen_statement().params(lq.screen_parameters([BIG_TEAM], YESTERDAY))
    async with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            sql = statement.compile(conn.engine, compile_kwargs={"literal_binds": True})
            return [str(r[-1]) for r in await conn.execute(text(f"EXPLAIN QUERY PLAN {sql}"))]
        compiled = statement.compile(conn.engine)
        expanded = compiled.construct_expanded_state()
        args = ", ".join(_literal(expanded.parameters[name]) for name in expanded.positiontup or [])
        await conn.exec_driver_sql(f"PREPARE screen_plan AS {expanded.statement}")
        await conn.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
        rows = await conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) EXECUTE screen_plan({args})")
        plan = [str(r[0]) for r in rows]
        await conn.exec_driver_sql("DEALLOCATE screen_plan")
        return plan


async def main(url: str | None, athletes: int, years: int, runs: int, share: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        url = url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        await upgrade_to_head(url)
        started = time.perf_counter()
        rows = await fill(url, athletes, years)
        filled = time.perf_counter() - started
        heavy = heavy_athletes(athletes, share)
        cases = []
        for name in ("steady", "heavy"):
            if name == "heavy":
                rows += await make_heavy(url, heavy)
            engine = create_engine(url)
            sessionmaker = make_sessionmaker(engine)
            service = DeliveryService(
                sessionmaker, NoSender(), clock=lambda: datetime.now(UTC), grace=timedelta(hours=2)
            )
            try:
                cases.append(
                    await time_case(
                        name, engine, sessionmaker, service, runs, heavy if name == "heavy" else {}
                    )
                )
                plan = await explain(engine)
            finally:
                await engine.dispose()
        return {
            "benchmark": "compose_warmup",
            "database": url.split(":", 1)[0],
            "athletes": athletes,
            "entries": rows,
            "fill_seconds": round(filled, 1),
            "runs": runs,
            "heavy_share": share,
            "cases": cases,
            "target_ms": 20,
            "target_met": all(case["p50_ms"] < 20 for case in cases),
            "screen_query_plan": plan,
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
            "load_average": [round(x, 2) for x in os.getloadavg()],
        }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--athletes", type=int, default=300)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--heavy-share", type=float, default=0.1, help="of the athletes, in the heavy case")
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    args = parser.parse_args()
    result = asyncio.run(main(args.database_url, args.athletes, args.years, args.runs, args.heavy_share))
    print(json.dumps(result, indent=2))
