"""Shared fixtures: a migrated database on SQLite and, when configured, on PostgreSQL.

PostgreSQL tests run when ``BACKRUN_TEST_POSTGRES_URL`` is set (``.ci/run`` always sets it) and are
skipped only when it is unset. Every test gets an empty schema brought to ``head`` by Alembic —
the same migrations the bot runs — never by ``create_all``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from backrun_bot.storage.engine import create_engine, make_sessionmaker
from backrun_bot.storage.migrate import upgrade_to_head

POSTGRES_URL = os.environ.get("BACKRUN_TEST_POSTGRES_URL")

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql",
        id="postgresql",
        marks=pytest.mark.skipif(not POSTGRES_URL, reason="BACKRUN_TEST_POSTGRES_URL is not set"),
    ),
]


async def reset_postgres(url: str) -> None:
    """Drop everything in the test database (it belongs to the tests)."""
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()


async def empty_database(backend: str, tmp_path: Path) -> str:
    """The URL of an empty database of ``backend``."""
    if backend == "postgresql":
        assert POSTGRES_URL
        await reset_postgres(POSTGRES_URL)
        return POSTGRES_URL
    return f"sqlite+aiosqlite:///{tmp_path}/backrun.db"


@pytest.fixture(params=BACKENDS)
async def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return await empty_database(request.param, tmp_path)


@pytest.fixture
async def db_url(empty_db_url: str) -> str:
    await upgrade_to_head(empty_db_url)
    return empty_db_url


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(db_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(engine)
