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
    Date,
    Select,
    bindparam,
    case,
    func,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from backrun_bot.domain.kinds import Kind
from backrun_bot.domain.load import SCREEN_DAYS, DayLog, LoadScreen, session_load
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


def _days_before(days: int) -> BindParameter[date]:
    return bindparam(f"day_minus_{days}" if days else "day", type_=Date)


@functools.cache
def screen_statement() -> Select[int, int, int, str, bool, float | None, float | None, float | None]:
    """The :class:`LoadScreen` of every athlete of the teams ``:teams`` who ran backward on ``:day``
    (nobody else can have a heavy day), one row each: the athlete (id, team, user, name, mentions)
    and the screen's three columns; the parameters come from :func:`screen_parameters`.

    Reads ``day`` and the 30 days before it through the athletes' own ``(athlete_id, day)`` index
    (index only: it carries ``is_backward`` and ``effective_meters``), grouped as they come (no sort).
    Only backward entries: both rules read backward metres alone. Built once: its text is the same
    every day (one prepared statement on PostgreSQL).
    """
    day = _days_before(0)
    today = aliased(RunSession)
    teams: BindParameter[int] = bindparam("teams", expanding=True)
    ran_backward = select(today.athlete_id).where(
        today.team_id.in_(teams), today.day == day, today.is_backward
    )
    on_day = RunSession.day == day
    sums = (
        select(
            RunSession.athlete_id,
            func.sum(case((on_day, RunSession.effective_meters))).label("backward"),
            func.max(case((on_day, RunSession.effective_meters))).label("longest"),
            func.max(case((RunSession.day < day, RunSession.effective_meters))).label("previous"),
        )
        .where(
            RunSession.athlete_id.in_(ran_backward),
            RunSession.day >= _days_before(SCREEN_DAYS - 1),
            RunSession.day <= day,
            RunSession.is_backward,
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
    ).join(sums, sums.c.athlete_id == Athlete.id)
    # The teams again, so that no plan reads the athletes of every team to find them.
    return query.where(Athlete.team_id.in_(teams))


def screen_parameters(team_ids: Sequence[int], day: date) -> dict[str, object]:
    """The parameters of :func:`screen_statement` for the athletes of ``team_ids`` on ``day``."""
    return {"teams": list(team_ids)} | {
        _days_before(k).key: day - timedelta(days=k) for k in (0, SCREEN_DAYS - 1)
    }


async def screens(s: AsyncSession, team_ids: Sequence[int], day: date) -> list[Screened]:
    """:func:`screen_statement`'s rows, in one query however many teams (a fan-out batch)."""
    if not team_ids:
        return []
    conn = await s.connection()
    rows = (await conn.execute(screen_statement(), screen_parameters(team_ids, day))).all()
    result = []
    for athlete_id, team_id, user_id, name, mentions, backward, longest, previous in rows:
        screen = LoadScreen(backward or 0.0, longest_session=longest, previous_longest=previous)
        result.append(Screened(AthleteRef(athlete_id, team_id, user_id, name, bool(mentions)), screen))
    return result


async def day_logs(
    s: AsyncSession, athlete_ids: Sequence[int], start: date, end: date
) -> dict[int, list[DayLog]]:
    """The days in [start, end] of the athletes of ``athlete_ids`` who logged any, by athlete id: each
    day's backward sessions (counted metres), forward metres and session-RPE load. One query, through
    the athletes' own index."""
    if not athlete_ids:
        return {}
    parameters = {"athletes": sorted(set(athlete_ids)), "start": start, "end": end}
    # Plain rows through the connection, all at once: no ORM object, no fetch per row.
    return _by_athlete(await (await s.connection()).execute(_day_logs_statement(), parameters))


@functools.cache
def _day_logs_statement() -> Select[int, date, str, float, float | None, int | None]:
    # Built once, like the screen's: the fan-out and every composition run it.
    return (
        select(*_ENTRY_COLUMNS)
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
        select(*_ENTRY_COLUMNS)
        .where(RunSession.athlete_id == athlete, RunSession.day >= start, RunSession.day <= end)
        .order_by(RunSession.day, RunSession.id)
    )
    logs = _by_athlete(await (await s.connection()).execute(query))
    return next(iter(logs.values()), [])


# What the load model reads of an entry (domain/load.py session_load): its kind, counted metres, the
# duration given and the rating.
_ENTRY_COLUMNS = (
    RunSession.athlete_id,
    RunSession.day,
    RunSession.kind,
    RunSession.effective_meters,
    RunSession.seconds,
    RunSession.rpe,
)


def _by_athlete(
    rows: Iterable[tuple[int, date, str, float, float | None, int | None]],
) -> dict[int, list[DayLog]]:
    """Entries ordered by athlete and day as one DayLog per athlete and day."""
    logs: dict[int, list[DayLog]] = {}
    current: tuple[int, date] | None = None
    backward: list[float] = []
    forward = load = 0.0
    for athlete_id, day, kind_value, meters, seconds, rpe in rows:
        if (athlete_id, day) != current:
            if current is not None:
                logs.setdefault(current[0], []).append(DayLog(current[1], tuple(backward), forward, load))
            current, backward, forward, load = (athlete_id, day), [], 0.0, 0.0
        kind = Kind(kind_value)
        if kind.is_backward:
            backward.append(meters)
        else:
            forward += meters
        load += session_load(kind, meters, seconds, rpe)
    if current is not None:
        logs.setdefault(current[0], []).append(DayLog(current[1], tuple(backward), forward, load))
    return logs
