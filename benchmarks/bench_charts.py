"""The charts' speed (issue 10): ``/stats period:all`` with its chart for the five-year athlete of
the 1M-entry fixture (``benchmarks/fixture_million.py``; built first if it is not there), on each
database given, and the drawing alone.

    .venv/bin/python benchmarks/bench_charts.py \
        --database-url sqlite+aiosqlite:////tmp/charts-million.db \
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/charts_million \
        [--n 200] [--wire 100]

Per database, each sampled ``--n`` times after a warm-up, in alternating order:

* **query part**: what ``/stats period:all`` reads, through the bot's own services on the bot's
  engine settings: ``TrainingService.stats`` (the totals and the streak: two statements) and
  ``VolumeService.athlete`` (the team's timezone and units with the athlete's days: one
  aggregate statement), at once as the command runs them (and one after the other, and each
  alone, and the chart's statement alone);
* **with the chart**: the query part, then the chart drawn in a worker thread
  (``asyncio.to_thread``), as the command does;
* **over the wire**: ``--wire`` runs of ``/stats period:all`` by the five-year athlete ``big001``
  through the emulator with the real bot (member → gateway → bot → database → drawing → the
  deferral and the follow-up with the PNG, multipart), until the reply with its picture is there;
* **team report**: ``VolumeService.team`` for the 300-athlete team, week and all time (its reads
  only).

Then the drawing alone for a week, a month, a year and five years (61 monthly bars), and EXPLAIN
of the charts' statements (on PostgreSQL the generic plan of the prepared statement, what asyncpg
ends up using). Prints one JSON object; targets (issue 10): the query part p50 under 10 ms and with
the chart under 150 ms, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import fixture_million  # the sibling scripts (their folder is on sys.path when this one runs)
from bench_commands import explain, safe
from sqlalchemy import CompoundSelect, Select
from sqlalchemy.pool import NullPool

from backrun_bot.charts.volume import render_volume_chart
from backrun_bot.domain.dates import Period
from backrun_bot.domain.volume import (
    DayVolume,
    VolumeSeries,
    months_for_history_before,
    period_window,
    volume_series,
)
from backrun_bot.sandbox.harness import open_sandbox
from backrun_bot.services.training import TrainingService
from backrun_bot.services.volume import VolumeService
from backrun_bot.storage import volume_queries as vq
from backrun_bot.storage.engine import create_engine, make_sessionmaker

Timed = Callable[[], Awaitable[object]]
Statement = Select[*tuple[Any, ...]] | CompoundSelect[*tuple[Any, ...]]


def figures(seconds: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in seconds)
    return {
        "n": len(ms),
        "p50_ms": round(statistics.median(ms), 2),
        "p90_ms": round(ms[max(0, math.ceil(len(ms) * 0.9) - 1)], 2),
        "p99_ms": round(ms[max(0, math.ceil(len(ms) * 0.99) - 1)], 2),
    }


async def sample(jobs: dict[str, Timed], n: int, warmup: int) -> dict[str, dict[str, float]]:
    """Each job ``n`` times (after ``warmup`` rounds), the order rotated every round."""
    names = list(jobs)
    seconds: dict[str, list[float]] = {name: [] for name in names}
    for r in range(warmup + n):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            started = time.perf_counter()
            await jobs[name]()
            if r >= warmup:
                seconds[name].append(time.perf_counter() - started)
    return {name: figures(s) for name, s in seconds.items()}


def render_alone(n: int) -> dict[str, Any]:
    """The drawing alone, in this thread, for each period's shape (daily entries throughout)."""
    today = datetime.now(UTC).date()
    days = {today - timedelta(days=k): DayVolume(400.0 + k % 900, 3000.0 * (k % 3 == 0)) for k in range(1830)}
    out: dict[str, Any] = {}
    for period in Period:
        first, last = period_window(period, today)
        if first is None:
            first = today - timedelta(days=5 * 365 - 1)
        series = volume_series(days, first=first, last=last, today=today, history_start=first)
        render_volume_chart(series, title="warm-up")
        seconds = []
        for _ in range(n):
            started = time.perf_counter()
            png = render_volume_chart(series, title=f"big001 · {period.value}")
            seconds.append(time.perf_counter() - started)
        out[period.value] = {"bars": len(series.bars), "step": series.step.value, "png_bytes": len(png)}
        out[period.value] |= figures(seconds)
    return out


async def draw(series: VolumeSeries) -> bytes:
    return await asyncio.to_thread(render_volume_chart, series, title="big001 · all time")


async def measure(url: str, *, n: int, warmup: int, wire: int) -> dict[str, Any]:
    shape = fixture_million.Shape()
    built = await fixture_million.build(url, shape=shape)
    guilds, users = fixture_million.ids_of(shape)
    guild_id = guilds[fixture_million.BIG_GUILD]
    user_id = users[fixture_million.big_member(1)]
    engine = create_engine(url)  # the bot's settings: pool, timeouts, SQLite pragmas
    sessionmaker = make_sessionmaker(engine)
    training, volume = TrainingService(sessionmaker), VolumeService(sessionmaker)
    result: dict[str, Any] = {"database": engine.dialect.name, "url": safe(url), "fixture": built}
    try:
        today = (await volume.athlete(guild_id, user_id, Period.WEEK)).series.today

        async def chart_statement() -> object:
            async with sessionmaker() as s:
                return await vq.athlete_chart(
                    s, guild_id, user_id, date.min, today, monthly_before=months_for_history_before(today)
                )

        async def query_part() -> object:
            # As /stats runs them: both reads at once, on two pooled connections.
            return await asyncio.gather(
                training.stats(guild_id, user_id, Period.ALL), volume.athlete(guild_id, user_id, Period.ALL)
            )

        async def one_after_the_other() -> object:
            await training.stats(guild_id, user_id, Period.ALL)
            return await volume.athlete(guild_id, user_id, Period.ALL)

        async def with_chart() -> object:
            _, chart = await asyncio.gather(
                training.stats(guild_id, user_id, Period.ALL), volume.athlete(guild_id, user_id, Period.ALL)
            )
            return await draw(chart.series)

        chart = await volume.athlete(guild_id, user_id, Period.ALL)
        result["five_year_athlete"] = {
            "days": (chart.series.today - chart.series.first).days + 1,
            "bars": len(chart.series.bars),
            "step": chart.series.step.value,
            "first": chart.series.first.isoformat(),
        }
        result["in_process"] = await sample(
            {
                "query part (/stats reads + chart read)": query_part,
                "query part, one read after the other": one_after_the_other,
                "stats reads alone (TrainingService.stats)": lambda: training.stats(
                    guild_id, user_id, Period.ALL
                ),
                "chart read alone (VolumeService.athlete)": lambda: volume.athlete(
                    guild_id, user_id, Period.ALL
                ),
                "chart statement alone (vq.athlete_chart)": chart_statement,
                "with the chart (query part + drawing in a thread)": with_chart,
                "team report, week (300 athletes)": lambda: volume.team(guild_id, Period.WEEK),
            },
            n,
            warmup,
        )
        result["team_report_all_time"] = await sample(
            {"team report, all (547,500 entries)": lambda: volume.team(guild_id, Period.ALL)},
            max(3, n // 20),
            1,
        )
        result["over_the_wire"] = await over_the_wire(url, guild_id, wire, warmup)
        monthly_before = months_for_history_before(today - timedelta(days=1))
        explainer = create_engine(url, poolclass=NullPool)
        try:
            async with explainer.connect() as conn:
                window: dict[str, tuple[Statement, dict[str, Any]]] = {
                    "the team and the athlete's months, all time (/stats chart)": (
                        vq.athlete_chart_query(all_time=True),
                        {"user_id": user_id, "first": date.min, "monthly_before": monthly_before},
                    ),
                    "the team and its days, this week's read (/team report chart)": (
                        vq.team_chart_query(all_time=False),
                        {"first": today - timedelta(days=13)},
                    ),
                    "the team and its months, all time (/team report chart)": (
                        vq.team_chart_query(all_time=True),
                        {"first": date.min, "monthly_before": monthly_before},
                    ),
                    "the team's week totals (/team report text)": (
                        vq.team_totals_query(),
                        {"first": today - timedelta(days=6)},
                    ),
                }
                result["explain"] = {
                    # explain() compiles any statement; its annotation names plain SELECTs only.
                    name: await explain(
                        conn, cast(Any, statement.params(guild_id=guild_id, last=today, **values))
                    )
                    for name, (statement, values) in window.items()
                }
        finally:
            await explainer.dispose()
    finally:
        await engine.dispose()
    query = result["in_process"]["query part (/stats reads + chart read)"]["p50_ms"]
    charted = result["in_process"]["with the chart (query part + drawing in a thread)"]["p50_ms"]
    result["targets"] = {
        "query part p50 < 10 ms": {"p50_ms": query, "pass": query < 10},
        "with the chart p50 < 150 ms": {"p50_ms": charted, "pass": charted < 150},
        "over the wire p50 < 150 ms": {
            "p50_ms": result["over_the_wire"]["p50_ms"],
            "pass": result["over_the_wire"]["p50_ms"] < 150,
        },
    }
    return result


async def over_the_wire(url: str, guild_id: int, n: int, warmup: int) -> dict[str, Any]:
    """``/stats period:all`` by ``big001`` through the emulator and the real bot."""
    async with open_sandbox(url, start_bot=False, log_level="WARNING", stable_ids=True) as box:
        big = box.emulator.add_guild(fixture_million.BIG_GUILD)
        assert big.id == guild_id
        member = fixture_million.big_member(1)
        big.add_member(member)
        athlete = box.actor(big, member)
        await box.start_bot()
        seconds: list[float] = []
        sizes: set[int] = set()
        for r in range(warmup + n):
            started = time.perf_counter()
            reply = await athlete.run("stats", period="all")
            png = reply.embed_image()  # the picture is there: the answer is complete
            if r >= warmup:
                seconds.append(time.perf_counter() - started)
                sizes.add(len(png))
        return figures(seconds) | {
            "png_bytes": sorted(sizes),
            "emulator_violations": len(box.emulator.violations),
        }


def machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    out: dict[str, Any] = {"benchmark": "charts", "machine": machine(), "n": args.n, "wire": args.wire}
    out["render_alone"] = render_alone(args.n)
    out["runs"] = []
    for url in args.database_url:
        print(f"measuring {safe(url)}", file=sys.stderr)
        out["runs"].append(await measure(url, n=args.n, warmup=args.warmup, wire=args.wire))
    out["machine"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    out["seconds"] = round(time.perf_counter() - started, 1)
    out["all_targets_pass"] = all(t["pass"] for run in out["runs"] for t in run["targets"].values())
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", action="append", default=[], help="the 1M-entry database (repeatable)"
    )
    parser.add_argument("--n", type=int, default=200, help="samples of each in-process measurement")
    parser.add_argument("--wire", type=int, default=100, help="runs of /stats over the emulator")
    parser.add_argument("--warmup", type=int, default=5, help="rounds not counted, first")
    print(json.dumps(asyncio.run(main(parser.parse_args())), indent=2))
