"""The gateway failing while a fan-out of reminders is under way: every team gets its reminder exactly
once (issue 8).

300 teams share one reminder minute. When the emulator has stored the 50th of their reminders, the
gateway fails: the connection is cut (the bot resumes), or cut with the session gone on Discord's side
(the bot's RESUME is refused with op 9 INVALID_SESSION and it identifies again: a new READY, every
GUILD_CREATE again, and discord.py's on_ready once more), or the session is invalidated on a live
connection. Reminders go out over REST, not the gateway, so the fan-out must carry on through any of
these: each channel ends with exactly one reminder, the delivery ledger says "sent" for each team,
and the bot still answers afterwards. Discord's nonce memory is switched off in the emulator, so it
cannot hide a reminder sent twice.

A fan-out of 300 takes about as long as discord.py waits before it identifies again (5 s), so on a
fast machine it would be over before the new session exists. To make "during" certain, the fan-out
sends a few more reminders while the gateway is down, then each claim waits (a slow database, on
purpose) until the bot is connected again: the rest go out while the new session starts. The fan-out
claims its batches as the sends go (two at once), so the teams are one batch more than that: the
last batch's claim comes after the fault.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import pytest
import time_machine
from sqlalchemy import event, select
from sqlalchemy.engine import AdaptedConnection, Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from backrun_bot.sandbox.emulator import Channel, DiscordEmulator, Message
from backrun_bot.sandbox.harness import Sandbox, open_sandbox
from backrun_bot.services.common import utc_now
from backrun_bot.services.delivery import BATCHES_IN_FLIGHT, FANOUT_BATCH
from backrun_bot.services.reminder_settings import ReminderSettingsService
from backrun_bot.storage.engine import create_engine, make_sessionmaker
from backrun_bot.storage.migrate import upgrade_to_head
from backrun_bot.storage.models import ReminderDelivery
from tests.conftest import POSTGRES_URL, empty_database

pytestmark = pytest.mark.timeout(120)

TEAMS = FANOUT_BATCH * (BATCHES_IN_FLIGHT + 1)
FAULT_AT = 50  # the fault comes when this many reminders are stored, a quarter into the fan-out
SENT_WHILE_DOWN = 10  # reminders that then go out before the gateway is back (the rest wait for it)
# Every team's warmup is at 07:00 UTC; the bot starts a few seconds before (travelled clock), so the
# fan-out is its armed job firing, with the bot connected.
WARMUP = time(7, 0)
SETTINGS_SAVED = datetime(2026, 3, 8, 21, 0, tzinfo=UTC)  # after the day's cooldown: nothing else is due
BOT_STARTS = datetime(2026, 3, 9, 6, 59, 53, tzinfo=UTC)
FAN_OUT_DAY = "2026-03-09"


async def drop(emulator: DiscordEmulator) -> None:
    """The connection cut without a close frame: discord.py resumes the session."""
    await emulator.drop_gateway()


async def drop_and_refuse_the_resume(emulator: DiscordEmulator) -> None:
    """The connection cut, and the session gone on Discord's side meanwhile: the RESUME that follows
    is answered with op 9 INVALID_SESSION, so discord.py identifies again."""
    await emulator.gateway.drop(forget_sessions=True)


async def invalidate(emulator: DiscordEmulator) -> None:
    """op 9 on the live connection: the session ends and discord.py identifies again."""
    await emulator.invalidate_session()


Fault = Callable[[DiscordEmulator], Awaitable[None]]


@pytest.fixture(params=["sqlite"] + (["postgresql"] if POSTGRES_URL else []))
async def box(
    request: pytest.FixtureRequest, clock: time_machine.Traveller, tmp_path: Path
) -> AsyncIterator[Sandbox]:
    url = await empty_database(request.param, tmp_path)
    async with open_sandbox(url, start_bot=False, log_level="WARNING") as sandbox:
        sandbox.emulator.nonce_window = 0
        yield sandbox
        assert sandbox.emulator.violations == [], "the bot sent what Discord would refuse"


async def teams_with_the_same_warmup(box: Sandbox) -> dict[int, Channel]:
    """TEAMS servers, each with a #training channel and its warmup at 07:00 UTC (set the evening
    before); their reminder channels by id."""
    url = box.settings.database_url
    await upgrade_to_head(url)
    channels = {}
    engine = create_engine(url)
    try:
        settings = ReminderSettingsService(make_sessionmaker(engine), clock=utc_now)
        for n in range(TEAMS):
            guild = box.emulator.add_guild(f"Team {n}")
            channel = guild.add_channel("training")
            await settings.update(guild.id, channel_id=channel.id, timezone="UTC", warmup=WARMUP)
            channels[channel.id] = channel
    finally:
        await engine.dispose()
    return channels


async def ledger(url: str) -> Counter[tuple[int, str, str, str]]:
    """The delivery rows, as (team, day, slot, status), with how many rows say each."""
    engine = create_engine(url)
    try:
        async with make_sessionmaker(engine)() as s:
            rows = await s.scalars(select(ReminderDelivery))
            return Counter((r.team_id, r.local_day.isoformat(), r.slot, r.status) for r in rows)
    finally:
        await engine.dispose()


async def until(what: str, condition: Callable[[], Awaitable[bool]], timeout: float) -> None:
    try:
        async with asyncio.timeout(timeout):
            while not await condition():
                await asyncio.sleep(0.2)
    except TimeoutError:
        raise AssertionError(f"not within {timeout} s: {what}") from None


def gateway_counts(emulator: DiscordEmulator) -> tuple[int, int, int]:
    """IDENTIFYs, RESUMEs taken and RESUMEs refused so far."""
    gateway = emulator.gateway
    return gateway.identify_count, gateway.resume_count, gateway.refused_resume_count


def reconnected_after(emulator: DiscordEmulator, fault: Fault) -> tuple[int, int, int]:
    """:func:`gateway_counts` once the bot is back after ``fault``: one RESUME more after a drop; a
    refused RESUME, then one IDENTIFY more, after a drop that ended the session; one IDENTIFY more
    after op 9 on the live connection."""
    identified, resumed, refused = gateway_counts(emulator)
    after: dict[Fault, tuple[int, int, int]] = {
        drop: (identified, resumed + 1, refused),
        drop_and_refuse_the_resume: (identified + 1, resumed, refused + 1),
        invalidate: (identified + 1, resumed, refused),
    }
    return after[fault]


@contextlib.contextmanager
def claims_wait_for(engine: AsyncEngine, back: asyncio.Event, when: Callable[[], bool]) -> Iterator[None]:
    """Once ``when()`` holds, each reminder's claim waits (on the event loop) until ``back`` is set: the
    fan-out goes on through the reconnection, whatever the machine's speed."""

    def hold(conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO REMINDER_DELIVERIES") and when():
            driver = conn.connection.dbapi_connection
            assert isinstance(driver, AdaptedConnection)
            driver.run_async(lambda _connection: back.wait())

    event.listen(engine.sync_engine, "before_cursor_execute", hold)
    try:
        yield
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", hold)


@pytest.mark.parametrize("fault", [drop, drop_and_refuse_the_resume, invalidate])
async def test_a_gateway_fault_during_a_fan_out_leaves_every_team_one_reminder(
    box: Sandbox, clock: time_machine.Traveller, fault: Fault
) -> None:
    emulator = box.emulator
    clock.move_to(SETTINGS_SAVED)
    channels = await teams_with_the_same_warmup(box)
    posted: Counter[int] = Counter()
    back = asyncio.Event()  # the bot has its gateway session again after the fault
    stored_when: dict[str, int] = {}  # how many reminders were stored when the bot was "back"
    failing: list[asyncio.Task[None]] = []

    async def fail_and_wait_for_the_bot() -> None:
        expected = reconnected_after(emulator, fault)
        await fault(emulator)

        async def reconnected() -> bool:
            return gateway_counts(emulator) == expected

        await until(f"(IDENTIFYs, RESUMEs, refused RESUMEs) at {expected}", reconnected, timeout=30)
        stored_when["back"] = posted.total()
        back.set()

    def on_message(message: Message, created: bool) -> None:
        if created and message.channel_id in channels:
            posted[message.channel_id] += 1
            if posted.total() == FAULT_AT:
                failing.append(asyncio.get_running_loop().create_task(fail_and_wait_for_the_bot()))

    def gateway_down() -> bool:
        # A few reminders go out while the gateway is down; then the fan-out waits for its return.
        return posted.total() >= FAULT_AT + SENT_WHILE_DOWN and not back.is_set()

    stop_listening = emulator.on_message(on_message)
    try:
        clock.move_to(BOT_STARTS)
        bot = await box.start_bot()
        assert posted.total() == 0, "the fan-out began before the bot was connected"
        with claims_wait_for(bot.engine, back, gateway_down):

            async def everyone_posted() -> bool:
                return len(posted) == TEAMS

            await until("a reminder in every team's channel", everyone_posted, timeout=60)
        [task] = failing
        await task
        # The fault came during the fan-out, and the bot was back while it still went on.
        assert FAULT_AT <= stored_when["back"] < TEAMS

        every_team_sent = Counter(
            (channel.guild.id, FAN_OUT_DAY, "warmup", "sent") for channel in channels.values()
        )

        async def all_sent() -> bool:
            return await ledger(box.settings.database_url) == every_team_sent

        await until("every team's delivery marked sent", all_sent, timeout=30)
        await emulator.wait_until_ready(timeout=15)
        # A moment more, for a send still on its way (a retry or a second fan-out would show here).
        await asyncio.sleep(1.5)
    finally:
        back.set()  # never leave a claim waiting (the bot must be able to stop)
        stop_listening()

    assert set(posted) == set(channels) and set(posted.values()) == {1}, posted.most_common(3)
    for channel_id in channels:
        [reminder] = emulator.messages(channel_id)
        assert "warmup" in reminder.content.lower()
    # And the bot still answers commands in a server it serves.
    guild = next(iter(channels.values())).guild
    reply = await box.actor(guild, "alice").run("log", kind="backward", amount="400m")
    assert "**400 m**" in reply.text() and not reply.ephemeral
    await box.stop_bot()
