"""/leaderboard of the 300-athlete team at 1M entries (issue 10): the query part and over the wire.

The 1M-entry fixture of issue 9 (``benchmarks/fixture_million.py``: 2,000 teams, the server "big"
with 300 athletes and an entry each on every day of the last five years; built if it is not there
yet) and the real bot against the emulator, as ``bench_commands.py`` runs it. For each period the
bot's clock stands on the day that makes the period longest with data in it (the fixture's entries
end on the day it was built): ``week`` on the last Sunday (a full week, 2,100 entries), ``month`` on
the last day of the previous month (a full month, about 9,000), ``year`` on the fixture's last day
(the year so far, up to 110,000). Measured, alternating between the periods round by round:

- ``query``: ``BoardService.leaderboard`` as the command calls it (the team's row, the one
  aggregate statement, the ranking), in the bot's own process and event loop;
- ``statement``: the aggregate statement alone, on a connection of its own;
- ``wire``: ``/leaderboard period:…`` by ``big150`` from the member's side (interaction sent to
  reply stored: gateway, discord.py, the service, the embed, the REST callback);

and ``/team overview`` (its query part and over the wire) by a member with Manage Server. The JSON
has p50/p99 in ms, the machine's load average before and after, the plans of the board statement
and of the overview statement (SQLite's query plan; on PostgreSQL the generic plan of the prepared
statement, what asyncpg ends up using) and whether the target holds: the query part's p50 under
10 ms (the default, ``week``; month and year are reported against the same line).

    .venv/bin/python benchmarks/bench_board.py \\
        --fixture sqlite+aiosqlite:////tmp/board-million.db \\
        --fixture postgresql+asyncpg://postgres@127.0.0.1:5432/board_million [--n 100] [--force-fixture]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any

import fixture_million  # the sibling scripts (their folder is on sys.path when this one runs)
from bench_commands import explain, machine, safe
from sqlalchemy import func, select
from sqlalchemy.pool import NullPool

from backrun_bot.domain.dates import Period, period_start
from backrun_bot.sandbox.emulator.permissions import MANAGE_GUILD
from backrun_bot.sandbox.harness import open_sandbox
from backrun_bot.storage import board_queries as bq
from backrun_bot.storage.engine import create_engine
from backrun_bot.storage.models import RunSession, Team

CALLER = fixture_million.big_member(150)
COACH = "bench-coach"
TARGET_MS = 10.0


def percentiles(samples: list[float]) -> dict[str, float | int]:
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered), 2),
        "p99_ms": round(ordered[max(0, -(-len(ordered) * 99 // 100) - 1)], 2),
    }


def days_for(last: date) -> dict[Period, date]:
    """The bot's "today" for each period: the one that gives the longest period with entries."""
    sunday = last - timedelta(days=(last.weekday() + 1) % 7)
    return {Period.WEEK: sunday, Period.MONTH: last.replace(day=1) - timedelta(days=1), Period.YEAR: last}


async def measure(url: str, *, n: int, warmup: int, force: bool) -> dict[str, Any]:
    shape = fixture_million.Shape()
    built = await fixture_million.build(url, force=force, shape=shape)
    engine = create_engine(url, poolclass=NullPool)
    guilds, _ = fixture_million.ids_of(shape)
    big = guilds[fixture_million.BIG_GUILD]
    async with engine.connect() as conn:
        last = await conn.scalar(select(func.max(RunSession.day)).where(RunSession.team_id == big))
        entries = await conn.scalar(select(func.count()).select_from(RunSession))
        assert await conn.scalar(select(func.count()).select_from(Team)) == shape.teams
    assert isinstance(last, date)
    today = days_for(last)
    now = [datetime.combine(last, clock_time(12), tzinfo=UTC)]
    result: dict[str, Any] = {"database": engine.dialect.name, "url": safe(url), "entries": entries}
    result["fixture"] = built
    result["days"] = {p.value: d.isoformat() for p, d in today.items()}
    query: dict[str, list[float]] = {p.value: [] for p in today}
    statement: dict[str, list[float]] = {p.value: [] for p in today}
    wire: dict[str, list[float]] = {p.value: [] for p in today}
    overview: dict[str, list[float]] = {"query": [], "wire": []}
    async with open_sandbox(
        url, start_bot=False, log_level="WARNING", stable_ids=True, clock=lambda: now[0]
    ) as box:
        guild = box.emulator.add_guild(fixture_million.BIG_GUILD)
        for i in range(shape.big_athletes):
            guild.add_member(fixture_million.big_member(i))
        guild.add_member(COACH, permissions=MANAGE_GUILD)
        bot = await box.start_bot()
        caller, coach = box.actor(guild, CALLER), box.actor(guild, COACH)
        user_id = caller.user_id
        shown: dict[str, str] = {}
        async with engine.connect() as conn:
            for r in range(warmup + n):
                for period, day in today.items():
                    now[0] = datetime.combine(day, clock_time(12), tzinfo=UTC)
                    start = period_start(period, day)
                    assert start is not None
                    board_statement, params = bq.board_query(big, start, day, None)
                    started = time.perf_counter()
                    await bot.board.leaderboard(big, user_id, period)
                    q = (time.perf_counter() - started) * 1000
                    started = time.perf_counter()
                    await conn.execute(board_statement, params)
                    s = (time.perf_counter() - started) * 1000
                    reply_at = time.perf_counter()
                    reply = await caller.run("leaderboard", period=period.value)
                    w = (time.perf_counter() - reply_at) * 1000
                    if reply.ephemeral or not reply.embeds:
                        raise RuntimeError(f"refused: {reply.text()}")
                    if r >= warmup:
                        query[period.value].append(q)
                        statement[period.value].append(s)
                        wire[period.value].append(w)
                    shown[period.value] = str(reply.embeds[0]["description"]).splitlines()[0]
                now[0] = datetime.combine(last, clock_time(12), tzinfo=UTC)
                started = time.perf_counter()
                await bot.board.overview(big)
                oq = (time.perf_counter() - started) * 1000
                started = time.perf_counter()
                page = await coach.run("team overview")
                ow = (time.perf_counter() - started) * 1000
                if not page.embeds:
                    raise RuntimeError(f"refused: {page.text()}")
                if r >= warmup:
                    overview["query"].append(oq)
                    overview["wire"].append(ow)
            result["violations"] = len(box.emulator.violations)
        week = period_start(Period.WEEK, today[Period.WEEK])
        year = period_start(Period.YEAR, today[Period.YEAR])
        assert week is not None and year is not None
        week_board, week_values = bq.board_query(big, week, today[Period.WEEK], None)
        year_board, year_values = bq.board_query(big, year, today[Period.YEAR], None)
        async with engine.connect() as conn:
            result["explain"] = {
                "board, week": await explain(conn, week_board.params(**week_values)),
                "board, year": await explain(conn, year_board.params(**year_values)),
                "overview": await explain(
                    conn, bq.overview_statement().params(team_id=big, week=week, today=today[Period.WEEK])
                ),
            }
    await engine.dispose()
    result["leaderboard"] = {
        period: {
            "query": percentiles(query[period]),
            "statement": percentiles(statement[period]),
            "wire": percentiles(wire[period]),
            "top row": shown[period],
        }
        for period in query
    }
    result["team overview"] = {k: percentiles(v) for k, v in overview.items()}
    result["targets"] = {
        f"query p50 < {TARGET_MS:g} ms, {period}": {
            "p50_ms": result["leaderboard"][period]["query"]["p50_ms"],
            "pass": result["leaderboard"][period]["query"]["p50_ms"] < TARGET_MS,
        }
        for period in query
    }
    return result


async def main(args: argparse.Namespace) -> dict[str, Any]:
    if not args.fixture:
        raise SystemExit("give at least one --fixture URL (see the module docstring)")
    started = time.perf_counter()
    out: dict[str, Any] = {"benchmark": "leaderboard", "machine": machine(), "n": args.n, "runs": []}
    for url in args.fixture:
        print(f"measuring {safe(url)}", file=sys.stderr)
        out["runs"].append(await measure(url, n=args.n, warmup=args.warmup, force=args.force_fixture))
    out["machine"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    out["seconds"] = round(time.perf_counter() - started, 1)
    out["week_target_passes"] = all(
        run["targets"][f"query p50 < {TARGET_MS:g} ms, week"]["pass"] for run in out["runs"]
    )
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixture", action="append", default=[], help="the 1M-entry database (repeatable)")
    parser.add_argument(
        "--force-fixture", action="store_true", help="rebuild the fixture even if it is there"
    )
    parser.add_argument("--n", type=int, default=100, help="samples per period")
    parser.add_argument("--warmup", type=int, default=5, help="rounds not counted, first")
    print(json.dumps(asyncio.run(main(parser.parse_args())), indent=2))
