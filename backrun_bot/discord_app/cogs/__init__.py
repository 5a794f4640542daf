"""The bot's features, one extension module each (loaded by :class:`BackrunBot` in setup_hook)."""

EXTENSIONS = (
    "backrun_bot.discord_app.cogs.training",
    "backrun_bot.discord_app.cogs.meta",
    "backrun_bot.discord_app.cogs.reminders",
    # /team report; folded into /team's own cog (cogs/team.py) when that one is merged.
    "backrun_bot.discord_app.cogs.team_report",
)
