"""Two undos of the same entry at the same moment (a double tap, /undo typed while pressing Undo):
one entry goes, and exactly one reply says it was removed; the other says it was already gone, or
(an /undo while another undo of the member runs in this bot) that the first is still running.

The race is made certain rather than left to luck: every DELETE of an entry is held back for a
moment before the database runs it, so both requests have read the entry before either removes it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import AdaptedConnection, Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from backrun_bot.sandbox.driver import Actor, Reply
from backrun_bot.sandbox.harness import Sandbox
from backrun_bot.services.training import UndoInProgress

pytestmark = pytest.mark.asyncio

HOLD = 0.5  # seconds; well inside the 3 s an interaction may take


@contextlib.contextmanager
def deletes_held_back(engine: AsyncEngine, seconds: float = HOLD) -> Iterator[None]:
    """Every ``DELETE FROM run_sessions`` the bot sends waits ``seconds`` first (on the event loop,
    so the bot keeps serving the other request meanwhile)."""

    def hold(conn: Connection, cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("DELETE FROM RUN_SESSIONS"):
            driver = conn.connection.dbapi_connection
            assert isinstance(driver, AdaptedConnection)
            driver.run_async(lambda _connection: asyncio.sleep(seconds))

    event.listen(engine.sync_engine, "before_cursor_execute", hold)
    try:
        yield
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", hold)


def bot_engine(sandbox: Sandbox) -> AsyncEngine:
    assert sandbox.bot is not None
    return sandbox.bot.engine


def removed(reply: Reply) -> bool:
    return reply.text().startswith("Removed your entry")


async def history(alice: Actor) -> str:
    return (await alice.run("history")).text()


async def test_two_undos_at_once_remove_one_entry_and_only_one_says_so(
    alice: Actor, running: Sandbox
) -> None:
    await alice.run("log", kind="backward", amount="400m")
    await alice.run("log", kind="backpedal", amount="300m")
    with deletes_held_back(bot_engine(running)):
        first, second = await asyncio.gather(alice.run("undo"), alice.run("undo"))

    assert first.ephemeral and second.ephemeral
    assert [removed(first), removed(second)].count(True) == 1, (first.text(), second.text())
    winner, loser = (first, second) if removed(first) else (second, first)
    assert "#2 · 300 m backpedal" in winner.text()
    # In one bot the second /undo is refused before it reads anything (test_slow_undo.py).
    assert loser.text() == UndoInProgress.TEXT
    # One row went, the one both replies name; the entry before it is untouched.
    shown = await history(alice)
    assert "300 m" not in shown and "400 m" in shown


async def test_the_undo_button_and_undo_at_once_remove_one_entry(alice: Actor, running: Sandbox) -> None:
    await alice.run("log", kind="backward", amount="400m")
    logged = await alice.run("log", kind="backpedal", amount="300m")
    with deletes_held_back(bot_engine(running)):
        pressed, undone = await asyncio.gather(alice.press(logged, "Undo"), alice.run("undo"))

    button_won = "Undone" in pressed.text() and not pressed.ephemeral
    assert [button_won, removed(undone)].count(True) == 1, (pressed.text(), undone.text())
    if button_won:
        # Refused at once if the press came first; otherwise both read the entry and the DELETE decided.
        assert undone.ephemeral
        assert undone.text() == UndoInProgress.TEXT or "already removed" in undone.text()
    else:
        assert pressed.ephemeral and pressed.text() == "That entry is already gone."
    shown = await history(alice)
    assert "300 m" not in shown and "400 m" in shown


async def test_two_presses_of_one_undo_button_remove_it_once(alice: Actor, running: Sandbox) -> None:
    await alice.run("log", kind="backward", amount="400m")
    logged = await alice.run("log", kind="backpedal", amount="300m")
    with deletes_held_back(bot_engine(running)):
        first, second = await asyncio.gather(alice.press(logged, "Undo"), alice.press(logged, "Undo"))

    undone = ["Undone" in r.text() and not r.ephemeral for r in (first, second)]
    assert undone.count(True) == 1, (first.text(), second.text())
    refused = second if undone[0] else first
    assert refused.ephemeral and refused.text() == "That entry is already gone."
    shown = await history(alice)
    assert "300 m" not in shown and "400 m" in shown
