"""The bot killed (SIGKILL) halfway through a fan-out of 500 teams and restarted at once, inside the
grace window: every team gets its reminder exactly once (issue 8).

A real ``python -m backrun_bot run`` against the emulator, on the real clock. The kill comes from the
emulator the moment it has stored the 250th reminder, so one send is typically cut off between
Discord storing it and the bot marking it sent: the restart finds that claim held, waits out the
lease (REMINDER_CLAIM_LEASE_SECONDS, 3 s here), looks in the channel, and records the message it
finds there instead of posting it again. Discord's nonce memory is switched off in the emulator, so
only that look can prevent the double.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backrun_bot.sandbox.emulator import Channel, DiscordEmulator, Message
from backrun_bot.sandbox.harness import open_sandbox
from backrun_bot.services.reminder_settings import ReminderSettingsService
from backrun_bot.storage.engine import create_engine, make_sessionmaker
from backrun_bot.storage.migrate import upgrade_to_head
from backrun_bot.storage.models import ReminderDelivery
from tests.conftest import POSTGRES_URL, empty_database
from tests.discord_app.test_startup import SETTINGS_NAMES

pytestmark = pytest.mark.timeout(240)

TEAMS = 500
KILL_AT = 250
LEASE_SECONDS = 3


def bot_env(emulator: DiscordEmulator, url: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k.upper() not in SETTINGS_NAMES}
    return {
        **base,
        "DISCORD_TOKEN": emulator.token,
        "DISCORD_API_URL": emulator.api_url,
        "DATABASE_URL": url,
        "LOG_LEVEL": "INFO",
        "REMINDER_CLAIM_LEASE_SECONDS": str(LEASE_SECONDS),
    }


async def until(what: str, condition: Callable[[], bool], timeout: float) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.1)
    assert condition(), what


async def teams_with_a_warmup_due(url: str, channels: dict[int, Channel]) -> None:
    """Every team's warmup was due a couple of minutes ago, set up an hour before (so the start's
    catch-up sends it, late, inside the 120-minute grace window). The cooldown is two hours ahead, so
    it is not due during the test whatever the time of day (the default 19:00 was, from 19:00 to
    20:00 UTC, and its reminders made the ledger's counts differ)."""
    await upgrade_to_head(url)
    now = datetime.now(UTC)
    due = (now - timedelta(minutes=2)).replace(second=0, microsecond=0)
    later = now + timedelta(hours=2)
    engine = create_engine(url)
    try:
        settings = ReminderSettingsService(make_sessionmaker(engine), clock=lambda: now - timedelta(hours=1))
        for guild_id, channel in channels.items():
            await settings.update(
                guild_id,
                channel_id=channel.id,
                timezone="UTC",
                warmup=time(due.hour, due.minute),
                cooldown=time(later.hour, later.minute),
            )
    finally:
        await engine.dispose()


async def ledger(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        async with make_sessionmaker(engine)() as s:
            rows = await s.execute(
                select(ReminderDelivery.status, func.count()).group_by(ReminderDelivery.status)
            )
            return {status: count for status, count in rows.all()}
    finally:
        await engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite"] + (["postgresql"] if POSTGRES_URL else []))
async def test_a_kill_halfway_through_500_teams_and_a_restart_send_each_reminder_once(
    tmp_path: Path, backend: str
) -> None:
    url = await empty_database(backend, tmp_path)
    async with open_sandbox(url, start_bot=False, log_level="WARNING") as box:
        emulator = box.emulator
        emulator.nonce_window = 0  # Discord's nonce would hide a double sent soon after; not here
        channels = {}
        for n in range(TEAMS):
            guild = emulator.add_guild(f"Team {n}")
            channels[guild.id] = guild.add_channel("training")
        await teams_with_a_warmup_due(url, channels)
        by_channel = {channel.id for channel in channels.values()}
        posted: list[int] = []
        first: asyncio.subprocess.Process | None = None

        def on_message(message: Message, created: bool) -> None:
            if created and message.channel_id in by_channel:
                posted.append(message.channel_id)
                if len(posted) == KILL_AT and first is not None:
                    os.kill(first.pid, signal.SIGKILL)  # right after storing it, before the bot hears

        stop_listening = emulator.on_message(on_message)
        logs = [tmp_path / "first.log", tmp_path / "restart.log"]
        try:
            with logs[0].open("w") as out:
                first = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "backrun_bot", "run",
                    env=bot_env(emulator, url), cwd=tmp_path, stdout=out, stderr=out,
                )  # fmt: skip
            assert await asyncio.wait_for(first.wait(), timeout=90) == -signal.SIGKILL, logs[0].read_text()
            # Killed right after the 250th was stored. Requests the bot had already sent can still land
            # after it (the emulator was already reading them), as they would at Discord; how many
            # depends on how busy the machine is (one, with other test runs beside it), so the count
            # is pinned from the 250th to short of the end, not to exactly 250.
            assert KILL_AT <= len(posted) < TEAMS, f"killed at the 250th reminder, not {len(posted)}"
            unsettled = await ledger(url)
            assert unsettled.get("sent", 0) < KILL_AT, unsettled  # the last one(s) were never marked

            with logs[1].open("w") as out:
                restart = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "backrun_bot", "run",
                    env=bot_env(emulator, url), cwd=tmp_path, stdout=out, stderr=out,
                )  # fmt: skip
            try:
                await until("every team's warmup", lambda: len(set(posted)) == TEAMS, timeout=120)
                # Past the lease and a retry or two: the cut-off claims have been settled too.
                async with asyncio.timeout(60):
                    while (await ledger(url)) != {"sent": TEAMS}:
                        await asyncio.sleep(0.5)
                await asyncio.sleep(1.5)
            finally:
                restart.send_signal(signal.SIGTERM)
                assert await asyncio.wait_for(restart.wait(), timeout=30) == 0, logs[1].read_text()
        finally:
            stop_listening()

        assert sorted(posted) == sorted(by_channel), "each team's channel got exactly one warmup"
        output = logs[1].read_text()
        assert "Traceback" not in output, output
        # The claim cut off by the kill was found in its channel, not posted again.
        assert "was already posted" in output, output
        assert emulator.violations == []
