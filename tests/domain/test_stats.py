"""Streaks and backward share."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backrun_bot.domain.stats import backward_share, current_streak, longest_streak, streaks

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


def runs_of(days: list[date]) -> list[tuple[date, int]]:
    """Runs of consecutive days as (last day, length), as the database groups them."""
    runs: list[tuple[date, int]] = []
    for day in sorted(set(days)):
        if runs and runs[-1][0] + timedelta(days=1) == day:
            runs[-1] = (day, runs[-1][1] + 1)
        else:
            runs.append((day, 1))
    return runs


@given(st.lists(st.integers(min_value=-3, max_value=60), max_size=40))
def test_streaks_from_runs_agree_with_the_streaks_of_the_days(offsets: list[int]) -> None:
    days = days_back(*offsets)
    kept = [day for day in days if day <= TODAY]  # what the database reads (days up to today)
    assert streaks(runs_of(kept), TODAY) == (current_streak(days, TODAY), longest_streak(kept))


@pytest.mark.parametrize(
    ("runs", "expected"),
    [
        ([], (0, 0)),
        ([(TODAY, 3)], (3, 3)),
        ([(TODAY - timedelta(days=1), 2), (TODAY - timedelta(days=10), 7)], (2, 7)),
        ([(TODAY - timedelta(days=2), 5)], (0, 5)),
        ([(TODAY + timedelta(days=1), 9), (TODAY, 1)], (1, 1)),
    ],
)
def test_streaks_from_runs(runs: list[tuple[date, int]], expected: tuple[int, int]) -> None:
    assert streaks(runs, TODAY) == expected


def test_streaks_on_the_first_day_there_is() -> None:
    assert streaks([(date.min, 1)], date.min) == (1, 1)
