"""The emulator with a tiny discord.py bot (not Backrun): one of each thing a bot does.

Each test gets a fresh emulator with a guild ("Team A": alice, bob; #general, #reminders, a
#closed channel the bot may not post in) and, through ``bot``, a started :class:`TinyBot`.
``discord.http.Route.BASE`` is restored afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands

from backrun_bot.sandbox.emulator import Channel, DiscordEmulator, Guild

MANAGE_GUILD = 1 << 5
# A 3 x 2 red PNG (as Pillow writes it), what /picture uploads.
PNG_BYTES = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000030000000208060000009d74661a0000001349444154789c63fccfc0f09f01"
    "0a98189000002f1f0202a1b04b7b0000000049454e44ae426082"
)
# The bot's own deadline for these tests: short, so the "too slow" test stays quick, but with room
# for a callback on a busy machine (at 0.6 s a /picture answered in 0.66 s beside five other test
# workers on 2 cores). The too-slow command sleeps past it whatever it is.
DEADLINE = 1.5


@dataclass
class Seen:
    """What the tiny bot observed, for assertions."""

    second_callback_status: int | None = None
    errors: list[str] = field(default_factory=list)
    ready_count: int = 0


class UndoView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Undo", custom_id="tiny:undo", style=discord.ButtonStyle.danger)
    async def undo(self, interaction: discord.Interaction, button: discord.ui.Button[UndoView]) -> None:
        await interaction.response.edit_message(content=f"undone by {interaction.user.name}", view=None)

    @discord.ui.button(label="Later", custom_id="tiny:later")
    async def later(self, interaction: discord.Interaction, button: discord.ui.Button[UndoView]) -> None:
        await interaction.response.defer()
        await interaction.edit_original_response(content="later it is", view=None)


class TinyBot(commands.AutoShardedBot):
    def __init__(self, seen: Seen) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            help_command=None,
            allowed_mentions=discord.AllowedMentions.none(),
            guild_ready_timeout=0.05,
        )
        self.seen = seen

    async def setup_hook(self) -> None:
        self.add_view(UndoView())
        tree = self.tree
        seen = self.seen

        @tree.command(description="Say something back")
        @app_commands.describe(text="What to say", hidden="Only you see it")
        async def echo(
            interaction: discord.Interaction, text: app_commands.Range[str, 1, 100], hidden: bool = False
        ) -> None:
            await interaction.response.send_message(text, ephemeral=hidden)

        @tree.command(description="Think, then answer")
        async def slow(interaction: discord.Interaction, followup: bool = False) -> None:
            await interaction.response.defer(ephemeral=True, thinking=True)
            await asyncio.sleep(0.1)
            if followup:
                await interaction.followup.send("thought (follow-up)")
            else:
                await interaction.edit_original_response(content="thought about it")

        @tree.command(description="Too slow")
        async def sleepy(interaction: discord.Interaction) -> None:
            await asyncio.sleep(DEADLINE + 0.3)
            with contextlib.suppress(discord.NotFound):
                await interaction.response.send_message("too late")

        @tree.command(description="Answers twice")
        async def twice(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("once")
            url = f"{discord.http.Route.BASE}/interactions/{interaction.id}/{interaction.token}/callback"
            async with (
                aiohttp.ClientSession() as session,
                session.post(url, json={"type": 4, "data": {"content": "twice"}}) as response,
            ):
                seen.second_callback_status = response.status

        @tree.command(description="Buttons")
        async def buttons(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("Logged 400 m", view=UndoView())

        @tree.command(description="Ping someone")
        async def ping(interaction: discord.Interaction, who: discord.Member, note: str = "") -> None:
            await interaction.response.send_message(
                f"{who.mention} @everyone <@&{interaction.guild_id}> {note}",
                allowed_mentions=discord.AllowedMentions(users=[who]),
            )

        @tree.command(description="Post in a channel")
        async def post(interaction: discord.Interaction, channel: discord.TextChannel, text: str) -> None:
            await interaction.response.defer(ephemeral=True)
            try:
                message = await channel.send(text)
            except discord.HTTPException as error:
                await interaction.edit_original_response(content=f"refused {error.status} {error.code}")
            else:
                await interaction.edit_original_response(content=f"posted {message.id}")

        @tree.command(description="Send a picture")
        async def picture(
            interaction: discord.Interaction, deferred: bool = False, named: str = "chart.png", files: int = 1
        ) -> None:
            """A PNG (``PNG_BYTES``) named ``named`` shown in an embed as ``attachment://chart.png``,
            as the callback or, ``deferred``, as the follow-up after an ephemeral deferral; ``files``
            more text files besides, to go over Discord's limit."""
            embed = discord.Embed(title="Chart").set_image(url="attachment://chart.png")
            uploads = [discord.File(io.BytesIO(PNG_BYTES), filename=named)]
            uploads += [discord.File(io.BytesIO(b"x"), filename=f"extra{n}.txt") for n in range(files - 1)]
            if deferred:
                await interaction.response.defer(ephemeral=True)
                await interaction.followup.send(embed=embed, files=uploads, ephemeral=True)
            else:
                await interaction.response.send_message(embed=embed, files=uploads, ephemeral=True)

        @tree.command(description="Manage things")
        @app_commands.default_permissions(manage_guild=True)
        async def admin(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("admin ok", ephemeral=True)

        group = app_commands.Group(name="fruit", description="Fruit")

        @group.command(name="pick", description="Pick a fruit")
        @app_commands.choices(
            size=[app_commands.Choice(name="Small", value=1), app_commands.Choice(name="Big", value=2)]
        )
        async def pick(
            interaction: discord.Interaction,
            name: str,
            size: int = 1,
            count: app_commands.Range[int, 1, 5] = 1,
        ) -> None:
            await interaction.response.send_message(f"{count}x {name} size {size}", ephemeral=True)

        @pick.autocomplete("name")
        async def pick_name(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
            fruit = ["apple", "apricot", "banana", "cherry"]
            return [app_commands.Choice(name=f, value=f) for f in fruit if f.startswith(current)]

        tree.add_command(group)

        @tree.error
        async def on_error(interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
            seen.errors.append(repr(error))

        await tree.sync()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """discord.py sleeps 5 s before every non-initial IDENTIFY (Discord's identify rate
        limit); the emulator has no such limit and the tests have no 5 s to spare."""

    async def on_ready(self) -> None:
        self.seen.ready_count += 1


@dataclass
class Team:
    guild: Guild
    general: Channel
    reminders: Channel
    closed: Channel


@pytest.fixture
async def emulator() -> AsyncIterator[DiscordEmulator]:
    base = discord.http.Route.BASE
    emu = DiscordEmulator(interaction_deadline=DEADLINE, followup_timeout=3)
    await emu.start()
    discord.http.Route.BASE = emu.api_url
    try:
        yield emu
    finally:
        await emu.stop()
        discord.http.Route.BASE = base


@pytest.fixture
def team(emulator: DiscordEmulator) -> Team:
    guild = emulator.add_guild("Team A")
    guild.add_member("alice")
    guild.add_member("bob")
    guild.add_member("coach", permissions=MANAGE_GUILD)
    return Team(
        guild,
        guild.channels["general"],
        guild.add_channel("reminders"),
        guild.add_channel("closed", bot_can_send=False),
    )


@contextlib.asynccontextmanager
async def running_bot(emulator: DiscordEmulator, seen: Seen) -> AsyncIterator[TinyBot]:
    bot = TinyBot(seen)
    task = asyncio.create_task(bot.start(emulator.token))
    try:
        ready = asyncio.create_task(emulator.wait_until_ready(timeout=10))
        done, _ = await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            ready.cancel()
            task.result()
        await ready
        await asyncio.wait_for(bot.wait_until_ready(), 5)
        yield bot
    finally:
        await bot.close()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture
def seen() -> Seen:
    return Seen()


@pytest.fixture
async def bot(emulator: DiscordEmulator, team: Team, seen: Seen) -> AsyncIterator[TinyBot]:
    async with running_bot(emulator, seen) as tiny:
        yield tiny


async def api(emulator: DiscordEmulator, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """A raw request with the bot's token (what a bot that skipped discord.py would send): the
    status and the JSON body (None for 204 No Content)."""
    headers = {"Authorization": f"Bot {emulator.token}"}
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, emulator.api_url + path, json=body, headers=headers) as response,
    ):
        return response.status, None if response.status == 204 else await response.json()


async def eventually(condition: Callable[[], object], timeout: float = 5) -> None:
    """Wait until ``condition()`` is truthy (a count reached, a list no longer empty)."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)
