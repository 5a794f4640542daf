"""How the reminder scheduler scales with the number of teams.

Fills a fresh SQLite database (migrated to head) with N teams whose reminder settings are spread
over realistic choices (40 timezones, warmups 06:00–08:30 and cooldowns 17:00–20:30 on the half
hour), then measures what the bot does at start: derive the jobs from the database and arm them.
For comparison it also adds one APScheduler job per team and slot, as a naive bot would.

    .venv/bin/python benchmarks/bench_scheduler.py [--teams 50000]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
import tracemalloc
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import insert

from backrun_bot.scheduling.scheduler import ReminderScheduler
from backrun_bot.services.delivery import DeliveryService
from backrun_bot.storage.engine import create_engine, make_sessionmaker
from backrun_bot.storage.migrate import upgrade_to_head
from backrun_bot.storage.models import Team

TIMEZONES = [
    "UTC", "Europe/London", "Europe/Paris", "Europe/Berlin", "Europe/Madrid", "Europe/Rome", "Europe/Warsaw",
    "Europe/Athens", "Europe/Istanbul", "Europe/Moscow", "Africa/Lagos", "Africa/Nairobi",
    "Africa/Johannesburg", "Asia/Dubai", "Asia/Karachi", "Asia/Kolkata", "Asia/Dhaka", "Asia/Bangkok",
    "Asia/Singapore", "Asia/Shanghai", "Asia/Tokyo", "Asia/Seoul", "Australia/Perth", "Australia/Sydney",
    "Australia/Lord_Howe", "Pacific/Auckland", "America/Sao_Paulo", "America/Argentina/Buenos_Aires",
    "America/Bogota", "America/Lima", "America/Mexico_City", "America/Chicago", "America/New_York",
    "America/Denver", "America/Phoenix", "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu",
    "America/Toronto", "America/Halifax",
]  # fmt: skip
WARMUPS = [f"{h:02d}:{m:02d}" for h in (6, 7, 8) for m in (0, 30)]
COOLDOWNS = [f"{h:02d}:{m:02d}" for h in (17, 18, 19, 20) for m in (0, 30)]


class NullSender:
    async def send(
        self, channel_id: int, content: str, *, mention_user_ids: Sequence[int], nonce: str, key: str
    ) -> int:
        return 1

    async def find(self, channel_id: int, key: str, *, since: datetime) -> int | None:
        return None


async def fill(url: str, teams: int) -> None:
    engine = create_engine(url)
    now = datetime.now(UTC) - timedelta(days=1)
    rows = [
        {
            "id": 10_000 + i,
            "timezone": TIMEZONES[i % len(TIMEZONES)],
            "created_at": now,
            "reminder_channel_id": 20_000 + i,
            "warmup_time": WARMUPS[(i // 7) % len(WARMUPS)],
            "cooldown_time": COOLDOWNS[(i // 11) % len(COOLDOWNS)],
            "reminder_days": "0123456",
            "heavy_meters": 1600.0,
            "reminders_active": True,
            "reminders_updated_at": now,
        }
        for i in range(teams)
    ]
    async with engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            await conn.execute(insert(Team), rows[start : start + 5000])
    await engine.dispose()


def measure(label: str, seconds: float, peak: float, jobs: int) -> None:
    print(f"{label:<44} {seconds:8.3f} s  {peak / 2**20:8.1f} MiB peak  {jobs:>7} jobs")


async def main(teams: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        await upgrade_to_head(url)
        await fill(url, teams)
        engine = create_engine(url)
        service = DeliveryService(
            make_sessionmaker(engine), NullSender(), clock=lambda: datetime.now(UTC), grace=timedelta(hours=2)
        )

        scheduler = ReminderScheduler(service, grace=timedelta(hours=2), clock=lambda: datetime.now(UTC))
        tracemalloc.start()
        started = time.perf_counter()
        scheduler._scheduler.start()  # what start() does, minus the catch-up (nothing is due here)
        await scheduler.refresh()
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        measure(f"Backrun: jobs from the database, {teams} teams", elapsed, peak, scheduler.job_count())
        await scheduler.shutdown()

        naive = AsyncIOScheduler(timezone="UTC")
        naive.start()
        # tracemalloc would slow 100,000 add_job calls several-fold: memory here is the growth of
        # the process's peak RSS instead.
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        started = time.perf_counter()
        for i in range(teams):
            tz = TIMEZONES[i % len(TIMEZONES)]
            for slot, at in (
                ("warmup", WARMUPS[(i // 7) % len(WARMUPS)]),
                ("cooldown", COOLDOWNS[(i // 11) % 8]),
            ):
                hour, minute = at.split(":")
                naive.add_job(print, CronTrigger(hour=hour, minute=minute, timezone=tz), id=f"{i}:{slot}")
        elapsed = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss_before
        measure("naive: one job per team and slot (RSS growth)", elapsed, peak, len(naive.get_jobs()))
        naive.shutdown(wait=False)

        # One slot group's delivery: claim + compose + send (to a sender that returns at once).
        group = min(await service.slot_groups())
        started = time.perf_counter()
        day = datetime.now(UTC).date()
        sent = (await service.deliver(group, day, datetime.now(UTC))).sent
        elapsed = time.perf_counter() - started
        per_team = elapsed / max(sent, 1) * 1000
        print(f"deliver one slot group ({sent} teams): {elapsed:.3f} s, {per_team:.2f} ms/team")
        await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--teams", type=int, default=50_000)
    asyncio.run(main(parser.parse_args().teams))
