"""Message components. Each button keeps its state in its custom id, so it still works after a restart
(discord.py's DynamicItem re-creates it from the id of the button pressed)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from backrun_bot.discord_app.embeds import ladder_embeds, plan_message, undone_message
from backrun_bot.discord_app.errors import reply_with_error
from backrun_bot.services.common import Who

if TYPE_CHECKING:
    from backrun_bot.discord_app.bot import BackrunBot


def who_of(interaction: discord.Interaction[Any]) -> Who:
    """The caller as the services see them. Commands are server-only, so guild_id is set."""
    assert interaction.guild_id is not None  # guaranteed by the commands' guild-only contexts
    return Who(interaction.guild_id, interaction.user.id, interaction.user.display_name)


class UndoButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"backrun:undo:(?P<entry>\d+):(?P<author>\d+)"
):
    def __init__(self, entry_id: int, author_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Undo",
                style=discord.ButtonStyle.secondary,
                custom_id=f"backrun:undo:{entry_id}:{author_id}",
            )
        )
        self.entry_id = entry_id
        self.author_id = author_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> UndoButton:
        return cls(int(match["entry"]), int(match["author"]))

    async def callback(self, interaction: discord.Interaction[BackrunBot]) -> None:  # type: ignore[override]
        # Component errors do not reach the tree's handler, so hand them to the same function.
        try:
            entry = await interaction.client.training.undo_entry(
                who_of(interaction), self.entry_id, self.author_id
            )
        except Exception as exc:
            await reply_with_error(interaction, exc)
            return
        await interaction.response.edit_message(content=undone_message(entry), view=None)


def undo_view(entry_id: int, author_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(UndoButton(entry_id, author_id))
    return view


# On every reminder: the reminder's key (services.delivery.reminder_key: its day and slot, ":test" on a
# test) is in the custom id, which is how a retry finds a reminder already posted (DiscordSender.find).
PLAN_PREFIX = "backrun:plan:"


def plan_custom_id(key: str) -> str:
    return PLAN_PREFIX + key


class PlanButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"backrun:plan:(?P<key>\d{4}-\d{2}-\d{2}:[a-z]+(?::test)?)",
):
    """ "My plan" under a reminder: whoever presses it sees their own plan for today (``/plan``) —
    whether it is a day off for them, and why — without typing a command."""

    def __init__(self, key: str) -> None:
        super().__init__(
            discord.ui.Button(
                label="My plan", style=discord.ButtonStyle.secondary, custom_id=plan_custom_id(key)
            )
        )
        self.key = key

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> PlanButton:
        return cls(match["key"])

    async def callback(self, interaction: discord.Interaction[BackrunBot]) -> None:  # type: ignore[override]
        try:
            today = await interaction.client.plans.plan(who_of(interaction))
        except Exception as exc:
            await reply_with_error(interaction, exc)
            return
        await interaction.response.send_message(
            plan_message(today), embeds=ladder_embeds(today), ephemeral=True
        )


def reminder_view(key: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(PlanButton(key))
    return view
