"""The bot joining and leaving servers, through the emulator: the welcome (once per server, ever,
where the bot may post, paced, pinging nobody) and the retention of a removed server's data
(RETENTION_DAYS, a controlled clock)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from backrun_bot.discord_app.cogs.guilds import WELCOME
from backrun_bot.domain.shards import ShardSet
from backrun_bot.sandbox.driver import Actor
from backrun_bot.sandbox.emulator import DiscordEmulator, Guild
from backrun_bot.sandbox.emulator import permissions as P
from backrun_bot.sandbox.harness import Sandbox
from backrun_bot.services.retention import RetentionService
from backrun_bot.storage.models import GuildWelcome, Team
from tests.discord_app.conftest import START, TeamFixture
from tests.discord_app.test_corrections import logged
from tests.rows import nothing_left, rows_of

SETTLE = 0.3  # seconds for the bot to act on a gateway event it need not answer


def pacer_waits(sandbox: Sandbox) -> float:
    assert sandbox.bot is not None
    for metric in sandbox.bot.metrics.pacer_wait.collect():
        for sample in metric.samples:
            if sample.name == "backrun_pacer_wait_seconds_count":
                return sample.value
    return 0.0


def bot_messages(emulator: DiscordEmulator, guild: Guild) -> list[str]:
    return [
        m.content
        for channel in guild.channels.values()
        for m in emulator.messages(channel.id)
        if m.author.id == emulator.bot_user_id
    ]


async def removed_at(sandbox: Sandbox, guild: Guild) -> datetime | None:
    assert sandbox.bot is not None
    async with sandbox.bot.sessionmaker() as s:
        return await s.scalar(select(Team.removed_at).where(Team.id == guild.id))


async def welcomed(sandbox: Sandbox, guild: Guild) -> bool:
    assert sandbox.bot is not None
    async with sandbox.bot.sessionmaker() as s:
        return await s.get(GuildWelcome, guild.id) is not None


# -- the welcome ----------------------------------------------------------------------------------------
async def test_a_server_that_adds_the_bot_is_welcomed_once_ever_in_its_system_channel(
    running: Sandbox, emulator: DiscordEmulator
) -> None:
    waits = pacer_waits(running)
    guild = emulator.add_guild("Team New")
    message = await emulator.wait_for_message(guild.channels["general"].id, timeout=5)
    assert message.content == WELCOME
    assert "/reminders set channel:" in message.content
    assert message.allowed_mentions == {"parse": []}
    assert (message.mentions, message.mention_roles, message.mention_everyone) == ([], [], False)
    assert pacer_waits(running) == waits + 1  # a proactive post: it waited its turn in the pacer
    assert await welcomed(running, guild)

    # Removed and added back, the bot restarted: never a second welcome.
    emulator.remove_bot(guild)
    await asyncio.sleep(SETTLE)
    emulator.add_bot(guild)
    await asyncio.sleep(SETTLE)
    await running.stop_bot()
    await running.start_bot()
    await asyncio.sleep(SETTLE)
    emulator.remove_bot(guild)
    emulator.add_bot(guild)
    await asyncio.sleep(SETTLE)
    assert bot_messages(emulator, guild) == [WELCOME]


async def test_servers_the_bot_was_in_before_it_started_are_not_welcomed(
    running: Sandbox, team: TeamFixture, other_team: TeamFixture
) -> None:
    await asyncio.sleep(SETTLE)
    for guild in (team.guild, other_team.guild):
        assert bot_messages(running.emulator, guild) == []
        assert not await welcomed(running, guild)


async def test_without_a_usable_system_channel_the_first_channel_it_may_post_in_by_position(
    running: Sandbox, emulator: DiscordEmulator
) -> None:
    guild = emulator.add_guild("Team Quiet", with_bot=False)
    emulator.deny_bot(guild.channels["general"])  # the system channel, where it may not post
    guild.add_channel("rules", position=1, bot_can_send=False)
    hidden = guild.add_channel("staff", position=2)
    emulator.deny_bot(hidden, P.VIEW_CHANNEL)
    guild.add_channel("zz-last", position=9)
    chat = guild.add_channel("chat", position=4)
    emulator.add_bot(guild)
    message = await emulator.wait_for_message(chat.id, timeout=5)
    assert message.content == WELCOME
    assert bot_messages(emulator, guild) == [WELCOME]

    # A server with no system channel at all: the same rule.
    bare = emulator.add_guild("Team Bare", with_bot=False)
    bare.set_system_channel(None)
    bare.channels["general"].position = 3
    first = bare.add_channel("lobby", position=1)
    emulator.add_bot(bare)
    assert (await emulator.wait_for_message(first.id, timeout=5)).content == WELCOME


async def test_a_server_where_it_may_post_nowhere_gets_no_welcome_until_it_may(
    running: Sandbox, emulator: DiscordEmulator
) -> None:
    guild = emulator.add_guild("Team Locked", with_bot=False)
    general = guild.channels["general"]
    emulator.deny_bot(general)
    emulator.add_bot(guild)
    await asyncio.sleep(SETTLE)
    assert bot_messages(emulator, guild) == []
    assert not await welcomed(running, guild)  # nothing was sent, so nothing is remembered
    # The admin fixes the permission and adds the bot again: now it is welcomed.
    emulator.remove_bot(guild)
    general.overwrites.clear()
    emulator.add_bot(guild)
    assert (await emulator.wait_for_message(general.id, timeout=5)).content == WELCOME


async def test_a_welcome_discord_refuses_is_not_remembered(
    running: Sandbox, emulator: DiscordEmulator
) -> None:
    guild = emulator.add_guild("Team Moderated", with_bot=False)
    # The bot's cache says it may post; Discord answers 403 all the same (AutoMod, say).
    emulator.faults.client_error(
        "POST", f"/channels/{guild.channels['general'].id}/messages", status=403, code=50013
    )
    emulator.add_bot(guild)
    await asyncio.sleep(SETTLE)
    assert bot_messages(emulator, guild) == []
    assert not await welcomed(running, guild)


# -- retention --------------------------------------------------------------------------------------------
async def test_a_removed_servers_data_is_kept_and_intact_when_it_adds_the_bot_back(
    running: Sandbox, team: TeamFixture, alice: Actor, clock: time_machine.Traveller
) -> None:
    entry = await logged(alice, "400m")
    emulator = running.emulator
    emulator.remove_bot(team.guild)
    await asyncio.sleep(SETTLE)
    stamped = await removed_at(running, team.guild)
    assert stamped is not None and abs(stamped - START) < timedelta(minutes=1)

    clock.move_to(START + timedelta(days=29, hours=23))
    assert running.bot is not None
    assert await running.bot.retention.purge() == 0
    emulator.add_bot(team.guild)
    await asyncio.sleep(SETTLE)
    assert await removed_at(running, team.guild) is None
    assert f"`#{entry}`" in (await alice.run("history")).text()
    clock.move_to(START + timedelta(days=60))
    assert await running.bot.retention.purge() == 0  # it came back: kept for good
    assert f"`#{entry}`" in (await alice.run("history")).text()


async def test_a_server_removed_past_the_retention_is_deleted_to_the_last_row(
    running: Sandbox,
    team: TeamFixture,
    other_team: TeamFixture,
    alice: Actor,
    bob: Actor,
    alice_elsewhere: Actor,
    clock: time_machine.Traveller,
) -> None:
    for member in (alice, bob):
        await logged(member, "400m")
        await logged(member, "1 km", date="yesterday")
    owner = running.actor(team.guild, "owner")
    await owner.run("reminders set", channel=team.guild.channels["general"], timezone="Europe/London")
    await logged(alice_elsewhere, "2 km")
    kept = await rows_of(running, team_id=other_team.guild.id)
    assert not nothing_left(await rows_of(running, team_id=team.guild.id))

    running.emulator.remove_bot(team.guild)
    await asyncio.sleep(SETTLE)
    assert running.bot is not None
    clock.move_to(START + timedelta(days=30) - timedelta(minutes=1))
    assert await running.bot.retention.purge() == 0
    clock.move_to(START + timedelta(days=30, minutes=1))
    assert await running.bot.retention.purge() == 1
    assert nothing_left(await rows_of(running, team_id=team.guild.id))
    assert await rows_of(running, team_id=other_team.guild.id) == kept
    # Its welcome record is not data of anyone's: kept, so a return is not welcomed again.
    running.emulator.add_bot(team.guild)
    await asyncio.sleep(SETTLE)
    assert "No entries yet" in (await alice.run("history")).text()


async def test_retention_days_is_the_setting(
    sandbox: Sandbox, team: TeamFixture, clock: time_machine.Traveller
) -> None:
    sandbox.settings = sandbox.settings.model_copy(update={"retention_days": 3})
    bot = await sandbox.start_bot()
    await logged(sandbox.actor(team.guild, "alice"), "400m")
    sandbox.emulator.remove_bot(team.guild)
    await asyncio.sleep(SETTLE)
    clock.move_to(START + timedelta(days=3, minutes=1))
    assert await bot.retention.purge() == 1


async def test_an_outage_is_not_a_removal(
    running: Sandbox, team: TeamFixture, alice: Actor, clock: time_machine.Traveller
) -> None:
    await logged(alice, "400m")
    running.emulator.guild_outage(team.guild)
    await asyncio.sleep(SETTLE)
    assert await removed_at(running, team.guild) is None
    running.emulator.guild_outage_over(team.guild)
    await asyncio.sleep(SETTLE)
    clock.move_to(START + timedelta(days=90))
    assert running.bot is not None
    assert await running.bot.retention.purge() == 0
    assert "400 m" in (await alice.run("history")).text()


async def test_a_server_that_added_the_bot_back_while_it_was_offline_is_not_deleted(
    running: Sandbox, team: TeamFixture, alice: Actor, clock: time_machine.Traveller
) -> None:
    await logged(alice, "400m")
    running.emulator.remove_bot(team.guild)
    await asyncio.sleep(SETTLE)
    await running.stop_bot()
    running.emulator.add_bot(team.guild)  # while the bot is down: no join reaches it
    bot = await running.start_bot()
    await asyncio.sleep(SETTLE)
    assert await removed_at(running, team.guild) is None  # READY listed it
    clock.move_to(START + timedelta(days=31))
    assert await bot.retention.purge() == 0


@pytest.mark.parametrize("shard_ids", [(0,), (1,)])
async def test_a_process_purges_only_the_servers_of_its_shards(
    sandbox: Sandbox, clock: time_machine.Traveller, shard_ids: tuple[int, ...]
) -> None:
    guilds = [sandbox.emulator.add_guild(f"Team {s}", shard=(s, 2)) for s in (0, 1)]
    bot = await sandbox.start_bot()
    for guild in guilds:
        await logged(sandbox.actor(guild, "alice"), "400m")
        sandbox.emulator.remove_bot(guild)
    await asyncio.sleep(SETTLE)
    clock.move_to(START + timedelta(days=31))
    service = RetentionService(bot.sessionmaker, shards=ShardSet.of(2, shard_ids))
    assert await service.purge() == 1
    for shard, guild in enumerate(guilds):
        gone = nothing_left(await rows_of(sandbox, team_id=guild.id))
        assert gone == (shard in shard_ids)


async def test_the_running_bots_daily_job_deletes_it(
    running: Sandbox, team: TeamFixture, alice: Actor, clock: time_machine.Traveller
) -> None:
    await logged(alice, "400m")
    running.emulator.remove_bot(team.guild)
    await asyncio.sleep(SETTLE)
    assert running.bot is not None
    # Past the retention and past 03:17 UTC: the scheduler, woken, runs the missed daily job once.
    clock.move_to(START + timedelta(days=31))
    running.bot.scheduler._scheduler.wakeup()
    async with asyncio.timeout(10):
        while not nothing_left(await rows_of(running, team_id=team.guild.id)):
            await asyncio.sleep(0.1)
