"""What happens to a server's data when the bot leaves it (issue 10): kept ``RETENTION_DAYS``, then
deleted.

* **Removed**: Discord's GUILD_DELETE without ``unavailable`` (the bot was kicked, or the server
  deleted) stamps ``teams.removed_at``. A GUILD_DELETE *with* ``unavailable: true`` is an outage on
  Discord's side, not a removal, and the adapter never calls :meth:`RetentionService.removed` for it.
* **Back**: a join (GUILD_CREATE of a new guild) clears the stamp, and so does every READY for the
  servers it lists (a server that added the bot back while it was offline sends no join): their
  data is as they left it, settings and all.
* **Deleted**: the daily job (03:17 UTC, with the reminder ledger's pruning) deletes every team of
  this process's shards removed more than ``RETENTION_DAYS`` ago, and by cascade everything of it:
  athletes, entries, rest days, the reminder ledger. The server's welcome record stays
  (``GuildWelcome``): it holds no member's data, and without it a server that adds the bot back a
  year later would be welcomed a second time.

Each process purges only its own shards' servers (``SHARD_IDS``), so two processes never delete the
same team at once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backrun_bot.domain.shards import ShardSet
from backrun_bot.services.common import Clock, utc_now
from backrun_bot.storage import guild_queries as gq

log = logging.getLogger(__name__)

DEFAULT_RETENTION_DAYS = 30


class RetentionService:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        clock: Clock = utc_now,
        days: int = DEFAULT_RETENTION_DAYS,
        shards: ShardSet | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._clock = clock
        self.kept = timedelta(days=days)
        self._shards = shards or ShardSet.every()

    async def removed(self, guild_id: int) -> bool:
        """The bot was removed from the server now; whether a team's data is now counting down."""
        async with self._sessionmaker.begin() as s:
            marked = await gq.mark_removed(s, guild_id, self._clock())
        if marked:
            log.info("removed from guild %s: its data is kept until %s", guild_id, self._clock() + self.kept)
        return marked

    async def back(self, guild_ids: Iterable[int]) -> list[int]:
        """The bot is in these servers (a join, or READY's list): those marked removed are not any
        more. Returns them."""
        async with self._sessionmaker.begin() as s:
            back = await gq.mark_back(s, guild_ids)
        for guild_id in back:
            log.info("back in guild %s: its data is kept", guild_id)
        return back

    async def purge(self) -> int:
        """Delete the teams of this process's servers that removed the bot more than the retention
        ago, and everything of them; how many teams went."""
        before = self._clock() - self.kept
        async with self._sessionmaker() as s:
            expired = [t for t in await gq.removed_before(s, before) if self._shards.owns(t)]
            deleted = [t for t in expired if await gq.delete_team(s, t, before)]
        if deleted:
            log.info(
                "deleted the data of %d servers removed before %s: %s",
                len(deleted),
                before.date(),
                ", ".join(map(str, deleted)),
            )
        return len(deleted)
