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
from backrun_bot.scheduling.scheduler import ReminderScheduler
from backrun_bot.services.delivery import SlotGroup

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
        self.failed = asyncio.Event()

    async def slot_groups(self) -> set[SlotGroup]:
        return {WARMUP}

    async def deliver(self, group: SlotGroup, day: date, instant: datetime) -> int:
        self.attempts.append(time.monotonic())
        if self.failures > 0:
            self.failures -= 1
            self.failed.set()
            raise StorageUnavailable()
        self.delivered.append(day)
        return 1

    async def skip(self, group: SlotGroup, day: date, instant: datetime, *, reason: str) -> None:
        self.skipped.append(day)  # yesterday's warmup is, by the catch-up at start


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


async def test_no_retry_once_the_grace_window_is_over() -> None:
    fake = FailingReminders(failures=100)
    scheduler = ReminderScheduler(fake, grace=timedelta(seconds=2), clock=now)
    await scheduler.start()
    try:
        await asyncio.sleep(5)
    finally:
        await scheduler.shutdown()
    # At 07:00 and a second later; the next try (two seconds on) would be past the 2 s window, so the
    # run stops there and leaves recording the skip to the next start's catch-up.
    assert len(fake.attempts) == 2
    assert fake.delivered == []
    assert fake.skipped == [date(2026, 3, 8)]


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
