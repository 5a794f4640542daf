"""A member's or a team's data as a whole: the export's reads and the deletion of an athlete.

The export streams: rows come in batches from a server-side cursor (PostgreSQL) or a stepped
statement (SQLite), so a team of 550,000 entries is never one list in memory. The member column
comes from one read of the team's athletes, not a join repeated on every row.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Row, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backrun_bot.storage.models import Athlete, RunSession

EXPORT_BATCH = 5000

EntryRow = Row[int, int, date, str, str, float | None, float | None, float, str | None, int | None]


@dataclass(frozen=True, slots=True)
class Member:
    user_id: int
    display_name: str


async def athlete_id(s: AsyncSession, guild_id: int, user_id: int) -> int | None:
    """The member's athlete id in this server (the (team, user) unique index), if they have one."""
    found: int | None = await s.scalar(
        select(Athlete.id).where(Athlete.team_id == guild_id, Athlete.user_id == user_id)
    )
    return found


async def members(s: AsyncSession, guild_id: int) -> dict[int, Member]:
    """Every athlete of the team by athlete id, with the display name last seen."""
    rows = await s.execute(
        select(Athlete.id, Athlete.user_id, Athlete.display_name).where(Athlete.team_id == guild_id)
    )
    return {a: Member(u, name) for a, u, name in rows}


async def entry_count(s: AsyncSession, athlete: int) -> int:
    """How many entries the athlete has (their own index)."""
    return int(await s.scalar(select(func.count()).where(RunSession.athlete_id == athlete)) or 0)


async def stream_entries(
    s: AsyncSession, guild_id: int, *, athlete: int | None = None, batch: int = EXPORT_BATCH
) -> AsyncIterator[Sequence[EntryRow]]:
    """The team's entries (or one athlete's), oldest day first and by id within a day, ``batch`` at
    a time: (id, athlete id, day, kind, amount as typed, meters, seconds, counted meters, note, rpe).

    A team's are read along its (team_id, day) index, an athlete's along their (athlete_id, day)
    index: no sort of the whole table, only of each day's few rows by id.
    """
    query = select(
        RunSession.id,
        RunSession.athlete_id,
        RunSession.day,
        RunSession.kind,
        RunSession.amount_text,
        RunSession.meters,
        RunSession.seconds,
        RunSession.effective_meters,
        RunSession.note,
        RunSession.rpe,
    )
    if athlete is None:
        query = query.where(RunSession.team_id == guild_id)
    else:
        query = query.where(RunSession.athlete_id == athlete, RunSession.team_id == guild_id)
    query = query.order_by(RunSession.day, RunSession.id).execution_options(yield_per=batch)
    # On the session's connection, without the ORM: plain rows (the ORM's loading of 550,000 rows
    # of columns cost as much as reading them).
    connection = await s.connection()
    result = await connection.stream(query)
    async for partition in result.partitions(batch):
        yield partition


async def delete_athlete(s: AsyncSession, athlete: int) -> int:
    """Delete the athlete and, by the foreign keys' cascades, their entries and rest days; returns
    how many entries went. The entries are deleted first, by their own index, so that their number
    is the DELETE's own count (a cascade reports none)."""
    gone = await s.execute(delete(RunSession).where(RunSession.athlete_id == athlete))
    await s.execute(delete(Athlete).where(Athlete.id == athlete))
    return int(gone.rowcount)  # type: ignore[attr-defined]
