"""The health and metrics endpoint, against the real bot and the emulator: ``/healthz`` names what is
down (the gateway, the database, the scheduler), ``/metrics`` counts commands, reminders and 429s,
and without ``HEALTH_PORT`` no port is opened at all.

The endpoint is read over real HTTP on 127.0.0.1, as a probe or Prometheus would read it. Every wait
is bounded: the HTTP client gives up after 10 s, the polls after 15 to 20 s.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import time_machine
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from backrun_bot.config import load_settings
from backrun_bot.discord_app.bot import BackrunBot
from backrun_bot.errors import ConfigError
from backrun_bot.sandbox.driver import Actor
from backrun_bot.sandbox.emulator import Channel, DiscordEmulator
from backrun_bot.sandbox.harness import Sandbox
from backrun_bot.storage.engine import create_engine
from tests.discord_app.conftest import TeamFixture

MANAGE_GUILD = 1 << 5
JUST_BEFORE_SEVEN = datetime(2026, 3, 9, 6, 59, 57, tzinfo=UTC)
ALL_OK = {"gateway": "ok", "database": "ok", "scheduler": "ok"}
CALLBACK = r"/interactions/\d+/[^/]+/callback"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def listening_ports() -> set[int]:
    """The TCP ports this process listens on (Linux: its socket inodes in /proc/net/tcp{,6})."""
    inodes = set()
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = fd.readlink().name
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


@dataclass
class Endpoint:
    """The bot's health endpoint, read over HTTP."""

    base: str
    http: aiohttp.ClientSession

    async def healthz(self) -> tuple[int, dict[str, Any]]:
        async with self.http.get(f"{self.base}/healthz") as response:
            body: dict[str, Any] = await response.json()
            return response.status, body

    async def metrics(self) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        """Every sample, keyed by its name and labels."""
        async with self.http.get(f"{self.base}/metrics") as response:
            assert response.status == 200
            assert response.content_type == "text/plain"
            exposition = await response.text()
        return {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(exposition)
            for sample in family.samples
        }

    async def sample(self, name: str, **labels: str) -> float:
        return (await self.metrics())[(name, frozenset(labels.items()))]

    async def wait_until(
        self, condition: Callable[[dict[tuple[str, frozenset[tuple[str, str]]], float]], bool]
    ) -> None:
        # The bot counts a command just after its answer reaches Discord, so a test that has seen
        # the answer may read /metrics a moment early.
        async with asyncio.timeout(15):
            while not condition(await self.metrics()):
                await asyncio.sleep(0.05)

    async def wait_for_health(self, status: int) -> dict[str, Any]:
        async with asyncio.timeout(20):
            while True:
                got, body = await self.healthz()
                if got == status:
                    return body
                await asyncio.sleep(0.05)


def key(name: str, **labels: str) -> tuple[str, frozenset[tuple[str, str]]]:
    return name, frozenset(labels.items())


@pytest.fixture
def health_port() -> int:
    return free_port()


@pytest.fixture
async def monitored(sandbox: Sandbox, team: TeamFixture, health_port: int) -> Sandbox:
    """The bot with HEALTH_PORT set (HEALTH_HOST left at its default, 127.0.0.1)."""
    sandbox.settings = sandbox.settings.model_copy(update={"health_port": health_port})
    await sandbox.start_bot()
    return sandbox


@pytest.fixture
def bot(monitored: Sandbox) -> BackrunBot:
    assert monitored.bot is not None
    return monitored.bot


@pytest.fixture
async def endpoint(monitored: Sandbox, health_port: int) -> AsyncIterator[Endpoint]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        yield Endpoint(f"http://127.0.0.1:{health_port}", http)


@pytest.fixture
def athlete(monitored: Sandbox, team: TeamFixture) -> Actor:
    return monitored.actor(team.guild, "alice")


@pytest.fixture
def coach(monitored: Sandbox, team: TeamFixture) -> Actor:
    team.guild.add_member("coach", permissions=MANAGE_GUILD)
    return monitored.actor(team.guild, "coach")


@pytest.fixture
def channel(team: TeamFixture) -> Channel:
    return team.guild.add_channel("training")


# --- settings and the port ------------------------------------------------------------------------


def test_the_endpoint_is_off_by_default_and_on_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HEALTH_PORT", raising=False)
    monkeypatch.delenv("HEALTH_HOST", raising=False)
    settings = load_settings(_env_file=None)
    assert settings.health_port is None and settings.health_host == "127.0.0.1"
    monkeypatch.setenv("HEALTH_PORT", "")  # as copied from .env.example
    assert load_settings(_env_file=None).health_port is None
    monkeypatch.setenv("HEALTH_PORT", "9090")
    assert load_settings(_env_file=None).health_port == 9090
    monkeypatch.setenv("HEALTH_PORT", "70000")
    with pytest.raises(ConfigError, match="HEALTH_PORT"):
        load_settings(_env_file=None)


async def test_without_health_port_no_port_is_opened(sandbox: Sandbox, team: TeamFixture) -> None:
    before = listening_ports()  # the emulator's
    bot = await sandbox.start_bot()
    assert bot.health is None
    assert listening_ports() == before


async def test_the_port_is_opened_with_the_bot_and_closed_with_it(
    monitored: Sandbox, health_port: int
) -> None:
    assert health_port in listening_ports()
    await monitored.stop_bot()
    assert health_port not in listening_ports()


async def test_a_port_already_taken_stops_the_bot_saying_what_to_do(
    sandbox: Sandbox, team: TeamFixture
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        sandbox.settings = sandbox.settings.model_copy(update={"health_port": port})
        with pytest.raises(ConfigError, match=f"Cannot serve health and metrics on 127.0.0.1:{port}"):
            await sandbox.start_bot()


# --- /healthz -------------------------------------------------------------------------------------


async def test_healthz_is_ok_when_everything_is_up(endpoint: Endpoint) -> None:
    status, body = await endpoint.healthz()
    assert (status, body) == (200, {"status": "ok", "checks": ALL_OK})


async def test_a_stopped_scheduler_fails_the_scheduler_check(endpoint: Endpoint, bot: BackrunBot) -> None:
    await bot.scheduler.shutdown()
    status, body = await endpoint.healthz()
    assert status == 503
    assert body == {
        "status": "fail",
        "checks": {**ALL_OK, "scheduler": "fail"},
        "failed": {"scheduler": "not running"},
    }


@pytest.fixture
async def silent_server() -> AsyncIterator[int]:
    """A port that accepts connections and never says a word (a database that hangs)."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize(
    ("database", "reason"),
    [("hangs", "no answer within 2 s"), ("refuses", "failed (ConnectionRefusedError)")],
)
async def test_a_dead_database_fails_the_database_check_within_its_timeout(
    endpoint: Endpoint, bot: BackrunBot, silent_server: int, database: str, reason: str
) -> None:
    port = silent_server if database == "hangs" else free_port()
    real, dead = bot.engine, create_engine(f"postgresql+asyncpg://backrun@127.0.0.1:{port}/backrun")
    bot.engine = dead  # what the check reads; the bot's sessions keep the real one
    try:
        started = time.monotonic()
        status, body = await endpoint.healthz()
        assert time.monotonic() - started < 5  # the check's 2 s, not the driver's own 60 s
    finally:
        bot.engine = real
        await dead.dispose()
    assert status == 503
    assert body["checks"] == {**ALL_OK, "database": "fail"}
    assert body["failed"] == {"database": reason}
    assert (await endpoint.healthz())[0] == 200


async def test_a_gateway_outage_fails_the_gateway_check_until_the_bot_is_back(
    endpoint: Endpoint, emulator: DiscordEmulator
) -> None:
    await emulator.drop_gateway(stay_down=True)
    body = await endpoint.wait_for_health(503)
    assert body["checks"] == {**ALL_OK, "gateway": "fail"}
    assert body["failed"] == {"gateway": "disconnected (shard 0)"}
    await asyncio.sleep(1)  # the bot retries meanwhile, and is refused
    assert (await endpoint.healthz())[0] == 503
    emulator.restore_gateway()
    assert await endpoint.wait_for_health(200) == {"status": "ok", "checks": ALL_OK}


# --- /metrics -------------------------------------------------------------------------------------


async def test_commands_are_counted_by_name_and_outcome_and_timed(
    endpoint: Endpoint, athlete: Actor, monitored: Sandbox
) -> None:
    log_ok = key("backrun_commands_total", command="log", outcome="ok")
    before = await endpoint.metrics()
    # Every command's series exist from the start, at 0 (subcommands by their full name).
    assert before[log_ok] == 0
    assert before[key("backrun_commands_total", command="reminders set", outcome="refused")] == 0
    assert before[key("backrun_command_seconds_count", command="log")] == 0

    await athlete.run("log", kind="backward", amount="400m")
    assert (await athlete.run("log", kind="backward", amount="Banana")).ephemeral  # refused
    engine = create_engine(monitored.settings.database_url)
    try:
        async with engine.begin() as conn:  # break the store: the next /log fails unexpectedly
            await conn.execute(text("DROP TABLE run_sessions"))
    finally:
        await engine.dispose()
    assert "something went wrong" in (await athlete.run("log", kind="backward", amount="400m")).text()

    await endpoint.wait_until(lambda m: m[key("backrun_command_seconds_count", command="log")] == 3)
    after = await endpoint.metrics()
    assert after[log_ok] == 1
    assert after[key("backrun_commands_total", command="log", outcome="refused")] == 1
    assert after[key("backrun_commands_total", command="log", outcome="error")] == 1
    assert after[key("backrun_commands_total", command="history", outcome="ok")] == 0
    # From the interaction's creation to the answer: more than nothing, within Discord's 3 s.
    assert 0 < after[key("backrun_command_seconds_sum", command="log")] < 9
    assert after[key("backrun_command_seconds_bucket", command="log", le="3.0")] == 3


async def test_a_sent_reminder_is_counted_with_its_lateness(
    endpoint: Endpoint,
    coach: Actor,
    channel: Channel,
    emulator: DiscordEmulator,
    clock: time_machine.Traveller,
) -> None:
    sent = key("backrun_reminders_total", slot="warmup", outcome="sent")
    assert (await endpoint.metrics())[sent] == 0
    clock.move_to(JUST_BEFORE_SEVEN)
    await coach.run("reminders set", channel=channel, timezone="UTC", warmup="07:00")
    await emulator.wait_for_message(channel.id, timeout=10)
    await endpoint.wait_until(lambda m: m[sent] == 1)
    metrics = await endpoint.metrics()
    assert metrics[key("backrun_reminder_lateness_seconds_count", slot="warmup")] == 1
    assert metrics[key("backrun_reminder_lateness_seconds_bucket", slot="warmup", le="5.0")] == 1  # on time
    assert metrics[key("backrun_reminders_total", slot="cooldown", outcome="sent")] == 0
    assert metrics[key("backrun_reminders_total", slot="warmup", outcome="failed")] == 0


async def test_after_a_restart_the_catch_up_counts_late_and_skipped_reminders(
    monitored: Sandbox,
    endpoint: Endpoint,
    coach: Actor,
    channel: Channel,
    emulator: DiscordEmulator,
    clock: time_machine.Traveller,
) -> None:
    clock.move_to(datetime(2026, 3, 9, 3, 55, tzinfo=UTC))
    await coach.run("reminders set", channel=channel, timezone="UTC", warmup="04:00", cooldown="06:00")
    await monitored.stop_bot()  # down over both
    # Warmup 3 h late: past the 2 h grace, skipped. Cooldown 65 min late: sent by the catch-up.
    clock.move_to(datetime(2026, 3, 9, 7, 5, tzinfo=UTC))
    await monitored.start_bot()
    await emulator.wait_for_message(channel.id, timeout=10)
    cooldown_sent = key("backrun_reminders_total", slot="cooldown", outcome="sent")
    await endpoint.wait_until(lambda m: m[cooldown_sent] == 1)
    metrics = await endpoint.metrics()
    assert metrics[key("backrun_reminders_total", slot="warmup", outcome="skipped")] == 1
    assert metrics[key("backrun_reminders_total", slot="warmup", outcome="sent")] == 0
    late = metrics[key("backrun_reminder_lateness_seconds_sum", slot="cooldown")]
    assert timedelta(minutes=65) <= timedelta(seconds=late) < timedelta(minutes=70)
    assert metrics[key("backrun_reminder_lateness_seconds_bucket", slot="cooldown", le="3600.0")] == 0
    assert metrics[key("backrun_reminder_lateness_seconds_bucket", slot="cooldown", le="7200.0")] == 1


async def test_429s_from_discord_are_counted_by_scope(
    endpoint: Endpoint, athlete: Actor, emulator: DiscordEmulator
) -> None:
    assert (await endpoint.metrics())[key("backrun_discord_429_total", scope="user")] == 0
    emulator.faults.rate_limit("POST", CALLBACK, retry_after=0.2)
    await athlete.run("log", kind="backward", amount="400m")
    emulator.faults.rate_limit("POST", CALLBACK, retry_after=0.2, global_=True)
    await athlete.run("log", kind="backward", amount="200m")
    assert [f.status for f in emulator.faults.fired] == [429, 429]
    metrics = await endpoint.metrics()
    assert metrics[key("backrun_discord_429_total", scope="user")] == 1
    assert metrics[key("backrun_discord_429_total", scope="global")] == 1
    assert metrics[key("backrun_discord_429_total", scope="cloudflare")] == 0
