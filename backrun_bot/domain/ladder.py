"""The backward ladder (issue 11): each athlete's level of backward work, the dose at that level,
and what is left to move up. Plain arithmetic over weeks; the store supplies the week facts.

Levels
======
1 walk, 2 jog, 3 run, 4 skip, 5 sprint, all backward. Each kind of :mod:`backrun_bot.domain.kinds`
has one (:data:`KIND_LEVEL`). **Backpedal is level 3 (run)**: it is backward running with short,
quick steps at about the pace of a backward run (400 vs 420 s/km in the kinds table), and the
warmup's backpedal strides are run-speed efforts; put higher, a new athlete's first warmups alone
would place them at skip or sprint.

Moving (the weeks are the team's local Monday-Sunday weeks)
===========================================================
* **Up one level** after two consecutive weeks at the level each with at least
  :data:`DAYS_A_WEEK` (3) backward days (any backward kind), no suggested day off (a rest day of any
  source, or a check-in sore enough for one) and no soreness of :data:`SORE_DAY_OFF_AT` (6) or more
  in any area. A week without entries breaks the pair ("consecutive"). Level 5 stays 5.
* **Down one level** (never below 1) for a week with a suggested day off *for soreness* (a
  ``rest_days`` row of source ``soreness``, or a check-in for which
  :func:`backrun_bot.domain.wellness.sore_day_off` holds). It shows the same day: the week in
  progress moves down as soon as it has one. At most one level a week: two sore days in a row are
  one episode, and the week is the unit of every other ladder rule.
* **Start**: an athlete is placed by their first two weeks of backward work: the week of their first
  backward entry and the next. The start level is the highest level they logged on at least
  :data:`PLACEMENT_DAYS` (3) days of those two weeks (a day counts for every level up to the hardest
  kind logged that day); 1 if none. A placement week with a soreness day off takes one level off it,
  as any week would. During the two weeks the level shown is the placement so far; the weeks that
  placed an athlete do not also count toward moving up.

Doses (:data:`DOSES`): the product's choice
==========================================
What one backward day at a level is. Every level starts with easier backward work before its own
kind, and the total distance grows by at most 10 % a level (400, 440, 480, 520, 560 m). Moving up
takes at least two weeks, so at the minimum of three days a week the weekly backward distance grows
by at most about 10 % over any two weeks. The evidence behind "small steps" is limited and says no
more than this: among 874 novice runners, those whose weekly distance grew by more than 30 % over
two weeks had more distance-related injuries than those under 10 % (hazard ratio 1.59, 95 % CI
0.96-2.66, not significant; Nielsen et al. 2014, *J Orthop Sports Phys Ther* 44:739-747), and a
graded programme following the "10 % rule" did not by itself prevent injuries in 532 novice runners
(Buist et al. 2008, *Am J Sports Med* 36:33-39). Neither study measured backward running or a change
of kind (walk to jog, run to skip), which is most of what a step here changes; the distances and the
order of the kinds are Backrun's choice, not a finding.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import IntEnum
from typing import Final

from backrun_bot.domain.amounts import Units, format_distance
from backrun_bot.domain.dates import week_start
from backrun_bot.domain.drills import short_date
from backrun_bot.domain.kinds import Kind
from backrun_bot.domain.stats import settled_day
from backrun_bot.domain.wellness import SORE_DAY_OFF_AT

DAYS_A_WEEK: Final = 3  # backward days a week for the week to count toward moving up
WEEKS_TO_MOVE_UP: Final = 2  # such weeks in a row
PLACEMENT_WEEKS: Final = 2  # the first weeks of backward work, which set the start level
PLACEMENT_DAYS: Final = 3  # days at a level (or harder) within them to start at that level
# A kept mark moves on only by this many weeks at least, so that /plan writes it about monthly.
MARK_STEP_WEEKS: Final = 4


class Level(IntEnum):
    """A rung of the ladder; the value is the level number (1-5)."""

    WALK = 1
    JOG = 2
    RUN = 3
    SKIP = 4
    SPRINT = 5

    @property
    def kind(self) -> Kind:
        """The kind this level is about (backpedal is logged at :attr:`RUN` too)."""
        return _LEVEL_KIND[self]

    @property
    def label(self) -> str:
        """``"backward run"``: what the level is called in /plan."""
        return self.kind.label


_LEVEL_KIND: Final = {
    Level.WALK: Kind.BACKWARD_WALK,
    Level.JOG: Kind.BACKWARD_JOG,
    Level.RUN: Kind.BACKWARD,
    Level.SKIP: Kind.BACKWARD_SKIP,
    Level.SPRINT: Kind.BACKWARD_SPRINT,
}

KIND_LEVEL: Final[dict[Kind, Level]] = {
    Kind.BACKWARD_WALK: Level.WALK,
    Kind.BACKWARD_JOG: Level.JOG,
    Kind.BACKWARD: Level.RUN,
    Kind.BACKPEDAL: Level.RUN,  # see the module's docstring
    Kind.BACKWARD_SKIP: Level.SKIP,
    Kind.BACKWARD_SPRINT: Level.SPRINT,
}


@dataclass(frozen=True, slots=True)
class DosePart:
    """``reps`` × ``metres`` of ``kind``."""

    kind: Kind
    reps: int
    metres: int

    def line(self, units: Units = Units.METRIC) -> str:
        distance = format_distance(self.metres, units)
        reps = f"{self.reps} × " if self.reps > 1 else ""
        return f"{reps}{distance} {self.kind.label}"


# One backward day at each level (the product's choice; see the module's docstring).
DOSES: Final[dict[Level, tuple[DosePart, ...]]] = {
    Level.WALK: (DosePart(Kind.BACKWARD_WALK, 1, 400),),  # 400 m
    Level.JOG: (DosePart(Kind.BACKWARD_WALK, 1, 200), DosePart(Kind.BACKWARD_JOG, 4, 60)),  # 440 m
    Level.RUN: (DosePart(Kind.BACKWARD_JOG, 1, 200), DosePart(Kind.BACKWARD, 4, 70)),  # 480 m
    Level.SKIP: (DosePart(Kind.BACKWARD, 1, 200), DosePart(Kind.BACKWARD_SKIP, 4, 80)),  # 520 m
    Level.SPRINT: (
        DosePart(Kind.BACKWARD_JOG, 1, 200),
        DosePart(Kind.BACKWARD_SKIP, 1, 200),
        DosePart(Kind.BACKWARD_SPRINT, 8, 20),
    ),  # 560 m
}


def dose_metres(level: Level) -> int:
    """The total backward metres of a day at ``level``."""
    return sum(p.reps * p.metres for p in DOSES[level])


def dose_text(level: Level, units: Units = Units.METRIC) -> str:
    """``"200 m backward jog, then 4 × 70 m backward run (480 m in all)"``."""
    parts = ", then ".join(p.line(units) for p in DOSES[level])
    if len(DOSES[level]) == 1:
        return parts
    return f"{parts} ({format_distance(dose_metres(level), units)} in all)"


@dataclass(frozen=True, slots=True)
class WeekFacts:
    """What the ladder needs of one week (Monday ``monday`` to Sunday) of an athlete.

    ``top_levels[i]`` is the number of days whose hardest backward kind was at level ``i + 1``
    (used only to place a new athlete); its sum is ``backward_days``.
    """

    monday: date
    backward_days: int = 0
    days_off: int = 0  # suggested days off, any source
    max_soreness: int | None = None  # the highest check-in soreness, any area; None: no check-in
    sore_days_off: int = 0  # of them, days off for soreness
    top_levels: tuple[int, ...] = field(default=(0, 0, 0, 0, 0))

    def days_at_least(self, level: Level) -> int:
        """Days with backward work at ``level`` or harder."""
        if level is Level.WALK:
            return self.backward_days
        return sum(self.top_levels[level - 1 :])

    @property
    def counts(self) -> bool:
        """Whether the week counts toward moving up (see the module's docstring)."""
        return (
            self.backward_days >= DAYS_A_WEEK
            and self.days_off == 0
            and self.sore_days_off == 0
            and (self.max_soreness is None or self.max_soreness < SORE_DAY_OFF_AT)
        )


@dataclass(frozen=True, slots=True)
class LadderMark:
    """The ladder as it stood after the week ending Sunday ``through``: kept by the store so that
    /plan does not replay years (only weeks no entry can reach any more: :func:`settled_day`)."""

    through: date
    level: Level
    streak: int  # weeks in a row at ``level`` that counted, ending on ``through`` (0 or 1)


@dataclass(frozen=True, slots=True)
class Ladder:
    """An athlete's ladder today."""

    today: date
    level: Level
    streak: int  # weeks in a row that counted, ending last Sunday (0 or 1)
    week: WeekFacts  # this week so far
    started: bool  # any backward work yet
    placing_until: date | None  # while being placed: the Sunday the placement ends
    down_from: Level | None  # the level before this week's soreness day off, if it moved down
    new_mark: LadderMark | None  # a mark to keep, further on than the one given, or None

    @property
    def sunday(self) -> date:
        return self.week.monday + timedelta(days=6)


def _placement(weeks: Iterable[WeekFacts]) -> Level:
    """The highest level logged on at least :data:`PLACEMENT_DAYS` days of ``weeks``, less one per
    week with a soreness day off (never below 1)."""
    weeks = list(weeks)
    placed = Level.WALK
    for level in Level:
        if sum(w.days_at_least(level) for w in weeks) >= PLACEMENT_DAYS:
            placed = level
    sore = sum(1 for w in weeks if w.sore_days_off > 0)
    return Level(max(Level.WALK, placed - sore))


def _step(level: Level, streak: int, week: WeekFacts) -> tuple[Level, int]:
    """The level and streak after a whole ``week``."""
    if week.sore_days_off > 0:
        return Level(max(Level.WALK, level - 1)), 0
    if not week.counts:
        return level, 0
    if streak + 1 >= WEEKS_TO_MOVE_UP:
        return Level(min(Level.SPRINT, level + 1)), 0
    return level, streak + 1


def ladder(weeks: Iterable[WeekFacts], today: date, mark: LadderMark | None = None) -> Ladder:
    """The athlete's ladder on ``today`` from the facts of their weeks after ``mark`` (all of them
    without one) up to this week so far. Weeks missing from ``weeks`` had nothing (no backward
    work, no day off, no check-in); weeks after this one, and on or before the mark, are ignored."""
    this_monday = week_start(today)
    after = mark.through if mark is not None else date.min
    by_monday = {w.monday: w for w in weeks if after < w.monday <= this_monday}
    settled = settled_day(today)

    def facts(monday: date) -> WeekFacts:
        return by_monday.get(monday) or WeekFacts(monday)

    found: LadderMark | None = None
    if mark is not None:
        level, streak, monday = mark.level, mark.streak, mark.through + timedelta(days=1)
    else:
        started = [m for m, w in by_monday.items() if w.backward_days > 0]
        if not started:
            return Ladder(today, Level.WALK, 0, facts(this_monday), False, None, None, None)
        first = min(started)
        placing = [facts(first + timedelta(weeks=i)) for i in range(PLACEMENT_WEEKS)]
        end = first + timedelta(weeks=PLACEMENT_WEEKS)  # the Monday after the placement
        if this_monday < end:
            so_far = _placement(w for w in placing if w.monday <= this_monday)
            sunday = end - timedelta(days=1)
            return Ladder(today, so_far, 0, facts(this_monday), True, sunday, None, None)
        level, streak, monday = _placement(placing), 0, end
        if end - timedelta(days=1) <= settled:
            found = LadderMark(end - timedelta(days=1), level, streak)
    while monday < this_monday:
        level, streak = _step(level, streak, facts(monday))
        sunday = monday + timedelta(days=6)
        if sunday <= settled:
            found = LadderMark(sunday, level, streak)
        monday += timedelta(weeks=1)
    week = facts(this_monday)
    down_from = None
    if week.sore_days_off > 0:
        down_from, level, streak = level, Level(max(Level.WALK, level - 1)), 0
        if down_from == level:
            down_from = None  # already at 1
    if (
        found is not None
        and mark is not None
        and found.through - mark.through < timedelta(weeks=MARK_STEP_WEEKS)
    ):
        found = None
    return Ladder(today, level, streak, week, True, None, down_from, found)


def ladder_title(state: Ladder) -> str:
    """``"Backward ladder — level 3 of 5: backward run"`` (and why it went down this week)."""
    title = f"Backward ladder — level {state.level.value} of {len(Level)}: {state.level.label}"
    if state.down_from is not None:
        title += f" (down from {state.down_from.value}: a day off for soreness this week)"
    return title


def dose_line(state: Ladder, units: Units = Units.METRIC, *, day_off: bool = False) -> str:
    """Today's backward dose at the athlete's level, or, on a suggested day off, that it waits."""
    if day_off:
        level = (
            f"your level stays at {state.level.value}"
            if state.down_from is None
            else f"your level is {state.level.value} now (down from {state.down_from.value})"
        )
        waits = "today's dose waits for your next backward day"
        return f"Today is a day off from backward work: {level} and {waits}."
    return f"{dose_text(state.level, units)}."


def to_move_up(state: Ladder) -> str:
    """What is left to move up (or the placement, or the top of the ladder)."""
    need = f"at least {DAYS_A_WEEK} backward days, no suggested day off and no soreness of {SORE_DAY_OFF_AT}+"
    next_monday = short_date(state.sunday + timedelta(days=1))
    if not state.started:
        return (
            f"Your first {PLACEMENT_WEEKS} weeks of backward work set your starting level: the highest "
            f"level you log on at least {PLACEMENT_DAYS} days of them."
        )
    if state.placing_until is not None:
        return (
            f"You are being placed until {short_date(state.placing_until)}: you start at the highest "
            f"level you log on at least {PLACEMENT_DAYS} days of your first {PLACEMENT_WEEKS} weeks."
        )
    if state.level is Level.SPRINT:
        return f"Top of the ladder. Weeks of {need} keep you here."
    week = state.week
    if week.days_off > 0 or week.sore_days_off > 0:
        reason = "it has a suggested day off"
    elif week.max_soreness is not None and week.max_soreness >= SORE_DAY_OFF_AT:
        reason = f"you reported soreness of {week.max_soreness}"
    elif DAYS_A_WEEK - week.backward_days > 7 - state.today.weekday():
        reason = f"too few days are left for {DAYS_A_WEEK} backward days"
    else:
        reason = ""
    if reason:
        return (
            f"This week no longer counts toward moving up ({reason}). {WEEKS_TO_MOVE_UP} weeks in a row "
            f"of {need} move you up; the next can start {next_monday}."
        )
    left = DAYS_A_WEEK - week.backward_days
    then = f"you move up on {next_monday}" if state.streak + 1 >= WEEKS_TO_MOVE_UP else "one more such week"
    if left > 0:
        days = f"{left} more backward day{'s' if left != 1 else ''}"
        return f"{days} this week (to {short_date(state.sunday)}), with no day off, then {then}."
    return f"This week counts if it stays free of a day off and of soreness {SORE_DAY_OFF_AT}+; then {then}."
