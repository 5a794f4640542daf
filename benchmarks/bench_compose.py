"""Composing the morning warmup of a big team (issue 9, benchmark 4).

Fills a fresh database (migrated to head) with one team of ``--athletes`` athletes, each with a
backward entry on every day of ``--years`` years (and a forward one every third day), plus 50 small
teams around it, then times ``DeliveryService.compose`` of tomorrow's warmup (which reads the day-off
data of every athlete over the load model's 60-day lookback) and prints the figures as JSON.

    .venv/bin/python benchmarks/bench_compose.py [--athletes 300] [--years 5] [--runs 30] \
        [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/bench]

Target (issue 9): under 20 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

from backrun_bot.domain.schedule import Slot
from backrun_bot.services.delivery import DeliveryService
from backrun_bot.storage.engine import create_engine, make_sessionmaker
from backrun_bot.storage.migrate import upgrade_to_head
from backrun_bot.storage.models import Athlete, RunSession, Team

BIG_TEAM = 1 << 40
TODAY = date(2026, 12, 1)


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
                    day = TODAY - timedelta(days=days - d)
                    meters = 300.0 + (a * 7 + d * 13) % 900
                    entries.append(_entry(a, "backward", True, meters, day, now))
                    if d % 3 == 0:
                        entries.append(_entry(a, "forward", False, 3000.0, day, now))
                await conn.execute(insert(RunSession), entries)
                rows += len(entries)
            if engine.dialect.name == "postgresql":
                await conn.execute(text("ANALYZE"))
        return rows
    finally:
        await engine.dispose()


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


async def main(url: str | None, athletes: int, years: int, runs: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        url = url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        await upgrade_to_head(url)
        started = time.perf_counter()
        rows = await fill(url, athletes, years)
        filled = time.perf_counter() - started
        engine = create_engine(url)
        sessionmaker = make_sessionmaker(engine)
        service = DeliveryService(
            sessionmaker, NoSender(), clock=lambda: datetime.now(UTC), grace=timedelta(hours=2)
        )
        timings = []
        try:
            for _ in range(runs + 3):
                async with sessionmaker() as s:
                    team = await s.get(Team, BIG_TEAM)
                    assert team is not None
                    began = time.perf_counter()
                    composed = await service.compose(s, team, TODAY + timedelta(days=1), Slot.WARMUP)
                    timings.append(time.perf_counter() - began)
        finally:
            await engine.dispose()
        timings = timings[3:]  # warm caches first, as a running bot has them
        return {
            "benchmark": "compose_warmup",
            "database": url.split(":", 1)[0],
            "athletes": athletes,
            "entries": rows,
            "fill_seconds": round(filled, 1),
            "runs": runs,
            "p50_ms": round(statistics.median(timings) * 1000, 2),
            "max_ms": round(max(timings) * 1000, 2),
            "named_for_a_day_off": composed.days_off,
            "target_ms": 20,
            "machine": f"{platform.machine()}, Python {platform.python_version()}",
        }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--athletes", type=int, default=300)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.database_url, args.athletes, args.years, args.runs)), indent=2))
