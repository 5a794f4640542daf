"""PlanService.day_off_reason, the question anything outside /plan and the warmup asks ("is this
athlete on a suggested day off on day D, and why"), on a real database (SQLite and PostgreSQL): it
answers as /plan does, for any day, and reads only."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backrun_bot.domain.amounts import parse_amount
from backrun_bot.domain.kinds import Kind
from backrun_bot.domain.load import Rule
from backrun_bot.domain.wellness import Area, Soreness
from backrun_bot.services.common import Who
from backrun_bot.services.plan import PlanService
from backrun_bot.services.training import TrainingService
from backrun_bot.services.wellness import CheckinService
from tests.rows import snapshot

Sessions = async_sessionmaker[AsyncSession]
NOW = datetime(2026, 3, 8, 15, tzinfo=UTC)
SATURDAY, SUNDAY = date(2026, 3, 7), date(2026, 3, 8)
GUILD = 77
ALICE, BOB, CARL = Who(GUILD, 1, "alice"), Who(GUILD, 2, "bob"), Who(GUILD, 3, "carl")


def clock() -> datetime:
    return NOW


async def test_the_reason_is_the_heavy_day_before_the_days_checkin_or_both(sessionmaker: Sessions) -> None:
    plans = PlanService(sessionmaker, clock=clock)
    assert await plans.day_off_reason(GUILD, ALICE.user_id, SUNDAY) is None  # no team yet
    training, checkins = TrainingService(sessionmaker, clock=clock), CheckinService(sessionmaker, clock=clock)
    await training.log(ALICE, Kind.BACKWARD, parse_amount("2 km"), day_text="2026-03-06")
    await training.log(BOB, Kind.BACKWARD, parse_amount("400m"), day_text="yesterday")
    await checkins.checkin(ALICE, 8, Area.KNEE)
    await checkins.checkin(BOB, 9, Area.CALF)
    await checkins.checkin(CARL, 6, Area.HAMSTRING)
    before = await snapshot(sessionmaker)

    # Saturday: Friday's 2 km were heavy for Alice; nobody checked in on Saturday.
    saturday = await plans.day_off_reason(GUILD, ALICE.user_id, SATURDAY)
    assert saturday is not None and saturday.sore is None
    assert saturday.heavy is not None and saturday.heavy.rules == (Rule.VOLUME,)
    # Sunday: her knee, not Friday (two days back).
    sunday = await plans.day_off_reason(GUILD, ALICE.user_id, SUNDAY)
    assert sunday is not None and (sunday.heavy, sunday.sore) == (None, Soreness(8, Area.KNEE))
    assert await plans.day_off_reason(GUILD, BOB.user_id, SUNDAY) is None  # calf, and 400 m
    carl = await plans.day_off_reason(GUILD, CARL.user_id, SUNDAY)
    assert carl is not None and carl.sore == Soreness(6, Area.HAMSTRING)
    assert await plans.day_off_reason(GUILD, 99, SUNDAY) is None  # not an athlete
    assert await snapshot(sessionmaker) == before  # it only reads

    # The same answer /plan gives for today.
    for who in (ALICE, BOB, CARL):
        assert (await plans.plan(who)).reason == await plans.day_off_reason(GUILD, who.user_id, SUNDAY)
