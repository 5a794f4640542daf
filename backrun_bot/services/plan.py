"""/plan: an athlete's warmup and cooldown for today, and whether to take the day off from backward work.

Whether a day is a suggested day off is :func:`backrun_bot.domain.day_off.day_off_reason`'s call,
on yesterday's assessment (:func:`backrun_bot.domain.load.assess_day` with the team's heavy-day mark,
exactly as for the morning reminder) and the day's check-in. On a day off the plan is the forward
version of the team's day (:func:`backrun_bot.domain.drills.forward_plan_for`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backrun_bot.domain.amounts import Units
from backrun_bot.domain.day_off import DayOffReason, day_off_reason, plan_advice
from backrun_bot.domain.drills import DailyPlan, forward_plan_for, plan_for
from backrun_bot.domain.load import LOAD_LOOKBACK_DAYS, HeavyDay, assess_day
from backrun_bot.services.common import Clock, Who, team_today
from backrun_bot.storage import checkin_queries as cq
from backrun_bot.storage import load_queries as lq
from backrun_bot.storage import queries
from backrun_bot.storage.models import Team


@dataclass(frozen=True)
class DayFacts:
    """What decides whether an athlete's day is a suggested day off: the day before's assessment,
    its backward metres, and the day's own check-in."""

    heavy: HeavyDay | None  # the day before, if it was heavy for them
    yesterday_backward_m: float
    checkin: cq.CheckinRow | None

    @property
    def reason(self) -> DayOffReason | None:
        c = self.checkin
        return day_off_reason(self.heavy, None if c is None else c.soreness, None if c is None else c.area)


@dataclass(frozen=True)
class PlanToday:
    """One athlete's day: the plan to follow and the facts behind the day-off advice."""

    today: date
    plan: DailyPlan
    heavy: HeavyDay | None  # yesterday, if it was heavy for them
    yesterday_backward_m: float
    heavy_mark: float
    units: Units = Units.METRIC  # the team's: how the plan and the advice show distances
    checkin: cq.CheckinRow | None = None  # today's

    @property
    def reason(self) -> DayOffReason | None:
        return DayFacts(self.heavy, self.yesterday_backward_m, self.checkin).reason

    @property
    def day_off(self) -> bool:
        return self.reason is not None

    def advice(self) -> str:
        c = self.checkin
        return plan_advice(
            self.today,
            self.heavy,
            self.yesterday_backward_m,
            self.heavy_mark,
            self.units,
            checkin=None if c is None else (c.soreness, c.area),
        )


async def day_facts(s: AsyncSession, team: Team, user_id: int, day: date) -> DayFacts:
    """The facts of a member's ``day`` (a local day of the team): two reads, one athlete."""
    before = day - timedelta(days=1)
    days = await lq.athlete_day_logs(s, team.id, user_id, before - timedelta(days=LOAD_LOOKBACK_DAYS), before)
    heavy = assess_day(days, before, team.heavy_meters)
    backward = math.fsum(d.backward_meters for d in days if d.day == before)
    return DayFacts(heavy, backward, await cq.checkin_of(s, team.id, user_id, day))


class PlanService:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], *, clock: Clock) -> None:
        self._sessionmaker = sessionmaker
        self._clock = clock

    async def day_off_reason(self, guild_id: int, user_id: int, day: date) -> DayOffReason | None:
        """Whether the member is on a suggested day off from backward work on ``day`` (a local day
        of the team), and why: the day before was heavy for them, or their check-in of ``day`` is
        sore enough (either, or both, in the reason). None if neither, or if the server has no team.
        Reads only; what ``/plan`` and the warmup decide for the same day."""
        async with self._sessionmaker() as s:
            team = await s.get(Team, guild_id)
            if team is None:
                return None
            return (await day_facts(s, team, user_id, day)).reason

    async def plan(self, who: Who) -> PlanToday:
        """Today's plan for the caller: the forward version on a suggested day off."""
        async with self._sessionmaker.begin() as s:
            team = await queries.get_or_create_team(s, who.guild_id)
            today = team_today(team, self._clock)
            facts = await day_facts(s, team, who.user_id, today)
            reason = facts.reason
            plan = forward_plan_for(team.id, today) if reason is not None else plan_for(team.id, today)
            # /plan told them to rest from backward work today: their streak holds over it.
            if reason is not None and reason.sore is not None and facts.checkin is not None:
                # Kept as a rest day for soreness (the backward ladder reads why).
                await cq.record_sore_rest_days(s, [facts.checkin.athlete_id], today, self._clock())
            elif reason is not None:
                await queries.record_rest_day_of(s, team.id, who.user_id, today, "plan", self._clock())
            return PlanToday(
                today,
                plan,
                facts.heavy,
                facts.yesterday_backward_m,
                team.heavy_meters,
                Units(team.units),
                facts.checkin,
            )
