"""discord.py's rate-limit buckets, swept for expired ones once a minute instead of on every new one.

discord.py keeps one bucket per route and channel. Once it holds 256, every request that needs a new
bucket (a message to a channel it has not posted in lately: every request of a reminder fan-out)
scans all of them for ones idle for 5 minutes (``HTTPClient._try_clear_expired_ratelimits``). A fan-out
to N channels so makes on the order of N²/2 checks on the event loop: 4.5 million for 3,000
channels, about 50 million for 10,000, which holds back every slash command the bot answers
meanwhile (benchmarks/bench_fanout.py). A bucket only expires after 5 minutes idle, so sweeping at
most once a minute frees the same buckets, at most a minute later.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import discord

SWEEP_EVERY = 60.0  # seconds


def sweep_buckets_once_a_minute(
    http: discord.http.HTTPClient, *, every: float = SWEEP_EVERY, clock: Callable[[], float] = time.monotonic
) -> None:
    """Make ``http`` sweep its expired buckets at most once per ``every`` seconds.

    Wraps a private method of discord.py; tests/discord_app/test_http_buckets.py fails if a
    discord.py upgrade renames or changes it.
    """
    sweep = http._try_clear_expired_ratelimits
    last: float | None = None

    def at_most_once_a_minute() -> None:
        nonlocal last
        now = clock()
        if last is None or now - last >= every:
            last = now
            sweep()

    # discord.py has no hook for this: the method is replaced on this one instance.
    http._try_clear_expired_ratelimits = at_most_once_a_minute  # type: ignore[method-assign]
