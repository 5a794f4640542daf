"""The charts' use cases (issue 10): one athlete's or a whole team's distance per day over a
period, bucketed for drawing, and a team's totals for the week.

Read-only: an unknown team is an empty chart in UTC and metric units (nothing is created). "Today",
the period and every day boundary are the team's timezone's; the entries' days were decided in that
timezone when they were logged. Drawing is the adapter's (``backrun_bot/charts``, in a worker thread).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backrun_bot.domain.amounts import Units
from backrun_bot.domain.dates import Period, local_date, week_start
from backrun_bot.domain.volume import (
    VolumeSeries,
    lead_in_start,
    months_for_history_before,
    period_window,
    volume_series,
)
from backrun_bot.services.common import Clock, utc_now
from backrun_bot.storage import volume_queries as vq


@dataclass(frozen=True, slots=True)
class VolumeChart:
    """What a chart of a period shows and how: the bars, the team's display units."""

    period: Period
    series: VolumeSeries
    units: Units


@dataclass(frozen=True, slots=True)
class TeamReport:
    """``/team report``: the team's chart for a period and its totals for the current week."""

    chart: VolumeChart
    week_first: date  # Monday of this week
    week_last: date  # today
    backward_m: float
    forward_m: float
    athletes_active: int  # athletes with an entry this week


class VolumeService:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], *, clock: Clock = utc_now) -> None:
        self._sessionmaker = sessionmaker
        self._clock = clock

    async def athlete(self, guild_id: int, user_id: int, period: Period = Period.WEEK) -> VolumeChart:
        """One athlete's backward and forward metres per day (or week, month) over ``period``:
        one statement."""
        now = self._clock()
        first, last = read_window(period, now)
        async with self._sessionmaker() as s:
            read = await vq.athlete_chart(
                s, guild_id, user_id, first, last, monthly_before=_months(period, now)
            )
        return _chart(read, period, now)

    async def team(self, guild_id: int, period: Period = Period.WEEK) -> TeamReport:
        """The whole team's chart over ``period`` and its totals from this Monday to today: two
        statements (the week's athletes are counted once the team's timezone says which week)."""
        now = self._clock()
        first, last = read_window(period, now)
        async with self._sessionmaker() as s:
            read = await vq.team_chart(s, guild_id, first, last, monthly_before=_months(period, now))
            chart = _chart(read, period, now)
            today = chart.series.today
            monday = week_start(today)
            totals = await vq.team_totals(s, guild_id, monday, today)
        return TeamReport(chart, monday, today, totals.backward_m, totals.forward_m, totals.athletes)

    async def team_week(self, guild_id: int, monday: date) -> VolumeChart:
        """The team's chart of the calendar week from ``monday`` (a past one: the weekly summary's
        "last week"), its days as of the end of that week: one statement, the 7-day average
        reaching into the week before."""
        sunday = monday + timedelta(days=6)
        async with self._sessionmaker() as s:
            read = await vq.team_chart(s, guild_id, lead_in_start(monday, sunday), sunday)
        if read is None:
            read = vq.ChartRead("UTC", "metric", None, {})
        series = volume_series(read.days, first=monday, last=sunday, today=sunday)
        return VolumeChart(Period.WEEK, series, Units(read.units))


def read_window(period: Period, now: datetime) -> tuple[date, date]:
    """The days to read for a chart of ``period`` before the team's timezone is known (it comes in
    the same statement): every day the chart and its average could need in any timezone. A local
    date is within a day of the UTC date (UTC-12 to UTC+14), so the window spans the periods of
    the day before and the day after; the chart then keeps what the team's own today needs."""
    utc = now.astimezone(UTC).date()
    before, after = utc - timedelta(days=1), utc + timedelta(days=1)
    if period is Period.ALL:
        return date.min, after
    first, last = period_window(period, before)
    assert first is not None
    return lead_in_start(first, last), period_window(period, after)[1]


def _months(period: Period, now: datetime) -> date | None:
    """For all time: a first entry before this day makes the chart one of months in any timezone,
    so the database may sum the months itself (61 rows for five years, not 1,825)."""
    if period is not Period.ALL:
        return None
    return months_for_history_before(now.astimezone(UTC).date() - timedelta(days=1))


def _chart(read: vq.ChartRead | None, period: Period, now: datetime) -> VolumeChart:
    """The chart of ``period`` on the team's today, from what was read (None: no team yet, so an
    empty chart in UTC and metric units)."""
    if read is None:
        read = vq.ChartRead("UTC", "metric", None, {})
    today = local_date(now, ZoneInfo(read.timezone))
    days = read.days
    first, last = period_window(period, today)
    if first is None:
        # All time: from the first entry; nothing before it to average.
        first = today if read.first_day is None else min(read.first_day, today)
        series = volume_series(days, first=first, last=today, today=today, history_start=first)
    else:
        series = volume_series(days, first=first, last=last, today=today)
    return VolumeChart(period, series, Units(read.units))
