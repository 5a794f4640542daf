"""Reminders through the emulator: settings, delivery, day-off mentions, restarts, exactly once.

The clock is travelled (time-machine, ticking), so "07:00" is a couple of real seconds away; the
scheduler, the catch-up and the delivery ledger run as in production.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import select

from backrun_bot.discord_app.bot import BackrunBot
from backrun_bot.sandbox.driver import Actor
from backrun_bot.sandbox.emulator import Channel, DiscordEmulator
from backrun_bot.sandbox.harness import Sandbox, open_sandbox
from backrun_bot.storage.engine import create_engine, make_sessionmaker
from backrun_bot.storage.models import ReminderDelivery
from tests.conftest import POSTGRES_URL, empty_database
from tests.discord_app.conftest import TeamFixture
from tests.discord_app.test_reminder_retries import settled

MANAGE_GUILD = 1 << 5
# Team A's channel for reminders; UTC until the team sets a timezone.
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


async def no_new_message(emulator: DiscordEmulator, channel_id: int, count: int, wait: float = 1.5) -> None:
    await asyncio.sleep(wait)
    assert len(emulator.messages(channel_id)) == count


async def test_reminder_set_a_moment_ahead_arrives_with_backward_work(
    coach: Actor, channel: Channel, emulator: DiscordEmulator, clock: time_machine.Traveller
) -> None:
    clock.move_to(JUST_BEFORE_SEVEN)
    reply = await coach.run(
        "reminders set", channel=channel, timezone="UTC", warmup="07:00", cooldown="19:00"
    )
    assert reply.ephemeral
    assert "07:00" in reply.text() and "19:00" in reply.text()

    message = await emulator.wait_for_message(channel.id, timeout=10)
    text = message.content.lower()
    assert "warmup" in text
    assert "backward skip" in text
    assert "backpedal" in text or "backward stride" in text
    assert "over your shoulder" in text
    assert not message.mention_everyone and message.mention_roles == []
    await no_new_message(emulator, channel.id, 1)


async def test_cooldown_steps_down_run_jog_walk(
    coach: Actor, channel: Channel, emulator: DiscordEmulator, clock: time_machine.Traveller
) -> None:
    clock.move_to(datetime(2026, 3, 9, 18, 59, 58, tzinfo=UTC))
    await coach.run("reminders set", channel=channel, cooldown="19:00")
    message = await emulator.wait_for_message(channel.id, timeout=10)
    text = message.content.lower()
    assert "cooldown" in text
    assert text.index("backward run") < text.index("backward jog") < text.index("backward walk")
    assert "prevent" not in text


async def test_members_without_manage_server_are_refused(
    bob: Actor, coach: Actor, channel: Channel, team: TeamFixture, emulator: DiscordEmulator
) -> None:
    # Discord's client hides the commands from members without Manage Server...
    with pytest.raises(PermissionError):
        await bob.run("reminders set", channel=channel)
    # ...but a server admin can override that default, so the bot checks on every call.
    emulator.set_command_permission(team.guild, "reminders", True)
    for command, options in [
        ("reminders set", {"channel": channel}),
        ("reminders show", {}),
        ("reminders pause", {}),
        ("reminders resume", {}),
        ("reminders preview", {}),
    ]:
        reply = await bob.run(command, **options)
        assert reply.ephemeral, command
        assert "Manage Server" in reply.text(), command
    shown = await coach.run("reminders show")
    assert "Channel: not set" in shown.text()


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"timezone": "Mars/Olympus"}, "IANA"),
        ({"warmup": "25:00"}, "HH:MM"),
        ({"warmup": "7pm"}, "HH:MM"),
        ({"cooldown": "19:60"}, "HH:MM"),
        ({"days": "someday"}, "mon"),
    ],
)
async def test_bad_settings_are_refused_and_change_nothing(
    coach: Actor, channel: Channel, options: dict[str, str], says: str
) -> None:
    await coach.run("reminders set", channel=channel, timezone="Europe/London")
    before = (await coach.run("reminders show")).text()
    reply = await coach.run("reminders set", **options)
    assert reply.ephemeral
    assert says in reply.text()
    assert (await coach.run("reminders show")).text() == before


async def test_first_set_needs_a_channel(coach: Actor) -> None:
    reply = await coach.run("reminders set", timezone="Europe/London")
    assert reply.ephemeral
    assert "needs a channel" in reply.text()


async def test_a_channel_the_bot_cannot_post_in_is_refused(coach: Actor, team: TeamFixture) -> None:
    closed = team.guild.add_channel("announcements", bot_can_send=False)
    reply = await coach.run("reminders set", channel=closed)
    assert reply.ephemeral
    assert "can't post" in reply.text()
    assert "Channel: not set" in (await coach.run("reminders show")).text()


async def test_timezone_autocomplete(coach: Actor) -> None:
    choices = await coach.autocomplete("reminders set", "timezone", "lord")
    assert choices[0]["value"] == "Australia/Lord_Howe"
    assert len(await coach.autocomplete("reminders set", "timezone", "")) == 25


async def test_heavy_yesterday_suggests_a_day_off_and_pings_only_that_athlete(
    coach: Actor,
    alice: Actor,
    bob: Actor,
    channel: Channel,
    emulator: DiscordEmulator,
    clock: time_machine.Traveller,
) -> None:
    clock.move_to(JUST_BEFORE_SEVEN - timedelta(minutes=1))
    await alice.run("log", kind="backward", amount="2 km", date="yesterday")
    await bob.run("log", kind="backward", amount="400m", date="yesterday")
    await bob.run("log", kind="forward", amount="10 km", date="yesterday")
    clock.move_to(JUST_BEFORE_SEVEN)
    await coach.run("reminders set", channel=channel, warmup="07:00")

    message = await emulator.wait_for_message(channel.id, timeout=10)
    assert message.mentions == [alice.user_id]
    assert not message.mention_everyone and message.mention_roles == []
    assert f"<@{alice.user_id}>" in message.content
    assert f"<@{bob.user_id}>" not in message.content and "bob" not in message.content
    assert "day off" in message.content.lower()
    assert "2 km of backward running" in message.content

    plan = await alice.run("plan")
    assert plan.ephemeral
    assert "take today off" in plan.text().lower()
    assert "2 km" in plan.text()
    assert "take today off" not in (await bob.run("plan")).text().lower()


async def test_a_whole_squad_on_a_heavy_day_still_gets_its_warmup(
    running: Sandbox,
    team: TeamFixture,
    coach: Actor,
    channel: Channel,
    emulator: DiscordEmulator,
    clock: time_machine.Traveller,
) -> None:
    """Forty athletes' reasons would pass Discord's 2,000 characters: they are named, not explained."""
    clock.move_to(JUST_BEFORE_SEVEN - timedelta(minutes=1))
    squad = []
    for i in range(40):
        team.guild.add_member(f"runner{i:02d}")
        athlete = running.actor(team.guild, f"runner{i:02d}")
        await athlete.run("log", kind="backward", amount="2 km", date="yesterday")
        squad.append(athlete.user_id)
    clock.move_to(JUST_BEFORE_SEVEN)
    await coach.run("reminders set", channel=channel, warmup="07:00")

    message = await emulator.wait_for_message(channel.id, timeout=10)
    assert len(message.content) <= 2000
    assert "Backward skipping" in message.content and "/plan" in message.content
    named = [uid for uid in squad if f"<@{uid}>" in message.content]
    assert named and set(message.mentions) == set(named)
    assert len(named) == 40 or f"and {40 - len(named)} more" in message.content


async def test_athletes_can_opt_out_of_the_ping(
    coach: Actor, alice: Actor, channel: Channel, emulator: DiscordEmulator, clock: time_machine.Traveller
) -> None:
    clock.move_to(JUST_BEFORE_SEVEN - timedelta(minutes=1))
    await alice.run("log", kind="backward", amount="2 km", date="yesterday")
    assert "without a ping" in (await alice.run("notify", mentions="off")).text()
    clock.move_to(JUST_BEFORE_SEVEN)
    await coach.run("reminders set", channel=channel, warmup="07:00")
    message = await emulator.wait_for_message(channel.id, timeout=10)
    assert message.mentions == []
    assert "Alice" in message.content  # named by display name, not pinged
    assert f"<@{alice.user_id}>" not in message.content


async def test_preview_shows_both_without_sending(
    coach: Actor, channel: Channel, emulator: DiscordEmulator
) -> None:
    await coach.run("reminders set", channel=channel)
    reply = await coach.run("reminders preview")
    assert reply.ephemeral
    assert [e["title"] for e in reply.embeds] == ["Warmup · 07:00 UTC", "Cooldown · 19:00 UTC"]
    assert "backward" in reply.text().lower()
    assert emulator.messages(channel.id) == []


async def test_pause_until_and_resume(
    coach: Actor, channel: Channel, emulator: DiscordEmulator, clock: time_machine.Traveller
) -> None:
    clock.move_to(JUST_BEFORE_SEVEN)
    await coach.run("reminders set", channel=channel, warmup="07:00")
    paused = await coach.run("reminders pause", until="2026-03-10")
    assert "paused until 2026-03-10" in paused.text()
    await no_new_message(emulator, channel.id, 0, wait=4)
    assert "past" in (await coach.run("reminders pause", until="2026-03-01")).text()
    assert "Reminders: **on**" in (await coach.run("reminders resume")).text()


async def test_restart_after_delivery_sends_nothing_again(
    running: Sandbox, coach: Actor, channel: Channel, emulator: DiscordEmulator, clock: time_machine.Traveller
) -> None:
    clock.move_to(JUST_BEFORE_SEVEN)
    await coach.run("reminders set", channel=channel, warmup="07:00")
    await emulator.wait_for_message(channel.id, timeout=10)
    await running.stop_bot()
    clock.move_to(JUST_BEFORE_SEVEN + timedelta(minutes=20))
    await running.start_bot()
    await no_new_message(emulator, channel.id, 1)
    assert [d.status for d in await deliveries(running)] == ["sent"]


async def test_restart_inside_the_grace_window_sends_once_late(
    running: Sandbox, coach: Actor, channel: Channel, emulator: DiscordEmulator, clock: time_machine.Traveller
) -> None:
    clock.move_to(JUST_BEFORE_SEVEN - timedelta(minutes=5))
    await coach.run("reminders set", channel=channel, warmup="07:00")
    await running.stop_bot()  # down over 07:00
    clock.move_to(JUST_BEFORE_SEVEN + timedelta(minutes=90))
    await running.start_bot()
    message = await emulator.wait_for_message(channel.id, timeout=10)
    assert "warmup" in message.content.lower()
    await running.stop_bot()
    await running.start_bot()
    await no_new_message(emulator, channel.id, 1)


async def test_restart_after_the_grace_window_skips_and_records_it(
    running: Sandbox, coach: Actor, channel: Channel, emulator: DiscordEmulator, clock: time_machine.Traveller
) -> None:
    clock.move_to(JUST_BEFORE_SEVEN - timedelta(minutes=5))
    await coach.run("reminders set", channel=channel, warmup="07:00")
    await running.stop_bot()
    clock.move_to(JUST_BEFORE_SEVEN + timedelta(hours=3))
    await running.start_bot()
    await no_new_message(emulator, channel.id, 0)
    assert [(d.slot, d.status) for d in await deliveries(running)] == [("warmup", "skipped")]


async def test_a_crash_between_claim_and_send_is_retried_once_the_claim_is_stale(
    running: Sandbox,
    coach: Actor,
    channel: Channel,
    team: TeamFixture,
    emulator: DiscordEmulator,
    clock: time_machine.Traveller,
) -> None:
    """A copy that claimed the reminder and died before sending leaves a ``claimed`` row. Another
    start within the grace window takes the claim over once it is older than the lease (2 min) and
    sends; a fresh claim is left alone (its owner may be sending right now)."""
    clock.move_to(JUST_BEFORE_SEVEN - timedelta(minutes=5))
    await coach.run("reminders set", channel=channel, warmup="07:00")
    await running.stop_bot()
    crashed_at = JUST_BEFORE_SEVEN + timedelta(seconds=3)
    engine = create_engine(running.settings.database_url)
    try:
        async with make_sessionmaker(engine).begin() as s:
            s.add(
                ReminderDelivery(
                    team_id=team.guild.id,
                    local_day=crashed_at.date(),
                    slot="warmup",
                    status="claimed",
                    claimed_at=crashed_at,
                )
            )
    finally:
        await engine.dispose()

    clock.move_to(crashed_at + timedelta(minutes=1))  # inside the lease: the owner may still send
    await running.start_bot()
    await no_new_message(emulator, channel.id, 0)
    await running.stop_bot()

    clock.move_to(crashed_at + timedelta(minutes=10))  # the lease is over: taken over, sent once
    await running.start_bot()
    await emulator.wait_for_message(channel.id, timeout=10)
    # The bot marks the row once Discord has answered, a moment after the message is there.
    row = await settled(running)
    assert (row.status, row.attempts) == ("sent", 2)


async def test_a_rate_limit_is_waited_out(
    running: Sandbox, coach: Actor, channel: Channel, emulator: DiscordEmulator, clock: time_machine.Traveller
) -> None:
    posting = f"/channels/{channel.id}/messages"
    # Set before the reminder is due (the command's reply is an interaction callback, not this path).
    emulator.faults.rate_limit("POST", posting, retry_after=0.5)
    clock.move_to(JUST_BEFORE_SEVEN)
    await coach.run("reminders set", channel=channel, warmup="07:00")
    await emulator.wait_for_message(channel.id, timeout=10)
    await no_new_message(emulator, channel.id, 1)
    # The warmup was answered with the 429 first, then sent once when it was over.
    assert [(f.method, f.path, f.status) for f in emulator.faults.fired] == [("POST", posting, 429)]
    assert emulator.faults.pending == 0
    assert [d.status for d in await deliveries(running)] == ["sent"]


async def test_a_reminder_discord_refuses_is_recorded_not_retried_and_reminders_stay_on(
    running: Sandbox, coach: Actor, channel: Channel, emulator: DiscordEmulator, clock: time_machine.Traveller
) -> None:
    """AutoMod (or any 4xx about the message) refuses the warmup: sending it again would be refused
    again, so it is marked failed with the reason; the team is not paused."""
    clock.move_to(JUST_BEFORE_SEVEN)
    await coach.run("reminders set", channel=channel, warmup="07:00")
    emulator.faults.client_error("POST", r"/channels/\d+/messages")
    for _ in range(100):
        if [d.status for d in await deliveries(running)] == ["failed"]:
            break
        await asyncio.sleep(0.1)
    [delivery] = await deliveries(running)
    assert delivery.status == "failed" and "200000" in (delivery.detail or "")
    assert emulator.faults.pending == 0
    await running.stop_bot()  # a restart inside the grace window does not try it again
    await running.start_bot()
    await no_new_message(emulator, channel.id, 0)
    assert "Reminders: **on**" in (await coach.run("reminders show")).text()


async def test_a_lost_channel_pauses_that_team_only(
    running: Sandbox,
    coach: Actor,
    channel: Channel,
    other_team: TeamFixture,
    emulator: DiscordEmulator,
    clock: time_machine.Traveller,
) -> None:
    other_team.guild.add_member("coach", permissions=MANAGE_GUILD)
    other_coach = running.actor(other_team.guild, "coach")
    other_channel = other_team.guild.channels["general"]
    clock.move_to(JUST_BEFORE_SEVEN)
    await coach.run("reminders set", channel=channel, warmup="07:00")
    await other_coach.run("reminders set", channel=other_channel, warmup="07:00")
    emulator.remove_channel(channel)

    await emulator.wait_for_message(other_channel.id, timeout=10)
    await asyncio.sleep(0.5)
    shown = (await coach.run("reminders show")).text()
    assert "paused" in shown and "cannot post" in shown
    assert "Reminders: **on**" in (await other_coach.run("reminders show")).text()


async def test_teams_sharing_a_time_share_one_job(
    running: Sandbox, coach: Actor, channel: Channel, other_team: TeamFixture
) -> None:
    other_team.guild.add_member("coach", permissions=MANAGE_GUILD)
    other_coach = running.actor(other_team.guild, "coach")
    await coach.run(
        "reminders set", channel=channel, timezone="Europe/London", warmup="07:00", cooldown="19:00"
    )
    await other_coach.run(
        "reminders set",
        channel=other_team.guild.channels["general"],
        timezone="Europe/London",
        warmup="07:00",
        cooldown="19:00",
    )
    assert running.bot is not None
    assert running.bot.scheduler.job_count() == 4  # warmup, cooldown, refresh, pruning
    await other_coach.run("reminders set", warmup="06:30")
    assert running.bot.scheduler.job_count() == 5


async def test_new_york_spring_forward_day_keeps_seven_local(
    coach: Actor, channel: Channel, emulator: DiscordEmulator, clock: time_machine.Traveller
) -> None:
    # 2026-03-08 is the day New York springs forward: 07:00 EDT is 11:00 UTC (it was 12:00 the day before).
    clock.move_to(datetime(2026, 3, 8, 10, 59, 57, tzinfo=UTC))
    await coach.run("reminders set", channel=channel, timezone="America/New_York", warmup="07:00")
    message = await emulator.wait_for_message(channel.id, timeout=10)
    assert "warmup" in message.content.lower()


@pytest.mark.skipif(not POSTGRES_URL, reason="BACKRUN_TEST_POSTGRES_URL is not set")
async def test_two_bot_copies_on_one_postgres_database_deliver_once(tmp_path: Path) -> None:
    with time_machine.travel(JUST_BEFORE_SEVEN - timedelta(seconds=2), tick=True):
        url = await empty_database("postgresql", tmp_path)
        async with open_sandbox(url, start_bot=False, log_level="WARNING") as box:
            guild = box.emulator.add_guild("Team A")
            guild.add_member("coach", permissions=MANAGE_GUILD)
            reminders = guild.add_channel("training")
            await box.start_bot()
            # A second copy: same token, same database; login runs its setup_hook (migrations,
            # scheduler), which is all a reminder needs.
            second = BackrunBot(box.settings)
            await second.login(box.emulator.token)
            try:
                await box.actor(guild, "coach").run("reminders set", channel=reminders, warmup="07:00")
                await second.scheduler.refresh()  # what its periodic refresh job does within 5 min
                assert second.scheduler.job_count() == 4
                await box.emulator.wait_for_message(reminders.id, timeout=10)
                await asyncio.sleep(2)
                assert len(box.emulator.messages(reminders.id)) == 1
                assert [d.status for d in await deliveries(box)] == ["sent"]
            finally:
                await second.close()
            assert box.emulator.violations == []
