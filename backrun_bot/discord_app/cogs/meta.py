"""/help."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from backrun_bot.discord_app.bot import BackrunBot
from backrun_bot.discord_app.embeds import help_embed


class MetaCog(commands.Cog):
    @app_commands.command(name="help", description="What Backrun does and its commands")
    async def help(self, interaction: discord.Interaction[BackrunBot]) -> None:
        await interaction.response.send_message(embed=help_embed(), ephemeral=True)


async def setup(bot: BackrunBot) -> None:
    await bot.add_cog(MetaCog())
