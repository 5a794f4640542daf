"""/log, /undo, /history and /stats (with its chart)."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from backrun_bot.discord_app.bot import BackrunBot
from backrun_bot.discord_app.charts import chart_title, draw_chart, send_with_chart
from backrun_bot.discord_app.deadline import PUBLIC_REPLY, answered_late
from backrun_bot.discord_app.embeds import history_embed, log_message, stats_embed
from backrun_bot.discord_app.transformers import AmountArg, KindArg, PeriodArg
from backrun_bot.discord_app.views import undo_view, who_of
from backrun_bot.domain.dates import Period
from backrun_bot.domain.load import RPE_MAX, RPE_MIN
from backrun_bot.services.training import HISTORY_MAX, NOTE_MAX_LENGTH

# Under an /undo answered after the deadline guard deferred it (a slow database): an athlete who ran
# /undo again meanwhile was told the first was still running; this says the first did its one removal.
UNDO_LATE_LINE = "(This took a while: only this entry was removed. Check /history before undoing again.)"


def _target(interaction: discord.Interaction[Any], member: discord.Member | None) -> tuple[int, str]:
    user = member or interaction.user
    return user.id, user.display_name


@app_commands.guild_only()
class TrainingCog(commands.Cog):
    def __init__(self, bot: BackrunBot) -> None:
        self.bot = bot

    # Public: if the database is slow, the deadline guard's "thinking…" is public too.
    @app_commands.command(
        name="log", description="Log a run: /log backward 400m", extras={PUBLIC_REPLY: True}
    )
    @app_commands.describe(
        kind="What you ran",
        amount="Distance or time: 400m, 1.2 km, 440yd, 0.25mi, 2 laps, 90s, 5 min, 1:30, 1h05",
        note="Anything to remember about it (up to 200 characters)",
        date="today (default), yesterday, or YYYY-MM-DD",
        rpe="How hard it felt: 1 very easy … 10 maximal (you can add it later with /entry edit)",
    )
    async def log(
        self,
        interaction: discord.Interaction[BackrunBot],
        kind: KindArg,
        amount: AmountArg,
        note: app_commands.Range[str, None, NOTE_MAX_LENGTH] | None = None,
        date: app_commands.Range[str, None, 20] | None = None,
        # Declared 1-10 so that Discord's client enforces it; the service refuses any other value a
        # client sends anyway (discord.py does not check an integer option's range).
        rpe: app_commands.Range[int, RPE_MIN, RPE_MAX] | None = None,
    ) -> None:
        who = who_of(interaction)
        result = await self.bot.training.log(who, kind, amount, note=note, day_text=date, rpe=rpe)
        await interaction.response.send_message(
            log_message(who.display_name, result, late=answered_late(interaction)),
            view=undo_view(result.entry.id, who.user_id),
        )

    @app_commands.command(name="undo", description="Remove your latest entry in this server")
    async def undo(self, interaction: discord.Interaction[BackrunBot]) -> None:
        # A second /undo while this one runs is refused by the service (UndoInProgress), ephemerally.
        entry = await self.bot.training.undo_latest(who_of(interaction))
        text = f"Removed your entry {entry.describe()}."
        if answered_late(interaction):
            text += "\n" + UNDO_LATE_LINE
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="history", description="Your newest entries (or a teammate's)")
    @app_commands.describe(member="Whose history (default: yours)", limit="How many entries, 1–25")
    async def history(
        self,
        interaction: discord.Interaction[BackrunBot],
        member: discord.Member | None = None,
        limit: app_commands.Range[int, 1, HISTORY_MAX] = 10,
    ) -> None:
        assert interaction.guild_id is not None
        user_id, name = _target(interaction, member)
        entries = await self.bot.training.history(interaction.guild_id, user_id, limit)
        own = user_id == interaction.user.id
        await interaction.response.send_message(embed=history_embed(name, entries, own=own), ephemeral=True)

    @app_commands.command(name="stats", description="Totals, backward share, active days and streak")
    @app_commands.describe(member="Whose stats (default: yours)", period="week (default), month, year or all")
    async def stats(
        self,
        interaction: discord.Interaction[BackrunBot],
        member: discord.Member | None = None,
        period: PeriodArg = Period.WEEK,
    ) -> None:
        assert interaction.guild_id is not None
        user_id, name = _target(interaction, member)
        # The chart is drawn in a worker thread after two reads: defer first, so the 3 s never
        # depend on them (the deadline guard's own deferral, at 2 s, is then never needed).
        await interaction.response.defer(ephemeral=True)
        stats = await self.bot.training.stats(interaction.guild_id, user_id, period)
        chart = await self.bot.volume.athlete(interaction.guild_id, user_id, period)
        file = await draw_chart(chart, chart_title(name, period))
        await send_with_chart(interaction, stats_embed(name, stats), file)


async def setup(bot: BackrunBot) -> None:
    await bot.add_cog(TrainingCog(bot))
