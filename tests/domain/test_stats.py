"""Streaks and backward share."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backrun_bot.domain.stats import (
    MARK_SETTLE_DAYS,
    Island,
    StreakMark,
    backward_share,
    current_streak,
    longest_streak,
    moved_mark,
    settled_day,
    streaks,
)

TODAY = date(2025, 3, 14)


def days_back(*offsets: int) -> list[date]:
    return [TODAY - timedelta(days=n) for n in offsets]


@pytest.mark.parametrize(
    ("offsets", "expected"),
    [
        ((), 0),
        ((0,), 1),
        ((0, 1, 2), 3),
        ((1, 2), 2),  # nothing yet today: the streak still stands until the day is over
        ((1,), 1),
        ((2, 3, 4), 0),  # yesterday missed: broken
        ((0, 2, 3), 1),  # a gap right behind today
        ((0, 0, 1, 1), 2),  # several entries a day count once
        ((-1, 0), 1),  # a day after today is ignored
        ((-1,), 0),
    ],
)
def test_current_streak(offsets: tuple[int, ...], expected: int) -> None:
    assert current_streak(days_back(*offsets), TODAY) == expected


def test_current_streak_accepts_any_iterable_and_crosses_month_and_year() -> None:
    new_year = date(2025, 1, 1)
    days = (new_year - timedelta(days=n) for n in range(40))
    assert current_streak(days, new_year) == 40


def test_current_streak_at_the_start_of_the_calendar() -> None:
    assert current_streak([], date.min) == 0
    assert current_streak([date.min], date.min) == 1


@pytest.mark.parametrize(
    ("offsets", "expected"),
    [
        ((), 0),
        ((5,), 1),
        ((0, 1, 2, 10, 11), 3),
        ((10, 11, 12, 13, 0, 1), 4),  # the longest one need not be the latest
        ((3, 3, 4, 4), 2),
        ((0, 2, 4, 6), 1),
    ],
)
def test_longest_streak(offsets: tuple[int, ...], expected: int) -> None:
    assert longest_streak(days_back(*offsets)) == expected


def test_longest_streak_across_a_leap_day() -> None:
    assert longest_streak([date(2024, 2, 28), date(2024, 2, 29), date(2024, 3, 1)]) == 3
    assert longest_streak([date(2023, 2, 28), date(2023, 3, 1)]) == 2


@given(st.lists(st.dates(min_value=date(2020, 1, 1), max_value=date(2026, 1, 1)), max_size=60))
def test_streak_properties(days: list[date]) -> None:
    today = date(2025, 6, 1)
    current, longest = current_streak(days, today), longest_streak(days)
    assert 0 <= longest <= len(set(days))
    past = [d for d in days if d <= today]
    assert current <= longest_streak(past)
    assert (current > 0) == bool({today, today - timedelta(days=1)} & set(days))


@pytest.mark.parametrize(
    ("backward", "total", "expected"),
    [
        (0.0, 0.0, None),
        (400.0, 400.0, 1.0),
        (400.0, 1600.0, 0.25),
        (0.0, 5000.0, 0.0),
        (1.0, 1.0, 1.0),  # one metre of running in all is still a share
        (0.5, 1.0, 0.5),
        (1000.0000001, 1000.0, 1.0),  # summing noise is clamped, never 100.00001 %
        (5.0, -1.0, None),
        (1.0, float("nan"), None),
        (1.0, float("inf"), None),
    ],
)
def test_backward_share(backward: float, total: float, expected: float | None) -> None:
    assert backward_share(backward, total) == expected


def islands_of(backward: Iterable[date], rest: Iterable[date] = ()) -> list[Island]:
    """The islands as the database groups them: runs of consecutive days with backward work or a
    suggested rest day, each counting its backward days."""
    work = set(backward)
    islands: list[Island] = []
    for day in sorted(work | set(rest)):
        w = int(day in work)
        if islands and islands[-1].last + timedelta(days=1) == day:
            last = islands[-1]
            islands[-1] = Island(last.first, day, last.length + w)
        else:
            islands.append(Island(day, day, w))
    return islands


def parts_of(backward: Iterable[date], rest: Iterable[date], settled: date) -> list[Island]:
    """:func:`islands_of`, with an island that spans ``settled`` in two parts, as the database gives
    them (up to ``settled``, and after it)."""
    work = list(backward)
    rests = list(rest)
    return islands_of([d for d in work if d <= settled], [d for d in rests if d <= settled]) + islands_of(
        [d for d in work if d > settled], [d for d in rests if d > settled]
    )


def oracle(backward: Iterable[date], rest: Iterable[date], today: date) -> tuple[int, int]:
    """Day by day, the plain reading of the rule: (current, longest)."""
    work = set(backward)
    rests = set(rest)
    kept = work | rests
    end = today if today in kept else today - timedelta(days=1)
    current = 0
    while end in kept:
        current += end in work
        end -= timedelta(days=1)
    longest = 0
    for island in islands_of([d for d in work if d <= today], [d for d in rests if d <= today]):
        longest = max(longest, island.length)
    return current, longest


@given(st.lists(st.integers(min_value=-3, max_value=60), max_size=40))
def test_streaks_from_islands_agree_with_the_streaks_of_the_days(offsets: list[int]) -> None:
    days = days_back(*offsets)
    kept = [day for day in days if day <= TODAY]  # what the database reads (days up to today)
    assert streaks(islands_of(kept), TODAY) == (current_streak(days, TODAY), longest_streak(kept))


@given(
    st.lists(st.integers(min_value=0, max_value=40), max_size=30),
    st.lists(st.integers(min_value=0, max_value=40), max_size=10),
)
def test_a_suggested_rest_day_keeps_the_streak_without_lengthening_it(
    work: list[int], rest: list[int]
) -> None:
    backward, rests = days_back(*work), days_back(*rest)
    assert streaks(islands_of(backward, rests), TODAY) == oracle(backward, rests, TODAY)


@pytest.mark.parametrize(
    ("work", "rest", "expected"),
    [
        ((1, 3, 4), (2,), (3, 3)),  # rested the day before yesterday: one streak of three
        ((1, 2), (0,), (2, 2)),  # told to rest today: the streak stands
        ((2, 3), (1,), (2, 2)),  # rested yesterday, nothing yet today: still current
        ((3, 4), (1,), (0, 2)),  # a rest day is not a bridge over a day of nothing
        ((), (0, 1), (0, 0)),  # rest alone is no streak
        ((0, 2), (1, 2), (2, 2)),  # a rest day with backward work counts as a backward day
    ],
)
def test_rest_days(work: tuple[int, ...], rest: tuple[int, ...], expected: tuple[int, int]) -> None:
    assert streaks(islands_of(days_back(*work), days_back(*rest)), TODAY) == expected


def test_streaks_on_the_first_day_there_is() -> None:
    assert streaks([Island(date.min, date.min, 1)], date.min) == (1, 1)


def test_islands_after_today_are_ignored() -> None:
    ahead = Island(TODAY + timedelta(days=1), TODAY + timedelta(days=3), 3)
    assert streaks([ahead, Island(TODAY, TODAY, 1)], TODAY) == (1, 1)


# -- the mark: /stats reads only the days after it ----------------------------------------------------


def test_the_mark_is_set_only_far_enough_back_and_moved_only_a_month_on() -> None:
    old = settled_day(TODAY)
    islands = [Island(old - timedelta(days=9), old - timedelta(days=5), 5), Island(old, old, 1)]
    mark = moved_mark(islands, TODAY, None)
    assert mark == StreakMark(old, 5, 1)
    # One day more recent: nothing is settled yet.
    assert moved_mark([Island(old + timedelta(days=1), old + timedelta(days=1), 1)], TODAY, None) is None
    # A settled part only 29 days past the old mark: not worth a write.
    later = TODAY + timedelta(days=29)
    assert moved_mark([Island(old + timedelta(days=29), old + timedelta(days=29), 1)], later, mark) is None
    moved = moved_mark(
        [Island(old + timedelta(days=30), old + timedelta(days=30), 1)], later + timedelta(days=1), mark
    )
    assert moved == StreakMark(old + timedelta(days=30), 5, 1)


def test_an_athlete_who_runs_every_day_gets_a_mark_inside_their_one_island() -> None:
    """800 days in a row: the database splits the island at the settled day; the mark goes there,
    open, and the part after it goes on from it."""
    days = days_back(*range(800))
    settled = settled_day(TODAY)
    mark = moved_mark(parts_of(days, [], settled), TODAY, None)
    assert mark == StreakMark(settled, 800 - MARK_SETTLE_DAYS, 800 - MARK_SETTLE_DAYS)
    after = [Island(settled + timedelta(days=1), TODAY, MARK_SETTLE_DAYS)]
    assert streaks(after, TODAY, mark) == (800, 800)
    assert streaks(after, TODAY) == (MARK_SETTLE_DAYS, MARK_SETTLE_DAYS)  # without it: wrong


@given(
    st.lists(st.integers(min_value=0, max_value=900), max_size=120),
    st.lists(st.integers(min_value=0, max_value=900), max_size=30),
    st.integers(min_value=0, max_value=500),
    st.integers(min_value=0, max_value=900),
)
def test_with_a_mark_the_days_after_it_give_the_same_streaks_as_all_days(
    work: list[int], rest: list[int], later: int, daily: int
) -> None:
    """The mark taken on one day, the streaks read on a later day from the mark and only the parts
    after it equal those from every day; and so after the mark moves on again. ``daily``: a run of
    days in a row ending today, so that marks inside an island are drawn too."""
    backward, rests = days_back(*work, *range(daily)), days_back(*rest)
    first_day = TODAY - timedelta(days=later)  # the mark is taken this many days before TODAY
    seen = [d for d in backward if d <= first_day], [d for d in rests if d <= first_day]
    mark = moved_mark(parts_of(*seen, settled_day(first_day)), first_day, None)
    full = streaks(islands_of(backward, rests), TODAY)

    def after(m: StreakMark | None) -> list[Island]:
        parts = parts_of(backward, rests, settled_day(TODAY))
        return (
            parts
            if m is None
            else parts_of(
                [d for d in backward if d > m.through],
                [d for d in rests if d > m.through],
                settled_day(TODAY),
            )
        )

    assert streaks(after(mark), TODAY, mark) == full == oracle(backward, rests, TODAY)
    again = moved_mark(after(mark), TODAY, mark) or mark
    assert streaks(after(again), TODAY, again) == full
