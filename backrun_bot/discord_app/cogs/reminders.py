"""/reminders (admins), /plan and /notify."""

from __future__ import annotations

from datetime import date

import discord
from discord import app_commands
from discord.ext import commands

from backrun_bot.discord_app.bot import BackrunBot
from backrun_bot.discord_app.embeds import ladder_embeds, plan_message, preview_embeds
from backrun_bot.discord_app.transformers import DaysArg, LocalTimeArg, TimezoneArg
from backrun_bot.discord_app.views import who_of
from backrun_bot.domain.load import DEFAULT_HEAVY_METERS, MAX_HEAVY_METERS, MIN_HEAVY_METERS
from backrun_bot.domain.schedule import Slot
from backrun_bot.errors import InvalidInput

REQUIRED_CHANNEL_PERMISSIONS = ("view_channel", "send_messages")
ON_OFF = [app_commands.Choice(name="on", value="on"), app_commands.Choice(name="off", value="off")]


def _guild_id(interaction: discord.Interaction[BackrunBot]) -> int:
    assert interaction.guild_id is not None  # the commands are guild-only
    return interaction.guild_id


def _check_postable(channel: discord.abc.GuildChannel, *, then: str) -> None:
    """Refuse, saying which permissions are missing and ``then`` (what to do), unless the bot can
    post in ``channel`` (judged from the cached overwrites, which the gateway keeps current)."""
    perms = channel.permissions_for(channel.guild.me)
    missing = [name for name in REQUIRED_CHANNEL_PERMISSIONS if not getattr(perms, name)]
    if missing:
        words = " and ".join(m.replace("_", " ").title() for m in missing)
        raise InvalidInput(f"I can't post in {channel.mention}: I need {words} there. {then}")


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
        heavy=f"Backward meters in a day that count as heavy "
        f"({MIN_HEAVY_METERS}–{MAX_HEAVY_METERS}, default {DEFAULT_HEAVY_METERS:.0f})",
        weekly="Monday's summary of last week after the warmup (default on)",
    )
    @app_commands.choices(weekly=ON_OFF)
    async def set_(
        self,
        interaction: discord.Interaction[BackrunBot],
        channel: discord.TextChannel | None = None,
        timezone: TimezoneArg | None = None,
        warmup: LocalTimeArg | None = None,
        cooldown: LocalTimeArg | None = None,
        days: DaysArg | None = None,
        heavy: app_commands.Range[int, MIN_HEAVY_METERS, MAX_HEAVY_METERS] | None = None,
        weekly: app_commands.Choice[str] | None = None,
    ) -> None:
        # The transformers have parsed every value; a bad one stopped the command before this line.
        if channel is not None:
            _check_postable(channel, then="Nothing was changed.")
        settings = await self.bot.reminder_settings.update(
            _guild_id(interaction),
            channel_id=channel.id if channel else None,
            timezone=timezone,
            warmup=warmup,
            cooldown=cooldown,
            days=days,
            heavy_meters=float(heavy) if heavy is not None else None,
            weekly=None if weekly is None else weekly.value == "on",
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
    @app_commands.command(name="test", description="Post today's warmup or cooldown now, marked as a test")
    @app_commands.describe(slot="Which reminder to post (nobody is pinged; the real one still goes out)")
    @app_commands.choices(slot=[app_commands.Choice(name=s.label, value=s.value) for s in Slot])
    async def test(
        self, interaction: discord.Interaction[BackrunBot], slot: app_commands.Choice[str]
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        guild_id = _guild_id(interaction)
        settings = await self.bot.reminder_settings.settings(guild_id)
        # Without a channel the service says to set one. With one, the gateway-fed cache says
        # precisely what is wrong before anything is sent; Discord's own answer covers the rest.
        if settings.channel_id is not None:
            assert interaction.guild is not None
            channel = interaction.guild.get_channel(settings.channel_id)
            if channel is None:
                raise InvalidInput(
                    f"I can't find the reminder channel <#{settings.channel_id}> any more; it may have "
                    "been deleted. Pick one with `/reminders set channel:`."
                )
            _check_postable(
                channel,
                then="Give me that in the channel's permissions, or pick another with "
                "`/reminders set channel:`.",
            )
        # A Choice: discord.py refuses a value that is not one of the choices (a stale client's).
        posted = await self.bot.delivery.send_test(guild_id, Slot(slot.value))
        lines = [f"Posted a test {posted.slot.label} in <#{posted.channel_id}>."]
        lines.append(posted.real_one[0].upper() + posted.real_one[1:] + ".")
        if posted.days_off:
            lines.append(
                "Nobody was pinged: the real warmup pings the athletes named for a day off "
                "(those who have not turned it off with `/notify`)."
            )
        if settings.pause_reason:
            lines.append("The test went through, so `/reminders resume` turns the reminders back on.")
        await interaction.followup.send("\n".join(lines), ephemeral=True)

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
        today = await self.bot.plans.plan(who_of(interaction))
        await interaction.response.send_message(
            plan_message(today), embeds=ladder_embeds(today), ephemeral=True
        )

    @app_commands.command(name="notify", description="Whether the morning reminder may mention you")
    @app_commands.describe(mentions="on: you are pinged for a suggested day off; off: named without a ping")
    @app_commands.choices(
        mentions=[app_commands.Choice(name="on", value="on"), app_commands.Choice(name="off", value="off")]
    )
    async def notify(
        self, interaction: discord.Interaction[BackrunBot], mentions: app_commands.Choice[str]
    ) -> None:
        enabled = mentions.value == "on"
        await self.bot.reminder_settings.set_mentions(who_of(interaction), enabled)
        text = "You'll be mentioned" if enabled else "You'll be named without a ping"
        await interaction.response.send_message(f"{text} when a day off is suggested.", ephemeral=True)


async def setup(bot: BackrunBot) -> None:
    await bot.add_cog(RemindersCog(bot))
    await bot.add_cog(PlanCog(bot))
