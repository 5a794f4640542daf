"""A reminder Discord did not take is retried while the bot runs, and one Discord did take is never
sent twice: through the emulator, with its faults, the real scheduler and the delivery ledger.

Also the button every reminder carries ("My plan"), which is what a retry recognises it by.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from backrun_bot.sandbox.driver import Actor, Reply
from backrun_bot.sandbox.emulator import Channel, DiscordEmulator
from backrun_bot.sandbox.emulator import permissions as P
from backrun_bot.sandbox.harness import Sandbox
from backrun_bot.storage.engine import create_engine, make_sessionmaker
from backrun_bot.storage.models import ReminderDelivery
from tests.discord_app.conftest import TeamFixture

pytestmark = pytest.mark.timeout(60)

MANAGE_GUILD = 1 << 5
JUST_BEFORE_SEVEN = datetime(2026, 3, 9, 6, 59, 57, tzinfo=UTC)


@pytest.fixture
def coach(running: Sandbox, team: TeamFixture) -> Actor:
    team.guild.add_member("coach", permissions=MANAGE_GUILD)
    return running.actor(team.guild, "coach")


@pytest.fixture
def channel(team: TeamFixture) -> Channel:
    return team.guild.add_channel("training")


async def deliveries(sandbox: Sandbox) -> list[ReminderDelivery]:
    engine = create_engine(sandbox.settings.database_url)
    try:
        async with make_sessionmaker(engine)() as s:
            return list(await s.scalars(select(ReminderDelivery).order_by(ReminderDelivery.id)))
    finally:
        await engine.dispose()


async def settled(sandbox: Sandbox, timeout: float = 20) -> ReminderDelivery:
    """The one delivery row, once it is no longer waiting for another attempt."""
    async with asyncio.timeout(timeout):
        while True:
            rows = await deliveries(sandbox)
            if rows and rows[0].status not in ("claimed", "retry"):
                [row] = rows
                return row
            await asyncio.sleep(0.1)


async def warmup_at_seven(coach: Actor, channel: Channel, clock: time_machine.Traveller) -> None:
    clock.move_to(JUST_BEFORE_SEVEN)
    await coach.run("reminders set", channel=channel, timezone="UTC", warmup="07:00")


def posting(channel: Channel) -> str:
    return f"/channels/{channel.id}/messages"


async def test_a_503_is_retried_while_the_bot_runs_and_the_reminder_goes_out_once(
    running: Sandbox, coach: Actor, channel: Channel, emulator: DiscordEmulator, clock: time_machine.Traveller
) -> None:
    """discord.py does not retry a 503 itself: the scheduler runs the slot again 1 s and 2 s later."""
    emulator.faults.server_error("POST", posting(channel), status=503, times=2)
    await warmup_at_seven(coach, channel, clock)

    row = await settled(running)

    assert [f.status for f in emulator.faults.fired] == [503, 503]
    assert len(emulator.messages(channel.id)) == 1
    assert (row.status, row.attempts) == ("sent", 3)
    assert row.message_id == emulator.messages(channel.id)[0].id


async def test_a_5xx_after_discord_stored_the_reminder_is_found_and_recorded_not_sent_twice(
    running: Sandbox, coach: Actor, channel: Channel, emulator: DiscordEmulator, clock: time_machine.Traveller
) -> None:
    """Discord stored the message but answered 503; by the retry its nonce memory is gone (here at
    once). The retry finds the message by its button and records it."""
    emulator.nonce_window = 0
    emulator.faults.server_error("POST", posting(channel), status=503, after_handling=True)
    await warmup_at_seven(coach, channel, clock)

    row = await settled(running)

    [message] = emulator.messages(channel.id)
    assert (row.status, row.attempts, row.message_id) == ("sent", 2, message.id)
    assert emulator.faults.fired[0].status == 503
    await asyncio.sleep(1.5)
    assert len(emulator.messages(channel.id)) == 1


async def test_without_read_message_history_the_nonce_still_drops_a_quick_repeat(
    running: Sandbox, coach: Actor, channel: Channel, emulator: DiscordEmulator, clock: time_machine.Traveller
) -> None:
    """Discord lists no messages to a bot without Read Message History, so the retry cannot find the
    first copy; it re-sends with the same nonce, and Discord (within minutes) answers with the first."""
    emulator.deny_bot(channel, P.READ_MESSAGE_HISTORY)
    emulator.faults.server_error("POST", posting(channel), status=503, after_handling=True)
    await warmup_at_seven(coach, channel, clock)

    row = await settled(running)

    [message] = emulator.messages(channel.id)
    assert (row.status, row.attempts, row.message_id) == ("sent", 2, message.id)


async def test_the_reminder_carries_my_plan_which_shows_the_presser_their_own_day(
    running: Sandbox,
    coach: Actor,
    alice: Actor,
    bob: Actor,
    channel: Channel,
    emulator: DiscordEmulator,
    clock: time_machine.Traveller,
) -> None:
    clock.move_to(JUST_BEFORE_SEVEN - timedelta(minutes=1))
    await alice.run("log", kind="backward", amount="2 km", date="yesterday")
    await warmup_at_seven(coach, channel, clock)
    reminder = Reply.of(await emulator.wait_for_message(channel.id, timeout=10), emulator)
    # A Monday, and Alice logged yesterday: the weekly summary follows (see test_weekly.py).
    summary = await emulator.wait_for_message(channel.id, timeout=10)
    assert summary.content.startswith("📊")
    # Still works after a restart: the button is re-created from its custom id.
    await running.stop_bot()
    await running.start_bot()

    alices = await alice.press(reminder, "My plan")
    bobs = await bob.press(reminder, "My plan")

    assert alices.ephemeral and bobs.ephemeral
    assert "take today off" in alices.text().lower() and "2 km" in alices.text()
    assert "take today off" not in bobs.text().lower()
    assert alices.text() == (await alice.run("plan")).text()
    # The reminder itself is unchanged, and nothing new was posted in the channel.
    assert len(emulator.messages(channel.id)) == 2
