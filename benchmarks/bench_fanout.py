"""The reminder fan-out at Discord's global rate limit (issue 9, benchmark 2).

``--teams`` servers (10,000 by default), each with a reminder channel and a warmup due the same
minute, served by the real bot against the emulator, which enforces Discord's global limit of 50
requests/s per bot token with real 429s. Reports, as JSON: whether every team got exactly one
warmup, how fast they went out against the ceiling, the 429s met, and the SQL statements the
fan-out ran (its share per team).

    .venv/bin/python benchmarks/bench_fanout.py [--teams 10000] [--database-url URL]

Targets (issue 9): every reminder once, at >= 95 % of the ceiling (10,000 within 211 s), at most
10 429s, under 1 statement per team.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import platform
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert

from backrun_bot.sandbox.emulator import Message
from backrun_bot.sandbox.harness import open_sandbox
from backrun_bot.storage.engine import create_engine, make_sessionmaker
from backrun_bot.storage.migrate import upgrade_to_head
from backrun_bot.storage.models import Team
from backrun_bot.storage.reminder_queries import bump_settings_generation

CEILING = 50  # Discord's global requests per second


async def configure(url: str, channels: dict[int, int], at: datetime) -> None:
    """Every team's warmup at ``at`` (UTC), set an hour before, in one bulk insert."""
    await upgrade_to_head(url)
    engine = create_engine(url)
    made = at - timedelta(hours=1)
    try:
        async with make_sessionmaker(engine).begin() as s:
            await s.execute(
                insert(Team),
                [
                    {
                        "id": guild_id,
                        "timezone": "UTC",
                        "created_at": made,
                        "reminder_channel_id": channel_id,
                        "warmup_time": f"{at:%H:%M}",
                        "cooldown_time": None,
                        "reminders_active": True,
                        "reminders_updated_at": made,
                    }
                    for guild_id, channel_id in channels.items()
                ],
            )
            await bump_settings_generation(s)
    finally:
        await engine.dispose()


async def main(teams: int, url: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        url = url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        async with open_sandbox(url, start_bot=False, log_level="WARNING") as box:
            emulator = box.emulator
            channels = {}
            for n in range(teams):
                guild = emulator.add_guild(f"Team {n}")
                channels[guild.id] = guild.add_channel("training").id
            # Due at the start of the minute after next: time to start the bot first.
            now = datetime.now(UTC)
            at = (now + timedelta(minutes=2)).replace(second=0, microsecond=0)
            await configure(url, channels, at)
            posted: list[tuple[int, float]] = []
            wanted = set(channels.values())
            everyone = asyncio.Event()

            def on_message(message: Message, created: bool) -> None:
                if created and message.channel_id in wanted:
                    posted.append((message.channel_id, time.monotonic()))
                    if len(posted) >= teams:
                        everyone.set()

            stop = emulator.on_message(on_message)
            bot = await box.start_bot(ready_within=120)
            statements = 0

            def count(*_: object) -> None:
                nonlocal statements
                statements += 1

            event.listen(bot.engine.sync_engine, "before_cursor_execute", count)
            refused_before = len(emulator.global_limit.refused)
            wait = (at - datetime.now(UTC)).total_seconds()
            await asyncio.sleep(max(0.0, wait))
            due = time.monotonic()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(everyone.wait(), timeout=teams / CEILING * 2 + 60)
            await asyncio.sleep(2)  # anything sent twice shows up now
            stop()
            event.remove(bot.engine.sync_engine, "before_cursor_execute", count)
            per_channel = Counter(channel for channel, _ in posted)
            last = max((t for _, t in posted), default=due)
            first = min((t for _, t in posted), default=due)
            took = last - due
            span = max(last - first, 1e-9)
            return {
                "benchmark": "reminder_fanout",
                "database": url.split(":", 1)[0],
                "teams": teams,
                "delivered": len(per_channel),
                "sent_twice": sum(1 for c in per_channel.values() if c > 1),
                "missing": teams - len(per_channel),
                "last_after_s": round(took, 1),
                "ceiling_s": round(teams / CEILING, 1),
                "rate_per_s": round(len(posted) / span, 1),
                "share_of_ceiling": round(len(posted) / span / CEILING, 3),
                "http_429": len(emulator.global_limit.refused) - refused_before,
                "sql_statements": statements,
                "statements_per_team": round(statements / teams, 3),
                "machine": f"{platform.machine()}, Python {platform.python_version()}",
            }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", type=int, default=10_000)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.teams, args.database_url)), indent=2))
