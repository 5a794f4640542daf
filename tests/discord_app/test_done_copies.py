"""Two copies of the bot on one PostgreSQL database (SHARD_IDS, a rolling deploy): a Done pressed
on both at once logs once, and the count edit's 10 s hold between copies too.

The race is made certain: every INSERT into done_presses waits a moment first, so both presses have
passed their checks and are inserting before either commits.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from sqlalchemy import event, func, select
from sqlalchemy.engine import AdaptedConnection, Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from backrun_bot.discord_app.bot import BackrunBot
from backrun_bot.discord_app.views import DONE_LABEL
from backrun_bot.domain.drills import plan_for
from backrun_bot.domain.schedule import Slot
from backrun_bot.sandbox.driver import Reply
from backrun_bot.sandbox.emulator import Message
from backrun_bot.sandbox.harness import open_sandbox
from backrun_bot.services.common import Who
from backrun_bot.services.done import AlreadyDone, Shown
from backrun_bot.storage.models import DonePress, RunSession
from tests.conftest import POSTGRES_URL, empty_database

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.skipif(not POSTGRES_URL, reason="BACKRUN_TEST_POSTGRES_URL is not set"),
]

MANAGE_GUILD = 1 << 5
MONDAY = date(2026, 3, 9)
JUST_BEFORE_SEVEN = datetime(2026, 3, 9, 6, 59, 57, tzinfo=UTC)


@contextlib.contextmanager
def inserts_held_back(*engines: AsyncEngine, seconds: float = 0.5) -> Iterator[None]:
    def hold(conn: Connection, cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO DONE_PRESSES"):
            driver = conn.connection.dbapi_connection
            assert isinstance(driver, AdaptedConnection)
            driver.run_async(lambda _connection: asyncio.sleep(seconds))

    for engine in engines:
        event.listen(engine.sync_engine, "before_cursor_execute", hold)
    try:
        yield
    finally:
        for engine in engines:
            event.remove(engine.sync_engine, "before_cursor_execute", hold)


def shown(message: Message) -> Shown:
    return Shown(message.channel_id, message.id, message.content, tuple(message.mentions))


async def test_two_copies_pressing_at_once_log_one_done_and_edit_once_per_10_s(tmp_path: Path) -> None:
    with time_machine.travel(JUST_BEFORE_SEVEN - timedelta(minutes=1), tick=True) as clock:
        url = await empty_database("postgresql", tmp_path)
        async with open_sandbox(url, start_bot=False, log_level="WARNING") as box:
            guild = box.emulator.add_guild("Team A")
            guild.add_member("coach", permissions=MANAGE_GUILD)
            channel = guild.add_channel("training")
            first = await box.start_bot()
            second = BackrunBot(box.settings)
            await second.login(box.emulator.token)  # its setup_hook: the services, the same database
            try:
                coach, alice, bob = (box.actor(guild, name) for name in ("coach", "alice", "bob"))
                clock.move_to(JUST_BEFORE_SEVEN)  # both copies are up: the warmup is 3 s away
                await coach.run("reminders set", channel=channel, warmup="07:00", weekly="off")
                posted = await box.emulator.wait_for_message(channel.id, timeout=10)
                await asyncio.sleep(0.3)
                warmup = Reply.of(posted, box.emulator)
                edits: list[str] = []
                stop = box.emulator.on_message(
                    lambda m, created: None if created or m.id != posted.id else edits.append(m.content)
                )

                # Alice's press reaches the first copy, and (a retried tap) the second at the same time.
                with inserts_held_back(first.engine, second.engine):
                    on_first, on_second = await asyncio.gather(
                        alice.press(warmup, DONE_LABEL),
                        second.done.press(
                            Who(guild.id, alice.user_id, "alice"),
                            guild.id,
                            MONDAY,
                            Slot.WARMUP,
                            shown(posted),
                        ),
                        return_exceptions=True,
                    )
                assert isinstance(on_first, Reply)
                if on_first.text().startswith("✅ Logged"):
                    assert isinstance(on_second, AlreadyDone), on_second
                else:
                    assert "already pressed Done" in on_first.text() and not isinstance(
                        on_second, BaseException
                    )
                async with first.sessionmaker() as s:
                    assert await s.scalar(select(func.count()).select_from(DonePress)) == 1
                    logged = (await s.scalars(select(RunSession.kind))).all()
                steps = plan_for(guild.id, MONDAY).backward_steps(Slot.WARMUP)
                assert len(logged) == sum(1 for d in steps if d.backward and d.backward.metres is not None)

                # Bob's Done on the second copy, a moment after the first copy showed Alice's: the
                # count waits out the 10 s the first copy claimed in the database.
                await asyncio.sleep(1)
                await second.done.press(
                    Who(guild.id, bob.user_id, "bob"), guild.id, MONDAY, Slot.WARMUP, shown(posted)
                )
                await asyncio.sleep(3)
                assert [e.splitlines()[-1] for e in edits] == ["✅ 1 athlete done"]
                await asyncio.sleep(8)
                stop()
                assert [e.splitlines()[-1] for e in edits] == ["✅ 1 athlete done", "✅ 2 athletes done"]
                assert box.emulator.world.messages[posted.id].content.startswith(posted.content)
            finally:
                await second.close()
            assert box.emulator.violations == []
