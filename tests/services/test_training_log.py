"""/log in the service: the day's and week's backward totals it answers with, in every timezone and
for any day, and what it costs a member the team already knows: one statement once this process has
read the team's timezone, a read and the INSERT before (or when the member, their name or the
timezone changed). On SQLite and PostgreSQL, through both paths."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backrun_bot.domain.amounts import parse_amount
from backrun_bot.domain.dates import Period, week_start
from backrun_bot.domain.kinds import Kind
from backrun_bot.errors import InvalidInput
from backrun_bot.services import training
from backrun_bot.services.common import Who
from backrun_bot.services.training import LogResult, TrainingService
from backrun_bot.storage import queries
from backrun_bot.storage.models import Athlete, RunSession

Sessions = async_sessionmaker[AsyncSession]
# A Sunday evening in UTC: Monday already in Kiritimati (UTC+14).
SUNDAY_NIGHT = datetime(2026, 3, 8, 20, 0, tzinfo=UTC)
GUILD, ME, OTHER = 10, 1, 2


@contextmanager
def statements_of(sm: Sessions) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    engine = sm.kw["bind"].sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def set_timezone(sm: Sessions, guild: int, timezone: str) -> None:
    async with sm.begin() as s:
        team = await queries.get_or_create_team(s, guild)
        team.timezone = timezone


def who(user: int = ME, guild: int = GUILD, name: str = "alice") -> Who:
    return Who(guild_id=guild, user_id=user, display_name=name)


async def log(
    service: TrainingService,
    amount: str,
    *,
    kind: Kind = Kind.BACKWARD,
    day: str | None = None,
    user: int = ME,
    guild: int = GUILD,
) -> LogResult:
    return await service.log(who(user, guild), kind, parse_amount(amount), day_text=day)


def totals(result: LogResult) -> tuple[float, float]:
    return result.backward_today_m, result.backward_week_m


async def test_a_known_member_logs_in_one_statement(sessionmaker: Sessions) -> None:
    service = TrainingService(sessionmaker, clock=lambda: SUNDAY_NIGHT)
    await log(service, "400m")  # the first /log makes the team and the athlete
    with statements_of(sessionmaker) as statements:
        result = await log(service, "300m")
    assert [s.split()[0] for s in statements] == ["INSERT"], statements
    assert totals(result) == (700, 700)
    with statements_of(sessionmaker) as statements:
        # Any day: the same statement sums that day's week.
        assert totals(await log(service, "300m", day="2025-06-04")) == (300, 300)
    assert len(statements) == 1, statements
    # Another process (its own service) has not read the team's timezone yet: a read and the
    # INSERT, then one statement.
    restarted = TrainingService(sessionmaker, clock=lambda: SUNDAY_NIGHT)
    for expected in (["SELECT", "INSERT"], ["INSERT"]):
        with statements_of(sessionmaker) as statements:
            await log(restarted, "100m")
        assert [s.split()[0] for s in statements] == expected, statements


@pytest.mark.parametrize("process", ["one process", "restarted before each /log"])
async def test_totals_are_the_entrys_own_day_and_week(sessionmaker: Sessions, process: str) -> None:
    shared = TrainingService(sessionmaker, clock=lambda: SUNDAY_NIGHT)

    def service() -> TrainingService:
        # The one-statement path once the timezone is known, or the read-then-INSERT path each time.
        if process == "one process":
            return shared
        return TrainingService(sessionmaker, clock=lambda: SUNDAY_NIGHT)

    assert totals(await log(service(), "400m")) == (400, 400)  # first use: team and athlete made
    assert totals(await log(service(), "2 km", kind=Kind.FORWARD)) == (400, 400)  # not backward
    assert totals(await log(service(), "100m", day="yesterday")) == (100, 500)
    assert totals(await log(service(), "50m", day="2026-03-02")) == (50, 550)  # the week's Monday
    assert totals(await log(service(), "70m", day="2026-03-01")) == (70, 70)  # the week before
    # Further back than the window read first: that week is read on its own.
    assert totals(await log(service(), "30m", day="2026-02-10")) == (30, 30)
    assert totals(await log(service(), "5m", day="2026-02-11")) == (5, 35)
    # Another member, and the same member in another server, count for nobody else.
    assert totals(await log(service(), "1m", user=OTHER)) == (1, 1)
    assert totals(await log(service(), "2m", guild=GUILD + 1)) == (2, 2)
    assert totals(await log(service(), "1 min", kind=Kind.BACKWARD_WALK)) == pytest.approx(
        (400 + 1000 / 15, 550 + 1000 / 15)
    )


async def stored_totals(sm: Sessions, day: date, week: tuple[date, date]) -> tuple[float, float]:
    """The athlete's backward meters of ``day`` and ``week`` as stored: what /log must answer."""
    async with sm() as s:
        rows = (
            await s.execute(
                select(RunSession.day, RunSession.effective_meters)
                .join(Athlete)
                .where(Athlete.team_id == GUILD, Athlete.user_id == ME, RunSession.is_backward.is_(True))
            )
        ).all()
    return sum(m for d, m in rows if d == day), sum(m for d, m in rows if week[0] <= d <= week[1])


@pytest.mark.parametrize(
    ("timezone", "now", "today", "week"),
    [
        # UTC+14: already Monday, a new week, while it is Sunday evening in UTC.
        ("Pacific/Kiritimati", SUNDAY_NIGHT, date(2026, 3, 9), (date(2026, 3, 9), date(2026, 3, 15))),
        # UTC-12: still Sunday while it is Monday morning in UTC.
        (
            "Etc/GMT+12",
            SUNDAY_NIGHT + timedelta(hours=6),
            date(2026, 3, 8),
            (date(2026, 3, 2), date(2026, 3, 8)),
        ),
    ],
)
async def test_totals_in_the_first_and_last_timezones(
    sessionmaker: Sessions, timezone: str, now: datetime, today: date, week: tuple[date, date]
) -> None:
    await set_timezone(sessionmaker, GUILD, timezone)
    service = TrainingService(sessionmaker, clock=lambda: now)
    await log(service, "1m")  # the athlete
    for n, day in enumerate((week[0], week[1], today - timedelta(days=1), week[0] - timedelta(days=1))):
        if day <= today:
            await log(service, f"{100 + n}m", day=day.isoformat())
    with statements_of(sessionmaker) as statements:
        on_today = await log(service, "10m")
    assert len(statements) == 1, statements  # one statement, whatever the timezone
    assert on_today.today == today and on_today.entry.day == today
    assert totals(on_today) == await stored_totals(sessionmaker, today, week) != (10, 10)
    with statements_of(sessionmaker) as statements:
        on_yesterday = await log(service, "20m", day="yesterday")
    assert len(statements) == 1, statements
    assert on_yesterday.entry.day == today - timedelta(days=1)
    yesterday_week = (
        week_start(today - timedelta(days=1)),
        week_start(today - timedelta(days=1)) + timedelta(days=6),
    )
    assert totals(on_yesterday) == await stored_totals(sessionmaker, on_yesterday.entry.day, yesterday_week)


async def test_a_timezone_changed_since_it_was_read_is_read_again(sessionmaker: Sessions) -> None:
    service = TrainingService(sessionmaker, clock=lambda: SUNDAY_NIGHT)
    assert (await log(service, "400m")).entry.day == date(2026, 3, 8)  # UTC, read and remembered
    await set_timezone(sessionmaker, GUILD, "Pacific/Kiritimati")  # already Monday there
    with statements_of(sessionmaker) as statements:
        monday = await log(service, "300m")
    # The one statement stored nothing (the timezone is not the one it assumed); the team's own
    # timezone decided the day, and is remembered.
    assert [s.split()[0] for s in statements] == ["INSERT", "SELECT", "INSERT"], statements
    assert monday.today == monday.entry.day == date(2026, 3, 9)
    assert totals(monday) == (300, 300)
    with statements_of(sessionmaker) as statements:
        again = await log(service, "200m")
    assert len(statements) == 1 and again.entry.day == date(2026, 3, 9) and totals(again) == (500, 500)
    async with sessionmaker() as s:
        assert len((await s.scalars(select(RunSession.id))).all()) == 3  # each /log stored once


async def test_a_day_only_the_teams_new_timezone_allows_is_logged(sessionmaker: Sessions) -> None:
    service = TrainingService(sessionmaker, clock=lambda: SUNDAY_NIGHT)
    await log(service, "400m")  # UTC remembered
    await set_timezone(sessionmaker, GUILD, "Pacific/Kiritimati")
    # Monday is in the future in UTC, today in Kiritimati: the remembered timezone does not refuse it.
    monday = await log(service, "300m", day="2026-03-09")
    assert monday.entry.day == monday.today == date(2026, 3, 9)
    with pytest.raises(InvalidInput, match="future"):
        await log(service, "300m", day="2026-03-10")  # refused in the team's own timezone too


async def test_a_renamed_member_is_renamed_by_the_next_log(sessionmaker: Sessions) -> None:
    service = TrainingService(sessionmaker, clock=lambda: SUNDAY_NIGHT)
    await log(service, "400m")
    with statements_of(sessionmaker) as statements:
        result = await service.log(who(name="Alice B"), Kind.BACKWARD, parse_amount("100m"))
    assert [s.split()[0] for s in statements] == ["INSERT", "SELECT", "UPDATE", "INSERT"], statements
    assert totals(result) == (500, 500)
    async with sessionmaker() as s:
        assert await s.scalar(select(Athlete.display_name).where(Athlete.user_id == ME)) == "Alice B"


async def test_the_timezones_remembered_are_bounded(
    sessionmaker: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(training, "TIMEZONES_KEPT", 2)
    service = TrainingService(sessionmaker, clock=lambda: SUNDAY_NIGHT)
    for guild in (GUILD, GUILD + 1, GUILD + 2):  # the first is forgotten
        await log(service, "400m", guild=guild)
    for guild, statements_expected in ((GUILD + 2, 1), (GUILD, 2)):
        with statements_of(sessionmaker) as statements:
            await log(service, "100m", guild=guild)
        assert len(statements) == statements_expected, statements


async def test_the_read_by_day_and_its_window(sessionmaker: Sessions) -> None:
    service = TrainingService(sessionmaker, clock=lambda: SUNDAY_NIGHT)
    for day, amount in (("2026-03-02", "300m"), ("2026-03-04", "400m"), ("2026-03-04", "50m")):
        await log(service, amount, day=day)
    await log(service, "2 km", kind=Kind.FORWARD, day="2026-03-04")
    await log(service, "111m", user=OTHER, day="2026-03-04")
    window = (date(2026, 3, 2), date(2026, 3, 8))
    async with sessionmaker() as s:
        found = await queries.logger(s, GUILD, ME, window)
        assert found is not None and found.athlete_id is not None and found.timezone == "UTC"
        assert found.backward_by_day == {date(2026, 3, 2): 300, date(2026, 3, 4): 450}
        assert found.backward_meters(*window) == 750
        with pytest.raises(ValueError, match="not inside the window"):
            found.backward_meters(date(2026, 3, 1), date(2026, 3, 8))
        stranger = await queries.logger(s, GUILD, 99, window)
        assert stranger is not None and stranger.athlete_id is None and stranger.backward_by_day == {}
        assert await queries.logger(s, GUILD + 5, ME, window) is None  # no such team


async def test_stats_in_a_new_server_makes_the_team_and_counts_days(sessionmaker: Sessions) -> None:
    service = TrainingService(sessionmaker, clock=lambda: SUNDAY_NIGHT)
    empty = await service.stats(GUILD, ME, Period.ALL)
    assert (empty.active_days, empty.total_meters, empty.current_streak) == (0, 0, 0)
    async with sessionmaker() as s:
        assert await queries.team_timezone(s, GUILD) == "UTC"  # made by the first command, as before
    for day in ("2026-03-06", "2026-03-07", "2026-03-07", "2026-03-08"):
        await log(service, "100m", day=day)
    await log(service, "1 km", kind=Kind.FORWARD, day="2026-03-04")
    stats = await service.stats(GUILD, ME, Period.ALL)
    assert (stats.active_days, stats.current_streak, stats.longest_streak) == (4, 3, 3)
    assert (await service.stats(GUILD, ME, Period.WEEK)).active_days == 4
    await set_timezone(sessionmaker, GUILD, "Pacific/Kiritimati")  # Monday there: a new week
    monday = await service.stats(GUILD, ME, Period.WEEK)
    assert (monday.end, monday.active_days, monday.current_streak) == (date(2026, 3, 9), 0, 3)


async def test_stats_keeps_a_streak_mark_and_then_reads_only_the_days_after_it(
    sessionmaker: Sessions,
) -> None:
    """Two years of entries with a 40-day streak in the first year: the first /stats reads every
    day and keeps a mark a year back; the next reads only the days after it and says the same; an
    entry removed before the mark makes the next /stats read everything again, and right."""
    now = [SUNDAY_NIGHT]
    service = TrainingService(sessionmaker, clock=lambda: now[0])
    today = SUNDAY_NIGHT.date()
    old = today - timedelta(days=700)
    rows = [(old + timedelta(days=n), 100.0) for n in range(40)]  # the best streak, long ago
    rows += [(today - timedelta(days=n), 100.0) for n in range(0, 400, 3)]  # every third day since
    rows += [(today - timedelta(days=1), 100.0)]  # yesterday too: a current streak of 2
    async with sessionmaker.begin() as s:
        athlete = await queries.get_or_create_athlete(s, GUILD, ME, "alice")
        for day, meters in rows:
            await queries.add_entry(
                s,
                athlete_id=athlete.id,
                team_id=GUILD,
                kind="backward",
                is_backward=True,
                meters=meters,
                seconds=None,
                effective_meters=meters,
                amount_text="100m",
                note=None,
                day=day,
                logged_at=SUNDAY_NIGHT,
            )
    first = await service.stats(GUILD, ME, Period.ALL)
    assert (first.current_streak, first.longest_streak) == (2, 40)
    async with sessionmaker() as s:
        mark = (await queries.period_stats(s, GUILD, ME, None, today)).mark
    assert mark is not None and mark.best == 40
    assert today - timedelta(days=400) <= mark.through <= today - timedelta(days=367)
    with statements_of(sessionmaker) as statements:
        again = await service.stats(GUILD, ME, Period.ALL)
    assert (again.current_streak, again.longest_streak, again.active_days) == (2, 40, first.active_days)
    assert not any(s.lstrip().upper().startswith("UPDATE") for s in statements)  # nothing to move
    # Remove day 20 of the old streak: 40 -> 20 (days 21..39 are 19), found by reading everything.
    async with sessionmaker.begin() as s:
        row = await s.scalar(
            select(RunSession).where(
                RunSession.day == old + timedelta(days=20), RunSession.athlete_id == athlete.id
            )
        )
        assert row is not None and await queries.delete_run_session(s, row)
    after = await service.stats(GUILD, ME, Period.ALL)
    assert (after.current_streak, after.longest_streak) == (2, 20)
