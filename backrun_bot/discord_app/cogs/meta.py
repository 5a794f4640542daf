"""/help, listed from the command tree itself so that it cannot fall behind the commands."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from backrun_bot.discord_app.bot import BackrunBot
from backrun_bot.discord_app.embeds import help_embed

AnyCommand = app_commands.Command[Any, ..., Any] | app_commands.Group | app_commands.ContextMenu


def command_usages(tree_commands: Iterable[AnyCommand]) -> list[tuple[str, str]]:
    """``("/log kind amount [note] [date]", description)`` for every command and subcommand."""
    usages: list[tuple[str, str]] = []
    for cmd in tree_commands:
        if isinstance(cmd, app_commands.Group):
            usages.extend(command_usages(cmd.commands))
            continue
        if isinstance(cmd, app_commands.ContextMenu):
            continue  # none yet; they live in a member's right-click menu, not in /help
        options = " ".join(p.name if p.required else f"[{p.name}]" for p in cmd.parameters)
        usages.append((f"/{cmd.qualified_name} {options}".strip(), cmd.description))
    return usages


class MetaCog(commands.Cog):
    def __init__(self, bot: BackrunBot) -> None:
        self.bot = bot

    @app_commands.command(name="help", description="What Backrun does and its commands")
    async def help(self, interaction: discord.Interaction[BackrunBot]) -> None:
        usages = command_usages(self.bot.tree.get_commands())
        await interaction.response.send_message(embed=help_embed(usages), ephemeral=True)


async def setup(bot: BackrunBot) -> None:
    await bot.add_cog(MetaCog(bot))
