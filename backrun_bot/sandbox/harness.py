"""The emulator and the real bot, started together in one process: used by the console and the tests.

The bot is the unmodified :class:`BackrunBot`; the only thing that differs from production is the
``DISCORD_API_URL`` (and token) it is given, which points it at the emulator on loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import discord
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from backrun_bot.config import Settings
from backrun_bot.discord_app.bot import BackrunBot
from backrun_bot.sandbox.driver import Actor, actor
from backrun_bot.sandbox.emulator import Channel, DiscordEmulator, Guild
from backrun_bot.services.common import Clock, utc_now


class _SandboxSettings(Settings):
    """:class:`Settings` made from what the harness passes and the defaults, never from the
    environment or a ``.env``: a shell that exports a deployment's ``SHARD_IDS``, ``HEALTH_PORT``,
    ``REMINDER_GRACE_MINUTES`` or ``DATABASE_STATEMENT_TIMEOUT`` (say) must not change the sandbox's
    bot. A test wanting one of them sets it on ``Sandbox.settings`` (``model_copy(update=...)``)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


SANDBOX_GUILD_READY_TIMEOUT = 0.1


@dataclass
class Team:
    """A guild in the emulator with its #general channel and members by name."""

    guild: Guild
    channel: Channel
    actors: dict[str, Actor] = field(default_factory=dict)


@dataclass
class Sandbox:
    emulator: DiscordEmulator
    settings: Settings
    clock: Clock
    # What start_bot starts: BackrunBot, or a subclass of it (a benchmark's, with a command of its own).
    bot_class: type[BackrunBot] = BackrunBot
    bot: BackrunBot | None = None
    _task: asyncio.Task[None] | None = None

    async def start_bot(self, *, ready_within: float = 15) -> BackrunBot:
        """Start a (new) bot process-in-a-task against the emulator and wait until it is ready."""
        # The emulator sends every GUILD_CREATE right after READY, on loopback: 0.1 s without one
        # is the end of them (a real gateway gets 0.5 s), and each of the suite's bot starts is
        # 0.4 s quicker.
        bot = self.bot_class(self.settings, clock=self.clock, guild_ready_timeout=SANDBOX_GUILD_READY_TIMEOUT)
        token = self.emulator.token
        task = asyncio.create_task(bot.start(token), name="backrun-bot")
        ready = asyncio.create_task(self.emulator.wait_until_ready(timeout=ready_within))
        done, _ = await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            ready.cancel()
            await bot.close()  # release its HTTP session whatever stopped it
            task.result()  # raises what stopped the bot
            raise RuntimeError("the bot stopped before it was ready")
        ready.result()
        await bot.wait_until_ready()
        self.bot, self._task = bot, task
        return bot

    async def stop_bot(self) -> None:
        if self.bot is not None:
            await self.bot.close()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.bot, self._task = None, None

    def actor(self, guild: Guild, name: str) -> Actor:
        """The driver for member ``name`` of ``guild`` (added with default permissions if absent)."""
        return actor(self.emulator, guild, name)


@contextlib.asynccontextmanager
async def open_sandbox(
    database_url: str,
    *,
    clock: Clock = utc_now,
    start_bot: bool = True,
    log_level: str = "INFO",
    stable_ids: bool = False,
    bot_class: type[BackrunBot] = BackrunBot,
) -> AsyncIterator[Sandbox]:
    """Start an emulator (and, by default, the bot against it); stop both on exit.

    ``stable_ids``: the emulator's servers, channels, roles and members get the same ids in every
    run (the console's world, kept in a database between runs); tests keep random ids.
    ``bot_class``: a subclass of :class:`BackrunBot` to start instead (the benchmarks' bot with an
    ``echo`` command); the production bot has no such hook of its own.
    """
    emulator = DiscordEmulator(stable_ids=stable_ids)
    await emulator.start()
    base = discord.http.Route.BASE
    settings: Settings = _SandboxSettings(
        discord_token=emulator.token,
        discord_api_url=emulator.api_url,
        database_url=database_url,
        log_level=log_level,
    )
    box = Sandbox(emulator=emulator, settings=settings, clock=clock, bot_class=bot_class)
    try:
        if start_bot:
            await box.start_bot()
        yield box
    finally:
        await box.stop_bot()
        await emulator.stop()
        discord.http.Route.BASE = base
