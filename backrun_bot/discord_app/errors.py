"""The one place that turns errors into replies.

Every slash command error reaches :func:`on_app_command_error` (installed as the tree's error
handler); component callbacks (buttons) call :func:`reply_with_error` themselves, because
discord.py routes their errors to a per-view handler. Users' mistakes and refusals get the
service's own words, ephemerally; anything unexpected is logged with its traceback and the user gets
a short apology, never silence. A database that does not answer (:class:`StorageUnavailable`) is not
the member's doing: it is logged as a warning (one line, no traceback: an outage brings many) and
answered with its own words, which say whether anything was saved.
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from backrun_bot.discord_app.deadline import GuardedResponse
from backrun_bot.errors import BackrunError, StorageUnavailable

log = logging.getLogger(__name__)

# discord.py's permission names, in the words of Discord's own settings screens.
PERMISSION_NAMES = {"manage_guild": "Manage Server", "manage_channels": "Manage Channels"}

APOLOGY = "Sorry, something went wrong on our side and nothing was saved. Please try again in a moment."
# Discord's client keeps its own copy of the commands; after an update of the bot it may send an
# older shape (a required option it did not know yet, a subcommand since removed) until reloaded.
# The bot syncs whenever its definitions change, so this is the member's stale copy, not a bug.
STALE_COMMAND = (
    "Discord showed you an older version of this command. Reload Discord (Ctrl+R, or restart the app) "
    "and try again."
)


def _unwrap(error: BaseException) -> BaseException:
    # discord.py wraps a callback's exception in CommandInvokeError (``original``) and a
    # transformer's in TransformerError (``__cause__``); the useful error is the innermost one.
    while True:
        if isinstance(error, app_commands.CommandInvokeError):
            error = error.original
        elif isinstance(error, app_commands.TransformerError) and error.__cause__ is not None:
            error = error.__cause__
        else:
            return error


def reply_text(error: BaseException) -> tuple[str, bool]:
    """The reply for an error and whether it was expected (a user's mistake or a refusal)."""
    error = _unwrap(error)
    if isinstance(error, StorageUnavailable):
        return error.user_text(), False
    if isinstance(error, BackrunError):
        return error.user_text(), True
    if isinstance(error, app_commands.CheckFailure):
        if isinstance(error, app_commands.MissingPermissions):
            perms = ", ".join(
                PERMISSION_NAMES.get(p, p.replace("_", " ").title()) for p in error.missing_permissions
            )
            return f"You need the {perms} permission for this command.", True
        if isinstance(error, app_commands.NoPrivateMessage):
            return "This command only works in a server.", True
        return "You can't use this command here.", True
    if isinstance(error, app_commands.CommandSignatureMismatch | app_commands.CommandNotFound):
        return STALE_COMMAND, True
    if isinstance(error, app_commands.TransformerError):
        # Only a value Discord's own client would not send (not one of the choices, say).
        return "One of the options has a value this command does not accept.", True
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down: try again in {error.retry_after:.0f} s.", True
    return APOLOGY, False


async def reply_with_error(interaction: discord.Interaction, error: BaseException) -> None:
    """Answer ``interaction`` ephemerally with what went wrong (or an apology), logging the unexpected."""
    text, expected = reply_text(error)
    name = interaction.command.qualified_name if interaction.command else interaction.data
    cause = _unwrap(error)
    if isinstance(cause, StorageUnavailable):
        log.warning(
            "the database did not answer %s for user %s: %r", name, interaction.user.id, cause.__cause__
        )
    elif expected:
        log.debug("refused %s for user %s: %s", name, interaction.user.id, text)
    else:
        log.error("unexpected error in %s", name, exc_info=error)
    response = interaction.response
    try:
        if response.is_done() and not (isinstance(response, GuardedResponse) and response.deferred):
            await interaction.followup.send(text, ephemeral=True)
        else:
            # After a deferral the guarded response sends this as the deferred answer, ephemeral
            # even when the "thinking…" placeholder was public.
            await response.send_message(text, ephemeral=True)
    except discord.HTTPException:
        # The interaction may have expired while we failed; nothing more can reach the user.
        log.warning("could not deliver the error reply for %s", name, exc_info=True)


async def on_app_command_error(interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
    await reply_with_error(interaction, error)
