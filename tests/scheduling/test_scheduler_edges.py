"""Edges of the scheduler that the first mutation run of the retrying delivery found untested (see
tests/README.md, "The delivery protocol"): exactly what each run asks of the reminder service (the
group, the day, the instant, the reason of a skip), the edge of the grace window, the log lines of a
run left pending and of a failed catch-up, and whether a fired group is armed again.

With a stand-in reminder service that records every call, as in ``test_scheduler.py``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pytest
import time_machine

from backrun_bot.domain.schedule import Slot
from backrun_bot.errors import StorageUnavailable
from backrun_bot.scheduling.scheduler import ReminderScheduler
from backrun_bot.services.delivery import Delivered, SlotGroup
from tests.scheduling.test_scheduler import GRACE, NOW, group

pytestmark = pytest.mark.timeout(30)

TODAY = NOW.date()  # 9 March 2026, NOW is 08:00 UTC


def at(day: date, hhmm: str) -> datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=UTC)


@dataclass
class Calls:
    """Every call the scheduler makes, with all its arguments. ``pending`` runs of deliver report
    one reminder pending, ``failing`` ones raise as a database outage would; ``gone`` groups are no
    longer in the slot groups once they have been delivered."""

    groups: set[SlotGroup]
    pending: int = 0
    failing: int = 0
    gone: set[SlotGroup] = field(default_factory=set)
    delivered: list[tuple[SlotGroup, date, datetime]] = field(default_factory=list)
    skipped: list[tuple[SlotGroup, date, datetime, str]] = field(default_factory=list)
    finished: list[tuple[SlotGroup, date, datetime]] = field(default_factory=list)

    async def slot_groups(self) -> set[SlotGroup]:
        done = {g for g, _, _ in self.delivered}
        return {g for g in self.groups if not (g in self.gone and g in done)}

    async def deliver(self, group: SlotGroup, day: date, instant: datetime) -> Delivered:
        self.delivered.append((group, day, instant))
        if self.failing > 0:
            self.failing -= 1
            raise StorageUnavailable()
        if self.pending > 0:
            self.pending -= 1
            return Delivered(sent=1, pending=2)
        return Delivered(sent=1)

    async def skip(self, group: SlotGroup, day: date, instant: datetime, *, reason: str) -> bool:
        self.skipped.append((group, day, instant, reason))
        return True

    async def settle(self, group: SlotGroup, day: date, instant: datetime) -> None:
        self.finished.append((group, day, instant))

    async def settled(self, since: datetime) -> set[tuple[SlotGroup, date]]:
        return {(g, d) for g, d, i in self.finished if i > since}

    async def prune(self) -> int:
        return 0


@pytest.fixture
def standing() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.mark.usefixtures("standing")
async def test_the_catch_up_asks_for_each_occurrence_by_its_group_day_and_instant() -> None:
    """At 08:00 with a 2-hour window: 06:00 today is exactly at the end of the window, still sent;
    05:00 today is past it, skipped with how late it is."""
    on_edge, too_late = group("06:00"), group("05:00", slot=Slot.COOLDOWN)
    calls = Calls({on_edge, too_late})

    await ReminderScheduler(calls, grace=GRACE, clock=lambda: NOW).catch_up()

    assert calls.delivered == [(on_edge, TODAY, at(TODAY, "06:00"))]
    # (Yesterday's are before the day of look-back.)
    assert calls.skipped == [(too_late, TODAY, at(TODAY, "05:00"), "3:00:00 late")]


@pytest.mark.usefixtures("standing")
async def test_a_failed_catch_up_is_logged_and_left_to_a_retry_in_the_background(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="backrun_bot.scheduling.scheduler")
    missed = group("07:00")
    calls = Calls({missed}, failing=1)
    scheduler = ReminderScheduler(calls, grace=GRACE, clock=lambda: NOW)

    await scheduler.catch_up()

    [line] = caplog.records
    assert line.getMessage() == "catch-up of warmup|UTC|07:00 on 2026-03-09 failed"
    assert isinstance(line.exc_info and line.exc_info[1], StorageUnavailable)
    assert scheduler.job_count() == 1  # the retry, run once the scheduler starts


@pytest.mark.usefixtures("standing")
async def test_a_caught_up_occurrence_left_pending_is_logged_and_retried_for_the_same_occurrence(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="backrun_bot.scheduling.scheduler")
    missed = group("07:00")
    calls = Calls({missed}, pending=1)
    scheduler = ReminderScheduler(calls, grace=GRACE, clock=lambda: NOW)
    await scheduler.start()
    try:
        async with asyncio.timeout(10):
            while len(calls.delivered) < 2:
                await asyncio.sleep(0.05)
    finally:
        await scheduler.shutdown()

    assert calls.delivered == [(missed, TODAY, at(TODAY, "07:00"))] * 2
    assert "warmup|UTC|07:00 on 2026-03-09: 2 reminders pending, trying again" in [
        r.getMessage() for r in caplog.records
    ]


JUST_BEFORE = datetime(2026, 3, 9, 6, 59, 59, tzinfo=UTC)


@pytest.fixture
def before_seven() -> Iterator[None]:
    with time_machine.travel(JUST_BEFORE, tick=True):
        yield


def now() -> datetime:
    return datetime.now(UTC)


@pytest.mark.usefixtures("before_seven")
async def test_a_fired_group_is_armed_again_only_while_teams_still_have_it() -> None:
    stays, goes = group("07:00"), group("07:00", slot=Slot.COOLDOWN)
    kept, dropped = Calls({stays}), Calls({goes}, gone={goes})
    schedulers = [ReminderScheduler(c, grace=GRACE, clock=now) for c in (kept, dropped)]
    for scheduler in schedulers:
        await scheduler.start()
    try:
        async with asyncio.timeout(10):
            while not (kept.delivered and dropped.delivered):
                await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)
        # The refresh and the pruning, and tomorrow's 07:00 where a team still has it.
        assert [s.job_count() for s in schedulers] == [3, 2]
    finally:
        for scheduler in schedulers:
            await scheduler.shutdown()
    assert kept.delivered == [(stays, TODAY, at(TODAY, "07:00"))]
