"""/plan: an athlete's warmup and cooldown for today, and whether to take the day off from backward work.

Whether a day is a suggested day off is :func:`backrun_bot.domain.day_off.day_off_reason`'s call,
on the day before's assessment (:func:`backrun_bot.domain.load.assess_day` with the team's heavy-day
mark, exactly as for the morning reminder) and the day's check-in (``/checkin``: soreness in the
hamstring, knee or lower back). On a day off the plan is the forward version of the team's day
(:func:`backrun_bot.domain.drills.forward_plan_for`).

The plan also carries the athlete's backward ladder (:mod:`backrun_bot.domain.ladder`): their level,
today's dose at it and what is left to move up, read after today's day off is recorded (a day off
today keeps this week from counting).

Under the advice come the lines of :class:`backrun_bot.domain.load.LoadPicture` for the days up to
yesterday: a caution when the session-RPE acute:chronic ratio is above 1.5 (advice only: it never
makes a day off), and advice to vary the backward drills or the load after a monotonous week.

:func:`day_off_facts` reads the facts of that decision for one athlete, and the only place they are
read: ``/plan``, the My plan button and the Done button (:meth:`PlanService.day_off_on`) all ask it,
and the warmup reads the same facts for a whole batch of teams and decides with the same function,
so they cannot disagree.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backrun_bot.domain.amounts import Units
from backrun_bot.domain.day_off import DayOffReason, day_off_reason, plan_advice
from backrun_bot.domain.drills import DailyPlan, forward_plan_for, plan_for
from backrun_bot.domain.ladder import Ladder, LadderMark, ladder
from backrun_bot.domain.load import (
    LOAD_LOOKBACK_DAYS,
    DayLog,
    HeavyDay,
    LoadPicture,
    assess_day,
    load_picture,
)
from backrun_bot.services.common import Clock, Who, team_today
from backrun_bot.storage import checkin_queries as cq
from backrun_bot.storage import ladder_queries, queries
from backrun_bot.storage import load_queries as lq
from backrun_bot.storage.models import Team

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DayOffFacts:
    """Whether ``day`` is a suggested day off from backward work for an athlete, and the facts: the
    day before's assessment, its backward metres, and the day's own check-in."""

    day: date
    heavy: HeavyDay | None  # the day before, if it was heavy for them
    day_before_backward_m: float
    checkin: cq.CheckinRow | None = None  # the day's
    # What the rule read (the days up to the day before), for /plan's load lines.
    logs: tuple[DayLog, ...] = field(default=(), compare=False)

    @property
    def why(self) -> DayOffReason | None:
        """The decision (:func:`day_off_reason`): None if ``day`` is no day off."""
        c = self.checkin
        return day_off_reason(self.heavy, None if c is None else c.soreness, None if c is None else c.area)

    def reason(self, units: Units = Units.METRIC) -> str | None:
        """Why it is a day off, in plain words (no final full stop); None if it is not one."""
        why = self.why
        if why is None:
            return None
        parts = []
        if why.heavy is not None:
            parts.append(f"the day before was a heavy backward day for you: {why.heavy.explain(units)}")
        if why.sore is not None:
            parts.append(why.sore.explain())
        return "; ".join(parts)


async def day_off_facts(s: AsyncSession, team: Team, user_id: int, day: date) -> DayOffFacts:
    """The facts of the day-off decision for member ``user_id`` of ``team`` on ``day`` (a local day
    of the team): the load rule (:func:`assess_day`) over the day before, with the team's heavy-day
    mark, and their check-in of ``day``. Two reads, one athlete."""
    before = day - timedelta(days=1)
    days = await lq.athlete_day_logs(s, team.id, user_id, before - timedelta(days=LOAD_LOOKBACK_DAYS), before)
    heavy = assess_day(days, before, team.heavy_meters)
    backward = math.fsum(d.backward_meters for d in days if d.day == before)
    return DayOffFacts(day, heavy, backward, await cq.checkin_of(s, team.id, user_id, day), tuple(days))


@dataclass(frozen=True)
class PlanToday:
    """One athlete's day: the plan to follow and the facts behind the day-off advice."""

    today: date
    plan: DailyPlan
    heavy: HeavyDay | None  # yesterday, if it was heavy for them
    yesterday_backward_m: float
    heavy_mark: float
    units: Units = Units.METRIC  # the team's: how the plan and the advice show distances
    ladder: Ladder | None = None  # the athlete's backward ladder today
    checkin: cq.CheckinRow | None = None  # today's
    load: LoadPicture | None = None  # the session-RPE load up to yesterday (ratio, monotony)

    @property
    def reason(self) -> DayOffReason | None:
        return DayOffFacts(self.today, self.heavy, self.yesterday_backward_m, self.checkin).why

    @property
    def day_off(self) -> bool:
        return self.reason is not None

    def advice(self) -> str:
        """The day-off advice, then the load's caution and variety lines, if any."""
        c = self.checkin
        advice = plan_advice(
            self.today,
            self.heavy,
            self.yesterday_backward_m,
            self.heavy_mark,
            self.units,
            checkin=None if c is None else (c.soreness, c.area),
        )
        extra = self.load.lines() if self.load is not None else []
        return "\n".join([advice, *extra])


class PlanService:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], *, clock: Clock) -> None:
        self._sessionmaker = sessionmaker
        self._clock = clock

    async def plan(self, who: Who) -> PlanToday:
        """Today's plan for the caller: the forward version on a suggested day off."""
        async with self._sessionmaker.begin() as s:
            team = await queries.get_or_create_team(s, who.guild_id)
            today = team_today(team, self._clock)
            facts = await day_off_facts(s, team, who.user_id, today)
            reason = facts.why
            plan = forward_plan_for(team.id, today) if reason is not None else plan_for(team.id, today)
            # /plan told them to rest from backward work today: their streak holds over it.
            if reason is not None and reason.sore is not None and facts.checkin is not None:
                # Kept as a rest day for soreness (the backward ladder reads why).
                await cq.record_sore_rest_days(s, [facts.checkin.athlete_id], today, self._clock())
            elif reason is not None:
                await queries.record_rest_day_of(s, team.id, who.user_id, today, "plan", self._clock())
            state, epoch = await self._ladder(s, who, today)
        if state.new_mark is not None:
            await self._keep_ladder_mark(who, state.new_mark, epoch)
        return PlanToday(
            today,
            plan,
            facts.heavy,
            facts.day_before_backward_m,
            team.heavy_meters,
            Units(team.units),
            ladder=state,
            checkin=facts.checkin,
            load=load_picture(facts.logs, today - timedelta(days=1)),
        )

    async def _ladder(self, s: AsyncSession, who: Who, today: date) -> tuple[Ladder, int]:
        """The caller's ladder today (one read: the mark and the weeks after it), and the epoch read."""
        read = await ladder_queries.ladder_facts(s, who.guild_id, who.user_id, today)
        return ladder(read.weeks, today, read.mark), read.epoch

    async def _keep_ladder_mark(self, who: Who, mark: LadderMark, epoch: int) -> None:
        """Keep the ladder mark (about monthly), in a transaction of its own after the read, as
        /stats keeps its streak mark. Only a saving: if it fails, the next /plan reads those weeks."""
        try:
            async with self._sessionmaker.begin() as s:
                await ladder_queries.save_ladder_mark(s, who.guild_id, who.user_id, mark, epoch)
        except Exception:
            log.warning(
                "could not keep the ladder mark of user %s in guild %s",
                who.user_id,
                who.guild_id,
                exc_info=True,
            )

    async def day_off_reason(self, guild_id: int, user_id: int, day: date) -> DayOffReason | None:
        """Whether the member is on a suggested day off from backward work on ``day`` (a local day
        of the team), and why: the day before was heavy for them, or their check-in of ``day`` is
        sore enough (either, or both, in the reason). None if neither, or if the server has no team.
        Reads only; what ``/plan`` and the warmup decide for the same day."""
        async with self._sessionmaker() as s:
            team = await s.get(Team, guild_id)
            if team is None:
                return None
            return (await day_off_facts(s, team, user_id, day)).why

    async def day_off_on(self, who: Who, day: date) -> str | None:
        """Why ``day`` is a suggested day off from backward work for the caller, or None: the same
        decision as :meth:`plan` (:func:`day_off_facts`), in words (the Done button's answer).
        Reads only (a team not made yet has no entries: None)."""
        async with self._sessionmaker() as s:
            team = await s.get(Team, who.guild_id)
            if team is None:
                return None
            facts = await day_off_facts(s, team, who.user_id, day)
            return facts.reason(Units(team.units))
