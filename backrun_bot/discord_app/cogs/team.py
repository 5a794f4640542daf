"""/team: the coach role, the team's units (server admins), the coach's overview and report (coaches).

``/team`` carries no ``default_member_permissions``: a coach need not have Manage Server, and
Discord would hide the whole group from them. So every subcommand checks on every call: Manage
Server for ``coach-role`` and ``units`` (``admin_only``, Discord's own resolution of the member's
permissions in this interaction), a coach for ``overview`` and for each of its page buttons
(:func:`require_coach`: Manage Server or the team's coach role, read now), and so does ``report``
(:func:`~backrun_bot.discord_app.report.team_report`).
"""

from __future__ import annotations

import re
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from backrun_bot.discord_app.bot import BackrunBot
from backrun_bot.discord_app.coaching import require_coach
from backrun_bot.discord_app.cogs.reminders import admin_only
from backrun_bot.discord_app.errors import reply_with_error
from backrun_bot.discord_app.report import PERIOD_DESCRIPTION, REPORT_DESCRIPTION, team_report
from backrun_bot.discord_app.team_embeds import overview_embed
from backrun_bot.discord_app.transformers import PeriodArg, UnitsArg
from backrun_bot.domain.amounts import format_distance
from backrun_bot.domain.dates import Period
from backrun_bot.domain.overview import OverviewPage, overview_page


async def _page(interaction: discord.Interaction[BackrunBot], number: int) -> OverviewPage:
    assert interaction.guild_id is not None
    team = await interaction.client.board.overview(interaction.guild_id)
    return overview_page(
        team.athletes, team.today, team.week_start, page=number, units=team.units, timezone=team.timezone
    )


class OverviewPageButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"backrun:overview:(?P<page>\d{1,4}):(?P<way>prev|next)",
):
    """Turns the overview to page ``page`` (from 0). The page is read again when pressed, and the
    presser must still be a coach (a role taken away since counts at once)."""

    def __init__(self, page: int, way: str, *, disabled: bool = False) -> None:
        label = "◀ Previous" if way == "prev" else "Next ▶"
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.secondary,
                custom_id=f"backrun:overview:{page}:{way}",
                disabled=disabled,
            )
        )
        self.page = page

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> OverviewPageButton:
        return cls(int(match["page"]), match["way"])

    async def callback(self, interaction: discord.Interaction[BackrunBot]) -> None:  # type: ignore[override]
        # Component errors do not reach the tree's handler, so hand them to the same function.
        try:
            await require_coach(interaction)
            page = await _page(interaction, self.page)
        except Exception as exc:
            await reply_with_error(interaction, exc)
            return
        await interaction.response.edit_message(embed=overview_embed(page), view=pages_view(page))


def pages_view(page: OverviewPage) -> discord.ui.View | None:
    """Previous and Next under a page, when there is more than one."""
    if page.pages <= 1:
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(OverviewPageButton(max(page.number - 1, 0), "prev", disabled=page.number == 0))
    view.add_item(
        OverviewPageButton(
            min(page.number + 1, page.pages - 1), "next", disabled=page.number >= page.pages - 1
        )
    )
    return view


@app_commands.guild_only()
class TeamCog(
    commands.GroupCog, group_name="team", group_description="The team: coaches, units, overview, report"
):
    def __init__(self, bot: BackrunBot) -> None:
        self.bot = bot
        super().__init__()

    @admin_only
    @app_commands.command(
        name="coach-role", description="Manage Server only: the role whose members are coaches"
    )
    @app_commands.describe(
        role="Members with this role can use the coach commands (Manage Server always can)"
    )
    async def coach_role(self, interaction: discord.Interaction[BackrunBot], role: discord.Role) -> None:
        assert interaction.guild_id is not None
        await self.bot.teams.set_coach_role(interaction.guild_id, role.id)
        # The role's mention shows its name; allowed mentions are off, so it pings nobody.
        await interaction.response.send_message(
            f"Coaches are now the members of {role.mention}, and everyone with Manage Server.", ephemeral=True
        )

    @admin_only
    @app_commands.command(
        name="units", description="Manage Server only: show distances in metric or imperial"
    )
    @app_commands.describe(system="metric (m, km) or imperial (yd, mi); amounts are accepted in both")
    async def units(self, interaction: discord.Interaction[BackrunBot], system: UnitsArg) -> None:
        assert interaction.guild_id is not None
        await self.bot.teams.set_units(interaction.guild_id, system)
        example = ", ".join(format_distance(m, system) for m in (400.0, 1600.0, 5000.0))
        await interaction.response.send_message(
            f"Distances are now shown in {system.value} units everywhere (for example {example}). "
            "Amounts are still accepted in any unit: 400m, 1.2 km, 440yd, 0.25mi, 2 laps.",
            ephemeral=True,
        )

    @app_commands.command(
        name="overview", description="Coaches: every athlete's week, heavy days and quiet ones"
    )
    async def overview(self, interaction: discord.Interaction[BackrunBot]) -> None:
        await require_coach(interaction)
        page = await _page(interaction, 0)
        view = pages_view(page)
        if view is None:
            await interaction.response.send_message(embed=overview_embed(page), ephemeral=True)
        else:
            await interaction.response.send_message(embed=overview_embed(page), view=view, ephemeral=True)

    @app_commands.command(name="report", description=REPORT_DESCRIPTION)
    @app_commands.describe(period=PERIOD_DESCRIPTION)
    async def report(
        self, interaction: discord.Interaction[BackrunBot], period: PeriodArg = Period.WEEK
    ) -> None:
        # The coach check, the deferral, the reads and the drawing: discord_app/report.py.
        await team_report(interaction, period)


async def setup(bot: BackrunBot) -> None:
    await bot.add_cog(TeamCog(bot))
    bot.add_dynamic_items(OverviewPageButton)
