"""/export at scale (issue 10): a coach's file of the 300-athlete team with five years of daily
entries (547,500 rows) in the 1M-entry database, and one athlete's five years.

The real ``DataService.export`` on the database (no Discord: the command adds only the deferral and
one upload), timed end to end: the streamed read, the CSV, the gzip past Discord's 10 MiB. Also the
same team with a 200-character note on every entry, written by the same ``ExportWriter`` from rows
made in memory (the fixture has no notes): the worst case a coach can meet, and whether it still
fits. Prints one JSON object per database: rows, CSV and file sizes, gzipped or not, seconds
(median of ``--n``), the process's peak memory, and the plan of the team's read.

    .venv/bin/python benchmarks/bench_export.py \
        --database-url sqlite+aiosqlite:////tmp/bench-million.db \
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/bench_million [--n 3]

Each URL gets the fixture of ``benchmarks/fixture_million.py`` first if it is not there (a few
minutes); nothing else is written to it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import resource
import statistics
import string
import time
from datetime import date, timedelta
from typing import Any

import fixture_million  # the sibling script (its folder is on sys.path when this one runs)
from sqlalchemy import select, text

from backrun_bot.domain.export import ATTACHMENT_LIMIT, ExportRow, ExportWriter
from backrun_bot.services.common import Who
from backrun_bot.services.data import DataService
from backrun_bot.storage.engine import create_engine, make_sessionmaker
from backrun_bot.storage.models import RunSession


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def plan(url: str, guild_id: int) -> list[str]:
    engine = create_engine(url)
    try:
        query = (
            select(RunSession.id, RunSession.day)
            .where(RunSession.team_id == guild_id)
            .order_by(RunSession.day, RunSession.id)
        )
        async with engine.connect() as conn:
            compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
            prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
            rows = await conn.execute(text(prefix + str(compiled)))
            return [" ".join(str(c) for c in row) for row in rows]
    finally:
        await engine.dispose()


async def measure(url: str, n: int) -> dict[str, Any]:
    built = await fixture_million.build(url)
    guilds, users = fixture_million.ids_of(fixture_million.Shape())
    big = guilds[fixture_million.BIG_GUILD]
    engine = create_engine(url)
    try:
        service = DataService(make_sessionmaker(engine))
        out: dict[str, Any] = {"database": engine.dialect.name, "fixture": built.get("entries")}
        for label, who, team in (
            ("team", Who(big, users[fixture_million.big_member(0)], "coach"), True),
            ("athlete", Who(big, users[fixture_million.big_member(1)], "big001"), False),
        ):
            times = []
            export = None
            for _ in range(n):
                started = time.perf_counter()
                export = await service.export(who, team=team)
                times.append(time.perf_counter() - started)
            assert export is not None
            out[label] = {
                "rows": export.file.rows,
                "csv_bytes": export.file.csv_bytes,
                "file_bytes": export.file.size,
                "parts": [len(part) for part in export.file.parts],
                "gzipped": export.file.gzipped,
                "fits": export.file.fits,
                "seconds_p50": round(statistics.median(times), 3),
                "rows_per_second": round(export.file.rows / statistics.median(times)),
            }
        out["peak_rss_mib"] = round(peak_rss_mib(), 1)
        out["team_plan"] = await plan(url, big)
        return out
    finally:
        await engine.dispose()


def worst_case_notes(rows: int = 547_500) -> dict[str, Any]:
    """The team's file with a 200-character note on every entry, of words drawn at random from a
    few thousand made-up ones (so that they compress about as badly as real notes could)."""
    rng = random.Random(10)
    vocabulary = ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 9))) for _ in range(3000)]
    started = time.perf_counter()
    writer = ExportWriter(team=True)
    today = date(2026, 3, 8)
    batch: list[ExportRow] = []
    for i in range(rows):
        note = " ".join(rng.choices(vocabulary, k=40))[:200]
        batch.append(
            ExportRow(
                i + 1,
                today - timedelta(days=i // 300),
                "backward",
                f"{200 + i % 1200}m",
                200.0 + i % 1200,
                None,
                200.0 + i % 1200,
                note,
                f"big{i % 300:03d}",
                10**17 + i % 300,
            )
        )
        if len(batch) == 5000:
            writer.write(batch)
            batch = []
    writer.write(batch)
    file = writer.finish()
    return {
        "rows": file.rows,
        "csv_bytes": file.csv_bytes,
        "file_bytes": file.size,
        "parts": [len(part) for part in file.parts],
        "gzipped": file.gzipped,
        "fits": file.fits,
        "seconds": round(time.perf_counter() - started, 2),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", action="append", default=[])
    parser.add_argument("--n", type=int, default=3)
    args = parser.parse_args()
    results = [await measure(url, args.n) for url in args.database_url]
    print(
        json.dumps(
            {
                "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
                "attachment_limit": ATTACHMENT_LIMIT,
                "databases": results,
                "worst_case_200_char_notes": worst_case_notes(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
