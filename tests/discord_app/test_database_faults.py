"""A slow or failing database, through the real bot and the emulator (Discord's 3 s deadline).

SQLite: another connection holds the write lock while a member uses a command. Held past the
statement timeout, the command is refused with the short ephemeral apology (nothing stored);
held for less but past Discord's deadline, the deadline guard defers and the answer follows, saying
that it came late. PostgreSQL: the bot's connections are terminated over and over while members use
commands and a reminder falls due; every command is answered within 3 s, and afterwards all works
without a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import func, select

from backrun_bot.discord_app.deadline import DEFER_AFTER
from backrun_bot.discord_app.embeds import LATE_LINE
from backrun_bot.errors import StorageUnavailable
from backrun_bot.sandbox.driver import Actor, Reply
from backrun_bot.sandbox.emulator import DiscordEmulator, Guild
from backrun_bot.sandbox.emulator.model import Message
from backrun_bot.sandbox.harness import Sandbox, open_sandbox
from backrun_bot.storage.engine import APPLICATION_NAME, create_engine, make_sessionmaker
from backrun_bot.storage.models import Athlete, ReminderDelivery, RunSession
from tests.conftest import POSTGRES_URL, empty_database
from tests.storage.tcp_proxy import start_proxy
from tests.storage.test_engine import TERMINATE, checked_out, sqlite_write_lock

pytestmark = pytest.mark.timeout(90)

APOLOGIES = {StorageUnavailable.NOTHING_SAVED, StorageUnavailable.OUTCOME_UNKNOWN}
DEADLINE = 3.0  # Discord's, and the emulator's
MANAGE_GUILD = 1 << 5


@dataclass
class Placeholders:
    """The "thinking…" messages the bot's deferrals created (they change in place afterwards)."""

    messages: list[Message] = field(default_factory=list)

    def __call__(self, message: Message, created: bool) -> None:
        if created and message.loading:
            self.messages.append(message)


@contextlib.contextmanager
def watching(emulator: DiscordEmulator) -> Iterator[Placeholders]:
    placeholders = Placeholders()
    stop = emulator.on_message(placeholders)
    try:
        yield placeholders
    finally:
        stop()


async def _hold(url: str, seconds: float, locked: asyncio.Event) -> None:
    with sqlite_write_lock(url):
        locked.set()
        await asyncio.sleep(seconds)


@contextlib.asynccontextmanager
async def lock_held(url: str, seconds: float) -> AsyncIterator[None]:
    """SQLite's write lock, taken by another connection now and released ``seconds`` later (the
    block runs meanwhile; leaving it waits for the release)."""
    locked = asyncio.Event()
    holder = asyncio.create_task(_hold(url, seconds, locked))
    await locked.wait()
    try:
        yield
    finally:
        await holder


async def timed(action: Awaitable[Reply]) -> tuple[Reply, float]:
    started = time.monotonic()
    reply = await action
    return reply, time.monotonic() - started


@pytest.fixture
async def box(clock: time_machine.Traveller, tmp_path: Path) -> AsyncIterator[Sandbox]:
    url = await empty_database("sqlite", tmp_path)
    async with open_sandbox(url, start_bot=False, log_level="ERROR") as sandbox:
        yield sandbox
        assert sandbox.emulator.violations == [], "the bot sent what Discord would refuse"


async def started(box: Sandbox, *, statement_timeout: float) -> tuple[Guild, Actor]:
    """Team A with alice, and the bot running with the given statement (SQLite: lock) timeout."""
    box.settings = box.settings.model_copy(update={"database_statement_timeout": statement_timeout})
    guild = box.emulator.add_guild("Team A")
    await box.start_bot()
    alice = box.actor(guild, "alice")
    await alice.run("history")  # the team exists; what follows measures the command itself
    return guild, alice


async def entries(member: Actor) -> int:
    history = await member.run("history", limit=25)
    return history.text().count("`#")


# -- SQLite: a lock held past the timeout --------------------------------------------------------------


async def test_a_lock_past_a_short_timeout_gets_the_apology_at_once(
    box: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    _, alice = await started(box, statement_timeout=1.0)
    with watching(box.emulator) as placeholders:
        async with lock_held(box.settings.database_url, 2.5):
            reply, took = await timed(alice.run("log", kind="backward", amount="400m"))
    assert reply.ephemeral
    assert reply.content == StorageUnavailable.NOTHING_SAVED
    # Answered when the 1 s lock wait gave up, before the guard's 2 s: no deferral.
    assert 1.0 <= took < DEFER_AFTER
    assert placeholders.messages == []
    # For whoever runs the bot: one warning naming the command and the driver's error.
    [warning] = [r for r in caplog.records if r.name == "backrun_bot.discord_app.errors"]
    assert warning.levelname == "WARNING" and warning.exc_info is None
    assert warning.getMessage().startswith("the database did not answer log for user")
    assert "database is locked" in warning.getMessage()
    assert await entries(alice) == 0
    # The lock lifted: the same bot logs again, once.
    reply = await alice.run("log", kind="backward", amount="400m")
    assert "**400 m**" in reply.text() and not reply.ephemeral
    assert await entries(alice) == 1


async def test_a_lock_past_the_timeout_is_deferred_then_apologised_for_ephemerally(box: Sandbox) -> None:
    guild, alice = await started(box, statement_timeout=3.0)
    general = guild.channels["general"]
    with watching(box.emulator) as placeholders:
        async with lock_held(box.settings.database_url, 4.0):
            reply, took = await timed(alice.run("log", kind="backward", amount="400m"))
            # The apology came after the deferral, when the lock wait gave up.
            assert 3.0 <= took < 3.0 + 1.5
    assert reply.ephemeral
    assert reply.content == StorageUnavailable.NOTHING_SAVED
    # /log defers publicly; the public "thinking…" was removed rather than turned into the apology.
    [placeholder] = placeholders.messages
    assert not placeholder.ephemeral and placeholder.deleted
    assert box.emulator.messages(general.id) == []
    assert await entries(alice) == 0
    reply = await alice.run("log", kind="backward", amount="400m")
    assert "**400 m**" in reply.text() and not reply.ephemeral
    assert await entries(alice) == 1


async def test_a_button_during_a_lock_past_the_timeout_is_apologised_for(box: Sandbox) -> None:
    _, alice = await started(box, statement_timeout=3.0)
    logged = await alice.run("log", kind="backward", amount="400m")
    async with lock_held(box.settings.database_url, 4.0):
        refused = await alice.press(logged, "Undo")
    assert refused.ephemeral and refused.content == StorageUnavailable.NOTHING_SAVED
    message = box.emulator.world.messages[logged.id]
    assert message.content == logged.content and message.components == logged.components
    assert await entries(alice) == 1


# -- SQLite: slower than Discord's deadline, within the timeout ---------------------------------------


async def test_a_slow_log_is_deferred_and_its_answer_says_it_is_stored_once(box: Sandbox) -> None:
    _, alice = await started(box, statement_timeout=5.0)
    with watching(box.emulator) as placeholders:
        async with lock_held(box.settings.database_url, 3.5):
            reply, took = await timed(alice.run("log", kind="backward", amount="400m"))
    assert took >= 3.5 > DEADLINE  # answered past Discord's 3 s, as the deferred response
    [placeholder] = placeholders.messages
    assert reply.id == placeholder.id and not reply.ephemeral
    assert "**400 m**" in reply.text() and LATE_LINE in reply.content
    assert [b["label"] for b in reply.buttons()] == ["Undo"]
    # A fast /log answers directly and says nothing about being late.
    with watching(box.emulator) as placeholders:
        fast = await alice.run("log", kind="backpedal", amount="200m")
    assert placeholders.messages == []
    assert "**200 m**" in fast.text() and LATE_LINE not in fast.content
    assert await entries(alice) == 2


async def test_a_slow_ephemeral_command_is_deferred_ephemerally(box: Sandbox) -> None:
    _, alice = await started(box, statement_timeout=5.0)
    with watching(box.emulator) as placeholders:
        async with lock_held(box.settings.database_url, 3.5):
            reply = await alice.run("notify", mentions="off")
    [placeholder] = placeholders.messages
    assert placeholder.ephemeral
    assert reply.id == placeholder.id and reply.ephemeral
    assert "named without a ping" in reply.content


async def test_a_slow_button_is_deferred_and_then_edits_its_message(box: Sandbox) -> None:
    _, alice = await started(box, statement_timeout=5.0)
    logged = await alice.run("log", kind="backward", amount="400m")
    with watching(box.emulator) as placeholders:
        async with lock_held(box.settings.database_url, 3.5):
            undone = await alice.press(logged, "Undo")
    assert placeholders.messages == []  # a deferred update shows nothing until the edit
    assert undone.id == logged.id
    assert undone.content.startswith("↩️ Undone") and undone.buttons() == []
    assert await entries(alice) == 0


# -- PostgreSQL: the bot's connections terminated, again and again -------------------------------------


@dataclass
class Outcome:
    command: str
    reply: Reply
    took: float

    @property
    def apology(self) -> bool:
        return self.reply.ephemeral and self.reply.content in APOLOGIES


async def terminate_repeatedly(url: str, *, seconds: float, every: float = 0.05) -> int:
    """``pg_terminate_backend`` on the bot's connections (by application_name) for ``seconds``;
    returns how many connections were terminated."""
    engine = create_engine(url)  # its own connection is unnamed: not terminated
    killed = 0
    try:
        async with engine.connect() as conn:
            loop = asyncio.get_running_loop()
            end = loop.time() + seconds
            while loop.time() < end:
                result = await conn.execute(TERMINATE, {"name": APPLICATION_NAME})
                killed += int(result.scalar_one())
                await asyncio.sleep(every)
    finally:
        await engine.dispose()
    return killed


async def keep_using(member: Actor, outage: asyncio.Task[int]) -> list[Outcome]:
    """Use commands one after another until the outage ends."""
    outcomes: list[Outcome] = []
    commands: list[tuple[str, dict[str, str]]] = [
        ("log", {"kind": "backward", "amount": "100m"}),
        ("history", {}),
        ("stats", {}),
        ("plan", {}),
    ]
    for command, options in itertools.cycle(commands):
        if outage.done():
            return outcomes
        reply, took = await timed(member.run(command, **options))
        outcomes.append(Outcome(command, reply, took))
        await asyncio.sleep(0.02)
    raise AssertionError("unreachable")


@pytest.fixture
async def pg_box(clock: time_machine.Traveller, tmp_path: Path) -> AsyncIterator[Sandbox]:
    if not POSTGRES_URL:
        pytest.skip("BACKRUN_TEST_POSTGRES_URL is not set")
    url = await empty_database("postgresql", tmp_path)
    async with open_sandbox(url, start_bot=False, log_level="CRITICAL") as sandbox:
        yield sandbox
        assert sandbox.emulator.violations == [], "the bot sent what Discord would refuse"


async def deliveries(url: str) -> list[ReminderDelivery]:
    engine = create_engine(url)
    try:
        async with make_sessionmaker(engine)() as s:
            return list(await s.scalars(select(ReminderDelivery).order_by(ReminderDelivery.id)))
    finally:
        await engine.dispose()


async def stored(url: str, member: Actor) -> int:
    """The member's entries in the database."""
    engine = create_engine(url)
    try:
        async with make_sessionmaker(engine)() as s:
            query = select(func.count(RunSession.id)).join(Athlete).where(Athlete.user_id == member.user_id)
            return int(await s.scalar(query) or 0)
    finally:
        await engine.dispose()


async def test_postgres_connections_terminated_while_members_use_commands(
    pg_box: Sandbox, clock: time_machine.Traveller
) -> None:
    guild = pg_box.emulator.add_guild("Team A")
    training = guild.add_channel("training")
    guild.add_member("coach", permissions=MANAGE_GUILD)
    # A claim whose mark was cut off is taken over after the lease: a short one, to see it here.
    pg_box.settings = pg_box.settings.model_copy(update={"reminder_claim_lease_seconds": 3})
    pg_box.emulator.nonce_window = 0  # only the bot's own look in the channel may prevent a double
    bot = await pg_box.start_bot()
    coach = pg_box.actor(guild, "coach")
    members = [pg_box.actor(guild, name) for name in ("alice", "bob", "carol")]
    # A warmup falls due 3 s into the outage.
    clock.move_to(datetime(2026, 3, 9, 6, 59, 57, tzinfo=UTC))
    await coach.run("reminders set", channel=training, timezone="UTC", warmup="07:00", cooldown="19:00")

    url = pg_box.settings.database_url
    outage = asyncio.create_task(terminate_repeatedly(url, seconds=8))
    used = await asyncio.gather(*(keep_using(member, outage) for member in members))
    killed = await outage
    outcomes = [o for per_member in used for o in per_member]

    # Every command had its answer (the reply or the apology) within Discord's 3 s: none silent.
    assert outcomes and max(o.took for o in outcomes) < DEADLINE
    for o in outcomes:
        assert o.apology or not o.reply.ephemeral or o.command != "log", o.reply.content
    assert any(o.apology for o in outcomes), "no command met a terminated connection"
    # More connections were terminated than the pool holds (5 + 10 overflow): none leaked.
    assert killed > 15
    assert checked_out(bot.engine) == 0

    # No restart: every member's commands work, and each /log answered as logged is stored once.
    for member, outcomes_of in zip(members, used, strict=True):
        logged = sum(o.command == "log" and not o.apology for o in outcomes_of)
        unknown = sum(o.reply.content == StorageUnavailable.OUTCOME_UNKNOWN for o in outcomes_of)
        reply = await member.run("log", kind="backpedal", amount="50m")
        assert "**50 m**" in reply.text() and not reply.ephemeral
        assert logged + 1 <= await stored(url, member) <= logged + 1 + unknown

    # The warmup due during the outage goes out once, wherever the terminations hit: a run that
    # failed is run again, a claim or mark cut off is taken over after the lease and first looked for.
    async with asyncio.timeout(30):
        while [r.status for r in await deliveries(url)] != ["sent"]:
            await asyncio.sleep(0.2)
    await asyncio.sleep(1.5)
    assert len(pg_box.emulator.messages(training.id)) == 1


async def test_postgres_a_log_whose_answer_is_lost_says_it_cannot_tell(pg_box: Sandbox) -> None:
    """A known member's /log is one statement in autocommit: it commits by itself, so losing the
    server's answer to it is losing a COMMIT's. The athlete is told it may have been saved, never
    that nothing was (it was)."""
    url = pg_box.settings.database_url
    proxy = await start_proxy(url)
    try:
        pg_box.settings = pg_box.settings.model_copy(update={"database_url": proxy.url(url)})
        guild = pg_box.emulator.add_guild("Team A")
        await pg_box.start_bot()
        alice = pg_box.actor(guild, "alice")
        first = await alice.run("log", kind="backward", amount="400m")  # makes the athlete
        assert "**400 m**" in first.text()
        proxy.drop_after(b"lost-on-the-way")  # in the packet that runs the INSERT
        reply = await alice.run("log", kind="backward", amount="300m", note="lost-on-the-way")
        assert proxy.dropped == 1
        assert reply.ephemeral and reply.content == StorageUnavailable.OUTCOME_UNKNOWN
        assert await stored(url, alice) == 2  # rightly so
        again = await alice.run("log", kind="backward", amount="100m")  # the pool replaced it
        assert "**100 m**" in again.text() and not again.ephemeral
        assert await stored(url, alice) == 3
    finally:
        await pg_box.stop_bot()
        await proxy.close()


async def test_postgres_a_reminder_due_while_the_database_is_down_goes_out_once_it_is_back(
    pg_box: Sandbox, clock: time_machine.Traveller
) -> None:
    url = pg_box.settings.database_url
    proxy = await start_proxy(url)
    try:
        pg_box.settings = pg_box.settings.model_copy(update={"database_url": proxy.url(url)})
        guild = pg_box.emulator.add_guild("Team A")
        training = guild.add_channel("training")
        guild.add_member("coach", permissions=MANAGE_GUILD)
        await pg_box.start_bot()
        coach, alice = pg_box.actor(guild, "coach"), pg_box.actor(guild, "alice")
        clock.move_to(datetime(2026, 3, 9, 6, 59, 58, tzinfo=UTC))
        await coach.run("reminders set", channel=training, timezone="UTC", warmup="07:00", cooldown="19:00")

        proxy.refuse()  # the database goes down, its connections with it
        reply, took = await timed(alice.run("history"))
        assert reply.ephemeral and reply.content == StorageUnavailable.NOTHING_SAVED
        assert took < DEFER_AFTER  # a refused connection is known at once
        await asyncio.sleep(4)  # 07:00 passes: the run fails, and fails again a second later
        assert pg_box.emulator.messages(training.id) == []

        proxy.restore()
        await pg_box.emulator.wait_for_message(training.id, timeout=10)
        await asyncio.sleep(1)
        assert len(pg_box.emulator.messages(training.id)) == 1
        assert [(r.slot, r.status) for r in await deliveries(url)] == [("warmup", "sent")]
        reply = await alice.run("log", kind="backward", amount="400m")
        assert "**400 m**" in reply.text() and not reply.ephemeral
    finally:
        await pg_box.stop_bot()
        await proxy.close()
