"""Reads for the charts (issue 10): backward and forward metres per day of one athlete or a whole
team, and a team's totals for a week. Each is one aggregate statement over the athletes' own
covering index ``ix_run_sessions_athlete_day (athlete_id, day, is_backward, kind,
effective_meters, seconds)``: the planners read index entries only, never the table
(``tests/storage/test_volume_queries.py`` checks the plans; ``benchmarks/bench_charts.py`` prints
them). Days are the stored local days (decided in the team's timezone when the entry was logged).

Built once with bound parameters, like ``/stats``'s read (building a statement and its cache key
costs more Python than SQLite takes to run it for one athlete).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import BigInteger, Date, Select, bindparam, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from backrun_bot.domain.volume import DayVolume
from backrun_bot.storage.models import Athlete, RunSession, Team

_IS_BACKWARD = RunSession.is_backward.is_(True)
_BACKWARD = func.sum(case((_IS_BACKWARD, RunSession.effective_meters), else_=literal(0.0)))
_FORWARD = func.sum(case((_IS_BACKWARD, literal(0.0)), else_=RunSession.effective_meters))


_Query = TypeVar("_Query", bound="Select[*tuple[Any, ...]]")


def _in_days(query: _Query) -> _Query:
    return query.where(
        RunSession.day >= bindparam("first", type_=Date), RunSession.day <= bindparam("last", type_=Date)
    )


def _athlete() -> Any:
    """The athlete's id through the (team, user) unique index; the entries then by their own index
    (not a join filtered by team and user: see ``queries._mine``)."""
    return (
        select(Athlete.id)
        .where(
            Athlete.team_id == bindparam("guild_id", type_=BigInteger),
            Athlete.user_id == bindparam("user_id", type_=BigInteger),
        )
        .scalar_subquery()
    )


def _team_athletes() -> Any:
    """The team's athletes (the (team, user) unique index); their entries by the athletes' index,
    not ``run_sessions.team_id``'s (team_id, day) index, which lacks the columns summed and would
    send each of a big team's rows to the table."""
    return select(Athlete.id).where(Athlete.team_id == bindparam("guild_id", type_=BigInteger))


def athlete_days_query() -> Select[date, float, float]:
    """Per day of ``[first, last]`` with running: the athlete's backward and forward metres."""
    return _in_days(
        select(RunSession.day, _BACKWARD, _FORWARD).where(RunSession.athlete_id == _athlete())
    ).group_by(RunSession.day)


def team_days_query() -> Select[date, float, float]:
    """Per day of ``[first, last]`` with running: the whole team's backward and forward metres."""
    return _in_days(
        select(RunSession.day, _BACKWARD, _FORWARD).where(RunSession.athlete_id.in_(_team_athletes()))
    ).group_by(RunSession.day)


def team_totals_query() -> Select[float | None, float | None, int]:
    """The team's backward and forward metres in ``[first, last]`` and how many athletes logged."""
    return _in_days(
        select(_BACKWARD, _FORWARD, func.count(func.distinct(RunSession.athlete_id))).where(
            RunSession.athlete_id.in_(_team_athletes())
        )
    )


_ATHLETE_DAYS = athlete_days_query()
_TEAM_DAYS = team_days_query()
_TEAM_TOTALS = team_totals_query()
_TEAM_DISPLAY = select(Team.timezone, Team.units).where(Team.id == bindparam("guild_id", type_=BigInteger))


async def team_display(s: AsyncSession, guild_id: int) -> tuple[str, str] | None:
    """The team's timezone and display units; None if the team does not exist yet."""
    row = (await s.execute(_TEAM_DISPLAY, {"guild_id": guild_id})).first()
    return None if row is None else (row[0], row[1])


def _days(rows: Any) -> dict[date, DayVolume]:
    return {day: DayVolume(float(backward or 0.0), float(forward or 0.0)) for day, backward, forward in rows}


async def athlete_days(
    s: AsyncSession, guild_id: int, user_id: int, first: date, last: date
) -> dict[date, DayVolume]:
    """The athlete's days with running in ``[first, last]`` (no row for a day without)."""
    params = {"guild_id": guild_id, "user_id": user_id, "first": first, "last": last}
    return _days(await s.execute(_ATHLETE_DAYS, params))


async def team_days(s: AsyncSession, guild_id: int, first: date, last: date) -> dict[date, DayVolume]:
    """The team's days with running in ``[first, last]``, all athletes summed."""
    return _days(await s.execute(_TEAM_DAYS, {"guild_id": guild_id, "first": first, "last": last}))


@dataclass(frozen=True, slots=True)
class TeamTotals:
    backward_m: float
    forward_m: float
    athletes: int  # athletes with at least one entry


async def team_totals(s: AsyncSession, guild_id: int, first: date, last: date) -> TeamTotals:
    row = (await s.execute(_TEAM_TOTALS, {"guild_id": guild_id, "first": first, "last": last})).one()
    return TeamTotals(float(row[0] or 0.0), float(row[1] or 0.0), int(row[2] or 0))


def bound(query: _Query, **values: Any) -> _Query:
    """``query`` with its parameters given (for EXPLAIN in tests and benchmarks)."""
    return query.params(**values)
