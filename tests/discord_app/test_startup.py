"""Starting the bot: one clear line for what to fix, migrations applied, commands synced only when
they change, the token never in the logs, and an apology (with a logged traceback) for the unexpected."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from backrun_bot.config import Settings
from backrun_bot.domain.shards import ShardSet
from backrun_bot.sandbox.driver import Actor
from backrun_bot.sandbox.emulator import DiscordEmulator
from backrun_bot.sandbox.harness import Sandbox, open_sandbox
from backrun_bot.storage.engine import create_engine
from backrun_bot.storage.migrate import alembic_config, current_revision
from tests.conftest import POSTGRES_URL, empty_database
from tests.discord_app.conftest import TeamFixture

# Backrun's settings by their environment names (config.Settings reads them case-insensitively): a
# shell that exports a deployment's (SHARD_IDS, HEALTH_PORT...) must not change what these tests start.
SETTINGS_NAMES = frozenset(name.upper() for name in Settings.model_fields)


def run_cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``backrun-bot`` in a clean environment: none of Backrun's settings but those in ``env``, and
    no developer .env (cwd is a temp dir)."""
    base = {k: v for k, v in os.environ.items() if k.upper() not in SETTINGS_NAMES}
    return subprocess.run(
        [sys.executable, "-m", "backrun_bot", *args],
        env={**base, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# What a deploy shell may export (README, "Several processes"); each would change or stop a test's bot.
DEPLOYMENT_ENVIRONMENT = {
    "SHARD_COUNT": "2",
    "SHARD_IDS": "1",
    "HEALTH_PORT": "1",  # a port the bot may not open
    "REMINDER_GRACE_MINUTES": "0",
    "DATABASE_URL": "postgresql+asyncpg://backrun@127.0.0.1:1/backrun",
}


def the_one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The start failed (exit 2) with exactly one line of ours, the last one, and no traceback;
    the log lines before it are the ordinary log."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    ours = [line for line in lines if line.startswith("backrun-bot: ")]
    assert ours == lines[-1:], result.stderr
    return ours[0]


def test_missing_token_says_so_and_points_to_the_sandbox(tmp_path: Path) -> None:
    line = the_one_line(run_cli("run", env={"DISCORD_TOKEN": ""}, cwd=tmp_path))
    assert "DISCORD_TOKEN" in line and "backrun-bot sandbox" in line


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"DATABASE_URL": "mysql://root@localhost/x"}, "DATABASE_URL"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"DISCORD_API_URL": "discord.com"}, "DISCORD_API_URL"),
        ({"REMINDER_GRACE_MINUTES": "-5"}, "REMINDER_GRACE_MINUTES"),
    ],
)
def test_bad_settings_end_with_one_line(tmp_path: Path, env: dict[str, str], says: str) -> None:
    result = run_cli("run", env={"DISCORD_TOKEN": "x", **env}, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert says in lines[0]


async def run_against(
    emulator: DiscordEmulator, tmp_path: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    import asyncio  # noqa: PLC0415

    settings = {"DISCORD_TOKEN": emulator.token, "DISCORD_API_URL": emulator.api_url, **env}
    return await asyncio.to_thread(run_cli, "run", env=settings, cwd=tmp_path)


async def test_wrong_token_and_unopenable_database_end_with_one_line(
    emulator: DiscordEmulator, tmp_path: Path
) -> None:
    result = await run_against(emulator, tmp_path, DISCORD_TOKEN="not-the-token")
    assert "refused DISCORD_TOKEN" in the_one_line(result)
    assert "not-the-token" not in result.stderr

    result = await run_against(
        emulator, tmp_path, DATABASE_URL="sqlite+aiosqlite:////nonexistent-dir/backrun.db"
    )
    line = the_one_line(result)
    assert "Cannot open the database" in line and "DATABASE_URL" in line

    result = await run_against(
        emulator, tmp_path, DATABASE_URL="postgresql+asyncpg://backrun:s3cret@127.0.0.1:1/backrun"
    )
    assert "Cannot open the database" in the_one_line(result)
    assert "s3cret" not in result.stderr


def test_unreachable_discord_ends_with_one_line(tmp_path: Path) -> None:
    result = run_cli(
        "run", env={"DISCORD_TOKEN": "x", "DISCORD_API_URL": "http://127.0.0.1:9/api/v10"}, cwd=tmp_path
    )
    assert "Cannot reach Discord" in the_one_line(result)


def test_run_cli_keeps_a_deploy_shells_settings_out_unless_passed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in DEPLOYMENT_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    unreachable = {"DISCORD_TOKEN": "x", "DISCORD_API_URL": "http://127.0.0.1:9/api/v10"}
    assert "Cannot reach Discord" in the_one_line(run_cli("run", env=unreachable, cwd=tmp_path))
    # Passed explicitly, they count (SHARD_IDS on the default SQLite database is refused).
    shards = {**unreachable, "SHARD_COUNT": "2", "SHARD_IDS": "1"}
    assert "SHARD_IDS needs PostgreSQL" in the_one_line(run_cli("run", env=shards, cwd=tmp_path))


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_the_sandbox_bot_ignores_a_deploy_shells_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    # SQLite: SHARD_IDS would stop the bot. PostgreSQL: it would serve only shard 1 of 2.
    if backend == "postgresql" and not POSTGRES_URL:
        pytest.skip("BACKRUN_TEST_POSTGRES_URL is not set")
    for name, value in DEPLOYMENT_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    url = await empty_database(backend, tmp_path)
    async with open_sandbox(url, start_bot=False, log_level="WARNING") as box:
        settings = box.settings
        assert settings.database_url == url and settings.shards == ShardSet.every()
        assert settings.health_port is None and settings.reminder_grace_minutes == 120
        # One server on each of the two shards the shell names: the sandbox's one bot serves both.
        guilds = [box.emulator.add_guild(f"Team {k}", shard=(k, 2)) for k in (0, 1)]
        await box.start_bot()
        for guild in guilds:
            reply = await box.actor(guild, "alice").run("log", kind="backward", amount="400m")
            assert "**400 m**" in reply.text() and not reply.ephemeral
        await box.stop_bot()
        assert box.emulator.violations == []


async def test_start_migrates_and_syncs_commands_only_when_they_change(
    running: Sandbox, emulator: DiscordEmulator
) -> None:
    url = running.settings.database_url
    assert await current_revision(url) == ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    assert emulator.command_sync_count == 1
    names = {c["name"] for c in emulator.commands}
    assert {"log", "undo", "history", "stats", "help", "reminders", "plan", "notify"} <= names

    await running.stop_bot()
    await running.start_bot()
    assert emulator.command_sync_count == 1  # unchanged definitions: no sync

    assert running.bot is not None
    running.bot.tree.remove_command("help")  # a changed definition on the next start...
    await running.bot.sync_commands_if_changed()
    assert emulator.command_sync_count == 2  # ...is synced once


async def test_the_token_is_never_logged(
    sandbox: Sandbox, team: TeamFixture, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await sandbox.start_bot()
    await sandbox.actor(team.guild, "alice").run("log", kind="backward", amount="400m")
    await sandbox.stop_bot()
    assert "discord.gateway" in caplog.text or "discord.client" in caplog.text  # debug logs were on
    assert sandbox.emulator.token not in caplog.text


async def test_an_unexpected_failure_gets_an_apology_and_a_logged_traceback(
    alice: Actor, running: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    # Break the store under the running bot: the next /log cannot be saved.
    engine = create_engine(running.settings.database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DROP TABLE run_sessions"))
    finally:
        await engine.dispose()
    caplog.set_level(logging.ERROR)
    reply = await alice.run("log", kind="backward", amount="400m")
    assert reply.ephemeral
    assert "something went wrong" in reply.text()
    assert "Traceback" in caplog.text or any(r.exc_info for r in caplog.records)
