"""Monday's weekly summary through the emulator: it follows the warmup once, with last week's
figures as the athletes logged them with /log; not on other days, not when switched off with
``/reminders set weekly:off``; once across a restart; a 503 on it retried, never duplicated."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from backrun_bot.sandbox.driver import Actor
from backrun_bot.sandbox.emulator import Channel, DiscordEmulator, Message
from backrun_bot.sandbox.harness import Sandbox
from backrun_bot.storage.engine import create_engine, make_sessionmaker
from backrun_bot.storage.models import ReminderDelivery
from tests.discord_app.conftest import TeamFixture
from tests.discord_app.test_charts import decoded_chart

pytestmark = pytest.mark.timeout(90)

MANAGE_GUILD = 1 << 5
# Monday 2026-03-09, 07:00 UTC is the warmup (the team stays in UTC).
JUST_BEFORE_SEVEN = datetime(2026, 3, 9, 6, 59, 57, tzinfo=UTC)

EXPECTED = "\n".join(
    [
        "📊 **Last week** (Mon 2 Mar – Sun 8 Mar)",
        "Backward: **7.5 km** · Forward: **5 km** · 3 athletes logged runs",
        "",
        "**Top three, backward**",
        "1. Alice — 3 km",
        "1. Bob — 3 km",
        "3. Carol — 1.5 km",
        "",
        "**Longest current streaks** (days in a row with backward work)",
        "1. Carol — 3 days",
        "2. Alice — 2 days",
    ]
)


@pytest.fixture
def coach(running: Sandbox, team: TeamFixture) -> Actor:
    team.guild.add_member("coach", permissions=MANAGE_GUILD)
    return running.actor(team.guild, "coach")


@pytest.fixture
def carol(running: Sandbox, team: TeamFixture) -> Actor:
    return running.actor(team.guild, "carol")


@pytest.fixture
def channel(team: TeamFixture) -> Channel:
    return team.guild.add_channel("training")


async def deliveries(sandbox: Sandbox) -> list[tuple[str, str]]:
    engine = create_engine(sandbox.settings.database_url)
    try:
        async with make_sessionmaker(engine)() as s:
            rows = await s.scalars(select(ReminderDelivery).order_by(ReminderDelivery.id))
            return [(r.slot, r.status) for r in rows]
    finally:
        await engine.dispose()


async def last_week(alice: Actor, bob: Actor, carol: Actor, clock: time_machine.Traveller) -> None:
    """Logged on Monday morning, before the warmup, for the days of last week (and one before it)."""
    clock.move_to(JUST_BEFORE_SEVEN - timedelta(minutes=2))
    await alice.run("log", kind="backward", amount="2 km", date="2026-03-07")
    await alice.run("log", kind="backward", amount="1 km", date="2026-03-08")
    await alice.run("log", kind="backward", amount="9 km", date="2026-03-01")  # the week before
    await bob.run("log", kind="backward", amount="3 km", date="2026-03-08")
    for day in ("2026-03-06", "2026-03-07", "2026-03-08"):
        await carol.run("log", kind="backward", amount="500m", date=day)
    await carol.run("log", kind="forward", amount="5 km", date="2026-03-06")


async def no_new_message(emulator: DiscordEmulator, channel_id: int, count: int, wait: float = 1.5) -> None:
    await asyncio.sleep(wait)
    assert len(emulator.messages(channel_id)) == count


async def warmup_and_summary(emulator: DiscordEmulator, channel: Channel) -> tuple[Message, Message]:
    warmup = await emulator.wait_for_message(channel.id, timeout=10)
    summary = await emulator.wait_for_message(channel.id, timeout=10)
    return warmup, summary


async def test_mondays_warmup_is_followed_by_last_weeks_summary_once(
    coach: Actor,
    alice: Actor,
    bob: Actor,
    carol: Actor,
    channel: Channel,
    emulator: DiscordEmulator,
    running: Sandbox,
    clock: time_machine.Traveller,
) -> None:
    await last_week(alice, bob, carol, clock)
    clock.move_to(JUST_BEFORE_SEVEN)
    await coach.run("reminders set", channel=channel, warmup="07:00")

    warmup, summary = await warmup_and_summary(emulator, channel)
    assert "warmup" in warmup.content.lower()
    assert summary.content == EXPECTED
    # Names as text: nobody is pinged by the summary, whatever the names say.
    assert summary.mentions == [] and not summary.mention_everyone and summary.mention_roles == []
    # The team's chart of last week is attached: a real PNG of about 800 x 400, not one colour.
    assert warmup.attachments == []
    [attachment] = summary.attachments
    assert attachment["filename"] == "chart.png" and attachment["content_type"] == "image/png"
    assert "last week" in attachment["description"]
    decoded_chart(emulator.attachment(attachment))
    await no_new_message(emulator, channel.id, 2)
    assert await deliveries(running) == [("warmup", "sent"), ("weekly", "sent")]


async def test_no_summary_on_a_tuesday(
    coach: Actor,
    alice: Actor,
    bob: Actor,
    carol: Actor,
    channel: Channel,
    emulator: DiscordEmulator,
    clock: time_machine.Traveller,
) -> None:
    await last_week(alice, bob, carol, clock)
    clock.move_to(JUST_BEFORE_SEVEN + timedelta(days=1))
    await coach.run("reminders set", channel=channel, warmup="07:00")
    warmup = await emulator.wait_for_message(channel.id, timeout=10)
    assert "warmup" in warmup.content.lower()
    await no_new_message(emulator, channel.id, 1)


async def test_weekly_off_sends_the_warmup_alone_and_show_says_so(
    coach: Actor,
    alice: Actor,
    bob: Actor,
    carol: Actor,
    channel: Channel,
    emulator: DiscordEmulator,
    running: Sandbox,
    clock: time_machine.Traveller,
) -> None:
    await last_week(alice, bob, carol, clock)
    clock.move_to(JUST_BEFORE_SEVEN)
    shown = (await coach.run("reminders set", channel=channel, warmup="07:00", weekly="off")).text()
    assert "Weekly summary: off" in shown
    assert "Weekly summary: off" in (await coach.run("reminders show")).text()
    warmup = await emulator.wait_for_message(channel.id, timeout=10)
    assert "warmup" in warmup.content.lower()
    await no_new_message(emulator, channel.id, 1)
    assert await deliveries(running) == [("warmup", "sent")]
    # And on again.
    assert "Weekly summary: on" in (await coach.run("reminders set", weekly="on")).text()


async def test_the_summary_is_sent_once_across_a_restart(
    coach: Actor,
    alice: Actor,
    bob: Actor,
    carol: Actor,
    channel: Channel,
    emulator: DiscordEmulator,
    running: Sandbox,
    clock: time_machine.Traveller,
) -> None:
    """The warmup goes out and Discord keeps failing the summary (503) until the bot stops; the next
    start's catch-up sends the summary once, not the warmup again, and a further restart nothing."""
    await last_week(alice, bob, carol, clock)
    clock.move_to(JUST_BEFORE_SEVEN)
    failing = False

    def fail_after_the_warmup(message: Message, created: bool) -> None:
        nonlocal failing
        if created and message.channel_id == channel.id and not failing:
            failing = True  # every later post to the channel (the summary and its retries) fails
            emulator.faults.server_error("POST", f"/channels/{channel.id}/messages", status=503, times=1000)

    stop = emulator.on_message(fail_after_the_warmup)
    await coach.run("reminders set", channel=channel, warmup="07:00")
    await emulator.wait_for_message(channel.id, timeout=10)
    async with asyncio.timeout(10):
        while len(emulator.faults.fired) < 2:  # the summary, and its retry a second later
            await asyncio.sleep(0.1)
    await running.stop_bot()
    stop()
    emulator.faults.clear()
    assert await deliveries(running) == [("warmup", "sent"), ("weekly", "retry")]

    clock.move_to(JUST_BEFORE_SEVEN + timedelta(minutes=30))
    await running.start_bot()
    summary = await emulator.wait_for_message(channel.id, timeout=10)
    assert summary.content == EXPECTED
    await no_new_message(emulator, channel.id, 2)
    await running.stop_bot()
    await running.start_bot()
    await no_new_message(emulator, channel.id, 2)
    assert await deliveries(running) == [("warmup", "sent"), ("weekly", "sent")]


async def test_a_5xx_on_the_summary_is_retried_once_and_not_duplicated(
    coach: Actor,
    alice: Actor,
    bob: Actor,
    carol: Actor,
    channel: Channel,
    emulator: DiscordEmulator,
    running: Sandbox,
    clock: time_machine.Traveller,
) -> None:
    """Discord stores the summary but answers 503 (and forgets the nonce at once): the retry a
    second later finds it in the channel by its button and records it instead of posting again."""
    await last_week(alice, bob, carol, clock)
    clock.move_to(JUST_BEFORE_SEVEN)
    emulator.nonce_window = 0
    armed = False

    def fail_the_summary(message: Message, created: bool) -> None:
        nonlocal armed
        if created and message.channel_id == channel.id and not armed:
            armed = True
            emulator.faults.server_error(
                "POST", f"/channels/{channel.id}/messages", status=503, after_handling=True
            )

    stop = emulator.on_message(fail_the_summary)
    await coach.run("reminders set", channel=channel, warmup="07:00")
    _, summary = await warmup_and_summary(emulator, channel)
    stop()
    assert summary.content == EXPECTED
    async with asyncio.timeout(10):
        while await deliveries(running) != [("warmup", "sent"), ("weekly", "sent")]:
            await asyncio.sleep(0.1)
    assert [f.status for f in emulator.faults.fired] == [503]
    await no_new_message(emulator, channel.id, 2)
