"""Migrations run once when several processes start together on one PostgreSQL database: each run
holds an advisory lock, the others wait for it and then find the schema at head. Released after,
failed runs included. (SQLite is single-process: there the lock does nothing; the ordinary
migration tests cover that path.)"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from backrun_bot.storage.engine import create_engine
from backrun_bot.storage.migrate import (
    COMMAND_SYNC_LOCK,
    MIGRATION_LOCK,
    current_revision,
    downgrade_to,
    startup_lock,
    upgrade_to_head,
)
from tests.conftest import POSTGRES_URL, reset_postgres
from tests.storage.test_migrations import HEAD, TABLES, tables

needs_postgres = pytest.mark.skipif(not POSTGRES_URL, reason="BACKRUN_TEST_POSTGRES_URL is not set")


@pytest.fixture
async def url() -> str:
    assert POSTGRES_URL
    await reset_postgres(POSTGRES_URL)
    return POSTGRES_URL


@pytest.fixture
async def other_process(url: str) -> AsyncIterator[AsyncConnection]:
    """A connection of "another process", to hold or probe the locks."""
    engine = create_engine(url)
    async with engine.connect() as conn:
        yield conn
    await engine.dispose()


async def try_lock(conn: AsyncConnection, key: int) -> bool:
    """Whether ``key`` is free (taken and given back at once if so)."""
    got = bool(await conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}))
    if got:
        await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
    await conn.commit()
    return got


async def waiters(conn: AsyncConnection, key: int) -> int:
    """Sessions waiting for advisory lock ``key`` in this database."""
    count = await conn.scalar(
        text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND classid = :hi AND objid = :lo AND objsubid = 1"
        ),
        {"hi": (key >> 32) & 0xFFFFFFFF, "lo": key & 0xFFFFFFFF},
    )
    await conn.commit()
    return int(count or 0)


@needs_postgres
async def test_a_migration_waits_while_another_process_migrates(
    url: str, other_process: AsyncConnection
) -> None:
    await other_process.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
    await other_process.commit()
    upgrade = asyncio.create_task(upgrade_to_head(url))
    try:
        async with asyncio.timeout(10):
            while await waiters(other_process, MIGRATION_LOCK) == 0:
                assert not upgrade.done(), "the migration ran without waiting for the lock"
                await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        assert not upgrade.done()
        assert await tables(url) == set()  # nothing touched while the other one "migrates"
    finally:
        await other_process.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
        await other_process.commit()
    async with asyncio.timeout(30):
        await upgrade
    assert await current_revision(url) == HEAD


@needs_postgres
async def test_processes_starting_together_migrate_once_without_errors(
    url: str, other_process: AsyncConnection
) -> None:
    # Four "processes" (engines of their own) upgrade a fresh database at the same moment. Without
    # the lock, the losers fail creating tables the winner created (a unique violation in pg_type).
    await asyncio.gather(*(upgrade_to_head(url) for _ in range(4)))
    assert await current_revision(url) == HEAD
    assert await tables(url) == TABLES
    assert await try_lock(other_process, MIGRATION_LOCK)  # released after


@needs_postgres
async def test_the_lock_is_released_after_a_failed_migration(
    url: str, other_process: AsyncConnection
) -> None:
    await upgrade_to_head(url)
    with pytest.raises(Exception, match="no-such-revision"):
        await downgrade_to(url, "no-such-revision")
    assert await try_lock(other_process, MIGRATION_LOCK)
    await upgrade_to_head(url)  # and the next start is not stuck behind it
    assert await current_revision(url) == HEAD


@needs_postgres
async def test_startup_lock_lets_one_body_run_at_a_time(url: str, other_process: AsyncConnection) -> None:
    inside: list[str] = []
    overlap: list[bool] = []

    async def body(name: str) -> None:
        async with startup_lock(url, COMMAND_SYNC_LOCK, waiting=f"{name} waits"):
            overlap.append(bool(inside))
            inside.append(name)
            assert not await try_lock(other_process, COMMAND_SYNC_LOCK)  # held, for everyone else
            await asyncio.sleep(0.2)
            inside.remove(name)

    await asyncio.gather(body("a"), body("b"), body("c"))
    assert overlap == [False, False, False]
    assert await try_lock(other_process, COMMAND_SYNC_LOCK)
    assert await try_lock(other_process, MIGRATION_LOCK)  # a lock of its own, not the migrations'


async def test_startup_lock_asks_nothing_of_sqlite(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/backrun.db"
    # SQLite has no advisory locks (pg_try_advisory_lock would fail there), and is single-process.
    async with startup_lock(url, MIGRATION_LOCK, waiting=""):
        await upgrade_to_head(url)
    assert await current_revision(url) == HEAD
