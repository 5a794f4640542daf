"""Days, zones and periods."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st

from backrun_bot.domain import dates as dates_module
from backrun_bot.domain.dates import (
    MAX_DAYS_BACK,
    Period,
    date_formats,
    day_bounds_utc,
    find_timezones,
    is_valid_timezone,
    local_date,
    parse_day,
    period_start,
    require_timezone,
    week_start,
)
from backrun_bot.errors import DateError, InvalidInput
from tests.domain.zones import JumpZone, NoOffset

TODAY = date(2025, 3, 14)  # a Friday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, TODAY),
        ("", TODAY),
        ("  ", TODAY),
        ("today", TODAY),
        ("Today ", TODAY),
        ("yesterday", date(2025, 3, 13)),
        ("YESTERDAY", date(2025, 3, 13)),
        ("2025-03-14", TODAY),
        ("2025-03-01", date(2025, 3, 1)),
        (" 2024-03-14 ", date(2024, 3, 14)),  # exactly 365 days back
        ("2025-01-01", date(2025, 1, 1)),
    ],
)
def test_parse_day_accepts(text: str | None, expected: date) -> None:
    assert parse_day(text, today=TODAY) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("tomorrow", "could not read"),
        ("14/03/2025", "could not read"),
        ("2025-3-14", "could not read"),
        ("2025-03-14T10:00", "could not read"),
        ("x" * 10_000, "could not read"),
        ("@everyone", "could not read"),
        ("2025-02-30", "no such date"),
        ("2025-13-01", "no such date"),
        ("0000-01-01", "no such date"),
        ("2025-03-15", "future"),
        ("2099-01-01", "future"),
        ("2024-03-13", f"{MAX_DAYS_BACK} days back"),  # 366 days back
        ("2000-01-01", f"{MAX_DAYS_BACK} days back"),
    ],
)
def test_parse_day_refuses(text: str, reason: str) -> None:
    with pytest.raises(DateError) as caught:
        parse_day(text, today=TODAY)
    assert reason in caught.value.message
    assert caught.value.hint is not None
    assert "today, yesterday or YYYY-MM-DD" in caught.value.hint
    assert text.strip() not in caught.value.user_text()  # nothing typed is echoed back


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x" * 41, "I could not read that date."),
        ("tomorrow", "I could not read that date."),
        ("2025-02-30", "There is no such date."),
        ("2025-03-15", "That date is in the future; log a session once it is done."),
        ("2024-03-13", "That date is more than 365 days back."),
    ],
)
def test_refusals_word_for_word(text: str, message: str) -> None:
    with pytest.raises(DateError) as caught:
        parse_day(text, today=TODAY)
    assert caught.value.user_text() == f"{message}\n{date_formats(TODAY)}"


def test_yesterday_before_the_first_day_of_the_calendar_is_too_far_back() -> None:
    with pytest.raises(DateError) as caught:
        parse_day("yesterday", today=date.min)
    assert caught.value.message == "That date is too far back."


def test_up_to_40_characters_are_read() -> None:
    assert parse_day(" 2025-03-14 ".center(40), today=TODAY) == TODAY
    with pytest.raises(DateError, match="could not read"):
        parse_day(" 2025-03-14 ".center(41), today=TODAY)


def test_the_date_hint_gives_yesterday_as_its_example() -> None:
    with pytest.raises(DateError) as caught:
        parse_day("tomorrow", today=TODAY)
    assert caught.value.hint == "Dates: today, yesterday or YYYY-MM-DD (for example 2025-03-13)."
    # New Year's Day: the example is in the year before, and still accepted.
    assert date_formats(date(2026, 1, 1)).endswith("(for example 2025-12-31).")


@given(st.dates())
def test_the_example_in_the_date_hint_is_always_accepted(today: date) -> None:
    hint = date_formats(today)
    example = hint.removesuffix(").").rsplit(" ", 1)[1]
    assert parse_day(example, today=today) == (today - timedelta(days=1) if today > date.min else today)


def test_leap_days() -> None:
    assert parse_day("2024-02-29", today=date(2024, 3, 1)) == date(2024, 2, 29)
    assert parse_day("yesterday", today=date(2024, 3, 1)) == date(2024, 2, 29)
    with pytest.raises(DateError, match="no such date"):
        parse_day("2025-02-29", today=date(2025, 3, 1))


def test_yesterday_at_the_start_of_the_calendar_is_a_date_error() -> None:
    with pytest.raises(DateError):
        parse_day("yesterday", today=date.min)


@given(st.one_of(st.none(), st.text(max_size=60)), st.dates())
def test_parse_day_only_ever_raises_date_error(text: str | None, today: date) -> None:
    try:
        day = parse_day(text, today=today)
    except DateError as error:
        assert error.message and error.hint == date_formats(today)
        return
    assert day <= today
    assert (today - day).days <= MAX_DAYS_BACK


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)), st.integers(0, MAX_DAYS_BACK))
def test_parse_day_reads_every_recent_iso_date(today: date, back: int) -> None:
    day = today - timedelta(days=back)
    assert parse_day(day.isoformat(), today=today) == day


def test_local_date_uses_the_team_zone() -> None:
    moment = datetime(2025, 3, 14, 23, 30, tzinfo=UTC)
    assert local_date(moment, ZoneInfo("UTC")) == date(2025, 3, 14)
    assert local_date(moment, ZoneInfo("Europe/Oslo")) == date(2025, 3, 15)
    assert local_date(moment, ZoneInfo("America/Los_Angeles")) == date(2025, 3, 14)
    # Any aware datetime works, not only UTC ones.
    oslo = datetime(2025, 3, 15, 0, 30, tzinfo=ZoneInfo("Europe/Oslo"))
    assert local_date(oslo, ZoneInfo("UTC")) == date(2025, 3, 14)


def test_local_date_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match=r"^local_date needs a timezone-aware datetime$"):
        local_date(datetime(2025, 3, 14, 12), ZoneInfo("UTC"))
    # A tzinfo without an offset still makes a naive datetime.
    with pytest.raises(ValueError, match="aware"):
        local_date(datetime(2025, 3, 14, 12, tzinfo=NoOffset()), ZoneInfo("UTC"))


def hours(bounds: tuple[datetime, datetime]) -> float:
    start, end = bounds
    return (end - start).total_seconds() / 3600


@pytest.mark.parametrize(
    ("zone", "day", "length"),
    [
        ("America/New_York", date(2025, 3, 9), 23.0),
        ("America/New_York", date(2025, 11, 2), 25.0),
        ("America/New_York", date(2025, 3, 10), 24.0),
        ("Europe/London", date(2025, 3, 30), 23.0),
        ("Europe/London", date(2025, 10, 26), 25.0),
        ("Australia/Lord_Howe", date(2025, 10, 5), 23.5),
        ("Australia/Lord_Howe", date(2025, 4, 6), 24.5),
        ("UTC", date(2025, 3, 30), 24.0),
        # Midnight does not exist here: clocks jumped from 00:00 to 01:00.
        ("America/Santiago", date(2024, 9, 8), 23.0),
        ("America/Santiago", date(2024, 4, 6), 25.0),
    ],
)
def test_day_length_on_dst_days(zone: str, day: date, length: float) -> None:
    assert hours(day_bounds_utc(day, ZoneInfo(zone))) == length


def test_day_bounds_are_utc_and_exact() -> None:
    start, end = day_bounds_utc(date(2025, 3, 9), ZoneInfo("America/New_York"))
    assert start == datetime(2025, 3, 9, 5, tzinfo=UTC)  # midnight EST
    assert end == datetime(2025, 3, 10, 4, tzinfo=UTC)  # midnight EDT
    assert start.tzinfo is UTC and end.tzinfo is UTC
    start, _ = day_bounds_utc(date(2025, 10, 5), ZoneInfo("Australia/Lord_Howe"))
    assert start == datetime(2025, 10, 4, 13, 30, tzinfo=UTC)  # midnight at +10:30


def test_day_starts_at_the_jump_when_midnight_is_skipped() -> None:
    santiago = ZoneInfo("America/Santiago")
    start, _ = day_bounds_utc(date(2024, 9, 8), santiago)
    assert start == datetime(2024, 9, 8, 4, tzinfo=UTC)
    assert start.tzinfo is UTC
    assert start.astimezone(santiago).hour == 1  # the day's first local time is 01:00


@pytest.mark.parametrize(
    "before_midnight",
    [timedelta(seconds=1), timedelta(seconds=2), timedelta(minutes=30), timedelta(minutes=59, seconds=59)],
)
def test_day_starts_at_the_jump_when_the_gap_begins_before_midnight(before_midnight: timedelta) -> None:
    """Clocks jump an hour from (midnight - before_midnight): the day starts at the jump, which is
    neither reading of the missing midnight. (No zone in tzdata has done this since 1970.)"""
    day = date(2026, 5, 10)
    jump = datetime(2026, 5, 10) - before_midnight
    zone = JumpZone(jump)
    start, end = day_bounds_utc(day, zone)
    assert start == jump.replace(tzinfo=UTC)
    assert start.tzinfo is UTC
    assert start.astimezone(zone).replace(tzinfo=None) == jump + timedelta(hours=1)
    assert (start - timedelta(seconds=1)).astimezone(zone).date() < day
    assert end == datetime(2026, 5, 10, 23, tzinfo=UTC)  # the next midnight, at UTC+1


def test_day_bounds_do_not_depend_on_the_machines_timezone() -> None:
    expected = day_bounds_utc(date(2024, 9, 8), ZoneInfo("America/Santiago"))
    with time_machine.travel(datetime(2024, 9, 8, 12, tzinfo=ZoneInfo("Pacific/Kiritimati")), tick=False):
        bounds = day_bounds_utc(date(2024, 9, 8), ZoneInfo("America/Santiago"))
    assert bounds == expected
    assert all(b.tzinfo is UTC for b in bounds)


@given(
    st.dates(min_value=date(1990, 1, 1), max_value=date(2035, 12, 31)),
    st.sampled_from(
        ["America/New_York", "Europe/London", "Australia/Lord_Howe", "America/Santiago", "Asia/Kolkata"]
    ),
)
def test_day_bounds_contain_exactly_that_local_day(day: date, zone: str) -> None:
    tz = ZoneInfo(zone)
    start, end = day_bounds_utc(day, tz)
    tick = timedelta(seconds=1)
    assert local_date(start, tz) == day
    assert local_date(start - tick, tz) < day
    assert local_date(end - tick, tz) == day
    assert local_date(end, tz) > day
    assert day_bounds_utc(day + timedelta(days=1), tz)[0] == end  # consecutive days share a bound


@pytest.mark.parametrize(
    ("day", "monday"),
    [
        (date(2025, 3, 10), date(2025, 3, 10)),  # Monday itself
        (date(2025, 3, 14), date(2025, 3, 10)),
        (date(2025, 3, 16), date(2025, 3, 10)),  # Sunday belongs to the week before
        (date(2025, 1, 1), date(2024, 12, 30)),  # across a year
    ],
)
def test_week_start(day: date, monday: date) -> None:
    assert week_start(day) == monday


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        (Period.WEEK, date(2025, 3, 10)),
        (Period.MONTH, date(2025, 3, 1)),
        (Period.YEAR, date(2025, 1, 1)),
        (Period.ALL, None),
    ],
)
def test_period_start(period: Period, expected: date | None) -> None:
    assert period_start(period, TODAY) == expected


def test_period_values() -> None:
    assert [p.value for p in Period] == ["week", "month", "year", "all"]


@pytest.mark.parametrize(
    "name", ["UTC", "Europe/Oslo", "America/New_York", "Australia/Lord_Howe", "Etc/GMT+5"]
)
def test_known_timezones(name: str) -> None:
    assert is_valid_timezone(name)


@pytest.mark.parametrize(
    "name",
    [
        "",
        " ",
        "Europe/Nowhere",
        "europe/oslo",
        "../etc/passwd",
        "/usr/share/zoneinfo/UTC",
        "Europe/../UTC",
        "Europe//Oslo",
        "Europe/Oslo ",
        "A" * 10_000,
        "UTC\x00",
    ],
)
def test_unknown_timezones(name: str) -> None:
    assert not is_valid_timezone(name)


@given(st.text(max_size=80))
def test_is_valid_timezone_never_raises(name: str) -> None:
    assert is_valid_timezone(name) is (name in dates_module._known_timezones())


def test_every_name_in_the_timezone_database_is_valid() -> None:
    assert all(is_valid_timezone(name) for name in available_timezones())


def test_a_broken_timezone_database_means_unknown_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> frozenset[str]:
        raise OSError("tzdata is unreadable")

    monkeypatch.setattr(dates_module, "_known_timezones", broken)
    assert is_valid_timezone("Europe/Oslo") is False


def test_require_timezone() -> None:
    assert require_timezone("Europe/Oslo") == "Europe/Oslo"
    with pytest.raises(InvalidInput) as caught:
        require_timezone("Mars/Olympus")
    assert caught.value.message == "That is not a timezone name I know."
    assert caught.value.hint == (
        "Use an IANA name such as Europe/London or America/New_York (the list offers them)."
    )
    for example_name in ("Europe/London", "America/New_York"):  # the examples are accepted
        assert require_timezone(example_name) == example_name


class TestFindTimezones:
    def test_a_word_start_ranks_above_a_substring(self) -> None:
        assert find_timezones("lord") == ["Australia/Lord_Howe", "Asia/Qyzylorda"]

    def test_spaces_are_underscores_and_case_does_not_matter(self) -> None:
        assert find_timezones("NEW york") == ["America/New_York"]

    def test_an_exact_name_comes_first(self) -> None:
        assert find_timezones("utc")[0] == "UTC"

    def test_legacy_aliases_only_when_typed_in_full(self) -> None:
        assert "EST5EDT" not in find_timezones("est")
        assert find_timezones("EST5EDT") == ["EST5EDT"]

    def test_an_empty_query_offers_the_first_regional_names(self) -> None:
        # Every regional name matches "" equally well, so the first 25 in order; no legacy alias
        # (UTC, EST5EDT...) is among them, and none stops the search for the others.
        regional = sorted(name for name in available_timezones() if "/" in name)
        assert find_timezones("") == regional[:25]
        assert find_timezones("", limit=len(regional) + 10) == regional

    def test_at_most_the_limit_and_only_valid_names(self) -> None:
        names = find_timezones("")
        assert len(names) == 25
        assert all(is_valid_timezone(n) for n in names)
        assert find_timezones("no such place") == []
