"""Round-trip latency of slash commands through the emulator: the real bot, the real wire.

Measures, from the member's side, the time from sending INTERACTION_CREATE to having the bot's
reply (gateway → discord.py → transformer → service → database → REST callback), on SQLite by
default or on the database given.

    .venv/bin/python benchmarks/bench_commands.py [--n 300] [--burst 100] [--database URL]

The burst is the end of practice: that many athletes send /log at the same moment; it reports when
the last one had its answer (Discord wants each within 3 s).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from backrun_bot.sandbox.harness import open_sandbox


def summary(label: str, samples: list[float]) -> None:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[int(len(ms) * 0.95) - 1]
    median = statistics.median(ms)
    print(f"{label:<22} n={len(ms):<5} median {median:6.1f} ms   p95 {p95:6.1f} ms   max {ms[-1]:6.1f} ms")


async def main(n: int, burst: int, database: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = database or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        async with open_sandbox(url, start_bot=False, log_level="WARNING") as box:
            guild = box.emulator.add_guild("Bench")
            squad = [f"athlete{i:03d}" for i in range(burst)]
            for name in squad:
                guild.add_member(name)
            await box.start_bot()
            alice = box.actor(guild, "alice")
            commands: list[tuple[str, dict[str, str | int]]] = [
                ("log", {"kind": "backward", "amount": "400m"}),
                ("history", {"limit": 10}),
                ("stats", {"period": "all"}),
            ]
            for command, options in commands:
                samples: list[float] = []
                for _ in range(n):
                    started = time.perf_counter()
                    await alice.run(command, **options)
                    samples.append(time.perf_counter() - started)
                summary(f"/{command}", samples)

            async def timed_log(name: str) -> float:
                reply = await box.actor(guild, name).run("log", kind="backward", amount="400m")
                assert not reply.ephemeral, reply.text()  # stored, not refused
                return time.perf_counter() - started

            started = time.perf_counter()
            summary(f"/log burst of {burst}", list(await asyncio.gather(*map(timed_log, squad))))
            assert box.emulator.violations == []


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--burst", type=int, default=100)
    parser.add_argument("--database")
    args = parser.parse_args()
    asyncio.run(main(args.n, args.burst, args.database))
