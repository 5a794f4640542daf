"""Alembic from code: the bot upgrades to head at start; tests go up and down with it.

Several bot processes may start together on one PostgreSQL database (``SHARD_IDS``). Two Alembic
runs at once would both find the schema old and both create it, and one would fail on the other's
tables; so on PostgreSQL every run holds an advisory lock (:data:`MIGRATION_LOCK`) for its whole
length: the first process migrates, the others wait, then find the database at head and do nothing.
:func:`startup_lock` is the same mechanism for other once-per-start work (the command sync).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from backrun_bot.storage.engine import create_engine

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
# PostgreSQL advisory lock keys: any bigint will do; these are the first 8 bytes (big-endian, signed)
# of sha256("backrun:migrate") and sha256("backrun:command-sync"), so another application's locks on
# the same server are unlikely to meet them. Fixed for good: processes of two versions must agree.
MIGRATION_LOCK = 0x2AA5_D717_1F9F_F432
COMMAND_SYNC_LOCK = 0x64CE_69B4_D16E_B1D6


@contextlib.asynccontextmanager
async def startup_lock(url: str, key: int, *, waiting: str) -> AsyncIterator[None]:
    """Hold PostgreSQL advisory lock ``key`` for the body: one process at a time, across every process
    on the database. ``waiting`` is logged when another process has it (what this one waits for).

    The lock lives on a connection of its own (no statement time limit: waiting for another
    process's migration may rightly take a while) and is released on the way out; if this process
    dies, the server drops the connection and the lock with it. On SQLite it does nothing: SQLite is
    for a single process.
    """
    if make_url(url).get_backend_name() != "postgresql":
        yield
        return
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            got = await conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": key})
            if not got:
                log.info("%s", waiting)
                await conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
            await conn.commit()  # the lock is the session's, not the transaction's: nothing held open
            try:
                yield
            finally:
                # A connection lost meanwhile took the lock with it; closing it (dispose) releases
                # it in any case.
                with contextlib.suppress(Exception):
                    await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                    await conn.commit()
    finally:
        await engine.dispose()


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Stored as an attribute, not a main option: ConfigParser would mangle "%" in passwords.
    config.attributes["database_url"] = url
    return config


async def _run(url: str, fn: str, revision: str) -> None:
    async with startup_lock(
        url, MIGRATION_LOCK, waiting="another process is migrating the database; waiting"
    ):
        engine = create_engine(url, foreign_keys=False)
        try:
            async with engine.begin() as conn:

                def go(sync_conn: object) -> None:
                    config = alembic_config(url)
                    config.attributes["connection"] = sync_conn
                    getattr(command, fn)(config, revision)

                await conn.run_sync(go)
        finally:
            await engine.dispose()


async def upgrade_to_head(url: str) -> None:
    await _run(url, "upgrade", "head")


async def upgrade_to(url: str, revision: str) -> None:
    await _run(url, "upgrade", revision)


async def downgrade_to(url: str, revision: str) -> None:
    await _run(url, "downgrade", revision)


async def current_revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:

            def get(sync_conn: object) -> str | None:
                return MigrationContext.configure(sync_conn).get_current_revision()  # type: ignore[arg-type]

            return await conn.run_sync(get)
    finally:
        await engine.dispose()


__all__ = [
    "COMMAND_SYNC_LOCK",
    "MIGRATION_LOCK",
    "AsyncConnection",
    "current_revision",
    "downgrade_to",
    "startup_lock",
    "upgrade_to",
    "upgrade_to_head",
]
