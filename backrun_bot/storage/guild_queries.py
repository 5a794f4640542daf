"""A server's life with the bot: when it was removed (``teams.removed_at``), the deletion of its data
once it has been gone long enough, and the welcome it gets once ever (``guild_welcomes``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backrun_bot.storage.dialect import insert
from backrun_bot.storage.models import Athlete, GuildWelcome, ReminderDelivery, RunSession, Team

PURGE_BATCH = 10_000


async def mark_removed(s: AsyncSession, guild_id: int, at: datetime) -> bool:
    """Record that the bot was removed from the server at ``at`` (the first removal counts: a second
    GUILD_DELETE, from another process of the same shard, changes nothing). False if the server has
    no team (nothing of it is kept) or was already marked."""
    gone = await s.execute(
        update(Team).where(Team.id == guild_id, Team.removed_at.is_(None)).values(removed_at=at)
    )
    return bool(gone.rowcount)  # type: ignore[attr-defined]


async def mark_back(s: AsyncSession, guild_ids: Iterable[int]) -> list[int]:
    """Clear the removal of those of ``guild_ids`` that were marked removed: the bot is in them
    again. Reads the few removed teams by their partial index, whatever the number of servers."""
    wanted = set(guild_ids)
    removed = await s.scalars(select(Team.id).where(Team.removed_at.is_not(None)))
    back = sorted(t for t in removed if t in wanted)
    if back:
        await s.execute(update(Team).where(Team.id.in_(back)).values(removed_at=None))
    return back


async def removed_before(s: AsyncSession, before: datetime) -> list[int]:
    """The teams whose server removed the bot before ``before`` (the partial index on removed_at)."""
    return list(
        await s.scalars(
            select(Team.id).where(Team.removed_at.is_not(None), Team.removed_at < before).order_by(Team.id)
        )
    )


async def delete_team(s: AsyncSession, team_id: int, before: datetime, *, batch: int = PURGE_BATCH) -> bool:
    """Delete the team and everything of it, if its server removed the bot before ``before``; False
    if it did not (or the bot was added back meanwhile: then nothing more is deleted).

    Entries go first, ``batch`` per statement and transaction (a team can have half a million, and
    one long transaction would hold SQLite's write lock, and every /log, for seconds); then the
    reminder ledger and the athletes (whose rest days follow by cascade); then the team, whose
    cascade takes whatever is left. Each statement repeats the condition, so a server that adds the
    bot back while its data is being deleted keeps what is left of it."""
    still_gone = exists().where(Team.id == team_id, Team.removed_at.is_not(None), Team.removed_at < before)
    while True:
        ids = select(RunSession.id).where(RunSession.team_id == team_id).limit(batch).scalar_subquery()
        gone = await s.execute(delete(RunSession).where(RunSession.id.in_(ids), still_gone))
        await s.commit()
        if gone.rowcount < batch:  # type: ignore[attr-defined]
            break
    await s.execute(delete(ReminderDelivery).where(ReminderDelivery.team_id == team_id, still_gone))
    await s.execute(delete(Athlete).where(Athlete.team_id == team_id, still_gone))
    team = await s.execute(
        delete(Team).where(Team.id == team_id, Team.removed_at.is_not(None), Team.removed_at < before)
    )
    await s.commit()
    return bool(team.rowcount)  # type: ignore[attr-defined]


async def claim_welcome(s: AsyncSession, guild_id: int, at: datetime) -> bool:
    """Record the server as welcomed, if nobody did before: True for the one caller that inserted
    the row (two processes of one shard both see the join; only one may send the welcome)."""
    claimed = await s.scalar(
        insert(s, GuildWelcome)
        .values(guild_id=guild_id, welcomed_at=at)
        .on_conflict_do_nothing()
        .returning(GuildWelcome.guild_id)
    )
    return claimed is not None


async def release_welcome(s: AsyncSession, guild_id: int) -> None:
    """Forget a claimed welcome that certainly did not go out (Discord refused it), so that a later
    join may try again."""
    await s.execute(delete(GuildWelcome).where(GuildWelcome.guild_id == guild_id))
