"""A reminder run that fails (the database not answering) is tried again, with growing pauses, while
the reminder is inside its grace window; shutdown does not wait for a pause to end.

With a stand-in reminder service; the whole path (a PostgreSQL that is down at 07:00) is in
tests/discord_app/test_database_faults.py.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time

import pytest
import time_machine

from backrun_bot.domain.schedule import Slot
from backrun_bot.errors import StorageUnavailable
from backrun_bot.scheduling import scheduler as scheduler_module
from backrun_bot.scheduling.scheduler import ReminderScheduler, job_id
from backrun_bot.services.delivery import Delivered, SlotGroup

pytestmark = pytest.mark.timeout(30)

WARMUP = SlotGroup("UTC", clock_time(7, 0), Slot.WARMUP)
# A second before the warmup: the scheduler fires it a moment after start.
JUST_BEFORE = datetime(2026, 3, 9, 6, 59, 59, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock() -> Iterator[None]:
    with time_machine.travel(JUST_BEFORE, tick=True):
        yield


class FailingReminders:
    """Fails ``failures`` runs of today's warmup as a database outage would, then delivers it."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.attempts: list[float] = []
        self.delivered: list[date] = []
        self.skipped: list[date] = []
        self.finished: list[date] = []  # what settle() recorded
        self.failed = asyncio.Event()

    async def slot_groups(self) -> set[SlotGroup]:
        return {WARMUP}

    async def deliver(self, group: SlotGroup, day: date, instant: datetime) -> Delivered:
        self.attempts.append(time.monotonic())
        if self.failures > 0:
            self.failures -= 1
            self.failed.set()
            raise StorageUnavailable()
        self.delivered.append(day)
        return Delivered(sent=1)

    async def skip(self, group: SlotGroup, day: date, instant: datetime, *, reason: str) -> bool:
        self.skipped.append(day)  # yesterday's warmup is, by the catch-up at start
        return True

    async def settle(self, group: SlotGroup, day: date, instant: datetime) -> None:
        self.finished.append(day)

    async def settled(self, since: datetime) -> set[tuple[SlotGroup, date]]:
        return set()

    async def prune(self) -> int:
        return 0


def now() -> datetime:
    return datetime.now(UTC)


async def test_a_failed_run_is_tried_again_with_growing_pauses() -> None:
    fake = FailingReminders(failures=2)
    scheduler = ReminderScheduler(fake, grace=timedelta(hours=2), clock=now)
    await scheduler.start()
    try:
        async with asyncio.timeout(10):
            while not fake.delivered:
                await asyncio.sleep(0.05)
    finally:
        await scheduler.shutdown()
    assert fake.delivered == [date(2026, 3, 9)]
    first, second, third = fake.attempts
    assert 0.9 <= second - first < 1.5  # RETRY_FIRST
    assert 1.9 <= third - second < 2.5  # doubled


async def test_the_last_try_is_at_the_end_of_the_grace_window_and_what_failed_is_then_skipped() -> None:
    fake = FailingReminders(failures=100)
    scheduler = ReminderScheduler(fake, grace=timedelta(seconds=2), clock=now)
    await scheduler.start()
    try:
        await asyncio.sleep(4)
    finally:
        await scheduler.shutdown()
    # At 07:00, a second later, and at the end of the 2 s window (not two seconds after the second
    # try); then no more: today's warmup is recorded as skipped at once, not at the next start.
    first, _, third = fake.attempts
    assert 1.7 <= third - first < 2.5  # just before the end of the window
    assert fake.delivered == []
    assert fake.skipped == [date(2026, 3, 8), date(2026, 3, 9)]


class PendingReminders(FailingReminders):
    """Delivers, but reports ``failures`` runs as leaving one team's reminder pending (Discord said
    503, or another copy holds the claim)."""

    async def deliver(self, group: SlotGroup, day: date, instant: datetime) -> Delivered:
        self.attempts.append(time.monotonic())
        if self.failures > 0:
            self.failures -= 1
            return Delivered(sent=3, pending=1)
        self.delivered.append(day)
        return Delivered(sent=1)


async def test_a_run_that_leaves_reminders_pending_is_run_again_until_they_are_settled() -> None:
    fake = PendingReminders(failures=2)
    scheduler = ReminderScheduler(fake, grace=timedelta(hours=2), clock=now)
    await scheduler.start()
    try:
        async with asyncio.timeout(10):
            while not fake.delivered:
                await asyncio.sleep(0.05)
    finally:
        await scheduler.shutdown()
    first, second, third = fake.attempts
    assert 0.9 <= second - first < 1.5 and 1.9 <= third - second < 2.5
    assert fake.skipped == [date(2026, 3, 8)]  # the catch-up's; today's was settled
    # Recorded as finished once, by the run that left nothing pending (not by the pending ones).
    assert fake.finished == [date(2026, 3, 8), date(2026, 3, 9)]


async def test_pending_at_the_end_of_the_grace_window_is_recorded_as_skipped() -> None:
    fake = PendingReminders(failures=100)
    scheduler = ReminderScheduler(fake, grace=timedelta(seconds=2), clock=now)
    await scheduler.start()
    try:
        await asyncio.sleep(4)
    finally:
        await scheduler.shutdown()
    assert len(fake.attempts) == 3
    assert fake.skipped == [date(2026, 3, 8), date(2026, 3, 9)]
    assert fake.finished == [date(2026, 3, 8), date(2026, 3, 9)]  # the give-up skipped every team


class HeldAtTheEnd(PendingReminders):
    """Today's warmup is pending to the end; the skip then leaves a team to another run, which holds
    a fresh claim."""

    async def skip(self, group: SlotGroup, day: date, instant: datetime, *, reason: str) -> bool:
        self.skipped.append(day)
        return day != date(2026, 3, 9)


async def test_a_give_up_that_leaves_a_team_to_another_run_does_not_finish_the_occurrence() -> None:
    fake = HeldAtTheEnd(failures=100)
    scheduler = ReminderScheduler(fake, grace=timedelta(seconds=2), clock=now)
    await scheduler.start()
    try:
        await asyncio.sleep(4)
    finally:
        await scheduler.shutdown()
    assert fake.skipped == [date(2026, 3, 8), date(2026, 3, 9)]
    assert fake.finished == [date(2026, 3, 8)]  # the next start runs today's again


class CatchUpPending(PendingReminders):
    """Yesterday's warmup is missed but inside the grace window (a long one): the catch-up finds it
    pending (the crashed copy's claims are not stale yet) until ``failures`` runs have passed."""

    async def skip(self, group: SlotGroup, day: date, instant: datetime, *, reason: str) -> bool:
        raise AssertionError(f"nothing is past the grace window here: {day}")


async def test_a_caught_up_occurrence_left_pending_is_run_again_in_the_background() -> None:
    fake = CatchUpPending(failures=2)
    # 07:00 yesterday is inside a 25-hour window: the catch-up delivers it; today's fires at 07:00.
    scheduler = ReminderScheduler(fake, grace=timedelta(hours=25), clock=now)
    await scheduler.start()
    try:
        async with asyncio.timeout(10):
            while len(fake.delivered) < 2:
                await asyncio.sleep(0.05)
    finally:
        await scheduler.shutdown()
    assert sorted(fake.delivered) == [date(2026, 3, 8), date(2026, 3, 9)]
    assert len(fake.attempts) == 4  # yesterday's: pending twice, then settled; today's: settled


class GroupsFailAfterStart(FailingReminders):
    """The database goes away right after start: every later read of the slot groups fails."""

    def __init__(self) -> None:
        super().__init__(failures=0)
        self.reads = 0

    async def slot_groups(self) -> set[SlotGroup]:
        self.reads += 1
        if self.reads > 1:  # the start's refresh reads them (and hands them to the catch-up)
            raise StorageUnavailable()
        return {WARMUP}


async def test_a_slot_is_armed_again_when_the_database_cannot_say_whether_it_is_still_wanted() -> None:
    fake = GroupsFailAfterStart()
    scheduler = ReminderScheduler(fake, grace=timedelta(hours=2), clock=now)
    await scheduler.start()
    try:
        async with asyncio.timeout(10):
            while not fake.delivered:
                await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)
        job = scheduler._scheduler.get_job(job_id(WARMUP))
        assert job is not None, "today's run did not re-arm tomorrow's"
        assert job.next_run_time == datetime(2026, 3, 10, 7, 0, tzinfo=UTC)
    finally:
        await scheduler.shutdown()


async def test_shutdown_does_not_wait_out_a_pause_between_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scheduler_module, "RETRY_FIRST", timedelta(seconds=20))
    fake = FailingReminders(failures=100)
    scheduler = ReminderScheduler(fake, grace=timedelta(hours=2), clock=now)
    await scheduler.start()
    async with asyncio.timeout(5):
        await fake.failed.wait()
    started = time.monotonic()
    await scheduler.shutdown()
    assert time.monotonic() - started < 1
    assert len(fake.attempts) == 1
