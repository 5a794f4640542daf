"""Message components. Each button keeps its state in its custom id, so it still works after a restart
(discord.py's DynamicItem re-creates it from the id of the button pressed)."""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, Any

import discord

from backrun_bot.discord_app.embeds import (
    done_message,
    ladder_embeds,
    plan_message,
    undone_done_message,
    undone_message,
)
from backrun_bot.discord_app.errors import reply_with_error
from backrun_bot.domain.schedule import Slot
from backrun_bot.errors import InvalidInput
from backrun_bot.services.common import Who
from backrun_bot.services.done import Shown

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


# The Done button under a real warmup or cooldown: the server, the reminder's local day and its slot
# are in the custom id ("backrun:done:<guild>:<YYYY-MM-DD>:<slot>", at most 54 of Discord's 100
# characters), so any copy of the bot, before or after a restart, knows what the press is about.
DONE_LABEL = "Done"  # `press Done` in the sandbox console


def done_custom_id(guild_id: int, day: date, slot: Slot) -> str:
    return f"backrun:done:{guild_id}:{day.isoformat()}:{slot.value}"


def shown_of(message: discord.Message | None) -> Shown | None:
    """The reminder as the presser saw it (its text, and whom it pinged), for the count edit. The
    bot's own messages come with their content without the privileged Message Content intent."""
    if message is None:
        return None
    return Shown(message.channel.id, message.id, message.content, tuple(u.id for u in message.mentions))


class DoneButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"backrun:done:(?P<guild>\d{1,20}):(?P<day>\d{4}-\d{2}-\d{2}):(?P<slot>warmup|cooldown)",
):
    """ "Done" under a reminder: logs its backward parts for the presser, once (services.done)."""

    def __init__(self, guild_id: int, day: date, slot: Slot) -> None:
        super().__init__(
            discord.ui.Button(
                label=DONE_LABEL,
                style=discord.ButtonStyle.success,
                custom_id=done_custom_id(guild_id, day, slot),
            )
        )
        self.guild_id, self.day, self.slot = guild_id, day, slot

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> DoneButton:
        return cls(int(match["guild"]), _day(match["day"]), Slot(match["slot"]))

    async def callback(self, interaction: discord.Interaction[BackrunBot]) -> None:  # type: ignore[override]
        try:
            result = await interaction.client.done.press(
                who_of(interaction), self.guild_id, self.day, self.slot, shown_of(interaction.message)
            )
        except Exception as exc:
            await reply_with_error(interaction, exc)
            return
        view = None
        if result.day_off is None:
            view = discord.ui.View(timeout=None)
            view.add_item(UndoDoneButton(self.day, self.slot, interaction.user.id, self.guild_id))
        await interaction.response.send_message(done_message(result), ephemeral=True, **_view(view))


class UndoDoneButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=(
        r"backrun:undone:(?P<guild>\d{1,20}):(?P<day>\d{4}-\d{2}-\d{2}):(?P<slot>warmup|cooldown)"
        r":(?P<author>\d{1,20})"
    ),
):
    """Undo under a Done's answer: takes back the whole Done (every entry it logged) at once, so
    that Done can be pressed again. At most 76 characters of custom id."""

    def __init__(self, day: date, slot: Slot, author_id: int, guild_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Undo",
                style=discord.ButtonStyle.secondary,
                custom_id=f"backrun:undone:{guild_id}:{day.isoformat()}:{slot.value}:{author_id}",
            )
        )
        self.day, self.slot, self.author_id, self.guild_id = day, slot, author_id, guild_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> UndoDoneButton:
        return cls(_day(match["day"]), Slot(match["slot"]), int(match["author"]), int(match["guild"]))

    async def callback(self, interaction: discord.Interaction[BackrunBot]) -> None:  # type: ignore[override]
        try:
            who = who_of(interaction)
            if who.guild_id != self.guild_id:
                raise InvalidInput("This Undo belongs to another server's Done, so nothing was removed.")
            undone = await interaction.client.done.undo(who, self.day, self.slot, self.author_id)
        except Exception as exc:
            await reply_with_error(interaction, exc)
            return
        await interaction.response.edit_message(content=undone_done_message(undone), view=None)


def _day(text: str) -> date:
    """The day of a custom id; an impossible one (``2026-13-45``, from a forged id) is taken as the
    earliest day, which Done refuses as too old, rather than failing without an answer."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        return date.min


def _view(view: discord.ui.View | None) -> dict[str, Any]:
    return {} if view is None else {"view": view}


def reminder_view(key: str, done: tuple[int, date, Slot] | None = None) -> discord.ui.View:
    """My plan under every reminder; and Done under a real warmup or cooldown (``done``: the team,
    day and slot it logs)."""
    view = discord.ui.View(timeout=None)
    if done is not None:
        view.add_item(DoneButton(*done))
    view.add_item(PlanButton(key))
    return view
