"""Edges of the delivery protocol that the first mutation run of the rewritten fan-out found untested
(see tests/README.md, "The delivery protocol"): what the look in the channel asks Discord for, the
test message's key, the batch boundary of the fan-out, the skip's log line and cost, the ledger's
column width, and what pruning says and how it deletes.

The same world as ``test_delivery.py`` (the real service on a migrated database, a clock the test
moves, a recording sender), built from its helpers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import String
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backrun_bot.domain.schedule import Slot
from backrun_bot.errors import DeliveryError
from backrun_bot.services import delivery
from backrun_bot.services.delivery import (
    BATCHES_IN_FLIGHT,
    CLAIM_LEASE,
    FANOUT_BATCH,
    SKIPPED_NAMED,
    Delivered,
    DeliveryService,
    DoneTarget,
    Outcome,
    Picture,
    SlotGroup,
)
from backrun_bot.services.reminder_settings import ReminderSettingsService
from backrun_bot.services.training import TrainingService
from backrun_bot.storage import reminder_queries as rq
from backrun_bot.storage.models import ReminderDelivery
from tests.services.test_delivery import (
    CHANNEL,
    GRACE,
    MONDAY,
    OSLO,
    SEVEN,
    TEAM_A,
    TEAM_B,
    TEAM_C,
    TUESDAY,
    WARMUP,
    Clock,
    RecordingSender,
    World,
    statements_of,
)


@dataclass
class LookingSender(RecordingSender):
    """A recording sender that also notes from when each look in the channel reads (``since``), and
    runs ``before_next_send`` (once) at the start of the next send: another copy acting while this
    one's sends are out."""

    since: list[datetime] = field(default_factory=list)
    before_next_send: Callable[[], Awaitable[None]] | None = None

    async def send(
        self,
        channel_id: int,
        content: str,
        *,
        mention_user_ids: Sequence[int],
        nonce: str,
        key: str,
        picture: Picture | None = None,
        done: DoneTarget | None = None,
    ) -> int:
        hook, self.before_next_send = self.before_next_send, None
        if hook is not None:
            await hook()
        return await super().send(
            channel_id, content, mention_user_ids=mention_user_ids, nonce=nonce, key=key, done=done
        )

    async def find(self, channel_id: int, key: str, *, since: datetime) -> int | None:
        self.since.append(since)
        return await super().find(channel_id, key, since=since)


def make_world(sessionmaker: async_sessionmaker[AsyncSession], sender: RecordingSender) -> World:
    """``test_delivery.world``, with the sender given."""
    clock = Clock(SEVEN - timedelta(minutes=10))
    return World(
        sessionmaker,
        clock,
        sender,
        DeliveryService(sessionmaker, sender, clock=clock, grace=GRACE),
        ReminderSettingsService(sessionmaker, clock=clock),
        TrainingService(sessionmaker, clock),
    )


@pytest.fixture
def world(sessionmaker: async_sessionmaker[AsyncSession]) -> World:
    return make_world(sessionmaker, RecordingSender())


def detail_width() -> int:
    column = ReminderDelivery.__table__.c.detail.type
    assert isinstance(column, String) and column.length is not None
    return column.length


# --- the look in the channel ----------------------------------------------------------------------


async def test_a_retry_looks_in_the_channel_from_the_reminders_own_time(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Discord's history is read from the reminder's time (07:00), not from the retry's, nor from
    the beginning of the channel: the earlier attempt can only have posted it since then."""
    sender = LookingSender()
    world = make_world(sessionmaker, sender)
    await world.team(TEAM_A)
    world.clock.now = SEVEN + timedelta(minutes=1)  # a run a minute late, as from the catch-up
    sender.failures[CHANNEL[TEAM_A]] = [DeliveryError("503")]
    await world.delivery.deliver(WARMUP, MONDAY, SEVEN)
    world.clock.advance(timedelta(minutes=5))

    assert (await world.delivery.deliver(WARMUP, MONDAY, SEVEN)).sent == 1
    assert sender.since == [SEVEN]


async def test_a_failed_look_is_logged_with_the_reminder_the_channel_and_the_error(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="backrun_bot.services.delivery")
    await world.team(TEAM_A)
    world.clock.now = SEVEN
    world.sender.failures[CHANNEL[TEAM_A]] = [DeliveryError("503")]
    world.sender.find_failures[CHANNEL[TEAM_A]] = [DeliveryError("reading the channel: 503")]
    await world.delivery.deliver(WARMUP, MONDAY, SEVEN)
    caplog.clear()

    await world.delivery.deliver(WARMUP, MONDAY, SEVEN)

    assert [r.getMessage() for r in caplog.records] == [
        f"could not look for an earlier 2026-03-09:warmup in channel {CHANNEL[TEAM_A]} "
        "(reading the channel: 503); sending"
    ]


async def test_a_test_message_is_never_taken_for_the_real_reminder(world: World) -> None:
    """The test carries its own key: a retry of the real one that looks in the channel finds only
    the test there, and sends the real one."""
    await world.team(TEAM_A)
    world.clock.now = SEVEN - timedelta(minutes=5)
    await world.delivery.send_test(TEAM_A, Slot.WARMUP)
    world.clock.now = SEVEN
    world.sender.failures[CHANNEL[TEAM_A]] = [DeliveryError("502 Bad Gateway")]
    assert (await world.delivery.deliver(WARMUP, MONDAY, SEVEN)).pending == 1

    assert await world.delivery.deliver(WARMUP, MONDAY, SEVEN) == Delivered(sent=1, pending=0)

    test, real = world.sender.to(CHANNEL[TEAM_A])
    assert (test.key, real.key) == ("2026-03-09:warmup:test", "2026-03-09:warmup")
    assert (await world.row(TEAM_A)).message_id == real.message_id


# --- the fan-out's batches ------------------------------------------------------------------------


async def test_a_team_another_copy_sent_while_an_earlier_batch_was_out_is_not_sent_again(
    sessionmaker: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The due teams are read once; with one batch in progress at a time, the teams of the second
    batch are claimed only after the first batch's sends. Meanwhile another copy sent the last team's
    reminder, and more than a lease passed (a slow Discord): the row is settled, and a settled row is
    never taken over, however old its claim."""
    monkeypatch.setattr(delivery, "BATCHES_IN_FLIGHT", 1)
    sender = LookingSender()
    world = make_world(sessionmaker, sender)
    teams = list(range(10_000, 10_000 + FANOUT_BATCH + 1))
    for team_id in teams:
        await world.team(team_id)
    world.clock.now = SEVEN
    other = DeliveryService(sessionmaker, sender, clock=world.clock, grace=GRACE)
    other_did: list[Delivered] = []
    last = CHANNEL.get(teams[-1], teams[-1] + 100_000)
    # The bot may not read that channel's history: the look in the channel would not save the day.
    sender.unreadable.add(last)

    async def the_other_copy_runs() -> None:
        # The first batch is claimed (held, for the other copy); the last team is not yet.
        other_did.append(await other.deliver(WARMUP, MONDAY, SEVEN))
        world.clock.advance(CLAIM_LEASE * 2)

    sender.before_next_send = the_other_copy_runs
    done = await world.delivery.deliver(WARMUP, MONDAY, SEVEN)

    assert other_did == [Delivered(sent=1, pending=FANOUT_BATCH)]
    assert done == Delivered(sent=FANOUT_BATCH, pending=0)
    assert len(sender.to(last)) == 1
    assert sorted(m.channel_id for m in sender.sent) == sorted(CHANNEL.get(t, t + 100_000) for t in teams)
    assert (await world.row(teams[-1])).attempts == 1


@dataclass
class GatedSender(RecordingSender):
    """A recording sender whose sends to the ``held`` channels wait until ``release`` is set."""

    held: set[int] = field(default_factory=set)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(
        self,
        channel_id: int,
        content: str,
        *,
        mention_user_ids: Sequence[int],
        nonce: str,
        key: str,
        picture: Picture | None = None,
        done: DoneTarget | None = None,
    ) -> int:
        if channel_id in self.held:
            await self.release.wait()
        return await super().send(
            channel_id, content, mention_user_ids=mention_user_ids, nonce=nonce, key=key, done=done
        )


async def test_while_one_batch_waits_on_discord_the_next_is_claimed_and_sent_but_no_more(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """The sends do not stop between batches to wait for the database: the next batch is claimed,
    read and sending while one is still out. But only BATCHES_IN_FLIGHT batches hold claims at once."""
    sender = GatedSender()
    world = make_world(sessionmaker, sender)
    teams = list(range(20_000, 20_000 + FANOUT_BATCH * (BATCHES_IN_FLIGHT + 1)))
    for team_id in teams:
        await world.team(team_id)
    out = teams[: FANOUT_BATCH * BATCHES_IN_FLIGHT]  # Discord does not answer their sends yet
    last = teams[FANOUT_BATCH * BATCHES_IN_FLIGHT :]
    sender.held = {CHANNEL.get(t, t + 100_000) for t in out}
    world.clock.now = SEVEN
    run = asyncio.create_task(world.delivery.deliver(WARMUP, MONDAY, SEVEN))

    async def claimed(team_ids: Sequence[int]) -> int:
        async with sessionmaker() as s:
            return len([r for t in team_ids for r in await rq.deliveries(s, t)])

    async def all_out_claimed() -> None:
        while await claimed(out) < len(out):
            await asyncio.sleep(0.01)

    await asyncio.wait_for(all_out_claimed(), timeout=20)
    await asyncio.sleep(0.2)  # time enough for a further batch to be claimed, if it were
    assert await claimed(last) == 0, "more batches held claims at once than BATCHES_IN_FLIGHT"
    assert sender.sent == []
    sender.release.set()
    assert await asyncio.wait_for(run, timeout=20) == Delivered(sent=len(teams), pending=0)
    assert len(sender.sent) == len(teams)


# --- skipped ----------------------------------------------------------------------------------------


async def test_a_skipped_group_of_exactly_twenty_teams_names_them_all_and_no_more(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="backrun_bot.services.delivery")
    teams = range(5000, 5000 + SKIPPED_NAMED)
    for team_id in teams:
        await world.team(team_id)
    world.clock.now = SEVEN + GRACE + timedelta(minutes=1)

    await world.delivery.skip(WARMUP, MONDAY, SEVEN, reason="2:01:00 late")

    [line] = [r.getMessage() for r in caplog.records]
    assert line.endswith("team(s) " + ", ".join(map(str, teams)))


async def test_skipping_a_big_group_costs_a_few_statements_not_a_few_per_team(world: World) -> None:
    """The due teams, then new rows and unsettled rows in one statement each (per thousand teams)."""
    teams = range(5000, 5030)
    for team_id in teams:
        await world.team(team_id)
    world.clock.now = SEVEN + GRACE + timedelta(minutes=1)

    with statements_of(world) as statements:
        await world.delivery.skip(WARMUP, MONDAY, SEVEN, reason="2:01:00 late")

    assert len(statements) <= 3, statements
    assert [r.status for t in teams for r in await world.ledger(t)] == ["skipped"] * 30


async def test_a_long_skip_reason_is_recorded_cut_to_the_column(world: World) -> None:
    """A reason longer than the ledger's column (PostgreSQL refuses it, and the skip would fail) is
    cut, for a reminder never tried and for one that failed."""
    await world.team(TEAM_A)
    world.clock.now = SEVEN
    world.sender.failures[CHANNEL[TEAM_A]] = [DeliveryError("503")]
    assert (await world.delivery.deliver(WARMUP, MONDAY, SEVEN)).pending == 1  # marked for a retry
    world.clock.now = SEVEN + GRACE
    reason = "not delivered by the end of its grace window " * 10

    await world.delivery.skip(WARMUP, TUESDAY, SEVEN + timedelta(days=1), reason=reason)  # never tried
    await world.delivery.skip(WARMUP, MONDAY, SEVEN, reason=reason)  # A's retry

    width = detail_width()
    never_tried = await world.row(TEAM_A, TUESDAY)
    failed = await world.row(TEAM_A)
    assert never_tried.status == failed.status == "skipped"
    assert never_tried.detail == reason[:width]
    assert failed.detail is not None and len(failed.detail) == width and failed.detail == reason[:width]


# --- pruning ----------------------------------------------------------------------------------------


async def test_pruning_says_how_many_rows_went_and_from_before_which_day(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="backrun_bot.services.delivery")
    await world.team(TEAM_A)
    for days_ago in (90, 91, 92):
        async with world.sessionmaker.begin() as s:
            await rq.claim(s, TEAM_A, MONDAY - timedelta(days=days_ago), "warmup", SEVEN, stale_before=SEVEN)
    world.clock.now = SEVEN

    assert await world.delivery.prune() == 2
    assert [r.getMessage() for r in caplog.records] == [
        "pruned 2 reminder delivery rows from before 2025-12-09"
    ]
    caplog.clear()
    assert await world.delivery.prune() == 0
    assert caplog.records == []  # nothing went: nothing to say


async def test_pruning_deletes_a_batch_per_statement(world: World) -> None:
    """A first pruning of a big ledger must not be one long statement: 25 old rows in batches of 10
    are three deletes (10, 10, 5), each committed."""
    for team_id in range(7000, 7025):
        await world.team(team_id)
        async with world.sessionmaker.begin() as s:
            await rq.claim(s, team_id, MONDAY - timedelta(days=100), "warmup", SEVEN, stale_before=SEVEN)

    with statements_of(world) as statements:
        async with world.sessionmaker() as s:
            assert await rq.prune(s, MONDAY, batch=10) == 25

    deletes = [q for q in statements if q.lstrip().upper().startswith("DELETE")]
    assert len(deletes) == 3, statements


# --- a batch that fails ---------------------------------------------------------------------------


@dataclass
class FailsOnce:
    """An ``outcomes`` callback that raises the first time it is told of a sent reminder (a bug in
    the metrics), and records what it is told."""

    told: list[tuple[str, str, timedelta | None]] = field(default_factory=list)
    error: RuntimeError = field(default_factory=lambda: RuntimeError("a bug in the metrics"))
    raised: bool = False

    def __call__(self, slot: str, outcome: Outcome, *, late: timedelta | None = None) -> None:
        if outcome == "sent" and not self.raised:
            self.raised = True
            raise self.error
        self.told.append((slot, outcome, late))


async def test_a_batch_that_fails_is_logged_told_and_pending_and_the_next_batch_goes_out(
    sessionmaker: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="backrun_bot.services.delivery")
    world = make_world(sessionmaker, RecordingSender())
    teams = list(range(10_000, 10_000 + FANOUT_BATCH + 1))
    for team_id in teams:
        await world.team(team_id)
    world.clock.now = SEVEN
    outcomes = FailsOnce()
    delivery = DeliveryService(sessionmaker, world.sender, clock=world.clock, grace=GRACE, outcomes=outcomes)

    done = await delivery.deliver(WARMUP, MONDAY, SEVEN)

    # The batch told of first (the two are out at once, either may finish first) failed after its
    # sends (they went out and are recorded); it counts as pending, so the scheduler comes back, and
    # finds nothing more to send. The other batch went out.
    [line] = caplog.records
    first, second = teams[:FANOUT_BATCH], teams[FANOUT_BATCH:]
    failed, other = (first, second) if str(first) in line.getMessage() else (second, first)
    assert line.getMessage() == f"warmup reminders of teams {failed} for 2026-03-09 failed"
    assert done == Delivered(sent=len(other), pending=len(failed))
    assert len(world.sender.sent) == FANOUT_BATCH + 1
    assert line.exc_info is not None and line.exc_info[1] is outcomes.error
    assert outcomes.told == [("warmup", "error", None)] + [("warmup", "sent", timedelta(0))] * len(other)
    assert await delivery.deliver(WARMUP, MONDAY, SEVEN) == Delivered()


# --- what a skip records ----------------------------------------------------------------------------


async def test_a_skip_records_only_its_own_group_day_and_slot(world: World) -> None:
    """Failed attempts of the day before, of another group and of the other slot lie around as
    ``retry`` rows when the 07:00 warmup's window ends: the skip records only its own."""
    eight = SEVEN + timedelta(hours=1)
    sunday = MONDAY - timedelta(days=1)
    world.clock.now = SEVEN - timedelta(days=1, minutes=10)
    await world.team(TEAM_A, cooldown=time(8))
    await world.team(TEAM_B, warmup=time(7, 30))
    for channel in (CHANNEL[TEAM_A], CHANNEL[TEAM_B]):
        world.sender.failures[channel] = [DeliveryError("503")] * 4
    runs = [
        (WARMUP, sunday, SEVEN - timedelta(days=1)),  # A, Sunday
        (WARMUP, MONDAY, SEVEN),  # A, the one skipped
        (SlotGroup(OSLO, time(7, 30), Slot.WARMUP), MONDAY, SEVEN + timedelta(minutes=30)),  # B
        (SlotGroup(OSLO, time(8), Slot.COOLDOWN), MONDAY, eight),  # A's cooldown
    ]
    for group, day, instant in runs:
        world.clock.now = instant
        assert await world.delivery.deliver(group, day, instant) == Delivered(pending=1)
    world.clock.now = SEVEN + GRACE

    await world.delivery.skip(WARMUP, MONDAY, SEVEN, reason="not delivered by the end of its grace window")

    skipped = await world.row(TEAM_A)
    assert (skipped.status, skipped.finished_at) == ("skipped", SEVEN + GRACE)
    assert (await world.row(TEAM_A, sunday)).status == "retry"
    assert (await world.row(TEAM_A, MONDAY, Slot.COOLDOWN)).status == "retry"
    assert (await world.row(TEAM_B)).status == "retry"


async def test_the_skip_line_names_the_teams_whose_attempts_failed_and_those_never_tried(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="backrun_bot.services.delivery")
    await world.team(TEAM_A)
    await world.team(TEAM_B)
    world.clock.now = SEVEN
    world.sender.failures[CHANNEL[TEAM_A]] = [DeliveryError("503")]
    await world.delivery.deliver(WARMUP, MONDAY, SEVEN)  # A: retry; B: sent
    await world.team(TEAM_C)  # saved at 07:00 itself: due, never tried
    world.clock.now = SEVEN + GRACE
    caplog.clear()

    await world.delivery.skip(WARMUP, MONDAY, SEVEN, reason="late")

    [line] = [r.getMessage() for r in caplog.records]
    assert line.startswith("skipped the warmup reminder of 2 team(s)")
    assert line.endswith(f"team(s) {TEAM_A}, {TEAM_C}")
    assert (await world.row(TEAM_A)).finished_at == SEVEN + GRACE


async def test_a_reminder_whose_send_hit_a_bug_counts_as_pending(world: World) -> None:
    """Its claim stays until it is stale and is retried then: the scheduler must come back for it."""
    await world.team(TEAM_A)
    await world.team(TEAM_B)
    world.clock.now = SEVEN
    world.sender.failures[CHANNEL[TEAM_A]] = [RuntimeError("a bug in the adapter")]

    assert await world.delivery.deliver(WARMUP, MONDAY, SEVEN) == Delivered(sent=1, pending=1)
    assert (await world.row(TEAM_A)).status == "claimed"
    world.clock.advance(CLAIM_LEASE + timedelta(seconds=1))
    assert await world.delivery.deliver(WARMUP, MONDAY, SEVEN) == Delivered(sent=1, pending=0)
