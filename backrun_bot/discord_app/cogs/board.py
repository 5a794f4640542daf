"""/leaderboard: the team ranked by distance, in public (it is the team's board)."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from backrun_bot.discord_app.bot import BackrunBot
from backrun_bot.discord_app.deadline import PUBLIC_REPLY
from backrun_bot.discord_app.team_embeds import leaderboard_embed
from backrun_bot.discord_app.transformers import BoardKindArg, BoardPeriodArg
from backrun_bot.domain.dates import Period


@app_commands.guild_only()
class BoardCog(commands.Cog):
    def __init__(self, bot: BackrunBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="leaderboard",
        description="The team ranked by distance this week, month or year",
        extras={PUBLIC_REPLY: True},
    )
    @app_commands.describe(
        period="week (default), month or year, in the team's timezone",
        kind="backward (default: every backward kind together), or one kind of /log",
    )
    async def leaderboard(
        self,
        interaction: discord.Interaction[BackrunBot],
        period: BoardPeriodArg = Period.WEEK,
        kind: BoardKindArg | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        view = await self.bot.board.leaderboard(interaction.guild_id, interaction.user.id, period, kind)
        # Names are text (allowed mentions are off for every message): nobody is pinged.
        await interaction.response.send_message(embed=leaderboard_embed(view, interaction.user.id))


async def setup(bot: BackrunBot) -> None:
    await bot.add_cog(BoardCog(bot))
