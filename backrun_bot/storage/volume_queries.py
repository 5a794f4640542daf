"""Reads for the charts (issue 10): backward and forward metres per day of one athlete or a whole
team, with the team's timezone and units (:func:`athlete_chart`, :func:`team_chart`; for all time
by month once the history is long), and a team's totals for a week (:func:`team_totals`). Each is
one aggregate statement over the athletes' own
covering index ``ix_run_sessions_athlete_day (athlete_id, day, is_backward, kind,
effective_meters, seconds)``: the planners read index entries only, never the table
(``tests/storage/test_volume_queries.py`` checks the plans; ``benchmarks/bench_charts.py`` prints
them). Days are the stored local days (decided in the team's timezone when the entry was logged).

Built once with bound parameters, like ``/stats``'s read (building a statement and its cache key
costs more Python than SQLite takes to run it for one athlete).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    CompoundSelect,
    Date,
    Float,
    Integer,
    ScalarSelect,
    Select,
    String,
    bindparam,
    case,
    cast,
    func,
    literal,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from backrun_bot.domain.volume import DayVolume
from backrun_bot.storage.dialect import day_number, month_number
from backrun_bot.storage.models import Athlete, RunSession, Team

_IS_BACKWARD = RunSession.is_backward.is_(True)
_BACKWARD = func.sum(case((_IS_BACKWARD, RunSession.effective_meters), else_=literal(0.0)))
_FORWARD = func.sum(case((_IS_BACKWARD, literal(0.0)), else_=RunSession.effective_meters))


_Query = TypeVar("_Query", bound="Select[*tuple[Any, ...]] | CompoundSelect[*tuple[Any, ...]]")


_Days = TypeVar("_Days", bound="Select[*tuple[Any, ...]]")


def _in_days(query: _Days) -> _Days:
    return query.where(
        RunSession.day >= bindparam("first", type_=Date), RunSession.day <= bindparam("last", type_=Date)
    )


def _athlete() -> ScalarSelect[int]:
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


def _team_athletes() -> Select[int]:
    """The team's athletes (the (team, user) unique index); their entries by the athletes' index,
    not ``run_sessions.team_id``'s (team_id, day) index, which lacks the columns summed and would
    send each of a big team's rows to the table."""
    return select(Athlete.id).where(Athlete.team_id == bindparam("guild_id", type_=BigInteger))


# Each day as its number (days since 1970-01-01), not as a DATE: five years of rows come back as
# integers, and turning SQLite's ISO text into dates was a third of the read.
_DAY = day_number(RunSession.day)


def athlete_days_query() -> Select[int, float, float]:
    """Per day of ``[first, last]`` with running: its number, the athlete's backward and forward
    metres."""
    return _in_days(_day_sums().where(_athletes_entries())).group_by(RunSession.day)


def team_days_query() -> Select[int, float, float]:
    """Per day of ``[first, last]`` with running: its number, the whole team's backward and
    forward metres."""
    return _in_days(_day_sums().where(_teams_entries())).group_by(RunSession.day)


def _athletes_entries() -> ColumnElement[bool]:
    return RunSession.athlete_id == _athlete()


def _teams_entries() -> ColumnElement[bool]:
    return RunSession.athlete_id.in_(_team_athletes())


def _day_sums() -> Select[int, float, float]:
    return select(_DAY.label("n"), _BACKWARD.label("backward"), _FORWARD.label("forward"))


def _athletes_first_day() -> ScalarSelect[date]:
    """The athlete's first day with an entry: one seek in their (athlete_id, day) index."""
    return select(func.min(RunSession.day)).where(_athletes_entries()).scalar_subquery()


def _teams_first_day() -> ScalarSelect[date]:
    """The team's first day with an entry, as the earliest of each athlete's first day (a seek
    each): ``min(day)`` over all the team's entries would read every one of them."""
    earliest = aliased(RunSession)
    each = (
        select(func.min(earliest.day))
        .where(earliest.athlete_id == Athlete.id)
        .correlate(Athlete)
        .scalar_subquery()
    )
    firsts = select(each.label("first")).where(Athlete.team_id == bindparam("guild_id", type_=BigInteger))
    found = firsts.subquery("firsts")
    return select(func.min(found.c.first)).scalar_subquery()


def all_time_query(entries: ColumnElement[bool], first_day: ScalarSelect[date]) -> Select[int, float, float]:
    """The sums of :func:`athlete_days_query` (``entries``: whose; ``first_day``: their first day)
    for all time: by day, or, when the first entry is before ``:monthly_before`` (a history long
    enough for a chart of months in any timezone), by month, as ``-1 - month number``. Five years
    are then 61 rows, not 1,825: turning rows into Python objects, not finding them, was most of
    the read."""
    # By day first (in the index's order for one athlete), then the days by month: the month of
    # each day, not of each entry (strftime over a big team's 547,500 entries was 270 ms on SQLite).
    by_day = (
        _in_days(
            select(RunSession.day.label("day"), _BACKWARD.label("backward"), _FORWARD.label("forward")).where(
                entries
            )
        )
        .group_by(RunSession.day)
        .subquery("by_day")
    )
    key = case(
        (first_day < bindparam("monthly_before", type_=Date), -1 - month_number(by_day.c.day)),
        else_=day_number(by_day.c.day),
    )
    # GROUP BY the output column: the same expression, with its parameter, written once.
    return select(
        key.label("n"),
        func.sum(by_day.c.backward).label("backward"),
        func.sum(by_day.c.forward).label("forward"),
    ).group_by(literal_column("n"))


def with_team(days: Select[int, float, float], first_day: ScalarSelect[date] | None) -> CompoundSelect[Any]:
    """The team's timezone and units (and ``first_day``, for an all-time chart), and the rows of
    ``days``, as one statement: a UNION ALL of the team's row (no row when the team does not exist)
    and the days, told apart by the timezone (NULL in the days' rows). One round trip instead of
    two; a join of the team to every day cost more than the second round trip (SQLite
    materialised the days for it)."""
    found = days.subquery("days")
    first = _none(Integer) if first_day is None else day_number(first_day)
    return union_all(
        select(Team.timezone, Team.units, first, _none(Float), _none(Float)).where(
            Team.id == bindparam("guild_id", type_=BigInteger)
        ),
        select(_none(String), _none(String), found.c.n, found.c.backward, found.c.forward),
    )


def athlete_chart_query(*, all_time: bool) -> CompoundSelect[Any]:
    if all_time:
        return with_team(all_time_query(_athletes_entries(), _athletes_first_day()), _athletes_first_day())
    return with_team(athlete_days_query(), None)


def team_chart_query(*, all_time: bool) -> CompoundSelect[Any]:
    if all_time:
        return with_team(all_time_query(_teams_entries(), _teams_first_day()), _teams_first_day())
    return with_team(team_days_query(), None)


def _none(type_: type[Integer] | type[Float[float]] | type[String]) -> Any:
    """A NULL of the type the other part gives that column (PostgreSQL matches no untyped NULL
    across a UNION)."""
    return cast(null(), type_())


def team_totals_query() -> Select[float | None, float | None, int]:
    """The team's backward and forward metres in ``[first, last]`` and how many athletes logged."""
    return _in_days(
        select(_BACKWARD, _FORWARD, func.count(func.distinct(RunSession.athlete_id))).where(
            RunSession.athlete_id.in_(_team_athletes())
        )
    )


_CHARTS = {
    (whose, all_time): (athlete_chart_query if whose == "athlete" else team_chart_query)(all_time=all_time)
    for whose in ("athlete", "team")
    for all_time in (False, True)
}
_TEAM_TOTALS = team_totals_query()
_EPOCH = date(1970, 1, 1).toordinal()


@dataclass(frozen=True, slots=True)
class ChartRead:
    """What a chart is drawn from: the team's timezone and units, for an all-time read the first
    day anything was logged (by the athlete, or the team), and the days with running; or, for an
    all-time read of a long history, the months, each under its first day (the first entry's day
    for the first)."""

    timezone: str
    units: str
    first_day: date | None
    days: dict[date, DayVolume]


def _chart_read(rows: Sequence[Any]) -> ChartRead | None:
    team = next((row for row in rows if row[0] is not None), None)
    if team is None:
        return None
    first_day = None if team[2] is None else date.fromordinal(_EPOCH + team[2])
    days: dict[date, DayVolume] = {}
    months: list[tuple[int, float, float]] = []
    # Up to 1,825 rows (a year and more of days): no per-value conversions (both sums are floats,
    # never NULL: each CASE gives 0.0 for the other direction).
    for timezone, _, n, b, f in rows:
        if timezone is None:
            if n >= 0:
                days[date.fromordinal(_EPOCH + n)] = DayVolume(b, f)
            else:
                months.append((-1 - n, b, f))
    for month, b, f in months:
        start = date(month // 12, month % 12 + 1, 1)
        days[start if first_day is None or start > first_day else first_day] = DayVolume(b, f)
    return ChartRead(team[0], team[1], first_day, days)


async def athlete_chart(
    s: AsyncSession,
    guild_id: int,
    user_id: int,
    first: date,
    last: date,
    *,
    monthly_before: date | None = None,
) -> ChartRead | None:
    """:func:`athlete_days` with the team's timezone and units, in one statement; None if the team
    does not exist yet. ``monthly_before`` given: the all-time read (by month if the first entry is
    before that day)."""
    params = {"guild_id": guild_id, "user_id": user_id, "first": first, "last": last}
    return await _run(s, ("athlete", monthly_before is not None), params, monthly_before)


async def team_chart(
    s: AsyncSession, guild_id: int, first: date, last: date, *, monthly_before: date | None = None
) -> ChartRead | None:
    """:func:`team_days` with the team's timezone and units, in one statement (see
    :func:`athlete_chart`)."""
    params = {"guild_id": guild_id, "first": first, "last": last}
    return await _run(s, ("team", monthly_before is not None), params, monthly_before)


async def _run(
    s: AsyncSession, which: tuple[str, bool], params: dict[str, Any], monthly_before: date | None
) -> ChartRead | None:
    if monthly_before is not None:
        params["monthly_before"] = monthly_before
    return _chart_read((await s.execute(_CHARTS[which], params)).all())


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
    given: _Query = query.params(**values)  # type: ignore[assignment]  # params() keeps the type
    return given
