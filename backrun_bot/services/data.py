"""A member's data as a whole (issue 10): ``/export`` and ``/forget-me``.

The export is one read streamed into the file (``domain/export.py`` says what is in it and how it
fits Discord's attachment limit); formatting and compressing each batch runs in a worker thread, so
a team's half a million rows never hold the event loop for more than a batch's hand-over.

``/forget-me`` deletes the member's athlete record in this server and, with it, every entry and
rest day of theirs (``storage/data_queries.delete_athlete``); other servers are not touched.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backrun_bot.domain.export import ATTACHMENT_LIMIT, ExportFile, ExportRow, ExportWriter
from backrun_bot.errors import BackrunError, NotFound
from backrun_bot.services.common import Clock, Who, utc_now
from backrun_bot.storage import data_queries as dq

log = logging.getLogger(__name__)

NOTHING_TO_EXPORT = "You have no entries in this server yet, so there is nothing to export."
NOTHING_OF_THE_TEAM = "Nobody has logged anything in this server yet, so there is nothing to export."
NOTHING_TO_FORGET = "Backrun keeps nothing of yours in this server: there is nothing to delete."


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"


class ExportTooLarge(BackrunError):
    """Even compressed, the file is over Discord's attachment limit."""

    def __init__(self, file: ExportFile) -> None:
        super().__init__(
            f"The export of {file.rows:,} entries is {_megabytes(file.csv_bytes)} of CSV and still "
            f"{_megabytes(len(file.data))} compressed, over Discord's {_megabytes(file.limit)} "
            "limit for a file, so it was not sent."
        )


@dataclass(frozen=True, slots=True)
class Export:
    file: ExportFile
    filename: str
    team: bool  # the whole team's (a coach's), with the member columns
    members: int  # how many members the file has entries of


class DataService:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        clock: Clock = utc_now,
        limit: int = ATTACHMENT_LIMIT,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._clock = clock
        self._limit = limit

    async def export(self, who: Who, *, team: bool) -> Export:
        """The caller's entries in this server, or with ``team`` (the caller is a coach: the adapter
        asked) every entry of the team with who logged it. Refused when there is nothing to export,
        and with :class:`ExportTooLarge` when even the compressed file would not fit."""
        writer = ExportWriter(team=team, limit=self._limit)
        seen: set[int] = set()
        async with self._sessionmaker() as s:
            names: dict[int, dq.Member] = {}
            athlete = None
            if team:
                names = await dq.members(s, who.guild_id)
            else:
                athlete = await dq.athlete_id(s, who.guild_id, who.user_id)
                if athlete is None:
                    raise NotFound(NOTHING_TO_EXPORT)
            async for batch in dq.stream_entries(s, who.guild_id, athlete=athlete):
                rows = []
                for entry_id, athlete_id, day, kind, amount, meters, seconds, counted, note in batch:
                    member = names.get(athlete_id)
                    seen.add(athlete_id)
                    rows.append(
                        ExportRow(
                            entry_id,
                            day,
                            kind,
                            amount,
                            meters,
                            seconds,
                            counted,
                            note,
                            member=None if member is None else member.display_name,
                            member_id=None if member is None else member.user_id,
                        )
                    )
                await asyncio.to_thread(writer.write, rows)
        file = await asyncio.to_thread(writer.finish)
        if not file.rows:
            raise NotFound(NOTHING_OF_THE_TEAM if team else NOTHING_TO_EXPORT)
        if not file.fits:
            raise ExportTooLarge(file)
        stamp = self._clock().date().isoformat()
        name = f"backrun-team-{who.guild_id}-{stamp}.csv" if team else f"backrun-entries-{stamp}.csv"
        if file.gzipped:
            name += ".gz"
        log.info(
            "guild %s user %s exported %d entries%s (%d bytes%s)",
            who.guild_id,
            who.user_id,
            file.rows,
            " of the team" if team else "",
            len(file.data),
            ", gzipped" if file.gzipped else "",
        )
        return Export(file, name, team, len(seen))

    async def entries_to_forget(self, who: Who) -> int:
        """How many entries ``/forget-me`` would delete; refused if the member has no record here."""
        async with self._sessionmaker() as s:
            athlete = await dq.athlete_id(s, who.guild_id, who.user_id)
            if athlete is None:
                raise NotFound(NOTHING_TO_FORGET)
            return await dq.entry_count(s, athlete)

    async def forget(self, who: Who) -> int:
        """Delete the member's athlete record here, with every entry and rest day of theirs; how
        many entries went. Refused if there is nothing (a second press, say)."""
        async with self._sessionmaker.begin() as s:
            athlete = await dq.athlete_id(s, who.guild_id, who.user_id)
            if athlete is None:
                raise NotFound(NOTHING_TO_FORGET)
            removed = await dq.delete_athlete(s, athlete)
        log.info("guild %s user %s: forgot the athlete and %d entries", who.guild_id, who.user_id, removed)
        return removed
