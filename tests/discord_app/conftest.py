"""The real bot against the emulator, with members to act as.

Every test gets a fresh emulator, a fresh migrated database and a freshly started bot; the clock is
controlled with time-machine (travelling, so it still ticks: discord.py and APScheduler need time to
pass). A test ends red if the bot sent anything that breaks Discord's OpenAPI description.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine

from backrun_bot.sandbox.driver import Actor, actor
from backrun_bot.sandbox.emulator import DiscordEmulator, Guild
from backrun_bot.sandbox.harness import Sandbox, open_sandbox
from tests.conftest import POSTGRES_URL, empty_database

# Sunday 2026-03-08, 15:00 UTC (the day the US springs forward; yesterday is 2026-03-07).
START = datetime(2026, 3, 8, 15, 0, tzinfo=UTC)

# The whole command suite runs on SQLite; set BACKRUN_COMMANDS_ON_POSTGRES=1 to run it on PostgreSQL
# too (the store's own tests always run on both).
COMMAND_BACKENDS = ["sqlite"] + (
    ["postgresql"] if POSTGRES_URL and os.environ.get("BACKRUN_COMMANDS_ON_POSTGRES") else []
)


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(START, tick=True) as traveller:
        yield traveller


@pytest.fixture(params=COMMAND_BACKENDS)
async def command_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return await empty_database(request.param, tmp_path)


@dataclass
class TeamFixture:
    """A server with a #general channel, a role and its members."""

    guild: Guild
    roles: dict[str, int]


@pytest.fixture
async def sandbox(clock: time_machine.Traveller, command_db_url: str) -> AsyncIterator[Sandbox]:
    async with open_sandbox(command_db_url, start_bot=False, log_level="WARNING") as box:
        yield box
        assert box.emulator.violations == [], "the bot sent what Discord would refuse"


@pytest.fixture
def emulator(sandbox: Sandbox) -> DiscordEmulator:
    return sandbox.emulator


@pytest.fixture
async def team(sandbox: Sandbox) -> TeamFixture:
    guild = sandbox.emulator.add_guild("Team A")
    guild.add_role("Sprinters")
    return TeamFixture(guild=guild, roles=guild.roles)


@pytest.fixture
async def other_team(sandbox: Sandbox) -> TeamFixture:
    guild = sandbox.emulator.add_guild("Team B")
    return TeamFixture(guild=guild, roles=guild.roles)


@pytest.fixture
async def running(sandbox: Sandbox, team: TeamFixture, other_team: TeamFixture) -> Sandbox:
    """The bot, started once the servers exist (it learns them from GUILD_CREATE)."""
    await sandbox.start_bot()
    return sandbox


@pytest.fixture
def alice(running: Sandbox, team: TeamFixture) -> Actor:
    return running.actor(team.guild, "alice")


@pytest.fixture
def bob(running: Sandbox, team: TeamFixture) -> Actor:
    return running.actor(team.guild, "bob")


@pytest.fixture
def alice_elsewhere(running: Sandbox, other_team: TeamFixture, alice: Actor) -> Actor:
    """The same Discord user as ``alice``, in the second server."""
    return actor(running.emulator, other_team.guild, "alice")
