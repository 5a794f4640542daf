"""The database as the tests see it: every row of every table, for "nothing changed" (a snapshot
before and after) and "nothing of X is left". Given a sessionmaker, or a sandbox (its running bot's)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backrun_bot.sandbox.harness import Sandbox
from backrun_bot.storage.models import Base

Snapshot = dict[str, list[tuple[Any, ...]]]
Source = Sandbox | async_sessionmaker[AsyncSession]


def _sessions(source: Source) -> async_sessionmaker[AsyncSession]:
    if isinstance(source, Sandbox):
        assert source.bot is not None, "the bot is not running"
        return source.bot.sessionmaker
    return source


async def snapshot(source: Source) -> Snapshot:
    """Every row of every table (the models' tables, as the migrations made them), in key order."""
    out: Snapshot = {}
    async with _sessions(source)() as s:
        for table in Base.metadata.sorted_tables:
            order = list(table.primary_key.columns)
            rows = await s.execute(select(table).order_by(*order))
            out[table.name] = [tuple(row) for row in rows]
    return out


def references(table: Table, target: str) -> list[str]:
    """The columns of ``table`` with a foreign key to ``target`` ("athletes.id", "teams.id")."""
    return [c.name for c in table.columns if any(fk.target_fullname == target for fk in c.foreign_keys)]


async def rows_of(source: Source, *, athlete_id: int | None = None, team_id: int | None = None) -> Snapshot:
    """Every row, in any table, that belongs to the athlete or the team: the row itself (athletes.id,
    teams.id), every row whose foreign key points at it, and for an athlete the rows keyed by it
    under another name. Empty lists only, when it is gone without a trace."""
    out: Snapshot = {}
    async with _sessions(source)() as s:
        for table in Base.metadata.sorted_tables:
            conditions = []
            if athlete_id is not None:
                columns = references(table, "athletes.id") + (["id"] if table.name == "athletes" else [])
                conditions += [table.c[c] == athlete_id for c in columns]
            if team_id is not None:
                columns = references(table, "teams.id") + (["id"] if table.name == "teams" else [])
                conditions += [table.c[c] == team_id for c in columns]
            found: list[tuple[Any, ...]] = []
            for condition in conditions:
                found += [tuple(r) for r in await s.execute(select(table).where(condition))]
            out[table.name] = found
    return out


def nothing_left(rows: Snapshot) -> bool:
    return all(not found for found in rows.values())
