"""The charts' service on a real database (SQLite and PostgreSQL) with a controlled clock: which
days a chart covers in the team's timezone (a DST change too), the lead-in its average reads, all
time from the first entry, an unknown team, the team's week, and the statements each costs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backrun_bot.domain.amounts import parse_amount
from backrun_bot.domain.dates import Period
from backrun_bot.domain.kinds import Kind
from backrun_bot.domain.volume import DayVolume, Step, period_window, volume_series
from backrun_bot.services.common import Who
from backrun_bot.services.training import TrainingService
from backrun_bot.services.volume import VolumeService
from backrun_bot.storage.models import Athlete, RunSession, Team
from tests.services.test_training_log import set_timezone, statements_of

Sessions = async_sessionmaker[AsyncSession]
GUILD, ALICE, BOB = 10, 1, 2


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def log(
    sm: Sessions, clock: Clock, user: int, amount: str, kind: Kind = Kind.BACKWARD, day: str | None = None
) -> None:
    who = Who(guild_id=GUILD, user_id=user, display_name=f"u{user}")
    await TrainingService(sm, clock=clock).log(who, kind, parse_amount(amount), day_text=day)


async def test_the_athletes_week_is_the_teams_across_a_dst_change(sessionmaker: Sessions) -> None:
    """New York's Sunday 8 March 2026 is 23 hours long and ends at 04:00 UTC on the 9th."""
    await set_timezone(sessionmaker, GUILD, "America/New_York")
    clock = Clock(datetime(2026, 3, 9, 3, 30, tzinfo=UTC))  # 23:30 EDT, Sunday
    await log(sessionmaker, clock, ALICE, "400m")
    await log(sessionmaker, clock, ALICE, "2 km", Kind.FORWARD, day="2026-03-02")
    service = VolumeService(sessionmaker, clock=clock)
    chart = await service.athlete(GUILD, ALICE, Period.WEEK)
    series = chart.series
    assert (series.first, series.last, series.today) == (date(2026, 3, 2), date(2026, 3, 8), date(2026, 3, 8))
    assert series.step is Step.DAY and len(series.bars) == 7 and chart.units == "metric"
    assert [(b.backward_m, b.forward_m) for b in series.bars] == [(0, 2000)] + [(0, 0)] * 5 + [(400, 0)]
    clock.now = datetime(2026, 3, 9, 4, 30, tzinfo=UTC)  # 00:30 EDT, Monday (still Sunday in EST)
    monday = (await service.athlete(GUILD, ALICE, Period.WEEK)).series
    assert (monday.first, monday.today) == (date(2026, 3, 9), date(2026, 3, 9))
    assert [b.backward_m for b in monday.bars] == [0]
    # The 7-day average of Monday reaches back into last week: Sunday's 400 m.
    assert monday.bars[0].average_backward_m == 400 / 7


async def test_all_time_starts_at_the_first_entry_and_uses_the_team_units(sessionmaker: Sessions) -> None:
    clock = Clock(datetime(2026, 3, 8, 12, tzinfo=UTC))
    await log(sessionmaker, clock, ALICE, "400m", day="2025-06-01")
    await log(sessionmaker, clock, ALICE, "1 km", day="2026-03-01")
    await log(sessionmaker, clock, BOB, "3 km", day="2025-04-01")  # another athlete's earlier start
    async with sessionmaker.begin() as s:
        team = await s.get(Team, GUILD)
        assert team is not None
        team.units = "imperial"
    chart = await VolumeService(sessionmaker, clock=clock).athlete(GUILD, ALICE, Period.ALL)
    series = chart.series
    assert (series.first, series.last) == (date(2025, 6, 1), date(2026, 3, 8)) and chart.units == "imperial"
    assert series.step is Step.WEEK and series.backward_m == 1400
    assert series.bars[0].average_backward_m == 400  # nothing before the first entry to average


async def test_an_unknown_team_is_an_empty_chart_and_is_not_made(sessionmaker: Sessions) -> None:
    clock = Clock(datetime(2026, 3, 8, 12, tzinfo=UTC))
    service = VolumeService(sessionmaker, clock=clock)
    for period in Period:
        chart = await service.athlete(99, ALICE, period)
        assert chart.series.empty and chart.units == "metric" and chart.series.today == date(2026, 3, 8)
    report = await service.team(99, Period.MONTH)
    assert report.chart.series.empty and report.athletes_active == 0
    async with sessionmaker() as s:
        assert await s.get(Team, 99) is None


async def test_the_team_report_sums_everyone_and_counts_this_weeks_athletes(sessionmaker: Sessions) -> None:
    clock = Clock(datetime(2026, 3, 11, 12, tzinfo=UTC))  # Wednesday
    await log(sessionmaker, clock, ALICE, "400m")
    await log(sessionmaker, clock, ALICE, "5 km", Kind.FORWARD, day="2026-03-09")
    await log(sessionmaker, clock, BOB, "800m", Kind.BACKPEDAL, day="2026-03-01")  # last week
    await log(sessionmaker, clock, BOB, "9 min", Kind.BACKWARD_JOG, day="2026-03-10")  # 1 km at its pace
    service = VolumeService(sessionmaker, clock=clock)
    report = await service.team(GUILD, Period.MONTH)
    assert (report.week_first, report.week_last) == (date(2026, 3, 9), date(2026, 3, 11))
    assert (report.backward_m, report.forward_m, report.athletes_active) == (1400, 5000, 2)
    series = report.chart.series
    assert (series.first, series.last) == (date(2026, 3, 1), date(2026, 3, 31))
    assert (series.backward_m, series.forward_m) == (2200, 5000)
    assert [b.total_m for b in series.bars if b.total_m] == [800, 5000, 1000, 400]


async def test_a_chart_costs_one_statement_and_the_report_two(sessionmaker: Sessions) -> None:
    clock = Clock(datetime(2026, 3, 11, 12, tzinfo=UTC))
    await log(sessionmaker, clock, ALICE, "400m")
    service = VolumeService(sessionmaker, clock=clock)
    for period in Period:
        with statements_of(sessionmaker) as statements:
            await service.athlete(GUILD, ALICE, period)
        assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1, statements
        with statements_of(sessionmaker) as statements:
            await service.team(GUILD, period)
        assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 2, statements


async def test_the_lead_in_of_a_year_reaches_into_december(sessionmaker: Sessions) -> None:
    clock = Clock(datetime(2026, 1, 2, 12, tzinfo=UTC))  # a Friday; the week began on 29 December
    for day in ("2025-12-29", "2025-12-30", "2026-01-01"):
        await log(sessionmaker, clock, ALICE, "700m", day=day)
    series = (await VolumeService(sessionmaker, clock=clock).athlete(GUILD, ALICE, Period.YEAR)).series
    assert series.step is Step.WEEK and series.backward_m == 700  # the bars: 2026 only
    assert series.bars[0].average_backward_m == 2100 / 4  # the whole week, December too
    assert series.bars[0].first == date(2026, 1, 1) and series.today - series.first == timedelta(days=1)


@pytest.mark.parametrize(
    ("timezone", "now", "today"),
    [
        # Sunday evening in UTC is Monday already at UTC+14; Monday just after midnight UTC is
        # still Sunday at UTC-12. The read is made before the timezone is known.
        ("Pacific/Kiritimati", datetime(2026, 3, 8, 20, tzinfo=UTC), date(2026, 3, 9)),
        ("Etc/GMT+12", datetime(2026, 3, 9, 0, 30, tzinfo=UTC), date(2026, 3, 8)),
        ("Pacific/Kiritimati", datetime(2026, 2, 28, 11, tzinfo=UTC), date(2026, 3, 1)),
        ("Etc/GMT+12", datetime(2026, 1, 1, 11, tzinfo=UTC), date(2025, 12, 31)),
    ],
)
async def test_the_one_read_holds_every_day_the_teams_chart_needs_in_the_farthest_timezones(
    sessionmaker: Sessions, timezone: str, now: datetime, today: date
) -> None:
    await set_timezone(sessionmaker, GUILD, timezone)
    clock = Clock(now)
    # An entry on each of the 120 days up to the team's today (10 m more each day back).
    for back in range(120):
        day = today - timedelta(days=back)
        async with sessionmaker.begin() as s:
            await s.execute(
                insert(RunSession).values(
                    athlete_id=await athlete_id(s),
                    team_id=GUILD,
                    kind="backward",
                    is_backward=True,
                    meters=100.0 + back * 10,
                    effective_meters=100.0 + back * 10,
                    amount_text="x",
                    day=day,
                    logged_at=now,
                )
            )
    service = VolumeService(sessionmaker, clock=clock)
    for period in (Period.WEEK, Period.MONTH, Period.YEAR):
        series = (await service.athlete(GUILD, ALICE, period)).series
        assert series.today == today
        first, last = period_window(period, today)
        assert first is not None
        expected = volume_series(
            {today - timedelta(days=b): DayVolume(100.0 + b * 10, 0.0) for b in range(120)},
            first=first,
            last=last,
            today=today,
        )
        assert series == expected, period


async def athlete_id(s: AsyncSession) -> int:
    found = await s.scalar(select(Athlete.id).where(Athlete.team_id == GUILD, Athlete.user_id == ALICE))
    if found is not None:
        return found
    await s.execute(
        insert(Athlete).values(team_id=GUILD, user_id=ALICE, display_name="a", created_at=datetime.now(UTC))
    )
    return await athlete_id(s)


@pytest.mark.parametrize("whose", ["athlete", "team"])
async def test_a_long_history_summed_by_month_in_the_database_is_the_chart_its_days_make(
    sessionmaker: Sessions, whose: str
) -> None:
    now = datetime(2026, 3, 11, 12, tzinfo=UTC)
    await set_timezone(sessionmaker, GUILD, "Asia/Tokyo")
    today = date(2026, 3, 11)
    days = {
        today - timedelta(days=back): DayVolume(100.0 + back, 50.0 * (back % 3)) for back in range(3, 1200, 7)
    }
    async with sessionmaker.begin() as s:
        me = await athlete_id(s)
        for day, volume in days.items():
            for kind, meters in (("backward-skip", volume.backward_m), ("forward", volume.forward_m)):
                if meters:
                    await s.execute(
                        insert(RunSession).values(
                            athlete_id=me,
                            team_id=GUILD,
                            kind=kind,
                            is_backward=kind != "forward",
                            meters=meters,
                            effective_meters=meters,
                            amount_text="x",
                            day=day,
                            logged_at=now,
                        )
                    )
    service = VolumeService(sessionmaker, clock=Clock(now))
    chart = (
        await service.athlete(GUILD, ALICE, Period.ALL)
        if whose == "athlete"
        else (await service.team(GUILD, Period.ALL)).chart
    )
    first = min(days)
    expected = volume_series(days, first=first, last=today, today=today, history_start=first)
    assert chart.series.step is Step.MONTH
    assert chart.series == expected


async def test_a_past_week_of_the_team_for_the_weekly_summary(sessionmaker: Sessions) -> None:
    clock = Clock(datetime(2026, 3, 11, 12, tzinfo=UTC))  # Wednesday; last week is 2 to 8 March
    await log(sessionmaker, clock, ALICE, "400m", day="2026-03-01")  # the Sunday before: average only
    await log(sessionmaker, clock, ALICE, "700m", day="2026-03-02")
    await log(sessionmaker, clock, BOB, "3 km", Kind.FORWARD, day="2026-03-08")
    await log(sessionmaker, clock, BOB, "1 km", day="2026-03-09")  # this week: not in it
    chart = await VolumeService(sessionmaker, clock=clock).team_week(GUILD, date(2026, 3, 2))
    series = chart.series
    assert (series.first, series.last, series.today, series.step) == (
        date(2026, 3, 2),
        date(2026, 3, 8),
        date(2026, 3, 8),
        Step.DAY,
    )
    assert [(b.backward_m, b.forward_m) for b in series.bars] == [(700, 0)] + [(0, 0)] * 5 + [(0, 3000)]
    assert series.bars[0].average_backward_m == 1100 / 7
    assert (await VolumeService(sessionmaker, clock=clock).team_week(99, date(2026, 3, 2))).series.empty
