"""A team's own settings outside reminders (issue 10): who its coaches are, and how it shows
distances.

Coaches are everyone with Manage Server plus the members of one role a server admin names with
``/team coach-role``. Whether the caller has Manage Server or the role is Discord's to say (the
adapter passes what the interaction carries); which role it is, is the team's, stored here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backrun_bot.domain.amounts import Units
from backrun_bot.errors import InvalidInput, NotAllowed
from backrun_bot.services.common import Clock, utc_now
from backrun_bot.storage import queries
from backrun_bot.storage.models import Team

NOT_A_COACH = "Only coaches can use this: members with Manage Server or the team's coach role."
EVERYONE_AS_COACH = (
    "@everyone can't be the coach role: every member would be a coach. Pick a role only coaches have."
)


@dataclass(frozen=True, slots=True)
class Caller:
    """What Discord says of the member using a coach command: Manage Server, and their roles."""

    guild_id: int
    manage_guild: bool
    role_ids: frozenset[int]


class TeamService:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], *, clock: Clock = utc_now) -> None:
        self._sessionmaker = sessionmaker
        self._clock = clock

    async def coach_role(self, guild_id: int) -> int | None:
        """The role whose members are coaches, if one was named."""
        async with self._sessionmaker() as s:
            return await s.scalar(select(Team.coach_role_id).where(Team.id == guild_id))

    async def set_coach_role(self, guild_id: int, role_id: int) -> None:
        """Name the coach role. @everyone is refused (its role id is the server's id): it would
        make every member a coach."""
        if role_id == guild_id:
            raise InvalidInput(EVERYONE_AS_COACH)
        async with self._sessionmaker.begin() as s:
            await queries.get_or_create_team(s, guild_id)
            await s.execute(update(Team).where(Team.id == guild_id).values(coach_role_id=role_id))

    async def set_units(self, guild_id: int, units: Units) -> None:
        """How the team's distances are shown from now on, everywhere (input takes both)."""
        async with self._sessionmaker.begin() as s:
            await queries.get_or_create_team(s, guild_id)
            await s.execute(update(Team).where(Team.id == guild_id).values(units=units.value))

    async def is_coach(self, caller: Caller) -> bool:
        """Manage Server always counts; otherwise the team's coach role, read now (on every call:
        a role named or a member's roles changed a minute ago count at once)."""
        if caller.manage_guild:
            return True
        role = await self.coach_role(caller.guild_id)
        return role is not None and role in caller.role_ids

    async def require_coach(self, caller: Caller) -> None:
        """Raise :class:`NotAllowed` (the one error handler's reply) unless ``caller`` is a coach."""
        if not await self.is_coach(caller):
            raise NotAllowed(NOT_A_COACH)


def caller_of(guild_id: int, manage_guild: bool, role_ids: Iterable[int]) -> Caller:
    return Caller(guild_id, manage_guild, frozenset(role_ids))
