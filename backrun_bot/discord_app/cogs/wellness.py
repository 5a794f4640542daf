"""/checkin: how an athlete feels today (soreness, where, sleep, a note), once a day, privately.

The ranges are declared on the options (``min_value``/``max_value``), so Discord's client refuses a
soreness of 11 before it is sent; a client that ignores them is refused by the service, and nothing
is stored. The note is shown as literal text, and the bot's allowed mentions are none, so it never
pings.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from backrun_bot.discord_app.bot import BackrunBot
from backrun_bot.discord_app.transformers import AreaArg
from backrun_bot.discord_app.views import who_of
from backrun_bot.domain.drills import short_date
from backrun_bot.domain.text import literal_line
from backrun_bot.domain.wellness import (
    SLEEP_MAX,
    SLEEP_MIN,
    SORENESS_MAX,
    SORENESS_MIN,
    Area,
    soreness_words,
)
from backrun_bot.services.wellness import CHECKIN_NOTE_MAX, CheckedIn


def checkin_message(checked: CheckedIn) -> str:
    """What was kept, and the day off it suggests (why, and where the forward plan is)."""
    recorded = soreness_words(checked.soreness, checked.area)
    if checked.sleep is not None:
        recorded += f", sleep {checked.sleep}/{SLEEP_MAX}"
    lines = [f"Checked in for today, {short_date(checked.day)}: {recorded}."]
    if checked.note is not None:
        lines.append(f"Note: {literal_line(checked.note)}")
    if checked.reason is not None:
        lines.append(
            f"**Take today off from backward work**: {checked.reason.explain()}. "
            "`/plan` shows the forward version of today's warmup and cooldown."
        )
    lines.append("One check-in a day: checking in again today replaces this one.")
    return "\n".join(lines)


@app_commands.guild_only()
class WellnessCog(commands.Cog):
    def __init__(self, bot: BackrunBot) -> None:
        self.bot = bot

    @app_commands.command(name="checkin", description="How you feel today: soreness, where, and sleep")
    @app_commands.describe(
        soreness=f"How sore, {SORENESS_MIN} (not at all) to {SORENESS_MAX} (worst imaginable)",
        area="Where it is sore the most (default: none)",
        sleep=f"How you slept, {SLEEP_MIN} (very poorly) to {SLEEP_MAX} (very well)",
        note=f"Anything for your coach (up to {CHECKIN_NOTE_MAX} characters)",
    )
    async def checkin(
        self,
        interaction: discord.Interaction[BackrunBot],
        soreness: app_commands.Range[int, SORENESS_MIN, SORENESS_MAX],
        area: AreaArg = Area.NONE,
        sleep: app_commands.Range[int, SLEEP_MIN, SLEEP_MAX] | None = None,
        note: app_commands.Range[str, None, CHECKIN_NOTE_MAX] | None = None,
    ) -> None:
        checked = await self.bot.checkins.checkin(who_of(interaction), soreness, area, sleep, note)
        await interaction.response.send_message(checkin_message(checked), ephemeral=True)


async def setup(bot: BackrunBot) -> None:
    await bot.add_cog(WellnessCog(bot))
