"""Alembic from code: the bot upgrades to head at start; tests go up and down with it."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncConnection

from backrun_bot.storage.engine import create_engine

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Stored as an attribute, not a main option: ConfigParser would mangle "%" in passwords.
    config.attributes["database_url"] = url
    return config


async def _run(url: str, fn: str, revision: str) -> None:
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


__all__ = ["AsyncConnection", "current_revision", "downgrade_to", "upgrade_to", "upgrade_to_head"]
