"""SIGTERM (what systemd and ``docker stop`` send) stops ``backrun-bot run`` as Ctrl-C does: the
reminder being sent is let finish and recorded as sent, the gateway is closed cleanly, the process
exits 0 with one log line saying why, and no traceback.

The bot runs as its own process, ``python -m backrun_bot run``, against the emulator in this one,
on the real clock. The reminder is caught mid-send by a rate limit: the emulator answers its POST
with a 429 that asks for a few seconds' wait, and the SIGTERM comes during that wait.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update

from backrun_bot.sandbox.emulator import DiscordEmulator
from backrun_bot.sandbox.harness import Sandbox, open_sandbox
from backrun_bot.storage.engine import create_engine, make_sessionmaker
from backrun_bot.storage.models import ReminderDelivery, Team

MANAGE_GUILD = 1 << 5
RETRY_AFTER = 3.0  # seconds the reminder is held mid-send (well inside the 10 s shutdown grace)


async def warmup_statuses(sandbox: Sandbox) -> list[str]:
    engine = create_engine(sandbox.settings.database_url)
    try:
        async with make_sessionmaker(engine)() as s:
            query = select(ReminderDelivery.status).where(ReminderDelivery.slot == "warmup")
            return list(await s.scalars(query))
    finally:
        await engine.dispose()


async def settings_made_before(sandbox: Sandbox, when: datetime) -> None:
    """As if the reminder settings were made at ``when``: a catch-up only sends a reminder whose
    time passed after its settings were made."""
    engine = create_engine(sandbox.settings.database_url)
    try:
        async with make_sessionmaker(engine).begin() as s:
            await s.execute(update(Team).values(reminders_updated_at=when))
    finally:
        await engine.dispose()


async def until(condition: str, check: Callable[[], object], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {condition}")
        await asyncio.sleep(0.05)


async def start_bot_process(
    emulator: DiscordEmulator, database_url: str, cwd: Path
) -> asyncio.subprocess.Process:
    """``python -m backrun_bot run`` in a clean environment (no developer .env: cwd is a temp dir),
    its output in ``cwd/bot.log``."""
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "DATABASE_", "LOG_", "HEALTH_"))
    }
    env = {
        **base,
        "DISCORD_TOKEN": emulator.token,
        "DISCORD_API_URL": emulator.api_url,
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "INFO",
    }
    with (cwd / "bot.log").open("w") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "backrun_bot", "run", env=env, cwd=cwd, stdout=out, stderr=out
        )


async def test_sigterm_lets_the_reminder_in_flight_finish_and_exits_cleanly(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/backrun.db"
    async with open_sandbox(url, start_bot=False, log_level="WARNING") as box:
        emulator = box.emulator
        guild = emulator.add_guild("Team A")
        guild.add_member("coach", permissions=MANAGE_GUILD)
        training = guild.add_channel("training")
        # Set up in this process: a warmup five minutes ago, so the next start's catch-up sends it.
        await box.start_bot()
        now = datetime.now(UTC)
        await box.actor(guild, "coach").run(
            "reminders set",
            channel=training,
            timezone="UTC",
            warmup=f"{now - timedelta(minutes=5):%H:%M}",
            cooldown=f"{now + timedelta(hours=6):%H:%M}",
        )
        await box.stop_bot()
        assert emulator.messages(training.id) == []
        await settings_made_before(box, now - timedelta(hours=1))
        sessions_before = set(emulator.gateway.sessions)

        posting = f"/channels/{training.id}/messages"
        emulator.faults.rate_limit("POST", posting, retry_after=RETRY_AFTER)
        bot = await start_bot_process(emulator, url, tmp_path)
        try:
            await emulator.wait_until_ready(timeout=60)
            await until("the warmup to be sent and held", lambda: emulator.faults.fired, timeout=30)
            assert emulator.messages(training.id) == []  # held mid-send by the 429

            bot.send_signal(signal.SIGTERM)
            stopping = time.monotonic()
            returncode = await asyncio.wait_for(bot.wait(), timeout=30)
            took = time.monotonic() - stopping
        finally:
            if bot.returncode is None:
                bot.kill()
                await bot.wait()
        output = (tmp_path / "bot.log").read_text()

        assert returncode == 0, output
        assert took < RETRY_AFTER + 10, output  # the wait for the reminder, and no more
        assert "Traceback" not in output, output
        assert len([line for line in output.splitlines() if "SIGTERM" in line]) == 1, output
        # The reminder in flight was let finish: posted once, and recorded as sent.
        assert len(emulator.messages(training.id)) == 1
        assert "warmup" in emulator.messages(training.id)[0].content.lower()
        assert await warmup_statuses(box) == ["sent"]
        # The gateway was closed with a close frame (1000), which ends the session; a killed
        # process leaves it open for a resume.
        sessions = {k: s for k, s in emulator.gateway.sessions.items() if k not in sessions_before}
        assert sessions and not any(s.alive for s in sessions.values())
