"""Deleting an entry says whether this call removed it, so that of two undos that both read the
entry only one reports it removed (on SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backrun_bot.storage import queries
from backrun_bot.storage.models import RunSession

Sessions = async_sessionmaker[AsyncSession]


async def one_entry(sm: Sessions) -> int:
    async with sm.begin() as s:
        athlete = await queries.get_or_create_athlete(s, 1, 5, "Alice")
        return await queries.add_entry(
            s,
            athlete_id=athlete.id,
            team_id=athlete.team_id,
            kind="backward",
            is_backward=True,
            meters=400,
            seconds=None,
            effective_meters=400,
            amount_text="400m",
            note=None,
            day=date(2026, 3, 8),
            logged_at=datetime(2026, 3, 8, 15, tzinfo=UTC),
        )


async def read(s: AsyncSession, entry_id: int) -> RunSession:
    row = await queries.get_run_session(s, 1, entry_id)
    assert row is not None
    return row


async def test_the_second_of_two_deletes_of_one_entry_deletes_nothing(sessionmaker: Sessions) -> None:
    entry_id = await one_entry(sessionmaker)
    async with sessionmaker() as first, sessionmaker() as second:
        # Both read the entry before either deletes it.
        rows = await read(first, entry_id), await read(second, entry_id)
        assert await queries.delete_run_session(first, rows[0]) is True
        await first.commit()
        assert await queries.delete_run_session(second, rows[1]) is False
        await second.commit()
    async with sessionmaker() as s:
        assert await queries.get_run_session(s, 1, entry_id) is None


async def test_two_deletes_at_once_remove_one_row_and_one_reports_it(sessionmaker: Sessions) -> None:
    entry_id = await one_entry(sessionmaker)
    both_read = asyncio.Barrier(2)

    async def undo() -> bool:
        async with sessionmaker.begin() as s:
            row = await read(s, entry_id)
            await both_read.wait()
            return await queries.delete_run_session(s, row)

    assert sorted(await asyncio.gather(undo(), undo())) == [False, True]
