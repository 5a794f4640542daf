"""/plan: an athlete's warmup and cooldown for today, and whether to take the day off from backward work.

The rule that decides is :func:`backrun_bot.domain.load.assess_day`, applied to yesterday with the
team's heavy-day mark, exactly as for the morning reminder. On a day off the plan is the forward
version of the team's day (:func:`backrun_bot.domain.drills.forward_plan_for`).

Under the advice come the lines of :class:`backrun_bot.domain.load.LoadPicture` for the days up to
yesterday: a caution when the session-RPE acute:chronic ratio is above 1.5 (advice only: it never
makes a day off), and advice to vary the backward drills or the load after a monotonous week.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backrun_bot.domain.amounts import Units
from backrun_bot.domain.day_off import plan_advice
from backrun_bot.domain.drills import DailyPlan, forward_plan_for, plan_for
from backrun_bot.domain.load import LOAD_LOOKBACK_DAYS, HeavyDay, LoadPicture, assess_day, load_picture
from backrun_bot.services.common import Clock, Who, team_today
from backrun_bot.storage import load_queries as lq
from backrun_bot.storage import queries


@dataclass(frozen=True)
class PlanToday:
    """One athlete's day: the plan to follow and the facts behind the day-off advice."""

    today: date
    plan: DailyPlan
    heavy: HeavyDay | None  # yesterday, if it was heavy for them
    yesterday_backward_m: float
    heavy_mark: float
    units: Units = Units.METRIC  # the team's: how the plan and the advice show distances
    load: LoadPicture | None = None  # the session-RPE load up to yesterday (ratio, monotony)

    @property
    def day_off(self) -> bool:
        return self.heavy is not None

    def advice(self) -> str:
        """The day-off advice, then the load's caution and variety lines, if any."""
        advice = plan_advice(self.today, self.heavy, self.yesterday_backward_m, self.heavy_mark, self.units)
        extra = self.load.lines() if self.load is not None else []
        return "\n".join([advice, *extra])


class PlanService:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], *, clock: Clock) -> None:
        self._sessionmaker = sessionmaker
        self._clock = clock

    async def plan(self, who: Who) -> PlanToday:
        """Today's plan for the caller: the forward version if yesterday was heavy for them."""
        async with self._sessionmaker.begin() as s:
            team = await queries.get_or_create_team(s, who.guild_id)
            today = team_today(team, self._clock)
            yesterday = today - timedelta(days=1)
            days = await lq.athlete_day_logs(
                s, team.id, who.user_id, yesterday - timedelta(days=LOAD_LOOKBACK_DAYS), yesterday
            )
            heavy = assess_day(days, yesterday, team.heavy_meters)
            backward = math.fsum(d.backward_meters for d in days if d.day == yesterday)
            plan = forward_plan_for(team.id, today) if heavy is not None else plan_for(team.id, today)
            if heavy is not None:
                # /plan told them to rest from backward work today: their streak holds over it.
                await queries.record_rest_day_of(s, team.id, who.user_id, today, "plan", self._clock())
            return PlanToday(
                today,
                plan,
                heavy,
                backward,
                team.heavy_meters,
                Units(team.units),
                load_picture(days, yesterday),
            )
