"""The scheduler on its own, with a stand-in for the reminder service: which jobs exist, what the
catch-up does with missed reminders, and that shutdown lets a run in progress finish.

(The whole path — database, claim, Discord — is tested through the emulator in
tests/discord_app/test_reminders.py.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from backrun_bot.domain.schedule import Slot
from backrun_bot.scheduling.scheduler import CATCH_UP_JOB, PRUNE_JOB, ReminderScheduler, job_id
from backrun_bot.services.delivery import Delivered, SlotGroup

NOW = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)
GRACE = timedelta(hours=2)


@pytest.fixture(autouse=True)
def clock() -> Iterator[None]:
    """APScheduler reads the wall clock: travel it to NOW too (ticking, so that time passes)."""
    with time_machine.travel(NOW, tick=True):
        yield


async def caught_up(scheduler: ReminderScheduler) -> None:
    """Wait for the start's catch-up job to have run."""
    for _ in range(200):
        if scheduler._scheduler.get_job(CATCH_UP_JOB) is None:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the catch-up job never ran")


class FakeReminders:
    """What the scheduler asks of DeliveryService, recorded."""

    def __init__(self, groups: set[SlotGroup]) -> None:
        self.groups = groups
        self.delivered: list[tuple[SlotGroup, date]] = []
        self.skipped: list[tuple[SlotGroup, date]] = []
        self.finished: set[tuple[SlotGroup, date]] = set()  # what settle() recorded
        self.settled_reads = 0
        self.gate: asyncio.Event | None = None  # when set, deliver waits for it
        self.entered = asyncio.Event()
        self.pruned = 0

    async def slot_groups(self) -> set[SlotGroup]:
        return set(self.groups)

    async def deliver(self, group: SlotGroup, day: date, instant: datetime) -> Delivered:
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        self.delivered.append((group, day))
        return Delivered(sent=1)

    async def skip(self, group: SlotGroup, day: date, instant: datetime, *, reason: str) -> bool:
        self.skipped.append((group, day))
        return True

    async def settle(self, group: SlotGroup, day: date, instant: datetime) -> None:
        self.finished.add((group, day))

    async def settled(self, since: datetime) -> set[tuple[SlotGroup, date]]:
        self.settled_reads += 1
        return set(self.finished)

    async def prune(self) -> int:
        self.pruned += 1
        return 0


def group(hhmm: str, tz: str = "UTC", slot: Slot = Slot.WARMUP) -> SlotGroup:
    return SlotGroup(tz, time.fromisoformat(hhmm), slot)


def scheduler_for(fake: FakeReminders, now: datetime = NOW) -> ReminderScheduler:
    return ReminderScheduler(fake, grace=GRACE, clock=lambda: now)


async def test_one_job_per_slot_group_however_many_teams_share_it() -> None:
    groups = {group("07:00"), group("07:00", "Europe/London"), group("19:00", slot=Slot.COOLDOWN)}
    fake = FakeReminders(groups)
    scheduler = scheduler_for(fake)
    await scheduler.start()
    try:
        await caught_up(scheduler)
        assert scheduler.job_count() == len(groups) + 2  # and the periodic refresh and pruning
        fake.groups = {group("07:00")}
        await scheduler.refresh()
        assert scheduler.job_count() == 3
    finally:
        await scheduler.shutdown()


async def test_jobs_are_armed_at_the_next_local_occurrence() -> None:
    london = group("07:00", "Europe/London")
    scheduler = scheduler_for(FakeReminders({london}))
    await scheduler.start()
    try:
        job = scheduler._scheduler.get_job(job_id(london))
        # 08:00 UTC on 9 March is past 07:00 in London (GMT), so the next one is tomorrow.
        assert job.next_run_time == datetime(2026, 3, 10, 7, 0, tzinfo=ZoneInfo("Europe/London"))
    finally:
        await scheduler.shutdown()


async def test_catch_up_sends_within_the_grace_window_and_skips_older() -> None:
    in_grace = group("07:00")  # an hour ago
    too_late = group("05:00")  # three hours ago
    not_yet = group("09:00")
    fake = FakeReminders({in_grace, too_late, not_yet})
    await scheduler_for(fake).catch_up()
    assert fake.delivered == [(in_grace, NOW.date())]
    # The look-back is a day: yesterday's 09:00 was missed too (if it was sent, the ledger's unique
    # key makes recording it as skipped a no-op).
    yesterday = NOW.date() - timedelta(days=1)
    assert sorted(fake.skipped) == sorted([(not_yet, yesterday), (too_late, NOW.date())])


async def test_start_does_not_wait_for_the_catch_up() -> None:
    """Many missed reminders must not hold back the bot's login: the catch-up runs as a job."""
    missed = group("07:00")
    fake = FakeReminders({missed})
    fake.gate = asyncio.Event()
    scheduler = scheduler_for(fake)
    await asyncio.wait_for(scheduler.start(), timeout=5)  # returns while the catch-up is blocked
    try:
        await asyncio.wait_for(fake.entered.wait(), timeout=5)
        assert fake.delivered == []
        fake.gate.set()
        for _ in range(100):
            if fake.delivered:
                break
            await asyncio.sleep(0.01)
        assert fake.delivered == [(missed, NOW.date())]
    finally:
        await scheduler.shutdown()


async def running_a_blocked_delivery() -> tuple[ReminderScheduler, FakeReminders, SlotGroup]:
    """A scheduler whose reminder run is in progress (inside deliver) and waits on ``fake.gate``."""
    due = group("08:00")
    fake = FakeReminders(set())
    fake.gate = asyncio.Event()
    scheduler = scheduler_for(fake)
    await scheduler.start()
    scheduler._scheduler.add_job(scheduler._fire, args=(due, NOW.date(), NOW))  # run it now
    await asyncio.wait_for(fake.entered.wait(), timeout=5)
    return scheduler, fake, due


async def test_shutdown_lets_a_run_in_progress_finish() -> None:
    scheduler, fake, due = await running_a_blocked_delivery()
    stopping = asyncio.create_task(scheduler.shutdown())
    await asyncio.sleep(0.2)
    assert not stopping.done()  # still waiting for the run
    assert fake.gate is not None
    fake.gate.set()
    await asyncio.wait_for(stopping, timeout=5)
    assert fake.delivered == [(due, NOW.date())]
    assert not scheduler.running


async def test_shutdown_cancels_a_run_that_outlives_its_grace() -> None:
    scheduler, fake, _ = await running_a_blocked_delivery()
    await asyncio.wait_for(scheduler.shutdown(grace=timedelta(seconds=0.2)), timeout=5)
    await asyncio.sleep(0)
    assert fake.delivered == []
    assert not scheduler.running


async def test_old_delivery_rows_are_pruned_daily_at_a_quiet_hour() -> None:
    fake = FakeReminders({group("07:00")})
    scheduler = scheduler_for(fake)
    await scheduler.start()
    try:
        job = scheduler._scheduler.get_job(PRUNE_JOB)
        assert job is not None
        # NOW is 08:00 UTC: the next pruning is at 03:17 UTC tomorrow, then every day.
        assert job.next_run_time == datetime(2026, 3, 10, 3, 17, tzinfo=UTC)
        assert job.trigger.get_next_fire_time(None, job.next_run_time + timedelta(seconds=1)) == datetime(
            2026, 3, 11, 3, 17, tzinfo=UTC
        )
        await job.func()
        assert fake.pruned == 1
        await scheduler.refresh()  # a refresh never removes it
        assert scheduler._scheduler.get_job(PRUNE_JOB) is not None
    finally:
        await scheduler.shutdown()


async def test_the_daily_housekeeping_runs_after_the_pruning_each_on_its_own() -> None:
    """The retention of removed servers' data rides on the pruning job: run after it, and a job that
    fails neither stops the ones after it nor the pruning the next day."""
    fake = FakeReminders({group("07:00")})
    ran: list[str] = []

    async def failing() -> None:
        ran.append("failing")
        raise RuntimeError("the database is gone")

    async def purge() -> int:
        ran.append(f"purge after {fake.pruned} pruning")
        return 0

    scheduler = ReminderScheduler(fake, grace=GRACE, clock=lambda: NOW, daily=(failing, purge))
    await scheduler.start()
    try:
        job = scheduler._scheduler.get_job(PRUNE_JOB)
        assert job is not None
        await job.func()
        await job.func()
        assert ran == ["failing", "purge after 1 pruning", "failing", "purge after 2 pruning"]
    finally:
        await scheduler.shutdown()
