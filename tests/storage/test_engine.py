"""The engine's time limits, on SQLite and PostgreSQL: a database that does not answer becomes
:class:`StorageUnavailable` within the limit, a real error stays itself, and the engine recovers.

PostgreSQL faults are made for real: ``pg_terminate_backend`` on the engine's connections (found by
their ``application_name``), a statement that outlasts ``statement_timeout``, and a TCP proxy
(``tcp_proxy.py``) that stalls or cuts the connection as a network would.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

from backrun_bot.errors import StorageUnavailable
from backrun_bot.storage.engine import (
    APPLICATION_NAME,
    CLIENT_MARGIN,
    DatabaseTimeouts,
    create_engine,
    is_unavailable,
    single_statement,
)
from tests.conftest import POSTGRES_URL, empty_database
from tests.storage.tcp_proxy import start_proxy

pytestmark = pytest.mark.timeout(60)

needs_postgres = pytest.mark.skipif(not POSTGRES_URL, reason="BACKRUN_TEST_POSTGRES_URL is not set")
FAST = DatabaseTimeouts(connect=1.0, statement=0.5, pool=0.3)


TERMINATE = text(
    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
    "WHERE application_name = :name AND datname = current_database() AND pid <> pg_backend_pid()"
)


async def terminate(url: str, application_name: str = APPLICATION_NAME) -> int:
    """Terminate this database's connections named ``application_name``; how many there were. (The
    terminating connection itself is unnamed.)"""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(TERMINATE, {"name": application_name})).scalar_one())
    finally:
        await engine.dispose()


@contextlib.contextmanager
def sqlite_write_lock(url: str) -> Iterator[None]:
    """Another connection holds SQLite's write lock (``BEGIN IMMEDIATE``) while the block runs."""
    path = make_url(url).database
    assert path
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@contextlib.asynccontextmanager
async def engine_of(url: str, timeouts: DatabaseTimeouts = FAST, **kwargs: Any) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(url, timeouts=timeouts, application_name=APPLICATION_NAME, **kwargs)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def pg_url(tmp_path: Path) -> str:
    if not POSTGRES_URL:
        pytest.skip("BACKRUN_TEST_POSTGRES_URL is not set")
    url = await empty_database("postgresql", tmp_path)
    async with engine_of(url) as engine, engine.begin() as conn:
        await conn.execute(text("CREATE TABLE probe (x integer)"))
    return url


def checked_out(engine: AsyncEngine) -> int:
    """Connections taken from the pool and not returned."""
    pool = engine.sync_engine.pool
    assert isinstance(pool, QueuePool)
    return pool.checkedout()


async def count_probe(url: str) -> int:
    async with engine_of(url) as engine, engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM probe"))).scalar_one())


# -- either database ---------------------------------------------------------------------------------


async def test_an_exhausted_pool_is_unavailable_after_the_pool_timeout(db_url: str) -> None:
    async with engine_of(db_url, pool_size=1, max_overflow=0) as engine, engine.connect() as held:
        await held.execute(text("SELECT 1"))
        started = time.monotonic()
        with pytest.raises(StorageUnavailable) as caught:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        assert FAST.pool <= time.monotonic() - started < FAST.pool + 1
        assert not caught.value.outcome_unknown
        assert caught.value.user_text() == StorageUnavailable.NOTHING_SAVED


async def test_a_real_error_stays_itself(db_url: str) -> None:
    # A bug must not read as an outage: it stays the driver's error (and the handler's apology).
    async with engine_of(db_url) as engine:
        with pytest.raises(DBAPIError) as caught:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT * FROM no_such_table"))
        assert not is_unavailable(caught.value)
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1


async def test_a_single_statement_is_stored(db_url: str) -> None:
    async with engine_of(db_url) as engine:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE probe (x integer)"))
        async with single_statement(engine) as conn:
            await conn.execute(text("INSERT INTO probe VALUES (1)"))
        assert checked_out(engine) == 0
    assert await count_probe(db_url) == 1


# -- SQLite ------------------------------------------------------------------------------------------


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> str:
    url = await empty_database("sqlite", tmp_path)
    async with engine_of(url) as engine, engine.begin() as conn:
        await conn.execute(text("CREATE TABLE probe (x integer)"))
    return url


async def test_sqlite_a_write_waits_for_a_lock_only_as_long_as_the_statement_timeout(sqlite_url: str) -> None:
    async with engine_of(sqlite_url) as engine:
        with sqlite_write_lock(sqlite_url):
            started = time.monotonic()
            with pytest.raises(StorageUnavailable) as caught:
                async with engine.begin() as conn:
                    await conn.execute(text("INSERT INTO probe VALUES (1)"))
            assert FAST.statement <= time.monotonic() - started < FAST.statement + 1
        assert not caught.value.outcome_unknown
        assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
        # The lock lifted: the same engine writes again, and the failed write left nothing.
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO probe VALUES (2)"))
            rows = (await conn.execute(text("SELECT x FROM probe"))).scalars().all()
        assert rows == [2]


async def test_sqlite_a_connection_back_in_the_pool_with_a_transaction_open_is_rolled_back(
    sqlite_url: str,
) -> None:
    """The pool does not ROLLBACK every connection it gets back (engine.py: one trip to the driver's
    thread saved per unit of work), but one that comes back with a transaction open, begun behind
    SQLAlchemy's back, is rolled back: the next user of that connection does not see its write, and
    it holds no lock."""

    def write_without_committing(sync_conn: Any) -> None:
        cursor = sync_conn.connection.dbapi_connection.cursor()
        cursor.execute("BEGIN")
        cursor.execute("INSERT INTO probe VALUES (7)")
        cursor.close()

    async with engine_of(sqlite_url, pool_size=1, max_overflow=0) as engine:
        async with engine.connect() as conn:
            await conn.run_sync(write_without_committing)
        async with engine.connect() as conn:  # the same (only) connection of the pool
            raw = await conn.get_raw_connection()
            assert raw.driver_connection is not None and not raw.driver_connection.in_transaction
            assert (await conn.execute(text("SELECT count(*) FROM probe"))).scalar_one() == 0
    assert await count_probe(sqlite_url) == 0


async def test_sqlite_without_time_limits_waits_for_the_lock(sqlite_url: str) -> None:
    # Migrations and scripts make engines without limits: a lock held 1 s is waited out.
    engine = create_engine(sqlite_url)
    try:
        with sqlite_write_lock(sqlite_url):
            write = asyncio.create_task(_insert(engine, 1))
            await asyncio.sleep(1.0)
            assert not write.done()
        await asyncio.wait_for(write, 5)
    finally:
        await engine.dispose()


async def _insert(engine: AsyncEngine, x: int) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO probe VALUES (:x)"), {"x": x})


async def test_sqlite_a_cancelled_wait_stays_a_cancellation(sqlite_url: str) -> None:
    async with engine_of(sqlite_url, DatabaseTimeouts(statement=1.5)) as engine:
        with sqlite_write_lock(sqlite_url), pytest.raises(TimeoutError):
            async with asyncio.timeout(0.3):
                await _insert(engine, 1)


# -- PostgreSQL --------------------------------------------------------------------------------------


@needs_postgres
async def test_postgres_connections_are_named_for_the_bot(pg_url: str) -> None:
    async with engine_of(pg_url) as engine, engine.connect() as conn:
        name = (await conn.execute(text("SELECT current_setting('application_name')"))).scalar_one()
        timeout = (await conn.execute(text("SELECT current_setting('statement_timeout')"))).scalar_one()
    assert (name, timeout) == (APPLICATION_NAME, "500ms")


@needs_postgres
async def test_postgres_a_long_statement_is_cancelled_by_the_server(pg_url: str) -> None:
    async with engine_of(pg_url) as engine:
        started = time.monotonic()
        with pytest.raises(StorageUnavailable) as caught:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT pg_sleep(3)"))
        # The server's statement_timeout, not the driver's later one.
        assert FAST.statement <= time.monotonic() - started < FAST.statement + CLIENT_MARGIN
        assert getattr(caught.value.__cause__, "sqlstate", None) == "57014"
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1


@needs_postgres
async def test_postgres_an_idle_connection_killed_is_replaced_unseen(pg_url: str) -> None:
    async with engine_of(pg_url) as engine:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        assert await terminate(pg_url) == 1
        # The checkout's ping finds the pooled connection dead and opens another: no error at all.
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1


@needs_postgres
async def test_postgres_a_connection_killed_mid_transaction_is_unavailable_then_replaced(pg_url: str) -> None:
    async with engine_of(pg_url) as engine:
        with pytest.raises(StorageUnavailable) as caught:
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO probe VALUES (1)"))
                assert await terminate(pg_url) == 1
                await conn.execute(text("INSERT INTO probe VALUES (2)"))
        assert not caught.value.outcome_unknown
        await _insert(engine, 3)
        assert checked_out(engine) == 0
    assert await count_probe(pg_url) == 1


@needs_postgres
async def test_postgres_a_commit_on_a_connection_known_closed_saved_nothing(pg_url: str) -> None:
    async with engine_of(pg_url) as engine:
        with pytest.raises(StorageUnavailable) as caught:
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO probe VALUES (1)"))
                assert await terminate(pg_url) == 1
                await asyncio.sleep(0.2)  # asyncpg notices the closed socket: COMMIT is never sent
        assert not caught.value.outcome_unknown
    assert await count_probe(pg_url) == 0


@needs_postgres
async def test_postgres_a_connection_lost_during_commit_says_the_outcome_is_unknown(pg_url: str) -> None:
    proxy = await start_proxy(pg_url)
    try:
        async with engine_of(proxy.url(pg_url)) as engine:
            with pytest.raises(StorageUnavailable) as caught:
                async with engine.begin() as conn:
                    await conn.execute(text("INSERT INTO probe VALUES (1)"))
                    proxy.drop_after(b"COMMIT")
            assert proxy.dropped == 1
            assert caught.value.outcome_unknown
            assert "can't tell whether it was saved" in caught.value.user_text()
    finally:
        await proxy.close()
    # ...and rightly so: the server had committed.
    assert await count_probe(pg_url) == 1


@needs_postgres
async def test_postgres_a_pooled_connection_is_pinged_in_one_round_trip(pg_url: str) -> None:
    proxy = await start_proxy(pg_url)
    try:
        async with engine_of(proxy.url(pg_url)) as engine:
            async with engine.connect() as conn:  # opened now: not pinged
                await conn.execute(text("SELECT 1"))
            sent = proxy.client_packets
            async with engine.connect():  # back from the pool: pinged, nothing else
                pass
            assert proxy.client_packets - sent == 1
    finally:
        await proxy.close()


@needs_postgres
async def test_postgres_a_single_statement_is_one_round_trip(pg_url: str) -> None:
    """In autocommit: no BEGIN, no COMMIT; only the statement (and the checkout's ping)."""
    proxy = await start_proxy(pg_url)
    try:
        async with engine_of(proxy.url(pg_url)) as engine:
            for x in (1, 2):  # the first prepares the statement (asyncpg keeps it)
                sent = proxy.client_packets
                async with single_statement(engine) as conn:
                    await conn.execute(text("INSERT INTO probe VALUES (:x)"), {"x": x})
            assert proxy.client_packets - sent == 2
    finally:
        await proxy.close()
    assert await count_probe(pg_url) == 2


@needs_postgres
async def test_postgres_a_write_in_autocommit_whose_answer_is_lost_says_the_outcome_is_unknown(
    pg_url: str,
) -> None:
    """In autocommit a write statement commits by itself: losing its answer is losing a COMMIT's."""
    async with engine_of(pg_url) as engine, engine.begin() as conn:
        await conn.execute(text("CREATE TABLE notes (t text)"))
    proxy = await start_proxy(pg_url)
    try:
        async with engine_of(proxy.url(pg_url)) as engine:
            with pytest.raises(StorageUnavailable) as caught:
                async with single_statement(engine) as conn:
                    proxy.drop_after(b"lost-on-the-way")  # the packet with the value: the execution
                    await conn.execute(text("INSERT INTO notes VALUES (:t)"), {"t": "lost-on-the-way"})
            assert proxy.dropped == 1
            assert caught.value.outcome_unknown
            assert checked_out(engine) == 0
    finally:
        await proxy.close()
    async with engine_of(pg_url) as engine, engine.connect() as conn:
        # ...and rightly so: the server had stored it.
        assert (await conn.execute(text("SELECT count(*) FROM notes"))).scalar_one() == 1


@needs_postgres
async def test_postgres_a_read_in_autocommit_whose_answer_is_lost_changed_nothing(pg_url: str) -> None:
    proxy = await start_proxy(pg_url)
    try:
        async with engine_of(proxy.url(pg_url)) as engine:
            with pytest.raises(StorageUnavailable) as caught:
                async with single_statement(engine) as conn:
                    proxy.drop_after(b"lost-on-the-way")
                    await conn.execute(text("SELECT :t"), {"t": "lost-on-the-way"})
            assert proxy.dropped == 1
            assert not caught.value.outcome_unknown
    finally:
        await proxy.close()


@needs_postgres
async def test_postgres_an_autocommit_write_on_a_connection_known_closed_saved_nothing(pg_url: str) -> None:
    async with engine_of(pg_url) as engine:
        with pytest.raises(StorageUnavailable) as caught:
            async with single_statement(engine) as conn:
                assert await terminate(pg_url) == 1
                await asyncio.sleep(0.2)  # asyncpg notices the closed socket: the INSERT is never sent
                await conn.execute(text("INSERT INTO probe VALUES (1)"))
        assert not caught.value.outcome_unknown
    assert await count_probe(pg_url) == 0


@needs_postgres
async def test_postgres_a_stalled_network_is_unavailable_within_the_limits(pg_url: str) -> None:
    proxy = await start_proxy(pg_url)
    try:
        async with engine_of(proxy.url(pg_url)) as engine:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            proxy.stall()
            # A pooled connection: its pre-ping gets no answer. Given up after the driver's limit
            # (statement + margin) and the 2 s SQLAlchemy allows for closing the dead connection.
            started = time.monotonic()
            with pytest.raises(StorageUnavailable):
                async with engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
            assert time.monotonic() - started < FAST.statement + CLIENT_MARGIN + 2.5
            # A new connection: no answer to the startup packet within the connect timeout.
            started = time.monotonic()
            with pytest.raises(StorageUnavailable):
                async with engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
            assert time.monotonic() - started < FAST.connect + 2.5
            proxy.resume()
            async with engine.connect() as conn:
                assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1
            assert checked_out(engine) == 0
    finally:
        await proxy.close()


@needs_postgres
async def test_postgres_an_unreachable_server_is_unavailable(pg_url: str) -> None:
    # Nothing listens on the proxy's port once it is closed: the connection is refused at once.
    proxy = await start_proxy(pg_url)
    url = proxy.url(pg_url)
    await proxy.close()
    async with engine_of(url) as engine:
        with pytest.raises(StorageUnavailable) as caught:
            async with engine.connect():
                pass
    assert isinstance(caught.value.__cause__, OSError)


@needs_postgres
async def test_postgres_a_cancelled_statement_stays_a_cancellation(pg_url: str) -> None:
    async with engine_of(pg_url, DatabaseTimeouts(statement=3.0)) as engine:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.3), engine.connect() as conn:
                await conn.execute(text("SELECT pg_sleep(1)"))
