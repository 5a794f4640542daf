"""Reads for the team's views (issue 10): the leaderboard's distance per athlete over a period, and
the coach's overview of every athlete. Each is one aggregate statement for the whole team, built once
with bound parameters (building a statement costs more Python than running it)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Date,
    Select,
    String,
    bindparam,
    func,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from backrun_bot.domain.board import Total
from backrun_bot.domain.kinds import Kind
from backrun_bot.storage.models import Athlete, MonthTotal, RunSession
from backrun_bot.storage.month_totals import MM_PER_M


@functools.cache
def board_statement(*, one_kind: bool) -> Select[Any]:
    """Each athlete's distance (effective metres) over ``[:start, :end]`` in the team ``:team_id``:
    of every backward kind (``:backward`` true) or forward (false), or (``one_kind``) of the backward
    kind ``:kind`` only; athletes without any are not in it. The names come from the athletes table,
    so a member who left the server is on the board under the last name the bot saw.

    The entries are summed from the team's ``(team_id, day, athlete_id, is_backward, kind,
    effective_meters)`` index alone (migration 0010). For every backward kind together and for
    forward, the whole calendar months of the period, ``[:months, :after_months)``
    (:func:`board_parameters`), come from ``month_totals`` instead (one row per athlete and month,
    migration 0014), and only the days before and after them, ``[:start, :months)`` and
    ``[:after_months, :end]``, from the index: a year so far is at most eleven rows per athlete and a
    month of entries. A week, or the month so far, has no whole month: all of it is one index range.
    One backward kind is not in the month totals (they sum the backward kinds together): its whole
    period is one index range.
    """
    entries = RunSession.__table__
    team = bindparam("team_id", type_=BigInteger)
    start, end = bindparam("start", type_=Date), bindparam("end", type_=Date)

    def days(first: ColumnElement[bool], last: ColumnElement[bool]) -> Select[Any]:
        which = (
            entries.c.kind == bindparam("kind", type_=String)
            if one_kind
            else entries.c.is_backward == bindparam("backward", type_=Boolean)
        )
        return select(entries.c.athlete_id, entries.c.effective_meters.label("meters")).where(
            entries.c.team_id == team, first, last, which
        )

    if one_kind:
        parts = days(entries.c.day >= start, entries.c.day <= end).subquery("parts")
    else:
        totals = MonthTotal.__table__
        months, after_months = bindparam("months", type_=Date), bindparam("after_months", type_=Date)
        parts = union_all(
            days(entries.c.day >= start, entries.c.day < months),
            select(totals.c.athlete_id, (totals.c.millimetres / float(MM_PER_M)).label("meters")).where(
                totals.c.team_id == team,
                totals.c.month >= months,
                totals.c.month < after_months,
                totals.c.is_backward == bindparam("backward", type_=Boolean),
            ),
            days(entries.c.day >= after_months, entries.c.day <= end),
        ).subquery("parts")
    sums = (
        select(parts.c.athlete_id, func.sum(parts.c.meters).label("meters"))
        .group_by(parts.c.athlete_id)
        .subquery("sums")
    )
    return select(Athlete.id, Athlete.user_id, Athlete.display_name, sums.c.meters).join(
        sums, sums.c.athlete_id == Athlete.id
    )


def board_query(
    team_id: int, start: date, end: date, kind: str | None
) -> tuple[Select[Any], dict[str, object]]:
    """:func:`board_statement` and its parameters for a board of ``kind`` (None: every backward kind)."""
    one_kind = kind is not None and kind != Kind.FORWARD.value
    values: dict[str, object] = {"team_id": team_id, "start": start, "end": end}
    if one_kind:
        values["kind"] = kind
    else:
        values["backward"] = kind is None
        values["months"], values["after_months"] = whole_months(start, end)
    return board_statement(one_kind=one_kind), values


def whole_months(start: date, end: date) -> tuple[date, date]:
    """The whole calendar months in ``[start, end]`` as ``[first, after)`` (first days of months);
    ``(start, start)`` when there is none."""
    first = start if start.day == 1 else _next_month(start)
    after = _next_month(end) if end == _next_month(end) - timedelta(days=1) else end.replace(day=1)
    return (first, after) if first < after else (start, start)


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


async def board_totals(
    s: AsyncSession, team_id: int, start: date, end: date, kind: str | None
) -> list[Total]:
    """:func:`board_statement`'s rows: ``kind`` None for every backward kind together."""
    statement, values = board_query(team_id, start, end, kind)
    rows = await (await s.connection()).execute(statement, values)
    return [Total(athlete_id, user_id, name, float(meters)) for athlete_id, user_id, name, meters in rows]


@dataclass(frozen=True, slots=True)
class AthleteRecent:
    """One athlete of the team as the coach's overview shows them."""

    athlete_id: int
    user_id: int
    name: str
    backward_week: float  # backward metres in [week start, today]
    last_backward: date | None  # the latest day with backward running, up to today
    last_entry: date | None  # the latest day with any entry, up to today


@functools.cache
def overview_statement() -> Select[Any]:
    """Every athlete of the team ``:team_id`` (members who left included), with their backward metres
    in ``[:week, :today]``, their latest backward day and their latest day with any entry, up to
    ``:today``.

    Three correlated reads per athlete, each a short walk of the athlete's own ``(athlete_id, day,
    is_backward, …)`` index (the latest days walk it backwards from ``:today`` and stop at the first
    row that fits): a few index pages per athlete, however long their history, instead of a sum over
    every entry the team ever logged.
    """
    week = aliased(RunSession)
    backward = aliased(RunSession)
    anything = aliased(RunSession)
    today = bindparam("today", type_=Date)
    week_sum = (
        select(func.coalesce(func.sum(week.effective_meters), 0.0))
        .where(
            week.athlete_id == Athlete.id,
            week.day >= bindparam("week", type_=Date),
            week.day <= today,
            week.is_backward.is_(True),
        )
        .scalar_subquery()
    )
    last_backward = (
        select(backward.day)
        .where(backward.athlete_id == Athlete.id, backward.day <= today, backward.is_backward.is_(True))
        .order_by(backward.day.desc())
        .limit(1)
        .scalar_subquery()
    )
    last_entry = (
        select(anything.day)
        .where(anything.athlete_id == Athlete.id, anything.day <= today)
        .order_by(anything.day.desc())
        .limit(1)
        .scalar_subquery()
    )
    return select(
        Athlete.id,
        Athlete.user_id,
        Athlete.display_name,
        week_sum.label("backward_week"),
        last_backward.label("last_backward"),
        last_entry.label("last_entry"),
    ).where(Athlete.team_id == bindparam("team_id", type_=BigInteger))


async def overview(s: AsyncSession, team_id: int, week: date, today: date) -> list[AthleteRecent]:
    """:func:`overview_statement`'s rows."""
    params = {"team_id": team_id, "week": week, "today": today}
    rows = await (await s.connection()).execute(overview_statement(), params)
    return [
        AthleteRecent(athlete_id, user_id, name, float(week_m or 0.0), last_backward, last_entry)
        for athlete_id, user_id, name, week_m, last_backward, last_entry in rows
    ]
