"""The welcome a server gets when it adds the bot: once per server, ever (issue 10).

The claim is a row in ``guild_welcomes``, inserted before the message is sent and only if none is
there: a second join (months later), a restart, or two processes of one shard seeing the same join
find it and send nothing. A welcome Discord certainly refused (the channel forbidden after all) is
released, so that a later join may try again; one whose fate is unknown (a 5xx, a broken
connection) is kept as sent, since a second welcome is worse than none.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backrun_bot.services.common import Clock, utc_now
from backrun_bot.storage import guild_queries as gq


class WelcomeService:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], *, clock: Clock = utc_now) -> None:
        self._sessionmaker = sessionmaker
        self._clock = clock

    async def claim(self, guild_id: int) -> bool:
        """True for the one caller that may send the server's welcome (nobody did before)."""
        async with self._sessionmaker.begin() as s:
            return await gq.claim_welcome(s, guild_id, self._clock())

    async def release(self, guild_id: int) -> None:
        """The welcome did not go out: a later join may send it."""
        async with self._sessionmaker.begin() as s:
            await gq.release_welcome(s, guild_id)
