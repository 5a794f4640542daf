"""``/team report`` until the ``/team`` group's own cog (``cogs/team.py``: coach role, units,
overview) is on this branch: at the merge, ``report`` below moves into that cog's ``TeamCog`` as it
is, and this module and its line in ``EXTENSIONS`` go (two cogs cannot both own ``/team``).

No ``default_member_permissions`` on ``/team``: a coach need not have Manage Server, so the
coach check is made on every call (:func:`~backrun_bot.discord_app.report.team_report`).
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from backrun_bot.discord_app.bot import BackrunBot
from backrun_bot.discord_app.report import PERIOD_DESCRIPTION, REPORT_DESCRIPTION, team_report
from backrun_bot.discord_app.transformers import PeriodArg
from backrun_bot.domain.dates import Period


@app_commands.guild_only()
class TeamReportCog(commands.GroupCog, group_name="team", group_description="The team: coaches' views"):
    def __init__(self, bot: BackrunBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="report", description=REPORT_DESCRIPTION)
    @app_commands.describe(period=PERIOD_DESCRIPTION)
    async def report(
        self, interaction: discord.Interaction[BackrunBot], period: PeriodArg = Period.WEEK
    ) -> None:
        await team_report(interaction, period)


async def setup(bot: BackrunBot) -> None:
    await bot.add_cog(TeamReportCog(bot))
