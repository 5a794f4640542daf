"""Reads for the training-load rules (:mod:`backrun_bot.domain.load`): a few sums per athlete for a
whole team or fan-out batch (:func:`screens`), and the days of the few athletes they let through
(:func:`day_logs`) or of one athlete (:func:`athlete_day_logs`)."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Date,
    Float,
    Select,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from backrun_bot.domain.load import (
    BACKWARD_COST,
    CHRONIC_DAYS,
    LOAD_LOOKBACK_DAYS,
    SCREEN_DAYS,
    DayLog,
    LoadScreen,
    screen_weights,
)
from backrun_bot.storage.models import Athlete, RunSession


@dataclass(frozen=True)
class AthleteRef:
    """An athlete as a day off names them."""

    id: int
    team_id: int
    user_id: int
    display_name: str
    mentions_enabled: bool


@dataclass(frozen=True)
class Screened:
    """One athlete's :class:`LoadScreen` on a day."""

    athlete: AthleteRef
    screen: LoadScreen


def _weight(weights: Sequence[float], first: int, last: int) -> ColumnElement[float]:
    """v(day - RunSession.day) for a row within ``first`` … ``last`` days before ``day``: a nested
    CASE that halves the range at each level (five comparisons for the 31 days)."""
    if first == last:
        return literal(weights[first], Float)
    middle = (first + last) // 2
    return case(
        (RunSession.day >= _days_before(middle), _weight(weights, first, middle)),
        else_=_weight(weights, middle + 1, last),
    )


def _days_before(days: int) -> BindParameter[date]:
    return bindparam(f"day_minus_{days}" if days else "day", type_=Date)


@functools.cache
def screen_statement() -> Select[
    int, int, int, str, bool, float | None, float | None, float | None, float, bool
]:
    """The :class:`LoadScreen` of every athlete of the teams ``:teams`` who ran backward on ``:day``
    (nobody else can have a heavy day), one row each: the athlete (id, team, user, name, mentions)
    and the screen's five columns; the parameters come from :func:`screen_parameters`.

    Reads ``day`` and the 30 days before it through the athletes' own ``(athlete_id, day)`` index,
    grouped as they come (no sort), plus one index-only look per athlete for a day old enough to
    give a ratio. Built once: a statement this size costs more to build and key for the compiled
    cache than SQLite takes to run it for a small team, and its text is the same every day (one
    prepared statement on PostgreSQL).
    """
    day = _days_before(0)
    today = aliased(RunSession)
    older = aliased(RunSession)
    teams: BindParameter[int] = bindparam("teams", expanding=True)
    ran_backward = select(today.athlete_id).where(
        today.team_id.in_(teams), today.day == day, today.is_backward
    )
    backward_today = and_(RunSession.is_backward, RunSession.day == day)
    load = RunSession.effective_meters * case(
        (RunSession.is_backward, literal(BACKWARD_COST, Float)), else_=1.0
    )
    sums = (
        select(
            RunSession.athlete_id,
            func.sum(case((backward_today, RunSession.effective_meters))).label("backward"),
            func.max(case((backward_today, RunSession.effective_meters))).label("longest"),
            func.max(
                case((and_(RunSession.is_backward, RunSession.day < day), RunSession.effective_meters))
            ).label("previous"),
            func.sum(_weight(screen_weights(), 0, SCREEN_DAYS - 1) * load).label("ratio_sum"),
            exists()
            .where(
                older.athlete_id == RunSession.athlete_id,
                older.day >= _days_before(LOAD_LOOKBACK_DAYS),
                older.day <= _days_before(CHRONIC_DAYS - 1),
            )
            .label("covers_chronic"),
        )
        .where(
            RunSession.athlete_id.in_(ran_backward),
            RunSession.day >= _days_before(SCREEN_DAYS - 1),
            RunSession.day <= day,
        )
        .group_by(RunSession.athlete_id)
        .subquery()
    )
    query = select(
        Athlete.id,
        Athlete.team_id,
        Athlete.user_id,
        Athlete.display_name,
        Athlete.mentions_enabled,
        sums.c.backward,
        sums.c.longest,
        sums.c.previous,
        sums.c.ratio_sum,
        sums.c.covers_chronic,
    ).join(sums, sums.c.athlete_id == Athlete.id)
    # The teams again, so that no plan reads the athletes of every team to find them.
    return query.where(Athlete.team_id.in_(teams))


def screen_parameters(team_ids: Sequence[int], day: date) -> dict[str, object]:
    """The parameters of :func:`screen_statement` for the athletes of ``team_ids`` on ``day``."""
    offsets = {*range(SCREEN_DAYS), CHRONIC_DAYS - 1, LOAD_LOOKBACK_DAYS}
    return {"teams": list(team_ids)} | {_days_before(k).key: day - timedelta(days=k) for k in sorted(offsets)}


async def screens(s: AsyncSession, team_ids: Sequence[int], day: date) -> list[Screened]:
    """:func:`screen_statement`'s rows, in one query however many teams (a fan-out batch)."""
    if not team_ids:
        return []
    conn = await s.connection()
    rows = (await conn.execute(screen_statement(), screen_parameters(team_ids, day))).all()
    result = []
    for athlete_id, team_id, user_id, name, mentions, backward, longest, previous, ratio, covers in rows:
        screen = LoadScreen(
            backward_meters=backward or 0.0,
            longest_session=longest,
            previous_longest=previous,
            ratio_sum=ratio,
            covers_chronic=bool(covers),
        )
        result.append(Screened(AthleteRef(athlete_id, team_id, user_id, name, bool(mentions)), screen))
    return result


async def day_logs(
    s: AsyncSession, athlete_ids: Sequence[int], start: date, end: date
) -> dict[int, list[DayLog]]:
    """The days in [start, end] of the athletes of ``athlete_ids`` who logged any, by athlete id: each
    day's backward sessions (effective metres) and forward metres. One query, through the athletes'
    own index."""
    if not athlete_ids:
        return {}
    parameters = {"athletes": sorted(set(athlete_ids)), "start": start, "end": end}
    # Plain rows through the connection, all at once: no ORM object, no fetch per row.
    return _by_athlete(await (await s.connection()).execute(_day_logs_statement(), parameters))


@functools.cache
def _day_logs_statement() -> Select[int, date, bool, float]:
    # Built once, like the screen's: the fan-out and every composition run it.
    return (
        select(RunSession.athlete_id, RunSession.day, RunSession.is_backward, RunSession.effective_meters)
        .where(
            RunSession.athlete_id.in_(bindparam("athletes", expanding=True)),
            RunSession.day >= bindparam("start", type_=Date),
            RunSession.day <= bindparam("end", type_=Date),
        )
        .order_by(RunSession.athlete_id, RunSession.day, RunSession.id)
    )


async def athlete_day_logs(
    s: AsyncSession, team_id: int, user_id: int, start: date, end: date
) -> list[DayLog]:
    """One member's days in [start, end] (none if they are not an athlete of the team yet)."""
    athlete = (
        select(Athlete.id).where(Athlete.team_id == team_id, Athlete.user_id == user_id).scalar_subquery()
    )
    query = (
        select(RunSession.athlete_id, RunSession.day, RunSession.is_backward, RunSession.effective_meters)
        .where(RunSession.athlete_id == athlete, RunSession.day >= start, RunSession.day <= end)
        .order_by(RunSession.day, RunSession.id)
    )
    logs = _by_athlete(await (await s.connection()).execute(query))
    return next(iter(logs.values()), [])


def _by_athlete(rows: Iterable[tuple[int, date, bool, float]]) -> dict[int, list[DayLog]]:
    """Sessions ordered by athlete and day as one DayLog per athlete and day."""
    logs: dict[int, list[DayLog]] = {}
    current: tuple[int, date] | None = None
    backward: list[float] = []
    forward = 0.0
    for athlete_id, day, is_backward, meters in rows:
        if (athlete_id, day) != current:
            if current is not None:
                logs.setdefault(current[0], []).append(DayLog(current[1], tuple(backward), forward))
            current, backward, forward = (athlete_id, day), [], 0.0
        if is_backward:
            backward.append(meters)
        else:
            forward += meters
    if current is not None:
        logs.setdefault(current[0], []).append(DayLog(current[1], tuple(backward), forward))
    return logs
