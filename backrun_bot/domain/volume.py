"""Distance over time, as the charts show it: a period's days grouped into bars, with a trailing
average of the backward part.

The database hands over one row per day that has running (backward and forward metres, already
summed in the team's timezone); this module fills the days without running with zeros, picks how
many days one bar stands for so that any period stays readable at about 800 pixels across, and
computes the line drawn over the bars. Nothing here draws (``backrun_bot/charts`` does).

How long a bar is, by the span of the chart (first day to last day of the period):

* up to :data:`MAX_DAILY_DAYS` days (a week, a month, a short history): one bar a day, and the line
  is the backward metres per day averaged over the 7 days ending on that day;
* up to :data:`MAX_WEEKLY_BARS` weeks (a year, two years of history): one bar a calendar week
  (Monday to Sunday, as ``/stats`` counts weeks), and the line is the average of the backward
  metres of the 4 weeks ending with that one;
* longer (five years of daily entries is 61 months): one bar a calendar month, and the line is the
  average of the 3 months ending with that one.

Bars cover only days inside the period, so the bars add up to the period's totals (a year's first
bar is the days of its first week that fall in January). The average is of whole weeks and months
and reaches back before the period (the caller reads those days too, :func:`lead_in_start`), so
the line does not start at zero on the first day of a month. Days after ``today`` get no bar: the
x axis still spans the whole period (a Tuesday's week chart shows the five days to come as empty).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import NamedTuple

from backrun_bot.domain.dates import Period, period_start, week_start

MAX_DAILY_DAYS = 92  # a quarter: about 8 px a bar at 800 px across
MAX_WEEKLY_BARS = 120  # a little over two years of weeks


class Step(StrEnum):
    """How many days one bar of a chart stands for."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"

    @property
    def average_over(self) -> int:
        """How many bars (this one and those before it) the trailing average is taken over."""
        return _AVERAGE_OVER[self]

    @property
    def average_label(self) -> str:
        """``"7-day average"``, ``"4-week average"``, ``"3-month average"``."""
        return f"{self.average_over}-{self.value} average"


_AVERAGE_OVER = {Step.DAY: 7, Step.WEEK: 4, Step.MONTH: 3}


class DayVolume(NamedTuple):
    """One day's running: backward and forward metres (effective: durations through their pace).
    A named tuple: five years of them are made per all-time chart, and a tuple is the cheapest."""

    backward_m: float = 0.0
    forward_m: float = 0.0


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar: the days ``first``…``last`` (inclusive, inside the period) and their metres, and
    the trailing average of backward metres per step at this bar (:attr:`Step.average_over`)."""

    first: date
    last: date
    backward_m: float
    forward_m: float
    average_backward_m: float

    @property
    def total_m(self) -> float:
        return self.backward_m + self.forward_m


@dataclass(frozen=True, slots=True)
class VolumeSeries:
    """What a chart shows: the period ``first``…``last``, one :class:`Bar` per ``step`` from the
    first day up to ``today`` (days without running are zeros; none after ``today``)."""

    first: date
    last: date
    today: date
    step: Step
    bars: list[Bar]

    @property
    def slots(self) -> int:
        """How many bars the whole period holds (the x axis), the days to come included."""
        return len(self.slot_starts())

    def slot_starts(self) -> list[date]:
        """The first day of each bar the whole period holds, the days to come included."""
        return [start for start, _ in _buckets(self.first, self.last, self.step)]

    @property
    def backward_m(self) -> float:
        return sum(bar.backward_m for bar in self.bars)

    @property
    def forward_m(self) -> float:
        return sum(bar.forward_m for bar in self.bars)

    @property
    def empty(self) -> bool:
        """Nothing logged in the period."""
        return not any(bar.total_m > 0 for bar in self.bars)


def period_end(period: Period, today: date) -> date:
    """The last day of the calendar period containing ``today`` (Sunday, the month's last day,
    31 December); ``today`` for all time."""
    if period is Period.WEEK:
        return week_start(today) + timedelta(days=6)
    if period is Period.MONTH:
        return _add_months(today.replace(day=1), 1) - timedelta(days=1)
    if period is Period.YEAR:
        return today.replace(month=12, day=31)
    return today


def period_window(period: Period, today: date) -> tuple[date | None, date]:
    """The chart's first and last day for ``period`` on ``today``; first None for all time (the day
    of the first entry, known only once the entries are read)."""
    return period_start(period, today), period_end(period, today)


def step_for(first: date, last: date) -> Step:
    """The bar length for a chart from ``first`` to ``last`` (see the module docstring)."""
    if (last - first).days + 1 <= MAX_DAILY_DAYS:
        return Step.DAY
    if ((week_start(last) - week_start(first)).days // 7) + 1 <= MAX_WEEKLY_BARS:
        return Step.WEEK
    return Step.MONTH


def months_for_history_before(day: date) -> date:
    """A chart from a first day before the one returned, to ``day`` or later, is a chart of months
    (:func:`step_for`): its span touches more than :data:`MAX_WEEKLY_BARS` calendar weeks."""
    return week_start(day) - timedelta(weeks=MAX_WEEKLY_BARS)


def lead_in_start(first: date, last: date) -> date:
    """The first day to read for a chart from ``first`` to ``last``: earlier than ``first`` by what
    the trailing average of its first bar needs (6 days, 3 weeks, 2 months, whole ones)."""
    step = step_for(first, last)
    return _bucket_start(first, step, back=step.average_over - 1)


def volume_series(
    days: Mapping[date, DayVolume],
    *,
    first: date,
    last: date,
    today: date,
    history_start: date | None = None,
) -> VolumeSeries:
    """Group ``days`` (any days, those before ``first`` only feeding the average) into the bars of
    the chart from ``first`` to ``last`` on ``today``; days without an entry count as zeros.

    ``history_start``: the first day anything can have been logged (an all-time chart's first
    entry). The average does not reach back past its bucket: the first bars of someone's history
    average over the weeks they have, not over zeros from before they started."""
    if last < first:
        raise ValueError(f"the chart ends ({last}) before it starts ({first})")
    step = step_for(first, last)
    end = min(today, last)
    # One pass over the days (five years of them for an all-time chart), each to its bucket by a
    # number that counts buckets (consecutive buckets, consecutive numbers): the backward metres of
    # whole buckets for the average, lead-in included, and what falls inside the chart for the bars.
    number = _BUCKET_NUMBER[step]
    whole: dict[int, float] = {}
    inside: dict[int, list[float]] = {}
    for day, volume in days.items():
        if day > end:
            continue
        key = number(day)
        whole[key] = whole.get(key, 0.0) + volume.backward_m
        if day >= first:
            sums = inside.setdefault(key, [0.0, 0.0])
            sums[0] += volume.backward_m
            sums[1] += volume.forward_m
    oldest = None if history_start is None else number(history_start)
    bars: list[Bar] = []
    for start, bucket_last in _buckets(first, last, step):
        if start > end:
            break
        key = number(start)
        window = range(key - step.average_over + 1, key + 1)
        if oldest is not None:
            window = range(min(max(window.start, oldest), key), key + 1)
        average = sum(whole.get(k, 0.0) for k in window) / len(window)
        backward, forward = inside.get(key, (0.0, 0.0))
        bars.append(Bar(start, min(bucket_last, end), backward, forward, average))
    return VolumeSeries(first=first, last=last, today=today, step=step, bars=bars)


def _day_number(day: date) -> int:
    return day.toordinal()


def _week_number(day: date) -> int:
    return (day.toordinal() - 1) // 7  # ordinal 1, 1 January of year 1, was a Monday


def _month_number(day: date) -> int:
    return day.year * 12 + day.month - 1


_BUCKET_NUMBER = {Step.DAY: _day_number, Step.WEEK: _week_number, Step.MONTH: _month_number}


def _buckets(first: date, last: date, step: Step) -> list[tuple[date, date]]:
    """The bars' (first, last) days from ``first`` to ``last``, clipped to that range."""
    out: list[tuple[date, date]] = []
    start = first
    while start <= last:
        following = _bucket_start(start, step, back=-1)
        out.append((start, min(last, following - timedelta(days=1))))
        start = following
    return out


def _bucket_start(day: date, step: Step, *, back: int = 0) -> date:
    """The first day of the bucket ``back`` buckets before the one holding ``day`` (negative: after)."""
    if step is Step.DAY:
        return day - timedelta(days=back)
    if step is Step.WEEK:
        return week_start(day) - timedelta(weeks=back)
    return _add_months(day.replace(day=1), -back)


def _add_months(first_of_month: date, months: int) -> date:
    index = first_of_month.year * 12 + first_of_month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
