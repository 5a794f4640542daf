"""Streaks and shares: pure arithmetic over days and metres."""

from __future__ import annotations

import math
from collections.abc import Iterable
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


def streaks(runs: Iterable[tuple[date, int]], today: date) -> tuple[int, int]:
    """The current and the longest streak from runs of consecutive backward days, each given as
    (last day, length) — as the database groups them. Same rules as :func:`current_streak` and
    :func:`longest_streak` (the current one may end yesterday; runs after ``today`` are ignored)."""
    current = longest = 0
    yesterday = date.fromordinal(today.toordinal() - 1) if today > date.min else None
    ends: dict[date, int] = {}
    for last, length in runs:
        if last > today:
            continue
        ends[last] = length
        longest = max(longest, length)
    if today in ends:
        current = ends[today]
    elif yesterday is not None and yesterday in ends:
        current = ends[yesterday]
    return current, longest


def backward_share(backward_meters: float, total_meters: float) -> float | None:
    """Backward metres as a fraction (0..1) of all metres; None when there is no running at all.

    Clamped to [0, 1] so float noise in summed totals can never show as 101 %.
    """
    if not total_meters > 0 or not math.isfinite(total_meters) or not math.isfinite(backward_meters):
        return None
    return min(max(backward_meters / total_meters, 0.0), 1.0)
