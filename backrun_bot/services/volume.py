"""The charts' use cases (issue 10): one athlete's or a whole team's distance per day over a
period, bucketed for drawing, and a team's totals for the week.

Read-only: an unknown team is an empty chart in UTC and metric units (nothing is created). "Today",
the period and every day boundary are the team's timezone's; the entries' days were decided in that
timezone when they were logged. Drawing is the adapter's (``backrun_bot/charts``, in a worker thread).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backrun_bot.domain.dates import Period, local_date, week_start
from backrun_bot.domain.volume import (
    DayVolume,
    Units,
    VolumeSeries,
    lead_in_start,
    period_window,
    units_of,
    volume_series,
)
from backrun_bot.services.common import Clock, utc_now
from backrun_bot.storage import volume_queries as vq

# The read a chart is drawn from: the days with running in [first, last] (an athlete's or a team's).
Reader = Callable[[date, date], Awaitable[dict[date, DayVolume]]]


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
        """One athlete's backward and forward metres per day (or week, month) over ``period``."""
        async with self._sessionmaker() as s:
            today, units = await self._today(s, guild_id)

            async def read(first: date, last: date) -> dict[date, DayVolume]:
                return await vq.athlete_days(s, guild_id, user_id, first, last)

            return await _chart(read, period, today, units)

    async def team(self, guild_id: int, period: Period = Period.WEEK) -> TeamReport:
        """The whole team's chart over ``period`` and its totals from this Monday to today."""
        async with self._sessionmaker() as s:
            today, units = await self._today(s, guild_id)

            async def read(first: date, last: date) -> dict[date, DayVolume]:
                return await vq.team_days(s, guild_id, first, last)

            chart = await _chart(read, period, today, units)
            monday = week_start(today)
            totals = await vq.team_totals(s, guild_id, monday, today)
        return TeamReport(chart, monday, today, totals.backward_m, totals.forward_m, totals.athletes)

    async def _today(self, s: AsyncSession, guild_id: int) -> tuple[date, Units]:
        display = await vq.team_display(s, guild_id)
        timezone, units = display if display is not None else ("UTC", "metric")
        return local_date(self._clock(), ZoneInfo(timezone)), units_of(units)


async def _chart(read: Reader, period: Period, today: date, units: Units) -> VolumeChart:
    """One read of the days the chart needs (with the lead-in its average needs), then the bars."""
    first, last = period_window(period, today)
    if first is None:
        # All time: from the first entry, which only the read tells; nothing before it to average.
        days = await read(date.min, today)
        first = min(days, default=today)
        series = volume_series(days, first=first, last=today, today=today, history_start=first)
    else:
        days = await read(lead_in_start(first, last), min(last, today))
        series = volume_series(days, first=first, last=last, today=today)
    return VolumeChart(period, series, units)
