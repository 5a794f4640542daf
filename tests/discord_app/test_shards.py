"""Several bot processes on one PostgreSQL database (SHARD_COUNT / SHARD_IDS), with the real bot:

* each process connects only its shards and posts the reminders of its own servers only (the
  others wait for their own process, even when it is down);
* processes starting together migrate once and sync the commands once;
* two copies owning the same shard (a rolling deploy) never post a reminder twice;
* the same as real processes (``python -m backrun_bot run``) against one emulator;
* SQLite with SHARD_IDS is refused in one line.

The in-process tests run two or three :class:`BackrunBot` s in this event loop against one emulator,
on a travelled clock (time-machine, ticking). PostgreSQL tests need ``BACKRUN_TEST_POSTGRES_URL``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from backrun_bot.config import SHARDS_NEED_POSTGRES, Settings
from backrun_bot.discord_app.bot import BackrunBot
from backrun_bot.sandbox.driver import Actor, actor
from backrun_bot.sandbox.emulator import Channel, DiscordEmulator, Guild
from backrun_bot.sandbox.harness import Sandbox, open_sandbox
from backrun_bot.services.common import utc_now
from backrun_bot.storage.engine import create_engine, make_sessionmaker
from backrun_bot.storage.migrate import COMMAND_SYNC_LOCK, current_revision
from backrun_bot.storage.models import ReminderDelivery, Team
from tests.conftest import POSTGRES_URL, empty_database
from tests.discord_app.test_startup import SETTINGS_NAMES, run_cli, the_one_line
from tests.storage.test_migrations import HEAD

MANAGE_GUILD = 1 << 5
# Monday 2026-03-09, a few seconds before the 07:00 (UTC) warmup.
BEFORE_SEVEN = datetime(2026, 3, 9, 6, 59, 52, tzinfo=UTC)
SEVEN = datetime(2026, 3, 9, 7, 0, tzinfo=UTC)
SENT = {"slot": "warmup", "outcome": "sent"}

needs_postgres = pytest.mark.skipif(not POSTGRES_URL, reason="BACKRUN_TEST_POSTGRES_URL is not set")


@dataclass
class Server:
    guild: Guild
    channel: Channel
    coach: Actor
    shard: int


def make_servers(emulator: DiscordEmulator, per_shard: dict[int, int], count: int = 2) -> list[Server]:
    """``per_shard[k]`` servers on shard ``k`` of ``count``, each with a coach and a #training."""
    servers = []
    for shard, how_many in per_shard.items():
        for n in range(how_many):
            guild = emulator.add_guild(f"Shard {shard} team {n}", shard=(shard, count))
            assert (guild.id >> 22) % count == shard
            guild.add_member("coach", permissions=MANAGE_GUILD)
            servers.append(
                Server(guild, guild.add_channel("training"), actor(emulator, guild, "coach"), shard)
            )
    return servers


def shard_settings(box: Sandbox, *ids: int, count: int = 2) -> Settings:
    return box.settings.model_copy(update={"shard_count": count, "shard_ids": ids})


async def start(emulator: DiscordEmulator, settings: Settings, within: float = 30) -> BackrunBot:
    """A bot "process" (a task in this loop) with ``settings``; returns once it is ready, raises
    what stopped it otherwise. (The harness's ``start_bot`` waits for the emulator's first ready
    session, which another bot already provides here.)"""
    bot = BackrunBot(settings, clock=utc_now)
    task = asyncio.create_task(bot.start(emulator.token), name="backrun-bot")
    running[bot] = task
    deadline = time.monotonic() + within
    while not bot.is_ready():
        if task.done():
            await stop(bot)
            task.result()
            raise RuntimeError("the bot stopped before it was ready")
        if time.monotonic() > deadline:
            await stop(bot)
            raise TimeoutError("the bot was not ready in time")
        await asyncio.sleep(0.02)
    return bot


running: dict[BackrunBot, asyncio.Task[None]] = {}


async def stop(*bots: BackrunBot) -> None:
    for bot in bots:
        await bot.close()
        task = running.pop(bot, None)
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task


def sent_by(bot: BackrunBot) -> float:
    return bot.metrics.registry.get_sample_value("backrun_reminders_total", SENT) or 0.0


async def until(what: str, check: Callable[[], object], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def counts(emulator: DiscordEmulator, servers: Iterable[Server]) -> list[int]:
    return [len(emulator.messages(s.channel.id)) for s in servers]


async def set_warmup_at_seven(servers: Iterable[Server]) -> None:
    for server in servers:
        reply = await server.coach.run(
            "reminders set", channel=server.channel, timezone="UTC", warmup="07:00", cooldown="19:00"
        )
        assert "07:00" in reply.text(), reply.text()
    assert utc_now() < SEVEN, "setting up took too long: 07:00 passed before the settings were saved"


async def ledger(url: str) -> list[tuple[int, str, str]]:
    engine = create_engine(url)
    try:
        async with make_sessionmaker(engine)() as s:
            rows = await s.scalars(select(ReminderDelivery).order_by(ReminderDelivery.team_id))
            return [(r.team_id, r.slot, r.status) for r in rows]
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def shard_sandbox(url: str) -> AsyncIterator[Sandbox]:
    """An emulator for bots started with :func:`start`; every one still running is stopped before
    the emulator, and nothing any of them sent may break Discord's rules."""
    async with open_sandbox(url, start_bot=False, log_level="WARNING") as box:
        try:
            yield box
        finally:
            await stop(*list(running))
        assert box.emulator.violations == [], "the bot sent what Discord would refuse"


@pytest.fixture
async def pg_box(clock: time_machine.Traveller, tmp_path: Path) -> AsyncIterator[Sandbox]:
    if not POSTGRES_URL:
        pytest.skip("BACKRUN_TEST_POSTGRES_URL is not set")
    url = await empty_database("postgresql", tmp_path)
    async with shard_sandbox(url) as box:
        yield box


# --- two processes in one test process ---------------------------------------------------------------


@needs_postgres
async def test_two_processes_split_the_servers_and_post_each_reminder_once(
    pg_box: Sandbox, clock: time_machine.Traveller
) -> None:
    emulator = pg_box.emulator
    servers = make_servers(emulator, {0: 2, 1: 2})
    mine = {k: [s for s in servers if s.shard == k] for k in (0, 1)}

    # Both start at once on an empty database: one migrates while the other waits, one syncs.
    first, second = await asyncio.gather(
        start(emulator, shard_settings(pg_box, 0)), start(emulator, shard_settings(pg_box, 1))
    )
    assert await current_revision(pg_box.settings.database_url) == HEAD
    assert emulator.command_sync_count == 1
    # Each connected only its shard, and knows only that shard's servers.
    assert (first.shard_count, first.shard_ids, second.shard_ids) == (2, [0], [1])
    assert {g.id for g in first.guilds} == {s.guild.id for s in mine[0]}
    assert {g.id for g in second.guilds} == {s.guild.id for s in mine[1]}

    # The coaches' commands reach the process of their server (Discord routes by shard); both
    # processes then have a 07:00 job, and each posts only its own servers' warmups.
    clock.move_to(BEFORE_SEVEN)
    await set_warmup_at_seven(servers)
    await until("every server's warmup", lambda: all(counts(emulator, servers)))
    await asyncio.sleep(1.5)
    assert counts(emulator, servers) == [1, 1, 1, 1]
    assert (sent_by(first), sent_by(second)) == (2, 2)

    # A process that is down leaves its servers' reminders to nobody else: at 07:30 the next day
    # only shard 0 is running, and its catch-up posts shard 0's warmups; shard 1's come when its
    # own process is back.
    await stop(first, second)
    clock.move_to(SEVEN + timedelta(days=1, minutes=30))
    first = await start(emulator, shard_settings(pg_box, 0))
    await until("shard 0's second warmups", lambda: counts(emulator, mine[0]) == [2, 2])
    await asyncio.sleep(1.5)
    assert counts(emulator, mine[1]) == [1, 1]
    second = await start(emulator, shard_settings(pg_box, 1))
    await until("shard 1's second warmups", lambda: counts(emulator, mine[1]) == [2, 2])
    await asyncio.sleep(1)
    assert counts(emulator, servers) == [2, 2, 2, 2]
    assert (sent_by(first), sent_by(second)) == (2, 2)
    assert emulator.command_sync_count == 1  # restarts with the same commands: no sync


async def sync_lock_waiters(conn: AsyncConnection) -> int:
    """Sessions waiting for the command-sync advisory lock in this database (advisory locks are per
    database: another xdist worker's bots, on a database of their own, wait for a lock of their own)."""
    count = await conn.scalar(
        text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            " AND classid = :hi AND objid = :lo AND objsubid = 1"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ),
        {"hi": (COMMAND_SYNC_LOCK >> 32) & 0xFFFFFFFF, "lo": COMMAND_SYNC_LOCK & 0xFFFFFFFF},
    )
    await conn.commit()
    return int(count or 0)


@needs_postgres
async def test_processes_starting_together_sync_the_commands_once(pg_box: Sandbox) -> None:
    """While another process holds the sync lock (this test does), neither bot syncs; once it is
    free, one syncs and the other finds the definitions already synced."""
    emulator = pg_box.emulator
    make_servers(emulator, {0: 1, 1: 1})
    engine = create_engine(pg_box.settings.database_url)
    try:
        async with engine.connect() as holder:
            await holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": COMMAND_SYNC_LOCK})
            await holder.commit()
            starting = [asyncio.create_task(start(emulator, shard_settings(pg_box, k))) for k in (0, 1)]
            deadline = time.monotonic() + 30
            while await sync_lock_waiters(holder) < 2:
                assert emulator.command_sync_count == 0, "a bot synced without waiting for the lock"
                assert not any(t.done() for t in starting), [t.result() for t in starting if t.done()]
                assert time.monotonic() < deadline, "the bots never waited for the sync lock"
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)
            assert emulator.command_sync_count == 0
            await holder.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": COMMAND_SYNC_LOCK})
            await holder.commit()
    finally:
        await engine.dispose()
    await asyncio.gather(*starting)
    assert emulator.command_sync_count == 1


# --- a rolling deploy: two copies of one shard ------------------------------------------------------


@needs_postgres
async def test_two_copies_of_a_shard_never_post_a_reminder_twice(
    pg_box: Sandbox, clock: time_machine.Traveller
) -> None:
    """The new copy of shard 0 is up before the old one stopped: both have the 07:00 job and both
    fire; the delivery claim lets exactly one of them post each server's warmup. (The emulator,
    like Discord, drops a repeated nonce, so the channels alone would hide a double send: the
    copies' own counts of what they sent must add up to one per server.)"""
    emulator = pg_box.emulator
    servers = make_servers(emulator, {0: 4, 1: 1})
    old, other = await asyncio.gather(
        start(emulator, shard_settings(pg_box, 0)), start(emulator, shard_settings(pg_box, 1))
    )
    clock.move_to(BEFORE_SEVEN)
    await set_warmup_at_seven(servers)
    new = await start(emulator, shard_settings(pg_box, 0))  # reads the 07:00 job from the database
    assert utc_now() < SEVEN, "the new copy started too late to overlap at 07:00"
    assert {g.id for g in new.guilds} == {g.id for g in old.guilds}

    await until("every server's warmup", lambda: all(counts(emulator, servers)))
    await asyncio.sleep(1.5)
    assert counts(emulator, servers) == [1, 1, 1, 1, 1]
    assert sent_by(old) + sent_by(new) == 4
    assert sent_by(other) == 1
    assert await ledger(pg_box.settings.database_url) == sorted(
        (s.guild.id, "warmup", "sent") for s in servers
    )
    await stop(old)  # the deploy ends; the new copy goes on alone
    assert new.is_ready()


# --- without containers: two real processes ---------------------------------------------------------


def bot_env(emulator: DiscordEmulator, url: str, shard_ids: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k.upper() not in SETTINGS_NAMES}
    return {
        **base,
        "DISCORD_TOKEN": emulator.token,
        "DISCORD_API_URL": emulator.api_url,
        "DATABASE_URL": url,
        "LOG_LEVEL": "INFO",
        "SHARD_COUNT": "2",
        "SHARD_IDS": shard_ids,
    }


@contextlib.asynccontextmanager
async def processes(
    emulator: DiscordEmulator, url: str, cwd: Path, name: str
) -> AsyncIterator[dict[int, Path]]:
    """``python -m backrun_bot run`` twice, SHARD_IDS=0 and 1, both started at once; yields each
    one's log file once both shards are ready, and stops them with SIGTERM on the way out."""
    procs: dict[int, asyncio.subprocess.Process] = {}
    logs = {k: cwd / f"{name}-shard{k}.log" for k in (0, 1)}
    try:
        for k in (0, 1):
            with logs[k].open("w") as out:
                procs[k] = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "backrun_bot",
                    "run",
                    env=bot_env(emulator, url, str(k)),
                    cwd=cwd,
                    stdout=out,
                    stderr=out,
                )

        def both_ready() -> bool:
            for k, proc in procs.items():
                assert proc.returncode is None, logs[k].read_text()
            return {s.shard for s in emulator.gateway.ready_sessions()} == {(0, 2), (1, 2)}

        await until("both processes to be ready", both_ready, timeout=40)
        yield logs
    finally:
        for proc in procs.values():
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        for k, proc in procs.items():
            try:
                code = await asyncio.wait_for(proc.wait(), timeout=20)
            except TimeoutError:
                proc.kill()
                await proc.wait()
                raise
            assert code == 0, logs[k].read_text()


async def settings_made_before(url: str, when: datetime) -> None:
    """As if the reminder settings had been made at ``when`` (a catch-up only sends a reminder whose
    time came after its settings were made)."""
    engine = create_engine(url)
    try:
        async with make_sessionmaker(engine).begin() as s:
            await s.execute(update(Team).values(reminders_updated_at=when))
    finally:
        await engine.dispose()


@needs_postgres
async def test_two_real_processes_on_one_database_post_one_reminder_per_server(tmp_path: Path) -> None:
    """The topology of compose.yaml without containers, on the real clock: both processes start
    together on an empty database, the coaches set a warmup five minutes ago, and after a restart
    each process's catch-up posts its own servers' warmups, once."""
    assert POSTGRES_URL
    url = await empty_database("postgresql", tmp_path)
    async with shard_sandbox(url) as box:
        emulator = box.emulator
        servers = make_servers(emulator, {0: 2, 1: 2})
        started = time.monotonic()
        async with processes(emulator, url, tmp_path, "first") as first_logs:
            assert emulator.command_sync_count == 1
            assert await current_revision(url) == HEAD
            now = datetime.now(UTC)
            for server in servers:  # each command is answered by its shard's process
                reply = await server.coach.run(
                    "reminders set",
                    channel=server.channel,
                    timezone="UTC",
                    warmup=f"{now - timedelta(minutes=5):%H:%M}",
                    cooldown=f"{now + timedelta(hours=6):%H:%M}",
                )
                assert "UTC" in reply.text(), reply.text()
        await settings_made_before(url, now - timedelta(hours=1))
        async with processes(emulator, url, tmp_path, "restart") as logs:
            await until("every server's warmup", lambda: all(counts(emulator, servers)), timeout=20)
            await asyncio.sleep(1.5)
        took = time.monotonic() - started
        assert counts(emulator, servers) == [1, 1, 1, 1]
        for log in first_logs.values():
            assert "Traceback" not in log.read_text(), log.read_text()
        # Each process's log names the servers it posted to: its own, and only those.
        for k, log in logs.items():
            output = log.read_text()
            assert "Traceback" not in output, output
            posted = {s.guild.id for s in servers if f"reminder to team {s.guild.id} " in output}
            assert posted == {s.guild.id for s in servers if s.shard == k}, output
        assert emulator.command_sync_count == 1
        assert took < 60, took


# --- refusals and the single-process default ---------------------------------------------------------


def test_shard_ids_on_sqlite_are_refused_in_one_line(tmp_path: Path) -> None:
    result = run_cli("run", env={"DISCORD_TOKEN": "x", "SHARD_COUNT": "2", "SHARD_IDS": "0"}, cwd=tmp_path)
    assert the_one_line(result) == f"backrun-bot: {SHARDS_NEED_POSTGRES}"
    assert not (tmp_path / "backrun.db").exists()  # refused before it opened anything


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"SHARD_IDS": "0"}, "SHARD_IDS: Value error, needs SHARD_COUNT"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "0,2"}, "SHARD_IDS: Value error, shard 2 does not exist"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "1,1"}, "SHARD_IDS: Value error, names shard 1 more than once"),
        ({"SHARD_COUNT": "0"}, "SHARD_COUNT"),
    ],
)
def test_bad_shard_settings_end_with_one_line(tmp_path: Path, env: dict[str, str], says: str) -> None:
    result = run_cli("run", env={"DISCORD_TOKEN": "x", **env}, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert says in lines[0]


async def test_without_shard_settings_one_process_runs_every_shard_discord_recommends(
    tmp_path: Path, clock: time_machine.Traveller
) -> None:
    """The default (SQLite, no SHARD_*): as many shards as GET /gateway/bot recommends, all in this
    process, and every server's reminder posted by it."""
    url = f"sqlite+aiosqlite:///{tmp_path}/backrun.db"
    async with shard_sandbox(url) as box:
        box.emulator.recommended_shards = 2
        servers = make_servers(box.emulator, {0: 1, 1: 1})
        # discord.py waits 5 s before identifying each shard after the first (Discord's rate limit).
        bot = await start(box.emulator, box.settings, within=30)
        assert (bot.shard_count, sorted(bot.shards)) == (2, [0, 1])
        assert {g.id for g in bot.guilds} == {s.guild.id for s in servers}
        clock.move_to(BEFORE_SEVEN)
        await set_warmup_at_seven(servers)
        await until("both warmups", lambda: all(counts(box.emulator, servers)))
        # The metric counts a reminder once its outcome is committed, a moment after Discord stored
        # it.
        await until("both counted as sent", lambda: sent_by(bot) == 2)
        assert counts(box.emulator, servers) == [1, 1]
