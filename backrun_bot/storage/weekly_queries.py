"""Reads for Monday's weekly summary, for a whole fan-out batch of teams at once: four statements
however many teams and athletes (each a ``team_id IN (...)`` aggregate), not one per team.

* :func:`week_totals`: each team's backward and forward metres and active athletes in the week, a
  range of the (team_id, day) index per team.
* :func:`week_days`: each team's backward and forward metres per day, for the summary's chart
  (the week and the six days before it, which its 7-day average reaches into), the same index range.
* :func:`week_top`: each team's athletes placed by backward metres, ``RANK()`` per team (ties share
  a place), only places 1 to :data:`PLACES`.
* :func:`current_streak_parts`: the island (run of backward days and suggested rest days) that ends
  yesterday or today, for each athlete with backward work or a rest day on one of those two days,
  read only after the athlete's streak mark (athletes.streak_through), with what the mark knows.
  Cost: the athletes who were not active yesterday or today cost one probe each of the athlete's
  (athlete_id, day) index and of the rest_days key; an active one reads their index entries after
  their mark, which /stats keeps at most about 400 days back (MARK_SETTLE_DAYS + MARK_STEP_DAYS),
  and all of them for an athlete who has never had a mark (never ran /stats on a long history).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    SQLColumnExpression,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from backrun_bot.domain.stats import Island, StreakMark
from backrun_bot.domain.volume import DayVolume
from backrun_bot.domain.weekly import PLACES, WeekTotals
from backrun_bot.storage.dialect import day_number
from backrun_bot.storage.models import Athlete, RestDay, RunSession


def _directions() -> tuple[ColumnElement[float], ColumnElement[float]]:
    """An entry's effective metres as (backward, forward): the other one 0, for summing both at once."""
    backward = case((RunSession.is_backward.is_(True), RunSession.effective_meters), else_=0.0)
    forward = case((RunSession.is_backward.is_(True), 0.0), else_=RunSession.effective_meters)
    return backward, forward


async def week_totals(
    s: AsyncSession, team_ids: Sequence[int], first: date, last: date
) -> dict[int, WeekTotals]:
    """Each team's totals over [first, last]; teams with nothing logged are left out."""
    if not team_ids:
        return {}
    backward, forward = _directions()
    rows = await s.execute(
        select(
            RunSession.team_id,
            func.sum(backward),
            func.sum(forward),
            func.count(func.distinct(RunSession.athlete_id)),
        )
        .where(RunSession.team_id.in_(list(team_ids)), RunSession.day >= first, RunSession.day <= last)
        .group_by(RunSession.team_id)
    )
    return {
        team_id: WeekTotals(float(back or 0.0), float(fwd or 0.0), int(n)) for team_id, back, fwd, n in rows
    }


async def week_days(
    s: AsyncSession, team_ids: Sequence[int], first: date, last: date
) -> dict[int, dict[date, DayVolume]]:
    """Each team's backward and forward metres per day over [first, last] (days with entries only;
    teams with none are left out)."""
    if not team_ids:
        return {}
    backward, forward = _directions()
    rows = await s.execute(
        select(RunSession.team_id, RunSession.day, func.sum(backward), func.sum(forward))
        .where(RunSession.team_id.in_(list(team_ids)), RunSession.day >= first, RunSession.day <= last)
        .group_by(RunSession.team_id, RunSession.day)
    )
    out: dict[int, dict[date, DayVolume]] = {}
    for team_id, day, back, fwd in rows:
        out.setdefault(team_id, {})[day] = DayVolume(float(back or 0.0), float(fwd or 0.0))
    return out


@dataclass(frozen=True, slots=True)
class AthleteMeters:
    athlete_id: int
    display_name: str
    meters: float


async def week_top(
    s: AsyncSession, team_ids: Sequence[int], first: date, last: date
) -> dict[int, list[AthleteMeters]]:
    """Each team's athletes placed 1 to :data:`PLACES` by backward metres over [first, last] (all of
    those tied on a place), highest first."""
    if not team_ids:
        return {}
    per = (
        select(
            RunSession.team_id,
            RunSession.athlete_id,
            func.sum(RunSession.effective_meters).label("meters"),
        )
        .where(
            RunSession.team_id.in_(list(team_ids)),
            RunSession.day >= first,
            RunSession.day <= last,
            RunSession.is_backward.is_(True),
        )
        .group_by(RunSession.team_id, RunSession.athlete_id)
        .subquery()
    )
    place = func.rank().over(partition_by=per.c.team_id, order_by=per.c.meters.desc()).label("place")
    ranked = select(per.c.team_id, per.c.athlete_id, per.c.meters, place).subquery()
    rows = await s.execute(
        select(ranked.c.team_id, ranked.c.athlete_id, Athlete.display_name, ranked.c.meters)
        .join(Athlete, Athlete.id == ranked.c.athlete_id)
        .where(ranked.c.place <= PLACES)
        .order_by(ranked.c.team_id, ranked.c.meters.desc())
    )
    out: dict[int, list[AthleteMeters]] = {}
    for team_id, athlete_id, name, meters in rows:
        out.setdefault(team_id, []).append(AthleteMeters(athlete_id, name, float(meters)))
    return out


@dataclass(frozen=True, slots=True)
class StreakParts:
    """An athlete's island ending yesterday or today, after their mark, and the mark."""

    athlete_id: int
    display_name: str
    island: Island
    mark: StreakMark | None


async def current_streak_parts(
    s: AsyncSession, team_ids: Sequence[int], day: date
) -> dict[int, list[StreakParts]]:
    """For each team, its athletes whose current streak (ending ``day`` or the day before) may be
    more than zero: the island after their mark that reaches ``day - 1`` (a streak over the mark
    goes on from it: :func:`backrun_bot.domain.stats.streaks` joins them)."""
    if not team_ids:
        return {}
    yesterday = day - timedelta(days=1)

    def active(athlete_id: SQLColumnExpression[int]) -> ColumnElement[bool]:
        return or_(
            exists().where(
                RunSession.athlete_id == athlete_id,
                RunSession.day >= yesterday,
                RunSession.day <= day,
                RunSession.is_backward.is_(True),
            ),
            exists().where(RestDay.athlete_id == athlete_id, RestDay.day >= yesterday, RestDay.day <= day),
        )

    athletes = (
        select(Athlete.id, func.coalesce(Athlete.streak_through, literal(date.min, Date)).label("after"))
        .where(Athlete.team_id.in_(list(team_ids)), active(Athlete.id))
        .subquery("active")
    )
    work = (
        select(RunSession.athlete_id, RunSession.day, literal(1, Integer).label("w"))
        .join(athletes, athletes.c.id == RunSession.athlete_id)
        .where(RunSession.is_backward.is_(True), RunSession.day > athletes.c.after, RunSession.day <= day)
        .distinct()
    )
    rest = (
        select(RestDay.athlete_id, RestDay.day, literal(0, Integer).label("w"))
        .join(athletes, athletes.c.id == RestDay.athlete_id)
        .where(RestDay.day > athletes.c.after, RestDay.day <= day)
    )
    both = union_all(work, rest).subquery()
    days = (
        select(both.c.athlete_id, both.c.day, func.max(both.c.w).label("w"))
        .group_by(both.c.athlete_id, both.c.day)
        .subquery()
    )
    island = (
        day_number(days.c.day) - func.row_number().over(partition_by=days.c.athlete_id, order_by=days.c.day)
    ).label("island")
    numbered = select(days.c.athlete_id, days.c.day, days.c.w, island).subquery()
    islands = (
        select(
            numbered.c.athlete_id,
            func.min(numbered.c.day).label("first"),
            func.max(numbered.c.day).label("last"),
            func.sum(numbered.c.w).label("length"),
        )
        .group_by(numbered.c.athlete_id, numbered.c.island)
        .having(func.max(numbered.c.day) >= yesterday)
        .subquery()
    )
    rows = await s.execute(
        select(
            Athlete.team_id,
            Athlete.id,
            Athlete.display_name,
            Athlete.streak_through,
            Athlete.streak_best,
            Athlete.streak_open,
            islands.c.first,
            islands.c["last"],
            islands.c.length,
        ).join(islands, and_(islands.c.athlete_id == Athlete.id))
    )
    out: dict[int, list[StreakParts]] = {}
    for team_id, athlete_id, name, through, best, open_, first, last, length in rows:
        mark = None if through is None or best is None else StreakMark(through, int(best), open_)
        out.setdefault(team_id, []).append(
            StreakParts(athlete_id, name, Island(first, last, int(length)), mark)
        )
    return out
