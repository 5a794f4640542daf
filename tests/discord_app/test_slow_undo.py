"""/undo while the database is slow: an athlete who runs it again before the first answers loses one
entry, not two.

A slow /undo is deferred at 2 s ("thinking…"); an athlete who has seen nothing yet runs /undo again.
Once the first has removed the latest entry, a second that reads "the latest" reads the entry before
it. So while one undo of a member (the command or the Undo button) runs in the bot, a second /undo of
the same member is refused at once, ephemerally, and the first's answer says it came late.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import time_machine
from sqlalchemy import event
from sqlalchemy.engine import AdaptedConnection, Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from backrun_bot.discord_app.cogs.training import UNDO_LATE_LINE
from backrun_bot.errors import StorageUnavailable
from backrun_bot.sandbox.driver import Reply
from backrun_bot.sandbox.harness import Sandbox, open_sandbox
from backrun_bot.services.training import UndoInProgress
from tests.conftest import empty_database
from tests.discord_app.test_database_faults import entries, lock_held, started

pytestmark = pytest.mark.timeout(90)

# How long the first removal takes: past the guard's 2 s deferral, well inside the 5 s statement limit.
SLOW_DELETE = 2.5


@pytest.fixture
async def box(clock: time_machine.Traveller, tmp_path: Path) -> AsyncIterator[Sandbox]:
    url = await empty_database("sqlite", tmp_path)
    async with open_sandbox(url, start_bot=False, log_level="ERROR") as sandbox:
        yield sandbox
        assert sandbox.emulator.violations == [], "the bot sent what Discord would refuse"


def bot_engine(box: Sandbox) -> AsyncEngine:
    assert box.bot is not None
    return box.bot.engine


def _sleep(connection: Connection, wait: Any) -> None:
    driver = connection.connection.dbapi_connection
    assert isinstance(driver, AdaptedConnection)
    driver.run_async(lambda _connection: wait())


class SlowRemoval:
    """The database as a slow one behaves (PostgreSQL behind a table lock, say), made certain: the
    first DELETE of an entry takes :data:`SLOW_DELETE` s, and a read of a member's latest entry made
    meanwhile waits until that removal has been committed, so it reads what is latest afterwards."""

    def __init__(self) -> None:
        self.deleting = asyncio.Event()  # the first removal has started
        self.committed = asyncio.Event()  # ... and its connection is back in the pool

    def before_statement(self, conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        sql = " ".join(statement.split()).upper()
        if sql.startswith("DELETE FROM RUN_SESSIONS") and not self.deleting.is_set():
            self.deleting.set()
            _sleep(conn, lambda: asyncio.sleep(SLOW_DELETE))
        elif "ORDER BY RUN_SESSIONS.ID DESC" in sql and self.deleting.is_set():
            _sleep(conn, self.committed.wait)

    def checked_in(self, *_: Any) -> None:
        if self.deleting.is_set():
            self.committed.set()


@contextlib.contextmanager
def slow_removal(engine: AsyncEngine) -> Iterator[SlowRemoval]:
    slow = SlowRemoval()
    event.listen(engine.sync_engine, "before_cursor_execute", slow.before_statement)
    event.listen(engine.sync_engine.pool, "checkin", slow.checked_in)
    try:
        yield slow
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", slow.before_statement)
        event.remove(engine.sync_engine.pool, "checkin", slow.checked_in)


def removed(reply: Reply) -> bool:
    return reply.text().startswith("Removed your entry")


async def test_undo_again_while_the_first_is_slow_removes_nothing_more(box: Sandbox) -> None:
    _, alice = await started(box, statement_timeout=5.0)
    await alice.run("log", kind="backward", amount="400m")
    await alice.run("log", kind="backpedal", amount="300m")
    with slow_removal(bot_engine(box)) as slow:
        first = asyncio.create_task(alice.run("undo"))
        await slow.deleting.wait()  # the first is removing entry #2 and has not answered
        again = await alice.run("undo")
        undone = await first

    assert again.ephemeral and again.text() == UndoInProgress.TEXT
    assert undone.ephemeral and removed(undone)
    assert undone.text() == f"Removed your entry #2 · 300 m backpedal · 2026-03-08.\n{UNDO_LATE_LINE}"
    assert await entries(alice) == 1
    assert "400 m" in (await alice.run("history")).text()
    # Once the first has answered, /undo works again (and is not late).
    assert (await alice.run("undo")).text() == "Removed your entry #1 · 400 m backward run · 2026-03-08."
    assert await entries(alice) == 0


async def test_undo_while_a_slow_undo_button_runs_removes_nothing_more(box: Sandbox) -> None:
    _, alice = await started(box, statement_timeout=5.0)
    await alice.run("log", kind="backward", amount="400m")
    logged = await alice.run("log", kind="backpedal", amount="300m")
    with slow_removal(bot_engine(box)) as slow:
        pressed = asyncio.create_task(alice.press(logged, "Undo"))
        await slow.deleting.wait()
        again = await alice.run("undo")
        undone = await pressed

    assert again.ephemeral and again.text() == UndoInProgress.TEXT
    assert undone.id == logged.id and undone.text().startswith("↩️ Undone: ~~#2 · 300 m backpedal")
    assert await entries(alice) == 1
    assert "400 m" in (await alice.run("history")).text()


async def test_two_undos_under_a_lock_remove_one_entry_and_the_second_says_the_first_runs(
    box: Sandbox,
) -> None:
    guild, alice = await started(box, statement_timeout=5.0)
    bob = box.actor(guild, "bob")
    await alice.run("log", kind="backward", amount="400m")
    await alice.run("log", kind="backpedal", amount="300m")
    await bob.run("log", kind="backward", amount="200m")
    async with lock_held(box.settings.database_url, 3.5):
        first, second, bobs = await asyncio.gather(alice.run("undo"), alice.run("undo"), bob.run("undo"))

    assert [removed(first), removed(second)].count(True) == 1, (first.text(), second.text())
    done, refused = (first, second) if removed(first) else (second, first)
    assert done.ephemeral and done.text().startswith("Removed your entry #2 · 300 m backpedal")
    assert UNDO_LATE_LINE in done.text()
    assert refused.ephemeral and refused.text() == UndoInProgress.TEXT
    # Only the same member in the same server waits for the first: bob's undo went ahead.
    assert bobs.ephemeral and bobs.text().startswith("Removed your entry #3 · 200 m backward run")
    assert await entries(alice) == 1 and await entries(bob) == 0


async def test_an_undo_that_failed_on_the_database_leaves_undo_usable(box: Sandbox) -> None:
    _, alice = await started(box, statement_timeout=1.0)
    await alice.run("log", kind="backward", amount="400m")
    async with lock_held(box.settings.database_url, 2.5):
        failed = await alice.run("undo")
    assert failed.ephemeral and failed.content == StorageUnavailable.NOTHING_SAVED
    assert (await alice.run("undo")).text() == "Removed your entry #1 · 400 m backward run · 2026-03-08."
