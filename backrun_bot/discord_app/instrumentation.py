"""Every slash command counted once, in one place: not per command, not per cog.

discord.py ends each application command in exactly one of two ways: ``app_command_completion`` is
dispatched when the callback returned (the answer was sent), or the tree's error handler runs
(:func:`backrun_bot.discord_app.errors.on_app_command_error`, which replies). A listener on the first
and a wrapper around the second see them all; the wrapper asks the same :func:`reply_text` whether
the error was the user's (refused) or ours (error).

Latency is measured from the interaction's creation (its snowflake: when the member sent the
command, on Discord's clock) to the moment the answer was sent, which is what the member waits and
what Discord's 3-second deadline counts, gateway delivery included.
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from backrun_bot.discord_app.errors import reply_text
from backrun_bot.observability.metrics import Metrics

# Label of an interaction no command matched (a stale command Discord still shows, say).
UNKNOWN = "unknown"


def _name(interaction: discord.Interaction[Any]) -> str:
    return interaction.command.qualified_name if interaction.command is not None else UNKNOWN


def _seconds(interaction: discord.Interaction[Any]) -> float:
    return (discord.utils.utcnow() - interaction.created_at).total_seconds()


def instrument_commands(bot: commands.Bot | commands.AutoShardedBot, metrics: Metrics) -> None:
    """Count ``bot``'s slash commands by outcome and time them. Call once the tree's error handler
    is installed (it is wrapped) and the commands are loaded (their series start at 0)."""
    metrics.prime_commands(
        c.qualified_name for c in bot.tree.walk_commands() if isinstance(c, app_commands.Command)
    )
    handle_error = bot.tree.on_error

    async def on_app_command_completion(
        interaction: discord.Interaction[Any],
        _command: app_commands.Command[Any, ..., Any] | app_commands.ContextMenu,
    ) -> None:
        metrics.command_handled(_name(interaction), "ok", _seconds(interaction))

    async def on_error(interaction: discord.Interaction[Any], error: app_commands.AppCommandError) -> None:
        try:
            await handle_error(interaction, error)
        finally:
            _, expected = reply_text(error)
            metrics.command_handled(
                _name(interaction), "refused" if expected else "error", _seconds(interaction)
            )

    bot.add_listener(on_app_command_completion)
    bot.tree.error(on_error)
