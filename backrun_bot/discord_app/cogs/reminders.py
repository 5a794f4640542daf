"""/reminders (admins), /plan and /notify."""

from __future__ import annotations

from datetime import date

import discord
from discord import app_commands
from discord.ext import commands

from backrun_bot.discord_app.bot import BackrunBot
from backrun_bot.discord_app.embeds import preview_embeds
from backrun_bot.discord_app.transformers import DaysArg, LocalTimeArg, TimezoneArg
from backrun_bot.discord_app.views import who_of
from backrun_bot.domain.load import DEFAULT_HEAVY_METERS, MAX_HEAVY_METERS, MIN_HEAVY_METERS
from backrun_bot.errors import InvalidInput

REQUIRED_CHANNEL_PERMISSIONS = ("view_channel", "send_messages")


def _guild_id(interaction: discord.Interaction[BackrunBot]) -> int:
    assert interaction.guild_id is not None  # the commands are guild-only
    return interaction.guild_id


def _check_postable(channel: discord.TextChannel) -> None:
    me = channel.guild.me
    perms = channel.permissions_for(me)
    missing = [name for name in REQUIRED_CHANNEL_PERMISSIONS if not getattr(perms, name)]
    if missing:
        words = " and ".join(m.replace("_", " ").title() for m in missing)
        raise InvalidInput(f"I can't post in {channel.mention}: I need {words} there. Nothing was changed.")


# Manage Server is the default (Discord hides the commands from others) *and* checked on every call
# (`admin_only` on each command), because a server admin can override the default in the
# integration settings.
admin_only = app_commands.checks.has_permissions(manage_guild=True)


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class RemindersCog(commands.GroupCog, group_name="reminders", group_description="Daily team reminders"):
    def __init__(self, bot: BackrunBot) -> None:
        self.bot = bot
        super().__init__()

    @admin_only
    @app_commands.command(name="set", description="Set the reminder channel, timezone, times and days")
    @app_commands.describe(
        channel="Where reminders are posted (needed the first time)",
        timezone="IANA timezone, e.g. Europe/London",
        warmup="Morning warmup time, 24-hour HH:MM",
        cooldown="Evening cooldown time, 24-hour HH:MM",
        days="every day, weekdays, weekends, or a list like mon,wed,fri",
        heavy=f"Backward meters in a day that count as heavy (default {DEFAULT_HEAVY_METERS:.0f})",
    )
    async def set_(
        self,
        interaction: discord.Interaction[BackrunBot],
        channel: discord.TextChannel | None = None,
        timezone: TimezoneArg | None = None,
        warmup: LocalTimeArg | None = None,
        cooldown: LocalTimeArg | None = None,
        days: DaysArg | None = None,
        heavy: app_commands.Range[int, MIN_HEAVY_METERS, MAX_HEAVY_METERS] | None = None,
    ) -> None:
        # The transformers have parsed every value; a bad one stopped the command before this line.
        if channel is not None:
            _check_postable(channel)
        settings = await self.bot.reminder_settings.update(
            _guild_id(interaction),
            channel_id=channel.id if channel else None,
            timezone=timezone,
            warmup=warmup,
            cooldown=cooldown,
            days=days,
            heavy_meters=float(heavy) if heavy is not None else None,
        )
        await interaction.response.send_message(f"Saved.\n{settings.describe()}", ephemeral=True)

    @admin_only
    @app_commands.command(name="show", description="Show this server's reminder settings")
    async def show(self, interaction: discord.Interaction[BackrunBot]) -> None:
        settings = await self.bot.reminder_settings.settings(_guild_id(interaction))
        await interaction.response.send_message(settings.describe(), ephemeral=True)

    @admin_only
    @app_commands.command(name="pause", description="Pause reminders (until a date, or until resumed)")
    @app_commands.describe(until="YYYY-MM-DD: reminders start again on that day")
    async def pause(
        self,
        interaction: discord.Interaction[BackrunBot],
        until: app_commands.Range[str, 1, 20] | None = None,
    ) -> None:
        until_day: date | None = None
        if until:
            # parse_day refuses future dates for logging; here the future is the point, so read
            # the ISO date directly and let the service check it is not in the past.
            try:
                until_day = date.fromisoformat(until.strip())
            except ValueError:
                raise InvalidInput("Write the date as YYYY-MM-DD.") from None
        settings = await self.bot.reminder_settings.pause(_guild_id(interaction), until_day)
        await interaction.response.send_message(f"Paused.\n{settings.describe()}", ephemeral=True)

    @admin_only
    @app_commands.command(name="resume", description="Resume reminders")
    async def resume(self, interaction: discord.Interaction[BackrunBot]) -> None:
        settings = await self.bot.reminder_settings.resume(_guild_id(interaction))
        await interaction.response.send_message(f"Resumed.\n{settings.describe()}", ephemeral=True)

    @admin_only
    @app_commands.command(name="preview", description="Today's two reminders, shown only to you")
    async def preview(self, interaction: discord.Interaction[BackrunBot]) -> None:
        settings, warmup, cooldown = await self.bot.delivery.preview(_guild_id(interaction))
        await interaction.response.send_message(
            "Today's reminders as they would be posted (nothing was sent):",
            embeds=preview_embeds(settings, warmup, cooldown),
            ephemeral=True,
        )


@app_commands.guild_only()
class PlanCog(commands.Cog):
    def __init__(self, bot: BackrunBot) -> None:
        self.bot = bot

    @app_commands.command(name="plan", description="Today's warmup and cooldown, and whether to rest")
    async def plan(self, interaction: discord.Interaction[BackrunBot]) -> None:
        plan, heavy = await self.bot.plans.plan(who_of(interaction))
        parts = [plan.warmup_text(), plan.cooldown_text()]
        if heavy is not None:
            parts.insert(0, f"**Take today off from backward work**: {heavy.explain()}.")
        await interaction.response.send_message("\n\n".join(parts)[:2000], ephemeral=True)

    @app_commands.command(name="notify", description="Whether the morning reminder may mention you")
    @app_commands.describe(mentions="on: you are pinged for a suggested day off; off: named without a ping")
    @app_commands.choices(
        mentions=[app_commands.Choice(name="on", value="on"), app_commands.Choice(name="off", value="off")]
    )
    async def notify(self, interaction: discord.Interaction[BackrunBot], mentions: str) -> None:
        enabled = mentions == "on"
        await self.bot.reminder_settings.set_mentions(who_of(interaction), enabled)
        text = "You'll be mentioned" if enabled else "You'll be named without a ping"
        await interaction.response.send_message(f"{text} when a day off is suggested.", ephemeral=True)


async def setup(bot: BackrunBot) -> None:
    await bot.add_cog(RemindersCog(bot))
    await bot.add_cog(PlanCog(bot))
