"""``/team report [period]`` (coaches): the team's chart over the period and its totals for the week.

The command itself is a few lines in the ``/team`` group (:func:`team_report` does the work), so it
can live in whichever cog holds ``/team``. Coaches only, asked on every call
(:func:`~backrun_bot.discord_app.coaching.require_coach`, before anything is deferred or read):
a refusal is the one error handler's ephemeral reply, and nothing is posted.

Ephemeral, like ``/team overview``: the coach's view of the squad. The chart stacks the two kind
groups every total of Backrun is told in, backward (all six backward kinds) and forward, the same
chart as an athlete's ``/stats``, so a coach reads both the same way.
"""

from __future__ import annotations

import discord

from backrun_bot.discord_app.bot import BackrunBot
from backrun_bot.discord_app.charts import PERIOD_WORDS, chart_title, draw_chart, send_with_chart
from backrun_bot.discord_app.coaching import require_coach
from backrun_bot.discord_app.embeds import BRAND
from backrun_bot.domain.amounts import Units, format_distance
from backrun_bot.domain.dates import Period
from backrun_bot.domain.text import literal_line
from backrun_bot.services.volume import TeamReport

REPORT_DESCRIPTION = "Coaches: the team's backward and forward distance over a period, as a chart"
PERIOD_DESCRIPTION = "week (default), month, year or all"


def report_embed(team_name: str, report: TeamReport) -> discord.Embed:
    """The text of ``/team report``: this week's totals, then the chart's period and its totals."""
    athletes, chart = report.athletes_active, report.chart
    lines = [
        f"**This week** ({report.week_first.isoformat()} – {report.week_last.isoformat()})",
        _totals(report.backward_m, report.forward_m, chart.units),
        f"**{athletes}** athlete{'' if athletes == 1 else 's'} active",
    ]
    if chart.period is not Period.WEEK:
        series = chart.series
        lines += [
            "",
            f"**{PERIOD_WORDS[chart.period].capitalize()}** ({series.first.isoformat()} – "
            f"{min(series.last, series.today).isoformat()})",
            _totals(series.backward_m, series.forward_m, chart.units),
        ]
    embed = discord.Embed(
        title=f"Team report — {literal_line(team_name)}", description="\n".join(lines), colour=BRAND
    )
    embed.set_footer(text="Backward: every backward kind. The line: the backward trailing average.")
    return embed


def _totals(backward_m: float, forward_m: float, units: Units) -> str:
    return (
        f"Backward **{format_distance(backward_m, units)}** · forward **{format_distance(forward_m, units)}**"
    )


async def team_report(interaction: discord.Interaction[BackrunBot], period: Period) -> None:
    """``/team report``: refused unless the caller is a coach; then deferred (ephemeral), read,
    drawn in a worker thread and sent as the deferred answer."""
    await require_coach(interaction)
    assert interaction.guild_id is not None
    await interaction.response.defer(ephemeral=True)
    report = await interaction.client.volume.team(interaction.guild_id, period)
    name = interaction.guild.name if interaction.guild is not None else "the team"
    file = await draw_chart(report.chart, chart_title(name, period))
    await send_with_chart(interaction, report_embed(name, report), file)
