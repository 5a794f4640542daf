"""Who counts as a coach, asked of every call (issue 10).

Coach commands are visible to everyone (``/team`` has no ``default_member_permissions``, since a
coach need not have Manage Server), so each one calls :func:`require_coach` first; a refusal is
:class:`~backrun_bot.errors.NotAllowed`, answered ephemerally by the one error handler.
"""

from __future__ import annotations

import discord

from backrun_bot.discord_app.bot import BackrunBot
from backrun_bot.services.teams import Caller, caller_of


def caller(interaction: discord.Interaction[BackrunBot]) -> Caller:
    """The member's Manage Server (as Discord resolved it for this interaction) and role ids."""
    assert interaction.guild_id is not None  # coach commands are guild-only
    user = interaction.user
    roles = [role.id for role in user.roles] if isinstance(user, discord.Member) else []
    return caller_of(interaction.guild_id, interaction.permissions.manage_guild, roles)


async def require_coach(interaction: discord.Interaction[BackrunBot]) -> None:
    await interaction.client.teams.require_coach(caller(interaction))


async def is_coach(interaction: discord.Interaction[BackrunBot]) -> bool:
    return await interaction.client.teams.is_coach(caller(interaction))
