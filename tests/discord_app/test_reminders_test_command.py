"""/reminders test: today's reminder posted now, marked as a test, pinging nobody, outside the ledger.

The real reminder must still go out at its time, and when the bot cannot post, the coach is told
why and what to do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypedDict

import discord
import pytest
import time_machine
from sqlalchemy import select

from backrun_bot.sandbox.driver import Actor
from backrun_bot.sandbox.emulator import Channel, DiscordEmulator
from backrun_bot.sandbox.emulator import permissions as P
from backrun_bot.sandbox.harness import Sandbox
from backrun_bot.storage.engine import create_engine, make_sessionmaker
from backrun_bot.storage.models import ReminderDelivery
from tests.discord_app.conftest import TeamFixture

# Monday 2026-03-09, ten seconds before the 07:00 UTC warmup.
BEFORE_SEVEN = datetime(2026, 3, 9, 6, 59, 50, tzinfo=UTC)


class ClientError(TypedDict, total=False):
    """What Discord refuses a request with: the keyword arguments of ``Faults.client_error``."""

    status: int
    code: int
    message: str


@pytest.fixture
def coach(running: Sandbox, team: TeamFixture) -> Actor:
    team.guild.add_member("coach", permissions=P.MANAGE_GUILD)
    return running.actor(team.guild, "coach")


@pytest.fixture
def channel(team: TeamFixture) -> Channel:
    return team.guild.add_channel("training")


async def ledger(sandbox: Sandbox) -> list[tuple[str, str]]:
    engine = create_engine(sandbox.settings.database_url)
    try:
        async with make_sessionmaker(engine)() as s:
            rows = await s.scalars(select(ReminderDelivery).order_by(ReminderDelivery.id))
            return [(r.slot, r.status) for r in rows]
    finally:
        await engine.dispose()


async def until(condition: Callable[[], bool], what: str, seconds: float = 5) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


def bot_can_send(sandbox: Sandbox, channel: Channel) -> bool:
    assert sandbox.bot is not None
    cached = sandbox.bot.get_channel(channel.id)
    if not isinstance(cached, discord.abc.GuildChannel):  # not (yet) in the bot's cache
        return False
    return cached.permissions_for(cached.guild.me).send_messages


async def test_a_test_warmup_is_posted_marked_unpinged_unrecorded_and_the_real_one_still_comes(
    running: Sandbox,
    coach: Actor,
    alice: Actor,
    channel: Channel,
    emulator: DiscordEmulator,
    clock: time_machine.Traveller,
) -> None:
    clock.move_to(BEFORE_SEVEN - timedelta(minutes=1))
    await alice.run("log", kind="backward", amount="2 km", date="yesterday")
    clock.move_to(BEFORE_SEVEN)
    await coach.run("reminders set", channel=channel, warmup="07:00")

    reply = await coach.run("reminders test", slot="warmup")
    assert reply.ephemeral
    assert reply.text().startswith(f"Posted a test warmup in <#{channel.id}>.")
    assert "The real one still goes out at 07:00 UTC." in reply.text()
    assert "Nobody was pinged" in reply.text()

    [test] = emulator.messages(channel.id)
    first_line = test.content.splitlines()[0]
    assert first_line == (
        "🧪 Test — this is how today's warmup will look; the real one still goes out at 07:00 UTC."
    )
    assert "**Warmup — Mon 9 Mar**" in test.content and "Backward skipping" in test.content
    # The same day-off section as the real one, but Alice is named, not pinged.
    assert "Day off from backward work today" in test.content
    assert "Alice: 2 km of backward running" in test.content
    assert f"<@{alice.user_id}>" not in test.content
    assert test.mentions == [] and not test.mention_everyone and test.mention_roles == []
    assert await ledger(running) == []  # the test is not a delivery

    real = await emulator.wait_for_message(channel.id, lambda m: m.id != test.id, timeout=20)
    assert not real.content.startswith("🧪")
    assert real.content == test.content.split("\n\n", 1)[1].replace("Alice", f"<@{alice.user_id}>")
    assert real.mentions == [alice.user_id]
    for _ in range(50):  # the row is marked sent just after Discord took the message
        # (9 March is a Monday: the weekly summary follows the warmup with a row of its own.)
        if (rows := [row for row in await ledger(running) if row[0] == "warmup"]) != [("warmup", "claimed")]:
            break
        await asyncio.sleep(0.1)
    assert rows == [("warmup", "sent")]


async def test_a_test_cooldown_after_the_real_one_says_so(
    running: Sandbox, coach: Actor, channel: Channel, emulator: DiscordEmulator
) -> None:
    # The suite's clock: Sunday 2026-03-08 15:00 UTC; the cooldown is at 12:00, already past.
    await coach.run("reminders set", channel=channel, cooldown="12:00")
    reply = await coach.run("reminders test", slot="cooldown")
    assert "The real one was due at 12:00 UTC today." in reply.text()
    [test] = emulator.messages(channel.id)
    lines = test.content.splitlines()
    assert (
        lines[0]
        == "🧪 Test — this is how today's cooldown will look; the real one was due at 12:00 UTC today."
    )
    assert "**Cooldown — Sun 8 Mar**" in test.content and "Backward run" in test.content
    assert await ledger(running) == []


async def test_a_paused_team_is_told_no_real_one_goes_out(
    coach: Actor, channel: Channel, emulator: DiscordEmulator
) -> None:
    await coach.run("reminders set", channel=channel)
    await coach.run("reminders pause", until="2026-03-12")
    reply = await coach.run("reminders test", slot="warmup")
    assert "Reminders are paused until 2026-03-12." in reply.text()
    [test] = emulator.messages(channel.id)
    assert test.content.startswith(
        "🧪 Test — this is how today's warmup would look; reminders are paused until 2026-03-12."
    )


async def test_after_a_lost_channel_paused_the_team_a_test_that_goes_through_points_to_resume(
    running: Sandbox,
    coach: Actor,
    channel: Channel,
    emulator: DiscordEmulator,
    clock: time_machine.Traveller,
) -> None:
    clock.move_to(BEFORE_SEVEN)
    posting = f"/channels/{channel.id}/messages"
    emulator.faults.client_error("POST", posting, status=403, code=50013, message="Missing Permissions")
    await coach.run("reminders set", channel=channel, warmup="07:00")
    await until(lambda: emulator.faults.pending == 0, "the warmup was refused", seconds=20)
    for _ in range(50):  # the pause is written just after the refusal
        if "cannot post" in (shown := (await coach.run("reminders show")).text()):
            break
        await asyncio.sleep(0.1)
    assert "paused" in shown

    reply = await coach.run("reminders test", slot="cooldown")
    assert reply.text().startswith(f"Posted a test cooldown in <#{channel.id}>.")
    assert f"Reminders are paused (the bot cannot post in <#{channel.id}>)" in reply.text()
    assert "`/reminders resume` turns the reminders back on" in reply.text()
    [test] = emulator.messages(channel.id)
    assert "would look; reminders are paused" in test.content.splitlines()[0]


async def test_without_a_channel_the_coach_is_sent_to_set_one(coach: Actor) -> None:
    reply = await coach.run("reminders test", slot="warmup")
    assert reply.ephemeral
    assert "run `/reminders set channel:` first" in reply.text()


@pytest.mark.parametrize(
    ("denied", "says"),
    [
        (P.SEND_MESSAGES, "I need Send Messages there."),
        (P.VIEW_CHANNEL, "I need View Channel and Send Messages there."),
    ],
)
async def test_a_channel_the_bot_may_not_post_in_is_named_with_the_missing_permissions(
    running: Sandbox,
    coach: Actor,
    channel: Channel,
    emulator: DiscordEmulator,
    denied: int,
    says: str,
) -> None:
    await coach.run("reminders set", channel=channel)
    emulator.deny_bot(channel, denied)
    await until(lambda: not bot_can_send(running, channel), "the bot learnt of the overwrite")
    reply = await coach.run("reminders test", slot="warmup")
    assert reply.ephemeral
    assert reply.text().startswith(f"I can't post in <#{channel.id}>: {says}")
    assert "`/reminders set channel:`" in reply.text()
    assert emulator.messages(channel.id) == []
    assert await ledger(running) == []


async def test_a_removed_channel_is_reported_with_what_to_do(
    running: Sandbox, coach: Actor, channel: Channel, emulator: DiscordEmulator
) -> None:
    await coach.run("reminders set", channel=channel)
    emulator.remove_channel(channel)
    assert running.bot is not None
    bot = running.bot
    await until(lambda: bot.get_channel(channel.id) is None, "the bot learnt of the deletion")
    reply = await coach.run("reminders test", slot="warmup")
    assert reply.ephemeral
    assert f"I can't find the reminder channel <#{channel.id}> any more" in reply.text()
    assert "Pick one with `/reminders set channel:`." in reply.text()
    assert await ledger(running) == []


@pytest.mark.parametrize(
    ("fault", "says"),
    [
        (ClientError(status=400, code=200000), "Discord refused the test warmup"),
        (
            ClientError(status=403, code=50013, message="Missing Permissions"),
            "Discord says the channel is gone",
        ),
    ],
)
async def test_when_discord_refuses_the_post_the_coach_is_told_and_reminders_stay_on(
    running: Sandbox,
    coach: Actor,
    channel: Channel,
    emulator: DiscordEmulator,
    fault: ClientError,
    says: str,
) -> None:
    """What the cache cannot know (AutoMod; an overwrite not seen yet): Discord's answer is passed on."""
    await coach.run("reminders set", channel=channel)
    emulator.faults.client_error("POST", f"/channels/{channel.id}/messages", **fault)
    reply = await coach.run("reminders test", slot="warmup")
    assert reply.ephemeral
    assert says in reply.text()
    assert emulator.faults.pending == 0
    assert emulator.messages(channel.id) == []
    assert await ledger(running) == []
    # A failed test does not pause the team the way a failed real reminder to a lost channel does.
    assert "Reminders: **on**" in (await coach.run("reminders show")).text()


async def test_members_without_manage_server_are_refused_with_the_permission_named(
    bob: Actor, coach: Actor, channel: Channel, team: TeamFixture, emulator: DiscordEmulator
) -> None:
    await coach.run("reminders set", channel=channel)
    with pytest.raises(PermissionError):  # hidden from them by default...
        await bob.run("reminders test", slot="warmup")
    emulator.set_command_permission(team.guild, "reminders", True)
    reply = await bob.run("reminders test", slot="warmup")  # ...and refused when an admin allows it
    assert reply.ephemeral
    assert "You need the Manage Server permission" in reply.text()
    assert emulator.messages(channel.id) == []
