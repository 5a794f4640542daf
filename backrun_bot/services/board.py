"""The team's shared picture (issue 10): the leaderboard, and the coach's overview of every athlete.

Both read the whole team in a constant number of statements, whatever its size: the team row, one
aggregate statement (:mod:`backrun_bot.storage.board_queries`) and, for the overview, the warmup's
own day-off assessment (``days_off``, the reminders' service: the same screen and the same rules
that decide whom the warmup names, not a copy of them) and each athlete's latest check-in (one
statement, :func:`backrun_bot.storage.checkin_queries.latest_checkins`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backrun_bot.domain.amounts import Units
from backrun_bot.domain.board import Board, board
from backrun_bot.domain.dates import Period, local_date, period_start
from backrun_bot.domain.day_off import DayOff
from backrun_bot.domain.kinds import Kind
from backrun_bot.domain.overview import AthleteWeek, LatestCheckin
from backrun_bot.domain.wellness import Area
from backrun_bot.errors import InvalidInput
from backrun_bot.services.common import Clock
from backrun_bot.storage import board_queries as bq
from backrun_bot.storage import checkin_queries as cq
from backrun_bot.storage import queries
from backrun_bot.storage.models import Team

BOARD_PERIODS = (Period.WEEK, Period.MONTH, Period.YEAR)

# Who is on a suggested day off on a date, and why, as the warmup decides it: DeliveryService.days_off.
DaysOff = Callable[[AsyncSession, Team, date], Awaitable[list[DayOff]]]


@dataclass(frozen=True, slots=True)
class LeaderboardView:
    period: Period
    start: date
    end: date  # today, in the team's timezone
    kind: Kind | None  # None: every backward kind
    units: Units
    timezone: str
    board: Board


@dataclass(frozen=True, slots=True)
class TeamOverview:
    today: date
    week_start: date
    units: Units
    timezone: str
    athletes: list[AthleteWeek]


class BoardService:
    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], *, clock: Clock, days_off: DaysOff
    ) -> None:
        self._sessionmaker = sessionmaker
        self._clock = clock
        self._days_off = days_off

    async def leaderboard(
        self, guild_id: int, user_id: int, period: Period = Period.WEEK, kind: Kind | None = None
    ) -> LeaderboardView:
        """The team ranked by distance over the current calendar ``period`` up to today (as
        ``/stats`` counts it, in the team's timezone): every backward kind (``kind`` None) or one kind."""
        if period not in BOARD_PERIODS:
            raise InvalidInput("The period is one of: week, month, year.")
        async with self._sessionmaker() as s:
            place = await queries.team_place(s, guild_id)
            timezone = "UTC" if place is None else place.timezone
            units = Units.METRIC if place is None else Units(place.units)
            today = local_date(self._clock(), ZoneInfo(timezone))
            start = period_start(period, today)
            assert start is not None  # every board period has a start
            totals = await bq.board_totals(s, guild_id, start, today, None if kind is None else kind.value)
        return LeaderboardView(period, start, today, kind, units, timezone, board(totals, user_id))

    async def overview(self, guild_id: int) -> TeamOverview:
        """Every athlete of the team: backward metres this week, latest backward day and latest
        entry, whether yesterday was heavy for them (and why), and their latest check-in."""
        async with self._sessionmaker.begin() as s:
            team = await queries.get_or_create_team(s, guild_id)
            today = local_date(self._clock(), ZoneInfo(team.timezone))
            week = period_start(Period.WEEK, today)
            assert week is not None
            recent = await bq.overview(s, guild_id, week, today)
            heavy = {off.user_id: off.heavy for off in await self._days_off(s, team, today)}
            checkins = await cq.latest_checkins(s, guild_id, today)
        athletes = []
        for a in recent:
            c = checkins.get(a.athlete_id)
            latest = None if c is None else LatestCheckin(c.day, c.soreness, Area(c.area))
            athletes.append(
                AthleteWeek(
                    a.user_id,
                    a.name,
                    a.backward_week,
                    a.last_backward,
                    a.last_entry,
                    heavy.get(a.user_id),
                    latest,
                )
            )
        return TeamOverview(today, week, Units(team.units), team.timezone, athletes)
