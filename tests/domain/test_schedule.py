"""Reminder times and days, and local wall-clock times across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st

from backrun_bot.domain.schedule import (
    DAY_FORMATS,
    TIME_FORMATS,
    Slot,
    due_occurrences,
    format_days,
    next_occurrence,
    occurrence_utc,
    parse_days,
    parse_local_time,
)
from backrun_bot.errors import InvalidInput
from tests.domain.zones import JumpZone, NoOffset

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --- Slot -----------------------------------------------------------------------------------------


def test_slot_values_and_labels() -> None:
    assert [s.value for s in Slot] == ["warmup", "cooldown"]
    assert Slot("cooldown") is Slot.COOLDOWN
    assert Slot.WARMUP.label == "warmup"
    assert Slot.COOLDOWN.label == "cooldown"


# --- parse_local_time -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("07:00", time(7, 0)),
        ("7:05", time(7, 5)),
        ("19:30", time(19, 30)),
        ("00:00", time(0, 0)),
        ("0:00", time(0, 0)),
        ("23:59", time(23, 59)),
        (" 18:30 ", time(18, 30)),
    ],
)
def test_parse_local_time_accepts(text: str, expected: time) -> None:
    assert parse_local_time(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "25:00",
        "24:00",
        "12:60",
        "7pm",
        "7:00pm",
        "0700",
        "7",
        "7:5",
        "07:00:00",
        "007:00",
        "-1:00",
        "7.30",
        "٠٧:٠٠",  # Arabic-Indic digits: \d would match them without re.ASCII
        "07:00" * 10,
    ],
)
def test_parse_local_time_refuses(text: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_local_time(text)
    assert info.value.hint == TIME_FORMATS
    assert "24-hour" in info.value.user_text()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("  ", "Give a time, such as 07:00."),
        ("07:00:00:00", "That time is too long."),
        ("07:00:00:0", "I could not read that time."),  # 10 characters: read, not "too long"
        ("7pm", "I could not read that time."),
        ("24:00", "Hours go from 0 to 23 (midnight is 00:00)."),
        ("12:60", "Minutes go from 00 to 59."),
    ],
)
def test_time_refusals_word_for_word(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_local_time(text)
    assert info.value.user_text() == f"{message}\n{TIME_FORMATS}"


def test_the_time_examples_are_accepted() -> None:
    assert [parse_local_time(t) for t in ("07:00", "18:30")] == [time(7, 0), time(18, 30)]
    assert "07:00 or 18:30" in TIME_FORMATS


# --- parse_days / format_days ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("every day", set(range(7))),
        ("Every  Day", set(range(7))),
        ("daily", set(range(7))),
        ("all", set(range(7))),
        ("weekdays", {0, 1, 2, 3, 4}),
        ("weekends", {5, 6}),
        ("mon,wed,fri", {0, 2, 4}),
        ("mon, wed, fri", {0, 2, 4}),
        ("Monday Tuesday", {0, 1}),
        ("tue-thu", {1, 2, 3}),
        ("tue - thu", {1, 2, 3}),
        ("fri-mon", {4, 5, 6, 0}),  # wraps round the weekend
        ("sun", {6}),
        ("thurs", {3}),
        ("weekends, wed", {2, 5, 6}),
        ("mon,mon", {0}),
        ("mon,,wed", {0, 2}),
        (",wed,", {2}),
        ("mon, wed-fri", {0, 2, 3, 4}),  # a range adds to the days before it
        ("sat-sun, tue", {5, 6, 1}),
        ("mon," * 25, {0}),  # 100 characters: the most that is read
    ],
)
def test_parse_days_accepts(text: str, expected: set[int]) -> None:
    assert parse_days(text) == frozenset(expected)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "  ",
        ",",
        "funday",
        "mon,funday",
        "mon-",
        "-fri",
        "mon-tue-wed",
        "every",
        "mon;wed",
        "1,2",
        "x" * 200,
    ],
)
def test_parse_days_refuses(text: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_days(text)
    assert info.value.hint == DAY_FORMATS


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (" ", "Give the days, such as weekdays."),
        (",", "Give the days, such as weekdays."),
        ("mon," * 25 + "m", "That list of days is too long."),
        ("mon;wed", "Days are written with letters, commas and dashes only."),
        ("funday", "I don't know one of those days."),
        ("abcdefghijklmnopqrstuvwxyz ,-", "I don't know one of those days."),  # every allowed character
        ("mon-tue-wed", "A range of days is written like tue-thu."),
    ],
)
def test_day_refusals_word_for_word(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_days(text)
    assert info.value.user_text() == f"{message}\n{DAY_FORMATS}"


def test_the_day_examples_are_accepted() -> None:
    for example_text in ("every day", "weekdays", "weekends", "mon,wed,fri", "tue-thu"):
        assert example_text in DAY_FORMATS
        assert parse_days(example_text)


def test_parse_days_does_not_echo_input() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_days("mon,@everyone")
    assert "everyone" not in info.value.user_text()


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (set(range(7)), "every day"),
        ({0, 1, 2, 3, 4}, "weekdays"),
        ({5, 6}, "weekends"),
        ({4, 0, 2}, "Mon, Wed, Fri"),
        ({6}, "Sun"),
        ({0, 1, 2, 3, 4, 5}, "Mon, Tue, Wed, Thu, Fri, Sat"),
        (set(), "no days"),
    ],
)
def test_format_days(days: set[int], expected: str) -> None:
    assert format_days(frozenset(days)) == expected


def test_format_days_refuses_non_days() -> None:
    with pytest.raises(ValueError, match=r"^days of the week are 0 \(Monday\) to 6 \(Sunday\)$"):
        format_days(frozenset({7}))


@given(st.frozensets(st.integers(0, 6), min_size=1))
def test_format_days_round_trips(days: frozenset[int]) -> None:
    assert parse_days(format_days(days)) == days


# --- occurrence_utc -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "change_day", "before_offset", "after_offset"),
    [
        (NEW_YORK, date(2026, 3, 8), -5, -4),
        (NEW_YORK, date(2026, 11, 1), -4, -5),
        (LONDON, date(2026, 3, 29), 0, 1),
        (LONDON, date(2026, 10, 25), 1, 0),
        (LORD_HOWE, date(2026, 4, 5), 11, 10.5),
        (LORD_HOWE, date(2026, 10, 4), 10.5, 11),
    ],
)
def test_seven_oclock_is_seven_oclock_around_every_change(
    tz: ZoneInfo, change_day: date, before_offset: float, after_offset: float
) -> None:
    for day, offset in (
        (change_day - timedelta(days=1), before_offset),
        (change_day, after_offset),  # every change here happens before 07:00
        (change_day + timedelta(days=1), after_offset),
    ):
        instant = occurrence_utc(day, time(7, 0), tz)
        assert instant.tzinfo is UTC
        assert instant == datetime.combine(day, time(7, 0), UTC) - timedelta(hours=offset)
        local = instant.astimezone(tz)
        assert (local.date(), local.time()) == (day, time(7, 0))


@pytest.mark.parametrize(
    ("tz", "day", "at", "expected_utc", "expected_local"),
    [
        # Spring forward 02:00 → 03:00: 02:30 does not exist; sent at the change, 03:00 EDT.
        (NEW_YORK, date(2026, 3, 8), time(2, 30), utc(2026, 3, 8, 7, 0), time(3, 0)),
        (NEW_YORK, date(2026, 3, 8), time(2, 0), utc(2026, 3, 8, 7, 0), time(3, 0)),
        (NEW_YORK, date(2026, 3, 8), time(2, 59), utc(2026, 3, 8, 7, 0), time(3, 0)),
        (NEW_YORK, date(2026, 3, 8), time(3, 0), utc(2026, 3, 8, 7, 0), time(3, 0)),
        (NEW_YORK, date(2026, 3, 8), time(1, 59), utc(2026, 3, 8, 6, 59), time(1, 59)),
        # London springs 01:00 → 02:00.
        (LONDON, date(2026, 3, 29), time(1, 30), utc(2026, 3, 29, 1, 0), time(2, 0)),
        # Lord Howe springs 02:00 → 02:30 (UTC+10:30 → +11): 02:15 is in the half-hour gap.
        (LORD_HOWE, date(2026, 10, 4), time(2, 15), utc(2026, 10, 3, 15, 30), time(2, 30)),
    ],
)
def test_a_time_in_a_gap_happens_when_the_gap_ends(
    tz: ZoneInfo, day: date, at: time, expected_utc: datetime, expected_local: time
) -> None:
    instant = occurrence_utc(day, at, tz)
    assert instant == expected_utc
    assert instant.tzinfo is UTC
    local = instant.astimezone(tz)
    assert (local.date(), local.time()) == (day, expected_local)


@pytest.mark.parametrize(
    ("tz", "day", "at", "expected_utc"),
    [
        # Fall back 02:00 → 01:00: 01:30 happens at 05:30 UTC (EDT) and 06:30 UTC (EST); the first.
        (NEW_YORK, date(2026, 11, 1), time(1, 30), utc(2026, 11, 1, 5, 30)),
        (LONDON, date(2026, 10, 25), time(1, 30), utc(2026, 10, 25, 0, 30)),
        # Lord Howe falls back 02:00 → 01:30: 01:45 is 14:15 UTC (+11), then 14:45 UTC (+10:30).
        (LORD_HOWE, date(2026, 4, 5), time(1, 45), utc(2026, 4, 4, 14, 45)),
    ],
)
def test_a_time_in_a_fold_happens_at_its_first_occurrence(
    tz: ZoneInfo, day: date, at: time, expected_utc: datetime
) -> None:
    assert occurrence_utc(day, at, tz) == expected_utc
    assert occurrence_utc(day, at.replace(fold=1), tz) == expected_utc  # fold on `at` is ignored


@pytest.mark.parametrize(
    ("at", "into_gap"),
    [
        (time(2, 59, 59), timedelta(minutes=59, seconds=59)),  # one second before the gap ends
        (time(2, 59, 58), timedelta(minutes=59, seconds=58)),
        (time(2, 0, 1), timedelta(seconds=1)),
        (time(2, 0, 0, 1), timedelta(microseconds=1)),
    ],
)
def test_any_time_in_the_gap_happens_exactly_when_it_ends(at: time, into_gap: timedelta) -> None:
    # New York 2026-03-08: 02:00 EST jumps to 03:00 EDT at 07:00 UTC.
    assert occurrence_utc(date(2026, 3, 8), at, NEW_YORK) == utc(2026, 3, 8, 7, 0)
    # The same in a made-up zone whose gap is [21:00, 22:00) local on 2026-05-10.
    zone = JumpZone(datetime(2026, 5, 10, 21, 0))
    wall = (datetime(2026, 5, 10, 21, 0) + into_gap).time()
    assert occurrence_utc(date(2026, 5, 10), wall, zone) == utc(2026, 5, 10, 21, 0)


def test_a_tzinfo_on_the_time_is_ignored() -> None:
    day = date(2026, 3, 8)
    for tz in (NEW_YORK, LONDON):
        assert occurrence_utc(day, time(7, 0, tzinfo=UTC), tz) == occurrence_utc(day, time(7, 0), tz)
        assert occurrence_utc(day, time(2, 30, tzinfo=UTC), tz) == occurrence_utc(day, time(2, 30), tz)


def test_lord_howe_fold_times() -> None:
    # 01:45 on 2026-04-05 at +11 is 2026-04-04 14:45 UTC; the repeat at +10:30 would be 15:15 UTC.
    instant = occurrence_utc(date(2026, 4, 5), time(1, 45), LORD_HOWE)
    assert instant.astimezone(LORD_HOWE).utcoffset() == timedelta(hours=11)


def test_a_skipped_midnight_starts_the_day_at_the_jump() -> None:
    # Chile springs forward at local midnight: 2026-09-06 00:00 → 01:00 (America/Santiago).
    santiago = ZoneInfo("America/Santiago")
    instant = occurrence_utc(date(2026, 9, 6), time(0, 0), santiago)
    local = instant.astimezone(santiago)
    assert (local.date(), local.time()) == (date(2026, 9, 6), time(1, 0))
    assert instant == utc(2026, 9, 6, 4, 0)


# --- next_occurrence / due_occurrences ------------------------------------------------------------


def test_next_occurrence_is_strictly_after() -> None:
    at = time(7, 0)
    exactly = utc(2026, 6, 1, 11, 0)  # 07:00 EDT
    assert next_occurrence(at, NEW_YORK, exactly) == (date(2026, 6, 2), utc(2026, 6, 2, 11, 0))
    just_before = exactly - timedelta(microseconds=1)
    assert next_occurrence(at, NEW_YORK, just_before) == (date(2026, 6, 1), exactly)


def test_next_occurrence_accepts_any_aware_datetime_and_refuses_naive() -> None:
    local_after = datetime(2026, 6, 1, 6, 0, tzinfo=NEW_YORK)
    assert next_occurrence(time(7, 0), NEW_YORK, local_after) == (date(2026, 6, 1), utc(2026, 6, 1, 11, 0))
    with pytest.raises(ValueError, match=r"^next_occurrence needs a timezone-aware datetime$"):
        next_occurrence(time(7, 0), NEW_YORK, datetime(2026, 6, 1, 6, 0))
    with pytest.raises(ValueError, match="aware"):
        next_occurrence(time(7, 0), NEW_YORK, datetime(2026, 6, 1, 6, 0, tzinfo=NoOffset()))


def test_occurrences_do_not_depend_on_the_machines_timezone() -> None:
    """The server's own zone (here UTC+14) plays no part, even 25 hours from the team's (UTC-11)."""
    pago_pago = ZoneInfo("Pacific/Pago_Pago")
    after = utc(2026, 6, 1, 10, 30)  # 23:30 on 05-31 in Pago Pago; 00:30 on 06-02 at UTC+14
    expected = (date(2026, 5, 31), utc(2026, 6, 1, 10, 45))  # 23:45 local, still to come
    assert next_occurrence(time(23, 45), pago_pago, after) == expected
    with time_machine.travel(datetime(2026, 6, 1, 12, tzinfo=ZoneInfo("Pacific/Kiritimati")), tick=False):
        assert datetime(2026, 6, 1, 10, 30, tzinfo=UTC).astimezone().utcoffset() == timedelta(hours=14)
        assert next_occurrence(time(23, 45), pago_pago, after) == expected
        gap = occurrence_utc(date(2026, 3, 8), time(2, 30), NEW_YORK)
        assert gap == utc(2026, 3, 8, 7, 0) and gap.tzinfo is UTC
        assert due_occurrences(
            time(23, 45), pago_pago, after - timedelta(days=1), after + timedelta(days=1)
        ) == [
            (date(2026, 5, 30), utc(2026, 5, 31, 10, 45)),
            expected,
        ]


def test_next_occurrence_across_the_date_line() -> None:
    # 06:00 in Auckland (UTC+12 in June) is 18:00 UTC the day before.
    auckland = ZoneInfo("Pacific/Auckland")
    assert next_occurrence(time(6, 0), auckland, utc(2026, 6, 1, 12, 0)) == (
        date(2026, 6, 2),
        utc(2026, 6, 1, 18, 0),
    )


@pytest.mark.parametrize(
    ("tz", "change_day"),
    [
        (NEW_YORK, date(2026, 3, 8)),
        (NEW_YORK, date(2026, 11, 1)),
        (LONDON, date(2026, 3, 29)),
        (LONDON, date(2026, 10, 25)),
        (LORD_HOWE, date(2026, 4, 5)),
        (LORD_HOWE, date(2026, 10, 4)),
    ],
)
@pytest.mark.parametrize("at", [time(0, 0), time(1, 0), time(1, 30), time(1, 45), time(2, 30), time(7, 0)])
def test_iterating_across_a_change_gives_one_occurrence_per_local_day(
    tz: ZoneInfo, change_day: date, at: time
) -> None:
    start = datetime.combine(change_day - timedelta(days=3), time(12, 0), tz)
    seen: list[tuple[date, datetime]] = []
    after = start.astimezone(UTC)
    for _ in range(6):
        day, instant = next_occurrence(at, tz, after)
        seen.append((day, instant))
        after = instant
    days = [day for day, _ in seen]
    assert days == [change_day - timedelta(days=2) + timedelta(days=n) for n in range(6)]
    instants = [instant for _, instant in seen]
    assert instants == sorted(set(instants))
    for day, instant in seen:
        local = instant.astimezone(tz)
        assert local.date() == day
        assert local.time() >= at  # equal, or the end of a gap
    # The same list from due_occurrences over the whole span.
    assert due_occurrences(at, tz, start.astimezone(UTC), instants[-1]) == seen


def test_gap_time_fires_once_at_the_next_valid_time() -> None:
    since, until = utc(2026, 3, 7, 12, 0), utc(2026, 3, 9, 12, 0)
    assert due_occurrences(time(2, 30), NEW_YORK, since, until) == [
        (date(2026, 3, 8), utc(2026, 3, 8, 7, 0)),  # 03:00 EDT
        (date(2026, 3, 9), utc(2026, 3, 9, 6, 30)),  # 02:30 EDT
    ]


def test_fold_time_fires_once() -> None:
    since, until = utc(2026, 10, 31, 12, 0), utc(2026, 11, 1, 12, 0)
    assert due_occurrences(time(1, 30), NEW_YORK, since, until) == [
        (date(2026, 11, 1), utc(2026, 11, 1, 5, 30)),  # 01:30 EDT; 01:30 EST (06:30 UTC) is not repeated
    ]
    lord_howe = due_occurrences(time(1, 30), LORD_HOWE, utc(2026, 4, 4, 0, 0), utc(2026, 4, 5, 0, 0))
    assert lord_howe == [(date(2026, 4, 5), utc(2026, 4, 4, 14, 30))]


def test_due_occurrences_bounds() -> None:
    at = time(7, 0)
    seven = utc(2026, 6, 1, 11, 0)
    assert due_occurrences(at, NEW_YORK, seven - timedelta(hours=1), seven) == [(date(2026, 6, 1), seven)]
    assert due_occurrences(at, NEW_YORK, seven, seven + timedelta(hours=1)) == []  # since is exclusive
    assert due_occurrences(at, NEW_YORK, seven, seven - timedelta(days=3)) == []  # empty range
    week = due_occurrences(at, NEW_YORK, seven, seven + timedelta(days=7))
    assert [day for day, _ in week] == [date(2026, 6, 2) + timedelta(days=n) for n in range(7)]
    with pytest.raises(ValueError, match=r"^due_occurrences needs timezone-aware datetimes$"):
        due_occurrences(at, NEW_YORK, seven, datetime(2026, 6, 2))
    with pytest.raises(ValueError, match="aware"):
        due_occurrences(at, NEW_YORK, seven, datetime(2026, 6, 2, tzinfo=NoOffset()))


def test_next_occurrence_with_a_controlled_clock() -> None:
    # The night before the spring change in New York, at 23:00 EST (04:00 UTC on the 8th).
    with time_machine.travel(utc(2026, 3, 8, 4, 0), tick=False):
        now = datetime.now(UTC)
        assert now == utc(2026, 3, 8, 4, 0)
        assert next_occurrence(time(7, 0), NEW_YORK, now) == (date(2026, 3, 8), utc(2026, 3, 8, 11, 0))
        assert next_occurrence(time(2, 30), NEW_YORK, now) == (date(2026, 3, 8), utc(2026, 3, 8, 7, 0))
        assert next_occurrence(time(22, 0), NEW_YORK, now) == (date(2026, 3, 8), utc(2026, 3, 9, 2, 0))


# --- property -------------------------------------------------------------------------------------

ZONES = [
    "UTC",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "America/Santiago",  # changes at midnight
    "Asia/Kolkata",  # +05:30, no DST
    "Pacific/Chatham",  # +12:45 / +13:45
]


@given(
    zone=st.sampled_from(ZONES),
    at=st.times(),
    after=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
    ),
)
def test_next_occurrence_property(zone: str, at: time, after: datetime) -> None:
    tz = ZoneInfo(zone)
    day, instant = next_occurrence(at, tz, after)
    assert instant.tzinfo is UTC
    assert instant > after
    local = instant.astimezone(tz)
    assert local.date() == day
    wall = datetime.combine(day, at)
    if local.replace(tzinfo=None) != wall:
        # The gap case: `at` does not exist that day, and the instant is the end of the gap.
        assert wall.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None) != wall
        assert local.replace(tzinfo=None) > wall
        assert (instant - timedelta(seconds=1)).astimezone(tz).replace(tzinfo=None) < wall
    # Nothing skipped: every earlier local day's occurrence is not after `after`.
    for earlier in (day - timedelta(days=n) for n in (1, 2, 3)):
        assert occurrence_utc(earlier, at, tz) <= after
