"""What the delivery service tells its ``outcomes`` callback (the bot's metrics count it): one call per
team and reminder, naming the slot, what became of it, and for a sent one how late it went out.

Directly on the service (a migrated database, a clock that stands still, a sender that fails on
demand); the emulator tests in ``tests/discord_app/test_health.py`` read the same counts in /metrics.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backrun_bot.domain.schedule import Slot
from backrun_bot.errors import ChannelUnavailable, DeliveryError, MessageRefused
from backrun_bot.services.delivery import DeliveryService, DoneTarget, Outcome, Picture, SlotGroup
from backrun_bot.services.reminder_settings import ReminderSettingsService

MONDAY = date(2026, 3, 9)
SEVEN = datetime(2026, 3, 9, 7, 0, tzinfo=UTC)
WARMUP = SlotGroup("UTC", time(7), Slot.WARMUP)
GRACE = timedelta(hours=2)
TEAM_A, TEAM_B = 201, 202
CHANNEL = {TEAM_A: 8001, TEAM_B: 8002}


@dataclass
class Told:
    """The outcomes callback, recording what it is told."""

    calls: list[tuple[str, Outcome, timedelta | None]] = field(default_factory=list)

    def __call__(self, slot: str, outcome: Outcome, *, late: timedelta | None = None) -> None:
        self.calls.append((slot, outcome, late))


@dataclass
class FailingSender:
    """Posts, except to the channels in ``fails`` (which raise that error)."""

    fails: dict[int, Exception] = field(default_factory=dict)

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
        if channel_id in self.fails:
            raise self.fails[channel_id]
        return 1

    async def find(self, channel_id: int, key: str, *, since: datetime) -> int | None:
        return None


class StandingClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Setup:
    delivery: DeliveryService
    sender: FailingSender
    clock: StandingClock
    told: Told


@pytest.fixture
async def setup(sessionmaker: async_sessionmaker[AsyncSession]) -> Setup:
    clock = StandingClock(SEVEN - timedelta(minutes=10))
    settings = ReminderSettingsService(sessionmaker, clock=clock)
    for team_id in (TEAM_A, TEAM_B):
        # The weekly summary off: Monday is only a day here (test_weekly.py has the summary).
        await settings.update(
            team_id, channel_id=CHANNEL[team_id], timezone="UTC", warmup=time(7), weekly=False
        )
    sender, told = FailingSender(), Told()
    delivery = DeliveryService(sessionmaker, sender, clock=clock, grace=GRACE, outcomes=told)
    return Setup(delivery, sender, clock, told)


async def test_each_sent_reminder_is_told_with_how_late_it_went_out(setup: Setup) -> None:
    setup.clock.now = SEVEN + timedelta(minutes=42)  # a catch-up
    assert (await setup.delivery.deliver(WARMUP, MONDAY, SEVEN)).sent == 2
    assert setup.told.calls == [("warmup", "sent", timedelta(minutes=42))] * 2
    await setup.delivery.deliver(WARMUP, MONDAY, SEVEN)  # already sent: nothing happens, nothing told
    assert len(setup.told.calls) == 2


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (MessageRefused("blocked by AutoMod"), "failed"),
        (ChannelUnavailable("gone"), "failed"),
        (DeliveryError("502"), "retry"),
        (RuntimeError("a bug"), "error"),
    ],
)
async def test_a_reminder_that_did_not_go_out_is_told_why(
    setup: Setup, error: Exception, outcome: Outcome
) -> None:
    setup.clock.now = SEVEN
    setup.sender.fails[CHANNEL[TEAM_A]] = error
    assert (await setup.delivery.deliver(WARMUP, MONDAY, SEVEN)).sent == 1  # team B's still goes out
    assert sorted(setup.told.calls, key=lambda c: c[1] != "sent") == [
        ("warmup", "sent", timedelta(0)),
        ("warmup", outcome, None),
    ]


async def test_each_skipped_reminder_is_told_once(setup: Setup) -> None:
    setup.clock.now = SEVEN + timedelta(hours=3)
    await setup.delivery.skip(WARMUP, MONDAY, SEVEN, reason="3 h late")
    await setup.delivery.skip(WARMUP, MONDAY, SEVEN, reason="3 h late")  # already recorded
    assert setup.told.calls == [("warmup", "skipped", None)] * 2


async def test_without_a_callback_nobody_is_told_and_delivery_works(
    sessionmaker: async_sessionmaker[AsyncSession], setup: Setup
) -> None:
    quiet = DeliveryService(sessionmaker, setup.sender, clock=setup.clock, grace=GRACE)
    setup.clock.now = SEVEN
    assert (await quiet.deliver(WARMUP, MONDAY, SEVEN)).sent == 2
    assert setup.told.calls == []
