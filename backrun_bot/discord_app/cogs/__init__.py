"""The bot's features, one extension module each (loaded by :class:`BackrunBot` in setup_hook)."""

EXTENSIONS = (
    "backrun_bot.discord_app.cogs.training",
    "backrun_bot.discord_app.cogs.meta",
    "backrun_bot.discord_app.cogs.reminders",
    "backrun_bot.discord_app.cogs.board",
    "backrun_bot.discord_app.cogs.team",
    "backrun_bot.discord_app.cogs.corrections",
    "backrun_bot.discord_app.cogs.data",
    "backrun_bot.discord_app.cogs.guilds",
    "backrun_bot.discord_app.cogs.wellness",
)
