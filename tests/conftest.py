"""Shared fixtures: a migrated database on SQLite and, when configured, on PostgreSQL.

PostgreSQL tests run when ``BACKRUN_TEST_POSTGRES_URL`` is set (``.ci/run`` always sets it) and are
skipped only when it is unset. Every test gets an empty schema brought to ``head`` by Alembic —
the same migrations the bot runs — never by ``create_all``.

Under pytest-xdist (``-n``) every worker has a PostgreSQL database of its own, ``<the configured
one>_gw0``, ``_gw1``…, created when the worker starts and dropped when it ends: each test empties its
database's schema, and advisory locks (the migration and command-sync locks) are per database, so
workers never see each other's rows or locks. Everything else a test writes goes under ``tmp_path``,
which xdist already gives each worker apart, and every server a test starts listens on a port the
system picks (port 0).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from backrun_bot.storage.engine import create_engine, make_sessionmaker
from backrun_bot.storage.migrate import upgrade_to_head


def worker_database_url(url: str | None, worker: str | None) -> str | None:
    """The database this process tests on: ``url`` itself, or under xdist worker ``worker`` its own."""
    if not url or not worker:
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{worker}").render_as_string(hide_password=False)


CONFIGURED_POSTGRES_URL = os.environ.get("BACKRUN_TEST_POSTGRES_URL")
# xdist names each worker in the environment before this module is imported.
POSTGRES_URL = worker_database_url(CONFIGURED_POSTGRES_URL, os.environ.get("PYTEST_XDIST_WORKER"))

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql",
        id="postgresql",
        marks=pytest.mark.skipif(not POSTGRES_URL, reason="BACKRUN_TEST_POSTGRES_URL is not set"),
    ),
]


async def _worker_database(create: bool) -> None:
    """Drop this worker's database (a leftover of a killed run, or at the end), then maybe create it.

    Run on a connection to the configured database, which exists (``CREATE DATABASE`` cannot run in a
    transaction, hence AUTOCOMMIT; ``WITH (FORCE)`` ends a killed run's connections still open)."""
    assert CONFIGURED_POSTGRES_URL and POSTGRES_URL
    name = make_url(POSTGRES_URL).database
    engine = create_async_engine(CONFIGURED_POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            if create:
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()


def pytest_configure(config: pytest.Config) -> None:
    if POSTGRES_URL != CONFIGURED_POSTGRES_URL:
        asyncio.run(_worker_database(create=True))


def pytest_unconfigure(config: pytest.Config) -> None:
    if POSTGRES_URL != CONFIGURED_POSTGRES_URL:
        asyncio.run(_worker_database(create=False))


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
