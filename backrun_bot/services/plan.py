"""/plan: an athlete's warmup and cooldown for today, and whether to take the day off from backward work.

The rule that decides is :func:`backrun_bot.domain.load.assess_day`, applied to yesterday with the
team's heavy-day mark, exactly as for the morning reminder.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backrun_bot.domain.drills import DailyPlan, plan_for
from backrun_bot.domain.load import LOAD_LOOKBACK_DAYS, HeavyDay, assess_day
from backrun_bot.services.common import Clock, Who, team_today
from backrun_bot.storage import queries
from backrun_bot.storage import reminder_queries as rq


class PlanService:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], *, clock: Clock) -> None:
        self._sessionmaker = sessionmaker
        self._clock = clock

    async def plan(self, who: Who) -> tuple[DailyPlan, HeavyDay | None]:
        """Today's plan for the caller and, if yesterday was heavy for them, why to rest."""
        async with self._sessionmaker.begin() as s:
            team = await queries.get_or_create_team(s, who.guild_id)
            today = team_today(team, self._clock)
            yesterday = today - timedelta(days=1)
            logs = await rq.day_logs(
                s, team.id, yesterday - timedelta(days=LOAD_LOOKBACK_DAYS), yesterday, user_id=who.user_id
            )
            heavy = None
            for _athlete, days in logs:
                heavy = assess_day(days, yesterday, team.heavy_meters)
            return plan_for(team.id, today), heavy
