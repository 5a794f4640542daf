"""Throughput of the amount and date parsers (the work done on every /log before any I/O), as JSON:
the best of five repeats of 2,000 calls, in microseconds per batch.

    .venv/bin/python benchmarks/bench_parse.py
"""

from __future__ import annotations

import contextlib
import json
import platform
import timeit
from datetime import date

from backrun_bot.domain.amounts import parse_amount
from backrun_bot.domain.dates import parse_day
from backrun_bot.errors import InvalidInput

AMOUNTS = ["400m", "1.2 km", "440yd", "0.25mi", "2 laps", "90s", "5 min", "1:30", "1h05", "400m in 1:30"]
BAD = ["banana", "-5m", "0m", "5", "1e9km", "@everyone", "x" * 10_000]


def parse_bad() -> None:
    for text in BAD:
        with contextlib.suppress(InvalidInput):
            parse_amount(text)


def main() -> None:
    today = date(2026, 11, 24)
    cases = {
        "parse_amount (10 good)": lambda: [parse_amount(a) for a in AMOUNTS],
        "parse_amount (7 bad, one 10 kB)": parse_bad,
        "parse_day (3 forms)": lambda: [
            parse_day(d, today=today) for d in ("today", "yesterday", "2026-11-01")
        ],
    }
    runs = 2000
    results = {
        label: round(min(timeit.repeat(fn, number=runs, repeat=5)) / runs * 1e6, 1)
        for label, fn in cases.items()
    }
    report = {
        "benchmark": "parsers",
        "microseconds_per_batch": results,
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
