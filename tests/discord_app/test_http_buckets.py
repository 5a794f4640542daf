"""discord.py's bucket sweep, throttled (discord_app/http_buckets.py): on the real HTTPClient, so a
discord.py upgrade that renames or changes what is wrapped fails here."""

from __future__ import annotations

import asyncio

import discord
from pydantic import SecretStr

from backrun_bot.config import Settings
from backrun_bot.discord_app.bot import BackrunBot
from backrun_bot.discord_app.http_buckets import sweep_buckets_once_a_minute


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def age(http: discord.http.HTTPClient, seconds: float) -> None:
    """Every bucket as if its last request was ``seconds`` earlier."""
    for bucket in http._buckets.values():
        bucket._last_request -= seconds


async def test_new_buckets_sweep_at_most_once_a_minute_and_expired_ones_still_go() -> None:
    http = discord.http.HTTPClient(asyncio.get_running_loop())
    clock = Clock()
    sweep_buckets_once_a_minute(http, clock=clock)
    try:
        for n in range(300):  # past discord.py's 256: the first new bucket after this sweeps
            http.get_ratelimit(f"POST /channels/{n}/messages")
        age(http, 301)  # all idle for over 5 minutes: a sweep would drop every one
        for n in range(300, 1300):  # a fan-out to 1,000 more channels within the minute
            http.get_ratelimit(f"POST /channels/{n}/messages")
        # Unthrottled, the first of those would have swept the 300 idle ones (and each later one
        # scanned them all); throttled, the sweep at the 257th bucket was this minute's.
        assert len(http._buckets) == 1300

        clock.now += 60
        http.get_ratelimit("POST /channels/5000/messages")
        # A minute on: the sweep runs and drops the idle ones, as discord.py would have.
        assert len(http._buckets) == 1001
        assert "POST /channels/0/messages" not in http._buckets
    finally:
        await http.close()


async def test_the_bot_sweeps_its_buckets_so() -> None:
    bot = BackrunBot(Settings(discord_token=SecretStr("x"), database_url="sqlite+aiosqlite://"))
    try:
        for n in range(300):
            bot.http.get_ratelimit(f"POST /channels/{n}/messages")
        age(bot.http, 301)
        bot.http.get_ratelimit("POST /channels/300/messages")
        assert len(bot.http._buckets) == 301  # the sweep at the 257th was this minute's
    finally:
        await bot.http.close()
