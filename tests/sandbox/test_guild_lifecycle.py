"""A server's life as the bot sees it through the emulator: joined after the bot started, removed,
added back, unavailable for an outage; its system channel; files the bot uploads.

Discord's rules these follow (gateway events, discord/discord-api-docs ``docs/events``): GUILD_CREATE
is sent for the guilds of READY, for a guild available again after an outage (both with
``unavailable: false``) and when the bot joins a guild (without ``unavailable``, which is how
discord.py tells ``on_guild_join`` from ``on_guild_available``); GUILD_DELETE with
``unavailable: true`` is an outage, and without the field the bot was removed.
"""

from __future__ import annotations

import asyncio
import io
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Any

import aiohttp
import discord
import pytest

from backrun_bot.sandbox.driver import actor
from backrun_bot.sandbox.emulator import DiscordEmulator
from backrun_bot.sandbox.emulator.interactions import ATTACHMENT_SIZE_LIMIT
from tests.sandbox.conftest import Seen, Team, TinyBot, api, eventually, running_bot


class Events:
    """The guild events discord.py dispatched to the bot, by name, with the guild ids."""

    def __init__(self, bot: TinyBot) -> None:
        self.seen: list[tuple[str, int]] = []
        for name in ("on_guild_join", "on_guild_remove", "on_guild_available", "on_guild_unavailable"):
            bot.add_listener(self._recorder(name), name)

    def _recorder(self, name: str) -> Callable[[discord.Guild], Coroutine[Any, Any, None]]:
        async def record(guild: discord.Guild) -> None:
            self.seen.append((name, guild.id))

        return record

    def count(self) -> Counter[str]:
        return Counter(name for name, _ in self.seen)


async def test_a_guild_added_while_the_bot_runs_is_a_join_and_its_system_channel_is_named(
    emulator: DiscordEmulator, bot: TinyBot
) -> None:
    events = Events(bot)
    guild = emulator.add_guild("Team New")
    await eventually(lambda: ("on_guild_join", guild.id) in events.seen)
    assert events.count()["on_guild_available"] == 0
    cached = bot.get_guild(guild.id)
    assert cached is not None and cached.system_channel is not None
    assert cached.system_channel.id == guild.channels["general"].id

    # A server without a system channel (an admin turned it off), told with GUILD_UPDATE.
    guild.set_system_channel(None)
    await eventually(lambda: bot.get_guild(guild.id).system_channel is None)  # type: ignore[union-attr]
    lobby = guild.add_channel("lobby")
    guild.set_system_channel(lobby)
    await eventually(lambda: getattr(bot.get_guild(guild.id).system_channel, "id", None) == lobby.id)  # type: ignore[union-attr]
    assert emulator.violations == []


async def test_the_guilds_of_ready_are_available_not_joined_at_every_start(
    emulator: DiscordEmulator, team: Team
) -> None:
    for _ in range(2):
        async with running_bot(emulator, Seen()) as tiny:
            events = Events(tiny)
            await asyncio.sleep(0.1)
            assert tiny.get_guild(team.guild.id) is not None
            assert events.count()["on_guild_join"] == 0


async def test_a_removed_bot_hears_nothing_more_of_the_guild_until_it_is_added_back(
    emulator: DiscordEmulator, team: Team, bot: TinyBot
) -> None:
    events = Events(bot)
    alice = actor(emulator, team.guild, "alice")
    emulator.remove_bot(team.guild)
    await eventually(lambda: ("on_guild_remove", team.guild.id) in events.seen)
    assert bot.get_guild(team.guild.id) is None
    # The bot's REST calls for the guild and its channels are refused; its commands are gone there.
    status, body = await api(emulator, "POST", f"/channels/{team.general.id}/messages", {"content": "x"})
    assert (status, body["code"]) == (403, 50001)
    assert (await api(emulator, "GET", f"/guilds/{team.guild.id}"))[0] == 403
    with pytest.raises(ValueError, match="not in Team A"):
        await alice.run("echo", text="hi")
    # Changes to it are not told to the bot while it is out.
    team.guild.add_channel("unseen")
    with pytest.raises(ValueError, match="not in"):
        emulator.remove_bot(team.guild)

    emulator.add_bot(team.guild)
    await eventually(lambda: ("on_guild_join", team.guild.id) in events.seen)
    cached = bot.get_guild(team.guild.id)
    assert cached is not None and {c.name for c in cached.text_channels} >= {"general", "unseen"}
    assert (await alice.run("echo", text="back")).content == "back"
    assert events.count() == Counter({"on_guild_remove": 1, "on_guild_join": 1})
    assert emulator.violations == []


async def test_a_guild_removed_while_the_bot_was_away_is_not_in_the_next_ready(
    emulator: DiscordEmulator, team: Team
) -> None:
    other = emulator.add_guild("Team B")
    emulator.remove_bot(team.guild)
    async with running_bot(emulator, Seen()) as tiny:
        assert tiny.get_guild(team.guild.id) is None
        assert tiny.get_guild(other.id) is not None


async def test_an_outage_is_unavailable_then_available_never_a_removal(
    emulator: DiscordEmulator, team: Team, bot: TinyBot
) -> None:
    events = Events(bot)
    emulator.guild_outage(team.guild)
    await eventually(lambda: ("on_guild_unavailable", team.guild.id) in events.seen)
    cached = bot.get_guild(team.guild.id)
    assert cached is not None and cached.unavailable
    emulator.guild_outage_over(team.guild)
    await eventually(lambda: ("on_guild_available", team.guild.id) in events.seen)
    assert events.count() == Counter({"on_guild_unavailable": 1, "on_guild_available": 1})
    assert not bot.get_guild(team.guild.id).unavailable  # type: ignore[union-attr]


async def test_a_session_that_connects_during_an_outage_gets_the_guild_as_unavailable(
    emulator: DiscordEmulator, team: Team
) -> None:
    emulator.guild_outage(team.guild)
    async with running_bot(emulator, Seen()) as tiny:
        cached = tiny.get_guild(team.guild.id)
        assert cached is not None and cached.unavailable
        events = Events(tiny)
        emulator.guild_outage_over(team.guild)
        await eventually(lambda: ("on_guild_available", team.guild.id) in events.seen)


async def test_a_member_who_leaves_can_no_longer_use_commands(
    emulator: DiscordEmulator, team: Team, bot: TinyBot
) -> None:
    bob = actor(emulator, team.guild, "bob")
    team.guild.remove_member("bob")
    assert team.guild.member_named("bob") is None
    with pytest.raises(ValueError, match="not a member"):
        await bob.run("echo", text="hi")
    with pytest.raises(ValueError, match="owner"):
        team.guild.remove_member("owner")


async def test_uploaded_files_are_kept_byte_for_byte_and_served_at_their_url(
    emulator: DiscordEmulator, team: Team, bot: TinyBot
) -> None:
    channel = bot.get_channel(team.reminders.id)
    assert isinstance(channel, discord.TextChannel)
    data = bytes(range(256)) * 40
    sent = await channel.send("file", file=discord.File(io.BytesIO(data), filename="blob.bin"))
    stored = emulator.messages(team.reminders.id)[-1]
    assert emulator.attachment(stored.attachments[0]) == data
    async with aiohttp.ClientSession() as session, session.get(sent.attachments[0].url) as response:
        assert response.status == 200 and await response.read() == data
    assert await sent.attachments[0].read() == data


async def test_files_over_the_upload_limit_are_refused_as_discord_refuses_them(
    emulator: DiscordEmulator, team: Team, bot: TinyBot
) -> None:
    channel = bot.get_channel(team.reminders.id)
    assert isinstance(channel, discord.TextChannel)
    exactly = b"x" * ATTACHMENT_SIZE_LIMIT
    await channel.send(file=discord.File(io.BytesIO(exactly), filename="limit.bin"))
    assert emulator.violations == []
    with pytest.raises(discord.HTTPException) as refused:
        await channel.send(file=discord.File(io.BytesIO(exactly + b"x"), filename="over.bin"))
    assert (refused.value.status, refused.value.code) == (413, 40005)
    assert len(emulator.violations) == 1 and "upload limit" in emulator.violations[0]
    assert len(emulator.messages(team.reminders.id)) == 1


async def test_a_server_built_without_the_bot_is_joined_when_the_bot_is_added(
    emulator: DiscordEmulator, bot: TinyBot
) -> None:
    events = Events(bot)
    guild = emulator.add_guild("Team Later", with_bot=False)
    guild.add_channel("zeta", position=5)
    guild.add_channel("alpha", position=3)
    await asyncio.sleep(0.05)
    assert bot.get_guild(guild.id) is None and events.seen == []
    emulator.add_bot(guild)
    await eventually(lambda: ("on_guild_join", guild.id) in events.seen)
    cached = bot.get_guild(guild.id)
    assert cached is not None and [c.name for c in cached.text_channels] == ["general", "alpha", "zeta"]
