"""Streaks and shares: pure arithmetic over days and metres."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date


def current_streak(backward_days: Iterable[date], today: date) -> int:
    """Days in a row with backward running, ending today.

    If there is nothing yet today the streak ends yesterday instead: a day is not lost until it is
    over. Days after ``today`` (clock skew, another zone) are ignored. 0 when neither day has running.
    """
    days = {day.toordinal() for day in backward_days}
    end = today.toordinal()
    if end not in days:
        end -= 1  # ordinals avoid OverflowError at date.min
    count = 0
    while end - count in days:
        count += 1
    return count


def longest_streak(backward_days: Iterable[date]) -> int:
    """The most days in a row with backward running, ever; 0 for none. Duplicates are fine."""
    days = sorted({day.toordinal() for day in backward_days})
    best = run = 0
    previous: int | None = None
    for day in days:
        run = run + 1 if previous is not None and day == previous + 1 else 1
        best = max(best, run)
        previous = day
    return best


@dataclass(frozen=True, slots=True)
class Island:
    """A run of consecutive days on each of which the athlete did backward work or was told to rest
    (a suggested day off: the warmup named them, or /plan said so), or a part of one. ``length``
    counts only the days with backward work: a day of rest keeps a streak, it does not lengthen it."""

    first: date
    last: date
    length: int


@dataclass(frozen=True, slots=True)
class StreakMark:
    """What is already known of an athlete's streaks up to ``through``, a day no /log can reach any
    more: the longest streak up to it, and ``open``, the backward days of the island that ends on
    it (None when that day is in none): an island after the mark that starts the next day goes on
    from it. Kept so that /stats reads only the days after ``through`` (issue 9)."""

    through: date
    best: int
    open: int | None


# A mark is moved only to a day at least this far back: /log takes dates up to MAX_DAYS_BACK (365)
# back, so no entry can land on or before it any more (a day's margin for a team's day boundary).
# The database splits the island that spans this day (``settled_day``) so that a mark can be set
# inside it: an athlete who runs every day has one island, as long as their history.
MARK_SETTLE_DAYS = 367
# ... and only when it moves at least this far, so that /stats writes it about once a month.
MARK_STEP_DAYS = 30


def settled_day(today: date) -> date:
    """The last day a mark may be moved to on ``today``."""
    return date.fromordinal(today.toordinal() - MARK_SETTLE_DAYS)


def _joined(parts: Iterable[Island], mark: StreakMark | None) -> list[tuple[Island, Island]]:
    """Each part after ``mark`` (oldest first) with the whole island so far that it ends: parts
    that follow each other day by day are one island (the database splits islands at the settled
    day), and the first one goes on from the mark's open island if it starts the day after it."""
    ordered = sorted(parts, key=lambda i: i.first)
    run: Island | None = None
    if mark is not None:
        ordered = [i for i in ordered if i.first > mark.through]
        if mark.open is not None:
            run = Island(mark.through, mark.through, mark.open)
    out = []
    for part in ordered:
        if run is not None and part.first.toordinal() == run.last.toordinal() + 1:
            run = Island(run.first, part.last, run.length + part.length)
        else:
            run = part
        out.append((part, run))
    return out


def streaks(parts: Iterable[Island], today: date, mark: StreakMark | None = None) -> tuple[int, int]:
    """The current and the longest streak of backward days, from the athlete's islands (or parts of
    islands) after ``mark`` (all of them without one) and what the mark knows of the ones before.

    The current streak ends today or, with nothing yet today, yesterday: a day is not lost until it
    is over. Islands starting after ``today`` (clock skew, another zone) are ignored.
    """
    current = 0
    longest = mark.best if mark is not None else 0
    last_good = today.toordinal() - 1
    for part, island in _joined(parts, mark):
        if part.first > today:
            continue
        longest = max(longest, island.length)
        if island.last.toordinal() >= last_good:
            current = island.length
    return current, longest


def moved_mark(parts: Iterable[Island], today: date, mark: StreakMark | None) -> StreakMark | None:
    """A new mark to keep, or None to keep the old one: at the end of the last part that ends on or
    before :func:`settled_day`, if that is :data:`MARK_STEP_DAYS` past the old mark. ``parts`` are
    those after ``mark``, as :func:`streaks` takes them."""
    bound = settled_day(today)
    best = mark.best if mark is not None else 0
    found: StreakMark | None = None
    for part, island in _joined(parts, mark):
        if part.last > bound:
            break
        best = max(best, island.length)
        found = StreakMark(part.last, best, island.length)
    if found is None:
        return None
    if mark is not None and found.through.toordinal() - mark.through.toordinal() < MARK_STEP_DAYS:
        return None
    return found


def backward_share(backward_meters: float, total_meters: float) -> float | None:
    """Backward metres as a fraction (0..1) of all metres; None when there is no running at all.

    Clamped to [0, 1] so float noise in summed totals can never show as 101 %.
    """
    if not total_meters > 0 or not math.isfinite(total_meters) or not math.isfinite(backward_meters):
        return None
    return min(max(backward_meters / total_meters, 0.0), 1.0)
