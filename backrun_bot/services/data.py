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
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backrun_bot.domain.export import (
    ATTACHMENT_LIMIT,
    CHECK_EVERY,
    MAX_PARTS,
    ExportFile,
    ExportRow,
    ExportWriter,
)
from backrun_bot.errors import BackrunError, NotFound
from backrun_bot.services.common import Clock, Who, utc_now
from backrun_bot.storage import data_queries as dq

log = logging.getLogger(__name__)

NOTHING_TO_EXPORT = "You have no entries in this server yet, so there is nothing to export."
NOTHING_OF_THE_TEAM = "Nobody has logged anything in this server yet, so there is nothing to export."
NOTHING_TO_FORGET = "Backrun keeps nothing of yours in this server: there is nothing to delete."


def _megabytes(size: int) -> str:
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB"


class ExportTooLarge(BackrunError):
    """Even compressed and in parts, the file does not fit Discord's attachment limit."""

    def __init__(self, file: ExportFile) -> None:
        super().__init__(
            f"The export of {file.rows:,} entries is {_megabytes(file.csv_bytes)} of CSV and still "
            f"{_megabytes(file.size)} compressed, more than {MAX_PARTS} messages of Discord's "
            f"{_megabytes(file.limit)} each, so it was not sent."
        )


@dataclass(frozen=True, slots=True)
class Export:
    file: ExportFile
    filenames: tuple[str, ...]  # one per part of the file
    team: bool  # the whole team's (a coach's), with the member columns
    members: int  # how many members the file has entries of


class DataService:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        clock: Clock = utc_now,
        limit: int = ATTACHMENT_LIMIT,
        check_every: int = CHECK_EVERY,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._clock = clock
        # Discord's limit, and how often the file's size is looked at (tests shrink both).
        self._limit = limit
        self._check_every = check_every

    async def export(self, who: Who, *, team: bool) -> Export:
        """The caller's entries in this server, or with ``team`` (the caller is a coach: the adapter
        asked) every entry of the team with who logged it. Refused when there is nothing to export,
        and with :class:`ExportTooLarge` when even the compressed file would not fit."""
        writer = ExportWriter(team=team, limit=self._limit, check_every=self._check_every)
        seen: set[int] = set()
        names: dict[int, dq.Member] = {}

        def write(batch: Sequence[dq.EntryRow]) -> None:
            rows = []
            for entry_id, athlete_id, day, kind, amount, meters, seconds, counted, note, rpe in batch:
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
                        rpe=rpe,
                        member=None if member is None else member.display_name,
                        member_id=None if member is None else member.user_id,
                    )
                )
            writer.write(rows)

        async with self._sessionmaker() as s:
            athlete = None
            if team:
                names.update(await dq.members(s, who.guild_id))
            else:
                athlete = await dq.athlete_id(s, who.guild_id, who.user_id)
                if athlete is None:
                    raise NotFound(NOTHING_TO_EXPORT)
            # Each batch is formatted in a worker thread while the next one is read.
            formatting: asyncio.Future[None] | None = None
            try:
                async for batch in dq.stream_entries(s, who.guild_id, athlete=athlete):
                    if formatting is not None:
                        await formatting
                    formatting = asyncio.ensure_future(asyncio.to_thread(write, batch))
            finally:
                if formatting is not None:
                    await formatting
        file = await asyncio.to_thread(writer.finish)
        if not file.rows:
            raise NotFound(NOTHING_OF_THE_TEAM if team else NOTHING_TO_EXPORT)
        if not file.fits:
            raise ExportTooLarge(file)
        stamp = self._clock().date().isoformat()
        stem = f"backrun-team-{who.guild_id}-{stamp}" if team else f"backrun-entries-{stamp}"
        suffix = ".csv.gz" if file.gzipped else ".csv"
        count = len(file.parts)
        filenames = tuple(
            stem + (f"-part{n}-of-{count}" if count > 1 else "") + suffix for n in range(1, count + 1)
        )
        log.info(
            "guild %s user %s exported %d entries%s (%d bytes in %d parts%s)",
            who.guild_id,
            who.user_id,
            file.rows,
            " of the team" if team else "",
            file.size,
            count,
            ", gzipped" if file.gzipped else "",
        )
        return Export(file, filenames, team, len(seen))

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
