"""Engines and sessions for SQLite (embedded default) and PostgreSQL.

The bot's engine has time limits (:class:`DatabaseTimeouts`, from the ``DATABASE_*`` settings), so a
lock, a stalled network or a dead connection ends a command with an answer instead of hanging it:

* **connect**: asyncpg's connect ``timeout`` (PostgreSQL; opening an SQLite file does not wait);
* **statement**: PostgreSQL's own ``statement_timeout`` (the server cancels the statement, the
  connection stays usable), and asyncpg's ``command_timeout`` :data:`CLIENT_MARGIN` later for a server
  that does not answer at all; on SQLite the busy timeout, how long a write waits for another
  writer's lock;
* **pool**: how long a command waits for a free pooled connection;
* **recycle** (PostgreSQL): connections older than this are replaced, and every checkout pings
  first (:func:`_install_ping`, one round trip), so a connection the server or a firewall dropped
  is replaced, not used.

Whatever way the database fails to answer, the caller sees one error,
:class:`~backrun_bot.errors.StorageUnavailable`: raised from SQLAlchemy's ``handle_error`` hook for a
failed statement or commit, and from the pool for a checkout that timed out or could not connect.
Every other database error (a bug, a constraint) stays what it was. A write whose COMMIT was lost
on the way (PostgreSQL) may have been stored: that error says the outcome is unknown. In autocommit
(:func:`single_statement`) a write statement is its own COMMIT, and is treated as one.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry, PoolProxiedConnection, PoolResetState

from backrun_bot.errors import StorageUnavailable

# How the bot's connections are named on the server (pg_stat_activity.application_name).
APPLICATION_NAME = "backrun-bot"
# asyncpg waits this much longer than the server's statement_timeout before it gives up itself.
CLIENT_MARGIN = 1.0
# The busy timeout of an engine made without time limits (migrations, scripts, tests).
SQLITE_DEFAULT_BUSY_TIMEOUT = 30.0
# PostgreSQL SQLSTATE classes (and one code) that mean "not answering now", not "your query is wrong":
# 08 connection exception, 53 insufficient resources (too many connections), 57 operator
# intervention (57014 statement timeout, 57P01 terminated by an administrator, 57P03 starting up),
# 58 system error; 55P03 lock not available.
UNAVAILABLE_SQLSTATE_CLASSES = frozenset({"08", "53", "57", "58"})
UNAVAILABLE_SQLSTATES = frozenset({"55P03"})
# Set on a connection (its ``info``): a statement of the transaction wrote; COMMIT was started.
# Both are cleared when the next transaction begins. And: the statement running writes in
# autocommit, so it commits by itself (set by each statement).
_WROTE = "backrun_wrote"
_COMMITTING = "backrun_committing"
_SELF_COMMITTING = "backrun_self_committing"
# Set on a pooled connection's record (its ``info``) when it is opened, until its first checkout.
_FRESH = "backrun_fresh"
# Statements that change nothing (by their first word); anything else counts as a write. Only a
# transaction that wrote can leave its outcome unknown.
_READS = frozenset({"SELECT", "SHOW", "SET", "PRAGMA", "EXPLAIN"})


@dataclass(frozen=True, slots=True)
class DatabaseTimeouts:
    """How long the bot waits on the database, in seconds (see the module docstring)."""

    connect: float = 5.0
    statement: float = 5.0
    pool: float = 5.0
    recycle: float = 1800.0


def is_unavailable(error: BaseException) -> bool:
    """Whether ``error`` (or what it wraps) means the database is not answering, as opposed to a
    statement it refused. Only ever asked about an error raised by a database call."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, StorageUnavailable | sa_exc.TimeoutError):
            return True
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        # asyncpg's command and connect timeouts; refused, reset or unreachable connections.
        if isinstance(current, TimeoutError | OSError):
            return True
        sqlstate = getattr(current, "sqlstate", None)
        if isinstance(sqlstate, str) and (
            sqlstate[:2] in UNAVAILABLE_SQLSTATE_CLASSES or sqlstate in UNAVAILABLE_SQLSTATES
        ):
            return True
        # SQLite: another connection holds the lock for longer than the busy timeout.
        name = getattr(current, "sqlite_errorname", None)
        if isinstance(name, str) and name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
            return True
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else current.__cause__
    return False


class GuardedPool(AsyncAdaptedQueuePool):
    """The pool, raising :class:`StorageUnavailable` for a checkout that could not get a working
    connection in time: the pool was exhausted for ``pool_timeout``, a new connection could not be
    opened, or the pre-ping of a pooled one timed out (the dead connection is discarded either way)."""

    def connect(self) -> PoolProxiedConnection:
        try:
            return super().connect()
        except Exception as exc:
            if is_unavailable(exc):
                raise StorageUnavailable() from exc
            raise


def _install_error_translation(engine: AsyncEngine, *, sqlite: bool) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "begin")
    def _begin(conn: Any) -> None:
        conn.info.pop(_WROTE, None)
        conn.info.pop(_COMMITTING, None)

    @event.listens_for(sync_engine, "before_cursor_execute")
    def _statement(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        words = statement.lstrip()[:8].split(None, 1)
        writes = not words or words[0].upper() not in _READS
        if writes:
            conn.info[_WROTE] = True
        # No round trip: the driver's own flag (asyncpg's autocommit, sqlite3's isolation_level).
        conn.info[_SELF_COMMITTING] = writes and conn.dialect.detect_autocommit_setting(
            conn.connection.dbapi_connection
        )

    @event.listens_for(sync_engine, "commit")
    def _commit(conn: Any) -> None:
        conn.info[_COMMITTING] = conn.info.get(_WROTE, False)

    @event.listens_for(sync_engine, "handle_error")
    def _unavailable(ctx: ExceptionContext) -> None:
        original = ctx.original_exception
        if ctx.is_pre_ping or not isinstance(original, Exception):
            # A failed pre-ping: the pool replaces the connection and tries again. A cancellation
            # (CancelledError is no Exception) must stay a cancellation.
            return
        if not (ctx.is_disconnect or is_unavailable(original)):
            return
        if isinstance(original, TimeoutError):
            # The driver gave up waiting (a dead network, or a server too busy to cancel): this
            # connection is not to be trusted again.
            ctx.is_disconnect = True
        # A COMMIT (or ROLLBACK: both fail without a statement) of a transaction that wrote, or a
        # write statement in autocommit, which commits by itself.
        committing = False
        if ctx.connection is not None:
            info = ctx.connection.info
            if ctx.statement is None:
                committing = bool(info.pop(_COMMITTING, False))
            else:
                committing = bool(info.pop(_SELF_COMMITTING, False))
        # SQLite commits atomically in-process: a failed COMMIT left nothing behind. PostgreSQL may
        # have committed before its answer was lost, unless the driver never sent the COMMIT (a
        # DB-API InterfaceError: it knew the connection was already closed).
        unknown = (
            committing and not sqlite and not isinstance(original, ctx.dialect.loaded_dbapi.InterfaceError)
        )
        raise StorageUnavailable(outcome_unknown=unknown) from original


def create_engine(
    url: str,
    *,
    foreign_keys: bool = True,
    timeouts: DatabaseTimeouts | None = None,
    application_name: str | None = None,
    **kwargs: Any,
) -> AsyncEngine:
    """An async engine; on SQLite, foreign keys on, WAL, and a busy timeout for concurrent writers.

    ``timeouts``: the bot's time limits (see the module docstring); without them (migrations, which
    may rightly run long, and scripts) statements are not cut off and SQLite waits up to 30 s for a
    lock. ``application_name`` names PostgreSQL connections (``pg_stat_activity``).

    Migrations pass ``foreign_keys=False``: SQLite's batch mode rebuilds a table by dropping it, and
    with foreign keys on, that drop would cascade into the rows that refer to it.
    """
    parsed = make_url(url)
    sqlite = parsed.get_backend_name() == "sqlite"
    file_db = not sqlite or parsed.database not in (None, "", ":memory:")
    if file_db:
        # An in-memory SQLite database keeps SQLAlchemy's StaticPool (one connection, no waiting).
        kwargs.setdefault("poolclass", GuardedPool)
        if timeouts is not None:
            kwargs.setdefault("pool_timeout", timeouts.pool)
    if sqlite:
        busy = timeouts.statement if timeouts is not None else SQLITE_DEFAULT_BUSY_TIMEOUT
        kwargs.setdefault("connect_args", {"timeout": busy})
        # The pool's reset on return is a ROLLBACK for every connection coming back, even after a
        # COMMIT: one more trip to aiosqlite's thread, 0.5 ms of /log's 2.1 ms of database time
        # (measured). SQLite knows whether a transaction is open, so roll back only then (the
        # reset event below); SQLAlchemy has already ended its own transaction by this point.
        kwargs.setdefault("pool_reset_on_return", None)
        engine = create_async_engine(url, **kwargs)

        @event.listens_for(engine.sync_engine, "reset")
        def _reset(dbapi_connection: Any, record: ConnectionPoolEntry, state: PoolResetState) -> None:
            # record.driver_connection: aiosqlite's connection; in_transaction is sqlite3's own flag.
            driver = record.driver_connection
            if not state.terminate_only and driver is not None and driver.in_transaction:
                dbapi_connection.rollback()

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
            if parsed.database not in (None, "", ":memory:"):
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        # No pre-ping on SQLite: its connection is a file opened in this process; it cannot drop.
        _install_error_translation(engine, sqlite=True)
        return engine

    connect_args: dict[str, Any] = {}
    server_settings: dict[str, str] = {}
    if application_name is not None:
        server_settings["application_name"] = application_name
    if timeouts is not None:
        connect_args["timeout"] = timeouts.connect
        connect_args["command_timeout"] = timeouts.statement + CLIENT_MARGIN
        server_settings["statement_timeout"] = str(round(timeouts.statement * 1000))
        kwargs.setdefault("pool_recycle", timeouts.recycle)
    if server_settings:
        connect_args["server_settings"] = server_settings
    if connect_args:
        kwargs.setdefault("connect_args", connect_args)
    engine = create_async_engine(url, **kwargs)
    _install_ping(engine)
    _install_error_translation(engine, sqlite=False)
    return engine


def _install_ping(engine: AsyncEngine) -> None:
    """Ping every pooled PostgreSQL connection as it is checked out, and replace it if it is dead.

    What ``pool_pre_ping`` does, in one round trip instead of three: SQLAlchemy's asyncpg dialect
    pings inside BEGIN … ROLLBACK (for PgBouncer's transaction mode, which the bot cannot use
    anyway: asyncpg's prepared statements do not survive it), 0.15 ms of every command. A
    ``SELECT 1`` outside a transaction (the simple query protocol: one message, nothing prepared)
    answers the same question: does the server still answer on this connection? A connection just
    opened is not pinged (it has just answered), as before.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _opened(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_FRESH] = True  # record.info lives as long as this DB-API connection

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection) -> None:
        if record.info.pop(_FRESH, False):
            return
        try:
            dbapi_connection.run_async(lambda driver: driver.execute("SELECT 1"))
        except TimeoutError:
            raise  # no answer in time (a stalled network): the pool gives up, GuardedPool says so
        except Exception as exc:
            # Closed or refused by the server (a restart, an administrator, an idle timeout), or
            # broken on the way (SELECT 1 fails no other way): replace this one, and the pool's
            # others opened before now when they are next checked out, as pool_pre_ping does; then
            # try again.
            raise sa_exc.InvalidatePoolError(f"a pooled connection was dead: {exc!r}") from exc


@contextlib.asynccontextmanager
async def single_statement(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection for a unit of work that is ONE statement (atomic by itself), committed the
    cheapest way the database allows. The caller runs exactly that statement and nothing that could
    need to undo it: on PostgreSQL it is committed as it runs, on SQLite when the block ends. A Core
    connection, not a session: the ORM's bookkeeping would cost more Python than the statement.

    PostgreSQL: in autocommit, so the statement commits by itself: no BEGIN and no COMMIT, two round
    trips of the three saved (same durability: the server commits it as it would a COMMIT). A write
    that fails because the connection was lost is then reported like a lost COMMIT (outcome
    unknown; see the module docstring). SQLite: in a transaction as usual; switching sqlite3 to
    autocommit and back costs more trips to aiosqlite's thread than the COMMIT it would save.
    """
    async with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            yield conn
        else:
            async with conn.begin():
                yield conn


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: rows returned from a finished transaction stay readable, which is
    # what the services hand back to the adapter.
    return async_sessionmaker(engine, expire_on_commit=False)


async def settle_sqlite_workers(join_within: float = 1.0) -> None:
    """Wait for aiosqlite's worker threads of failed connections to end while the loop still runs.

    When ``aiosqlite`` fails to open a file it stops its worker thread without awaiting it; the
    thread then hands its last result to the event loop. If the process is already on its way out
    (a start that failed on the database), the loop may be closed by then and the thread prints a
    traceback ("Event loop is closed") after our one-line error. Joining those threads first keeps
    the failure to that one line. Threads of open connections are left alone: they end on close.
    """
    workers = [t for t in threading.enumerate() if "_connection_worker_thread" in t.name and t.is_alive()]
    for worker in workers:
        await asyncio.to_thread(worker.join, join_within)
