"""/export and /forget-me: a member's data, to take away or to delete (services/data.py).

**Why the confirmation is a DynamicItem with a deadline in its custom id**, not a View with a
timeout: a View's timeout lives in the process, so a restart (a deploy) between /forget-me and the
press would leave a button that does nothing ("This interaction failed"); and a View without a
timeout would accept a press days later. The button carries the member's id and the moment it stops
working (:data:`CONFIRM_WITHIN` after it was shown), so any process can check both from the press
alone: it works across a restart, only for the member who asked, and only for a few minutes. The
message is ephemeral, so nobody else sees it; the id in the button is checked all the same.
"""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from backrun_bot.discord_app.bot import BackrunBot
from backrun_bot.discord_app.coaching import is_coach
from backrun_bot.discord_app.errors import reply_with_error
from backrun_bot.discord_app.views import who_of
from backrun_bot.errors import InvalidInput, NotAllowed
from backrun_bot.services.data import Export

# How long the "Delete my data" button works after /forget-me showed it.
CONFIRM_WITHIN = timedelta(minutes=10)
FORGET_PREFIX = "backrun:forget:"
KEEP_PREFIX = "backrun:keep:"
NOT_YOURS = "This button is for the member who asked /forget-me; run /forget-me yourself for your own data."
EXPIRED = "This confirmation has expired and nothing was deleted. Run /forget-me again."
KEPT = "Nothing was deleted."


def export_text(export: Export) -> str:
    file = export.file
    entries = f"{file.rows:,} {'entry' if file.rows == 1 else 'entries'}"
    if export.team:
        members = f"{export.members} {'member' if export.members == 1 else 'members'}"
        lines = [f"All {entries} of the team ({members}), oldest first, with who logged each."]
    else:
        lines = [f"Your {entries} in this server, oldest first."]
    if file.gzipped:
        lines.append(
            f"Compressed to fit Discord's file limit ({file.csv_bytes / 1024 / 1024:.1f} MiB of CSV): "
            "unzip it, or open it with your spreadsheet's import."
        )
    if len(file.parts) > 1:
        lines.append(
            f"In {len(file.parts)} parts, one per message, oldest days first; each is a whole CSV "
            "with its header."
        )
    lines.append("Cells that begin with = + - or @ start with ' so that no spreadsheet runs them.")
    return "\n".join(lines)


def forget_prompt(entries: int) -> str:
    what = f"your {entries:,} {'entry' if entries == 1 else 'entries'}" if entries else "your record"
    return (
        f"This deletes {what} in this server, with the days Backrun suggested you rest, and cannot be "
        "undone. Other servers are not affected. Run /export first if you want a copy.\n"
        f"Press **Delete my data** within {CONFIRM_WITHIN.seconds // 60} minutes to go ahead."
    )


class ForgetButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=FORGET_PREFIX + r"(?P<user>\d+):(?P<until>\d+)",
):
    """Delete my data: for member ``user`` only, until the Unix time ``until``."""

    def __init__(self, user_id: int, until: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Delete my data",
                style=discord.ButtonStyle.danger,
                custom_id=f"{FORGET_PREFIX}{user_id}:{until}",
            )
        )
        self.user_id = user_id
        self.until = until

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ForgetButton:
        return cls(int(match["user"]), int(match["until"]))

    async def callback(self, interaction: discord.Interaction[BackrunBot]) -> None:  # type: ignore[override]
        try:
            if interaction.user.id != self.user_id:
                raise NotAllowed(NOT_YOURS)
            if interaction.client.clock().timestamp() > self.until:
                raise InvalidInput(EXPIRED)
            removed = await interaction.client.data.forget(who_of(interaction))
        except Exception as exc:
            await reply_with_error(interaction, exc)
            return
        text = (
            f"Deleted your data in this server: {removed:,} {'entry' if removed == 1 else 'entries'} "
            "and your athlete record. Logging again starts afresh."
        )
        await interaction.response.edit_message(content=text, view=None)


class KeepButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=KEEP_PREFIX + r"(?P<user>\d+)"):
    """Keep my data: closes the confirmation; nothing is deleted."""

    def __init__(self, user_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Keep it", style=discord.ButtonStyle.secondary, custom_id=f"{KEEP_PREFIX}{user_id}"
            )
        )
        self.user_id = user_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> KeepButton:
        return cls(int(match["user"]))

    async def callback(self, interaction: discord.Interaction[BackrunBot]) -> None:  # type: ignore[override]
        if interaction.user.id != self.user_id:
            await reply_with_error(interaction, NotAllowed(NOT_YOURS))
            return
        await interaction.response.edit_message(content=KEPT, view=None)


def forget_view(user_id: int, now: datetime) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ForgetButton(user_id, int((now + CONFIRM_WITHIN).timestamp())))
    view.add_item(KeepButton(user_id))
    return view


@app_commands.guild_only()
class DataCog(commands.Cog):
    def __init__(self, bot: BackrunBot) -> None:
        self.bot = bot

    @app_commands.command(name="export", description="Your entries as a CSV file (coaches: the whole team's)")
    async def export(self, interaction: discord.Interaction[BackrunBot]) -> None:
        # A coach's file of a big team takes a few seconds to read and compress: defer at once.
        await interaction.response.defer(ephemeral=True, thinking=True)
        team = await is_coach(interaction)
        export = await self.bot.data.export(who_of(interaction), team=team)
        count = len(export.file.parts)
        for n, (data, name) in enumerate(zip(export.file.parts, export.filenames, strict=True), 1):
            text = export_text(export) if n == 1 else f"Part {n} of {count}."
            file = discord.File(io.BytesIO(data), filename=name)
            await interaction.followup.send(text, file=file, ephemeral=True)

    @app_commands.command(
        name="forget-me", description="Delete everything Backrun keeps of you in this server"
    )
    async def forget_me(self, interaction: discord.Interaction[BackrunBot]) -> None:
        who = who_of(interaction)
        entries = await self.bot.data.entries_to_forget(who)
        await interaction.response.send_message(
            forget_prompt(entries), view=forget_view(who.user_id, self.bot.clock()), ephemeral=True
        )


async def setup(bot: BackrunBot) -> None:
    bot.add_dynamic_items(ForgetButton, KeepButton)
    await bot.add_cog(DataCog(bot))
