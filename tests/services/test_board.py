"""The team views' service (services/board.py) and the team settings (services/teams.py) on a real
database: what they refuse, what they read for a team not made yet, and how few statements a whole
team's board and overview take. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backrun_bot.domain.amounts import Units, parse_amount
from backrun_bot.domain.dates import Period
from backrun_bot.domain.day_off import DayOff
from backrun_bot.domain.kinds import Kind
from backrun_bot.errors import InvalidInput
from backrun_bot.services.board import BoardService
from backrun_bot.services.common import Who
from backrun_bot.services.delivery import DeliveryService
from backrun_bot.services.teams import EVERYONE_AS_COACH, TeamService
from backrun_bot.services.training import TrainingService
from backrun_bot.storage.models import Team
from tests.services.test_training_log import statements_of

Sessions = async_sessionmaker[AsyncSession]
NOW = datetime(2026, 3, 8, 15, tzinfo=UTC)
GUILD = 77


def clock() -> datetime:
    return NOW


async def no_days_off(s: AsyncSession, team: Team, day: date) -> list[DayOff]:
    return []


def service(sessionmaker: Sessions) -> BoardService:
    return BoardService(sessionmaker, clock=clock, days_off=no_days_off)


async def test_a_board_is_of_a_week_month_or_year(sessionmaker: Sessions) -> None:
    with pytest.raises(InvalidInput, match=r"^The period is one of: week, month, year\.$"):
        await service(sessionmaker).leaderboard(GUILD, 1, Period.ALL)


async def test_a_team_not_made_yet_has_an_empty_board_in_utc_and_is_not_made(sessionmaker: Sessions) -> None:
    view = await service(sessionmaker).leaderboard(GUILD, 1)
    assert (view.start, view.end, view.timezone, view.units) == (
        date(2026, 3, 2),
        date(2026, 3, 8),
        "UTC",
        Units.METRIC,
    )
    assert view.board.top == () and view.board.athletes == 0
    async with sessionmaker() as s:
        assert await s.get(Team, GUILD) is None


async def test_a_board_and_an_overview_take_a_few_statements_whatever_the_team(
    sessionmaker: Sessions,
) -> None:
    training = TrainingService(sessionmaker, clock=clock)
    for user in range(1, 41):
        await training.log(Who(GUILD, user, f"a{user}"), Kind.BACKWARD, parse_amount("400m"))
    board = service(sessionmaker)
    with statements_of(sessionmaker) as statements:
        view = await board.leaderboard(GUILD, 1, Period.MONTH, Kind.BACKPEDAL)
    assert len(statements) == 2  # the team's row, the sums
    assert view.board.top == ()
    with statements_of(sessionmaker) as statements:
        view = await board.leaderboard(GUILD, 1)
    assert len(statements) == 2 and view.board.athletes == 40
    real = BoardService(sessionmaker, clock=clock, days_off=delivery(sessionmaker).days_off)
    with statements_of(sessionmaker) as statements:
        overview = await real.overview(GUILD)
    assert len(overview.athletes) == 40
    # The team, the athletes' reads, the day-off screen (which lets nobody through to read their
    # days), the sore check-ins of today and the latest check-ins.
    assert len(statements) == 5, statements


def delivery(sessionmaker: Sessions) -> DeliveryService:
    class NoSender:
        async def send(self, *args: object, **kwargs: object) -> int:
            raise AssertionError("nothing is sent")

        async def find(self, *args: object, **kwargs: object) -> int | None:
            raise AssertionError("nothing is looked for")

    return DeliveryService(sessionmaker, NoSender(), clock=clock, grace=timedelta(hours=2))


async def test_the_coach_role_and_the_units_are_stored_on_the_team(sessionmaker: Sessions) -> None:
    teams = TeamService(sessionmaker, clock=clock)
    with pytest.raises(InvalidInput) as refused:
        await teams.set_coach_role(GUILD, GUILD)  # @everyone's id is the server's
    assert refused.value.user_text() == EVERYONE_AS_COACH
    await teams.set_coach_role(GUILD, 5)
    await teams.set_units(GUILD, Units.IMPERIAL)
    async with sessionmaker() as s:
        row = (await s.execute(select(Team.coach_role_id, Team.units).where(Team.id == GUILD))).one()
    assert tuple(row) == (5, "imperial")
    assert await teams.coach_role(GUILD) == 5
