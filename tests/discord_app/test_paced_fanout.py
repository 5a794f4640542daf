"""The real bot's reminder fan-out against the emulator with Discord's global rate limit switched on
(issue 9): paced under it, a fan-out of hundreds meets no 429; forced over it (the emulator's limit
below what the bot was told), every 429 is counted by scope, logged once with its scope, and every
team still gets its reminder exactly once. ``/metrics`` shows the pacer. The look for a reminder
already posted waits its turn for each page of the channel it reads.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta

import aiohttp
import pytest
import time_machine

from backrun_bot.config import load_settings
from backrun_bot.discord_app.bot import BackrunBot
from backrun_bot.discord_app.pacing import Pacer
from backrun_bot.discord_app.sender import DiscordSender
from backrun_bot.domain.schedule import Slot
from backrun_bot.sandbox.emulator import Channel, DiscordEmulator, Message
from backrun_bot.sandbox.harness import Sandbox
from backrun_bot.services.delivery import reminder_key
from backrun_bot.services.reminder_settings import ReminderSettingsService
from backrun_bot.storage.engine import create_engine, make_sessionmaker
from backrun_bot.storage.migrate import upgrade_to_head
from tests.discord_app.conftest import START, TeamFixture
from tests.discord_app.test_health import Endpoint, free_port, key

pytestmark = pytest.mark.timeout(180)

WARMUP = time(16, 0)  # an hour after START
# The bot starts a few seconds before the warmup (if it takes longer, its catch-up sends it).
JUST_BEFORE = datetime(2026, 3, 8, 15, 59, 55, tzinfo=UTC)
SCOPES = ("user", "global", "shared", "cloudflare", "unknown")


async def teams(sandbox: Sandbox, count: int) -> dict[int, Channel]:
    """``count`` servers, each with a #training channel whose warmup is at 16:00 UTC (set an hour
    before START, so the bot's start has nothing to catch up)."""
    emulator = sandbox.emulator
    channels = {}
    for n in range(count):
        guild = emulator.add_guild(f"Team {n}")
        channels[guild.id] = guild.add_channel("training")
    url = sandbox.settings.database_url
    await upgrade_to_head(url)
    engine = create_engine(url)
    try:
        settings = ReminderSettingsService(
            make_sessionmaker(engine), clock=lambda: START - timedelta(hours=1)
        )
        for guild_id, channel in channels.items():
            await settings.update(guild_id, channel_id=channel.id, timezone="UTC", warmup=WARMUP)
    finally:
        await engine.dispose()
    return channels


class Posted:
    """The reminders the emulator stored, by channel, and when (the event loop's clock)."""

    def __init__(self, emulator: DiscordEmulator, channels: dict[int, Channel]) -> None:
        self.wanted = {channel.id for channel in channels.values()}
        self.at: dict[int, list[float]] = {}
        self.stop = emulator.on_message(self._seen)

    def _seen(self, message: Message, created: bool) -> None:
        if created and message.channel_id in self.wanted:
            self.at.setdefault(message.channel_id, []).append(asyncio.get_running_loop().time())

    async def all_there(self, timeout: float) -> None:
        async with asyncio.timeout(timeout):
            while len(self.at) < len(self.wanted):
                await asyncio.sleep(0.1)

    def per_second(self) -> float:
        """Reminders per second from the first to the last (shown with -s; not asserted)."""
        instants = sorted(t for ts in self.at.values() for t in ts)
        return (len(instants) - 1) / (instants[-1] - instants[0])


@pytest.fixture
async def endpoint(sandbox: Sandbox) -> AsyncIterator[Endpoint]:
    port = free_port()
    sandbox.settings = sandbox.settings.model_copy(update={"health_port": port})
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        yield Endpoint(f"http://127.0.0.1:{port}", http)


async def test_300_reminders_paced_under_discords_global_limit_meet_no_429(
    sandbox: Sandbox, endpoint: Endpoint, clock: time_machine.Traveller
) -> None:
    emulator = sandbox.emulator
    channels = await teams(sandbox, 300)
    assert emulator.global_limit.per_second == 50  # Discord's limit (the default), the start included
    posted = Posted(emulator, channels)
    clock.move_to(JUST_BEFORE)
    await sandbox.start_bot()
    before = await endpoint.metrics()
    assert before[key("backrun_pacer_requests_per_second")] == pytest.approx(48)  # 50 less 4 %
    await posted.all_there(timeout=90)
    print(f"\n300 reminders at {posted.per_second():.1f}/s, peak {emulator.global_limit.peak} in a second")

    assert emulator.global_limit.refused == []
    assert all(len(at) == 1 for at in posted.at.values())  # each team once
    assert all(len(emulator.messages(channel.id)) == 1 for channel in channels.values())
    sent = key("backrun_reminders_total", slot="warmup", outcome="sent")
    await endpoint.wait_until(lambda m: m[sent] == 300)
    metrics = await endpoint.metrics()
    assert metrics[key("backrun_pacer_wait_seconds_count")] == 300  # every send waited its turn
    assert all(metrics[key("backrun_discord_429_total", scope=scope)] == 0 for scope in SCOPES)
    posted.stop()


async def test_forced_over_the_limit_every_429_is_counted_logged_with_its_scope_and_waited_out(
    sandbox: Sandbox, endpoint: Endpoint, clock: time_machine.Traveller, caplog: pytest.LogCaptureFixture
) -> None:
    """The bot paces to 48/s but this Discord allows 10: the 429s come (global), discord.py waits
    each out, the pacer holds back for its Retry-After, and nothing is lost or doubled."""
    emulator = sandbox.emulator
    channels = await teams(sandbox, 40)
    posted = Posted(emulator, channels)
    caplog.set_level(logging.WARNING, logger="backrun_bot.observability.ratelimits")
    clock.move_to(JUST_BEFORE)
    await sandbox.start_bot()
    emulator.global_limit.enable(10)  # from now on: the start's own requests went through
    await posted.all_there(timeout=90)

    assert emulator.global_limit.given >= 1
    assert all(len(at) == 1 for at in posted.at.values())
    sent = key("backrun_reminders_total", slot="warmup", outcome="sent")
    await endpoint.wait_until(lambda m: m[sent] == 40)
    metrics = await endpoint.metrics()
    # The bot saw every 429 the emulator gave, as global ones.
    assert metrics[key("backrun_discord_429_total", scope="global")] == emulator.global_limit.given
    assert metrics[key("backrun_discord_429_total", scope="user")] == 0
    logged = [r.getMessage() for r in caplog.records if r.name == "backrun_bot.observability.ratelimits"]
    assert len(logged) == emulator.global_limit.given  # one line per 429
    assert all("scope global" in line and "POST /api/v10/channels/" in line for line in logged)
    assert metrics[key("backrun_pacer_wait_seconds_count")] == 40
    # Each global 429 holds the pacer back for its Retry-After (1 s), in which the emulator's window
    # empties: after the first ten, one 429 per nine sends at most (4 for 40). Without the back-off
    # (discord.py alone waits only until the oldest request leaves the window) it was 13.
    assert emulator.global_limit.given <= 5
    posted.stop()


async def test_each_process_paces_to_its_shards_share() -> None:
    """Two processes of one token, shards 0 and 1 of 2 (on PostgreSQL): 24 per second each."""
    settings = load_settings(
        _env_file=None,
        discord_token="x",
        database_url="postgresql+asyncpg://backrun@127.0.0.1/backrun",
        shard_count=2,
        shard_ids="1",
    )
    bot = BackrunBot(settings)  # made, not started: nothing connects, nothing to close
    assert bot.pacer.rate == pytest.approx(24)
    assert bot.metrics.registry.get_sample_value("backrun_pacer_requests_per_second") == pytest.approx(24)
    raised = load_settings(_env_file=None, discord_token="x", global_rate_limit=500)
    assert BackrunBot(raised).pacer.rate == pytest.approx(480)  # Discord raised this bot's limit


async def test_the_look_for_a_posted_reminder_waits_its_turn_for_each_page_it_reads(
    running: Sandbox, team: TeamFixture
) -> None:
    bot, emulator = running.bot, running.emulator
    assert bot is not None
    channel = team.guild.add_channel("training")
    emulator.global_limit.disable()  # the set-up posts 150 messages as fast as it can
    since = datetime.now(UTC)
    keys = [reminder_key(date(2026, 1, 1) + timedelta(days=n), Slot.WARMUP) for n in range(150)]
    posting = DiscordSender(bot, Pacer(1e6))
    for n, k in enumerate(keys):
        await posting.send(channel.id, f"reminder {n}", mention_user_ids=[], nonce=f"n{n}", key=k)
    waits: list[float] = []
    looking = DiscordSender(bot, Pacer(1e6, on_wait=waits.append))
    assert await looking.find(channel.id, keys[99], since=since) is not None
    assert len(waits) == 1  # found among the first 100: one request
    waits.clear()
    assert await looking.find(channel.id, keys[100], since=since) is not None
    assert len(waits) == 2  # the first on the second page
    waits.clear()
    assert await looking.find(channel.id, "2025-01-01:warmup", since=since) is None
    assert len(waits) == 2  # 100, then the last 50 (a short page: discord.py asks no more)
