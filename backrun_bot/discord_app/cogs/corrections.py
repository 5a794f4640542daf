"""/entry edit and /entry delete: fix or remove any entry by its id (services/corrections.py)."""

from __future__ import annotations

import asyncio
import logging

import discord
from discord import app_commands
from discord.ext import commands

from backrun_bot.discord_app.bot import BackrunBot
from backrun_bot.discord_app.coaching import is_coach
from backrun_bot.discord_app.transformers import AmountArg, KindArg
from backrun_bot.discord_app.views import who_of
from backrun_bot.domain.load import RPE_MAX, RPE_MIN
from backrun_bot.domain.text import literal_line
from backrun_bot.services.corrections import MAX_ENTRY_ID, Deleted, Edited
from backrun_bot.services.training import NOTE_MAX_LENGTH, EntryView

log = logging.getLogger(__name__)

EntryId = app_commands.Range[int, 1, MAX_ENTRY_ID]
# Discord's limits on autocomplete: 25 choices, each name 1 to 100 characters.
CHOICE_NAME_MAX = 100
# Discord drops an autocomplete not answered within 3 s, and it cannot be deferred: a database that
# does not answer by then gets no suggestions (the member can still type the id).
SUGGEST_WITHIN = 2.0


def describe(entry: EntryView) -> str:
    """One line: ``#12 · 400 m backward run · 2026-03-08 — note``, the note shown literally."""
    line = entry.describe()
    return f"{line} — {literal_line(entry.note, 120)}" if entry.note else line


def choice_name(entry: EntryView) -> str:
    """What a suggestion shows; plain text (the client shows it as typed), at most 100 characters."""
    name = entry.describe()
    if entry.note:
        name += f" — {' '.join(entry.note.split())}"
    return name if len(name) <= CHOICE_NAME_MAX else name[: CHOICE_NAME_MAX - 1] + "…"


def edited_text(edited: Edited) -> str:
    if not edited.changed:
        return f"Entry #{edited.after.id} is already like that; nothing changed:\n{describe(edited.after)}"
    before, after = describe(edited.before), describe(edited.after)
    return f"Changed entry #{edited.after.id}:\nbefore: {before}\nafter: {after}"


def deleted_text(deleted: Deleted) -> str:
    if deleted.own:
        return f"Deleted your entry {describe(deleted.entry)}."
    return f"Deleted **{literal_line(deleted.author_name)}**'s entry {describe(deleted.entry)}."


@app_commands.guild_only()
class EntryCog(commands.GroupCog, group_name="entry", group_description="Fix or remove one of your entries"):
    def __init__(self, bot: BackrunBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(
        name="edit", description="Change an entry of yours: its amount, kind, date, note or how hard it was"
    )
    @app_commands.describe(
        id="The entry's number, as /history shows it (#12)",
        amount="Distance or time: 400m, 1.2 km, 440yd, 0.25mi, 2 laps, 90s, 5 min, 1:30, 1h05",
        kind="What you ran",
        date="today, yesterday, or YYYY-MM-DD",
        note="The new note (up to 200 characters); - removes it",
        rpe="How hard it felt: 1 very easy … 10 maximal (a rating days later still counts)",
    )
    async def edit(
        self,
        interaction: discord.Interaction[BackrunBot],
        id: EntryId,  # the option's name in the interface
        amount: AmountArg | None = None,
        kind: KindArg | None = None,
        date: app_commands.Range[str, None, 20] | None = None,
        note: app_commands.Range[str, None, NOTE_MAX_LENGTH] | None = None,
        rpe: app_commands.Range[int, RPE_MIN, RPE_MAX] | None = None,  # the service refuses others
    ) -> None:
        edited = await self.bot.corrections.edit(
            who_of(interaction), id, amount=amount, kind=kind, day_text=date, note=note, rpe=rpe
        )
        await interaction.response.send_message(edited_text(edited), ephemeral=True)

    @app_commands.command(name="delete", description="Delete an entry of yours (coaches: any of the team's)")
    @app_commands.describe(id="The entry's number, as /history shows it (#12)")
    async def delete(
        self,
        interaction: discord.Interaction[BackrunBot],
        id: EntryId,
    ) -> None:
        deleted = await self.bot.corrections.delete(
            who_of(interaction), id, is_coach=lambda: is_coach(interaction)
        )
        await interaction.response.send_message(deleted_text(deleted), ephemeral=True)

    @edit.autocomplete("id")
    @delete.autocomplete("id")
    async def suggest_id(
        self, interaction: discord.Interaction[BackrunBot], current: str
    ) -> list[app_commands.Choice[int]]:
        """The caller's own newest entries (a coach deleting another's types its id)."""
        if interaction.guild_id is None:
            return []
        try:
            entries = await asyncio.wait_for(
                self.bot.corrections.suggestions(interaction.guild_id, interaction.user.id, str(current)),
                SUGGEST_WITHIN,
            )
        except Exception:  # a slow or failing database: no suggestions rather than an error
            log.warning("could not suggest entries for user %s", interaction.user.id, exc_info=True)
            return []
        return [app_commands.Choice(name=choice_name(e), value=e.id) for e in entries]


async def setup(bot: BackrunBot) -> None:
    await bot.add_cog(EntryCog(bot))
