"""Reads and writes for the backward ladder (:mod:`backrun_bot.domain.ladder`): an athlete's ladder
mark and the facts of each week after it, in one statement, and the mark kept.

Why a mark and not a bounded replay: the ladder's level is a fold over every week since the
athlete's first backward entry, and it does not forget. A year of weeks with two backward days each
keeps whatever level came before it, so no window of recent weeks gives the level exactly. The mark
is the fold's state after a week no entry can reach any more (the same :func:`settled_day` as the
streak mark: /log takes dates at most a year back; check-ins and suggested days off are only ever
written for the team's today), so the weeks after it, at most about 53, are read every time, and a
/log, an edit or a check-in in them is seen at once.

Correct under concurrency and after a past change, as the streak mark is
(:func:`backrun_bot.storage.queries.save_streak_mark`): a change to an old entry
(``queries.past_changed``) forgets a mark on or after its day and moves ``streak_epoch`` on; a mark
is written only while the epoch is the one read with the facts it came from, and only forward. Two
/plan calls at once compute the same mark from the same facts; the second write is a no-op.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    CompoundSelect,
    Date,
    Integer,
    ScalarSelect,
    String,
    bindparam,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from backrun_bot.domain.ladder import KIND_LEVEL, LadderMark, Level, WeekFacts
from backrun_bot.domain.wellness import DAY_OFF_AREAS, SORE_DAY_OFF_AT
from backrun_bot.storage.dialect import day_number
from backrun_bot.storage.models import Athlete, Checkin, RestDay, RunSession

# day_number(day) + this is the day's ordinal - 1 (date.toordinal() counts 0001-01-01, a Monday, as
# 1), so that // 7 numbers the Monday-Sunday weeks: week w starts on date.fromordinal(7 * w + 1).
_TO_ORDINAL_LESS_ONE = date(1970, 1, 1).toordinal() - 1


def level_of_kind() -> ColumnElement[int]:
    """The ladder level of an entry's kind (NULL for forward running), from :data:`KIND_LEVEL`."""
    return case(
        *(
            (RunSession.kind == kind.value, literal(level.value, Integer))
            for kind, level in KIND_LEVEL.items()
        ),
        else_=null(),
    )


def sore_day_off_sql() -> ColumnElement[int]:
    """1 for a check-in that suggests a day off (:func:`backrun_bot.domain.wellness.sore_day_off`,
    the same constants; tests/storage checks both agree on every soreness and area), else 0."""
    areas = sorted(a.value for a in DAY_OFF_AREAS)
    return case((Checkin.soreness >= SORE_DAY_OFF_AT, case((Checkin.area.in_(areas), 1), else_=0)), else_=0)


def _typed_null(type_: type[Integer] | type[Date]) -> ColumnElement[Any]:
    return cast(null(), type_())


@functools.cache
def ladder_statement() -> CompoundSelect[Any]:
    """The athlete (``:guild_id``, ``:user_id``)'s mark and, after it up to ``:end``, one row per
    week with anything in it. Columns: part ("mark" or "week"), week number, backward days, days
    whose hardest kind was at level 1 … 5, suggested days off, soreness days off, highest soreness,
    then the mark's day, level, streak and the athlete's epoch.

    Each source is read by the athlete's own key: run_sessions by (athlete_id, day, …), rest_days
    and checkins by their (athlete_id, day) primary keys, only after the mark."""
    guild_id, user_id = bindparam("guild_id", type_=BigInteger), bindparam("user_id", type_=BigInteger)
    end = bindparam("end", type_=Date)
    athlete: ScalarSelect[int] = (
        select(Athlete.id).where(Athlete.team_id == guild_id, Athlete.user_id == user_id).scalar_subquery()
    )
    after = func.coalesce(
        select(Athlete.ladder_through)
        .where(Athlete.team_id == guild_id, Athlete.user_id == user_id)
        .scalar_subquery(),
        literal(date.min, Date),
    )

    def between(day: InstrumentedAttribute[date]) -> list[ColumnElement[bool]]:
        return [day > after, day <= end]

    zero, no_int = literal(0, Integer), _typed_null(Integer)
    runs = (
        select(
            RunSession.day.label("day"),
            func.max(level_of_kind()).label("top"),
            zero.label("off"),
            zero.label("sore_off"),
            no_int.label("soreness"),
        )
        .where(RunSession.athlete_id == athlete, RunSession.is_backward.is_(True), *between(RunSession.day))
        .group_by(RunSession.day)
    )
    rests = select(
        RestDay.day,
        no_int,
        literal(1, Integer),
        case((RestDay.source == "soreness", 1), else_=0),
        no_int,
    ).where(RestDay.athlete_id == athlete, *between(RestDay.day))
    checkins = select(
        Checkin.day, no_int, sore_day_off_sql(), sore_day_off_sql(), cast(Checkin.soreness, Integer)
    ).where(Checkin.athlete_id == athlete, *between(Checkin.day))
    rows = union_all(runs, rests, checkins).subquery("rows")
    days = (
        select(
            rows.c.day,
            func.max(rows.c.top).label("top"),
            func.max(rows.c.off).label("off"),
            func.max(rows.c.sore_off).label("sore_off"),
            func.max(rows.c.soreness).label("soreness"),
        )
        .group_by(rows.c.day)
        .subquery("days")
    )
    week = ((day_number(days.c.day) + _TO_ORDINAL_LESS_ONE) // 7).label("week")
    weeks = select(
        literal("week", String).label("part"),
        week,
        func.count(days.c.top),
        *(func.sum(case((days.c.top == level.value, 1), else_=0)) for level in Level),
        func.sum(days.c.off),
        func.sum(days.c.sore_off),
        func.max(days.c.soreness),
        _typed_null(Date),
        no_int,
        no_int,
        no_int,
    ).group_by(week)
    mark = select(
        literal("mark", String),
        *([no_int] * 10),
        Athlete.ladder_through,
        cast(Athlete.ladder_level, Integer),
        cast(Athlete.ladder_streak, Integer),
        Athlete.streak_epoch,
    ).where(Athlete.team_id == guild_id, Athlete.user_id == user_id)
    return union_all(weeks, mark)


@dataclass(frozen=True, slots=True)
class LadderRead:
    """What :func:`ladder_facts` read: the mark (None without one), the weeks after it, and the
    athlete's epoch as read (0 for an athlete not stored yet), for :func:`save_ladder_mark`."""

    mark: LadderMark | None
    weeks: list[WeekFacts]
    epoch: int


async def ladder_facts(s: AsyncSession, guild_id: int, user_id: int, end: date) -> LadderRead:
    """The athlete's ladder mark and the facts of their weeks after it up to ``end`` (today), in
    one statement (one snapshot, so the weeks are the ones after the mark read with them)."""
    params = {"guild_id": guild_id, "user_id": user_id, "end": end}
    weeks: list[WeekFacts] = []
    mark: LadderMark | None = None
    epoch = 0
    for row in await s.execute(ladder_statement(), params):
        part, number, backward, t1, t2, t3, t4, t5, off, sore_off, soreness, through, level, streak, ep = row
        if part == "week":
            weeks.append(
                WeekFacts(
                    monday=date.fromordinal(7 * int(number) + 1),
                    backward_days=int(backward),
                    days_off=int(off or 0),
                    max_soreness=None if soreness is None else int(soreness),
                    sore_days_off=int(sore_off or 0),
                    top_levels=tuple(int(t or 0) for t in (t1, t2, t3, t4, t5)),
                )
            )
        else:
            epoch = int(ep)
            if through is not None and level is not None:
                mark = LadderMark(through, Level(int(level)), int(streak or 0))
    return LadderRead(mark, weeks, epoch)


async def save_ladder_mark(
    s: AsyncSession, guild_id: int, user_id: int, mark: LadderMark, epoch: int
) -> bool:
    """Keep ``mark`` for the athlete, unless their past entries changed since it was read at
    ``epoch`` (it may be wrong then) or a mark as far on is kept already. True if it was kept."""
    statement = (
        update(Athlete)
        .where(
            Athlete.team_id == guild_id,
            Athlete.user_id == user_id,
            Athlete.streak_epoch == epoch,
            or_(Athlete.ladder_through.is_(None), Athlete.ladder_through < mark.through),
        )
        .values(ladder_through=mark.through, ladder_level=mark.level.value, ladder_streak=mark.streak)
        .returning(Athlete.id)
    )
    return await s.scalar(statement) is not None
