"""A period's days as a chart's bars: bar length, clipping to the period, zeros for missing days,
the trailing average and its lead-in."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backrun_bot.domain.dates import Period, week_start
from backrun_bot.domain.volume import (
    MAX_DAILY_DAYS,
    MAX_WEEKLY_BARS,
    Bar,
    DayVolume,
    Step,
    lead_in_start,
    months_for_history_before,
    period_end,
    period_window,
    step_for,
    volume_series,
)

WED = date(2026, 3, 11)  # a Wednesday
MON = date(2026, 3, 9)


def test_bar_length_by_span() -> None:
    start = date(2026, 1, 1)
    assert step_for(start, start) is Step.DAY
    assert step_for(start, start + timedelta(days=MAX_DAILY_DAYS - 1)) is Step.DAY
    assert step_for(start, start + timedelta(days=MAX_DAILY_DAYS)) is Step.WEEK
    assert step_for(date(2026, 1, 1), date(2026, 12, 31)) is Step.WEEK  # a year: 53 weeks touched
    monday = date(2026, 1, 5)
    assert step_for(monday, monday + timedelta(weeks=MAX_WEEKLY_BARS - 1, days=6)) is Step.WEEK
    assert step_for(monday, monday + timedelta(weeks=MAX_WEEKLY_BARS)) is Step.MONTH
    # Weeks are counted as calendar weeks touched: a Sunday start adds one.
    sunday = monday - timedelta(days=1)
    assert step_for(sunday, monday + timedelta(weeks=MAX_WEEKLY_BARS - 1)) is Step.MONTH


def test_the_average_is_named_by_its_bars() -> None:
    assert [(s.average_over, s.average_label) for s in Step] == [
        (7, "7-day average"),
        (4, "4-week average"),
        (3, "3-month average"),
    ]


@pytest.mark.parametrize(
    ("period", "today", "first", "last"),
    [
        (Period.WEEK, WED, MON, date(2026, 3, 15)),
        (Period.WEEK, date(2026, 3, 15), MON, date(2026, 3, 15)),  # Sunday: the week's last day
        (Period.MONTH, date(2028, 2, 10), date(2028, 2, 1), date(2028, 2, 29)),  # leap year
        (Period.MONTH, date(2026, 12, 31), date(2026, 12, 1), date(2026, 12, 31)),
        (Period.YEAR, WED, date(2026, 1, 1), date(2026, 12, 31)),
        (Period.ALL, WED, None, WED),
    ],
)
def test_a_period_spans_its_whole_calendar_period(
    period: Period, today: date, first: date | None, last: date
) -> None:
    assert period_window(period, today) == (first, last)
    assert period_end(period, today) == last


def test_lead_in_covers_the_first_bars_average() -> None:
    assert lead_in_start(MON, MON + timedelta(days=6)) == MON - timedelta(days=6)
    # A year's weeks: the first week's Monday (29 December) and three whole weeks before it.
    assert lead_in_start(date(2026, 1, 1), date(2026, 12, 31)) == date(2025, 12, 8)
    # Five years of months: two whole months before the first one.
    assert lead_in_start(date(2021, 3, 12), date(2026, 3, 11)) == date(2021, 1, 1)
    assert lead_in_start(date(2021, 1, 31), date(2026, 3, 11)) == date(2020, 11, 1)


def test_a_week_so_far_has_a_bar_per_day_up_to_today_with_zeros_for_days_without() -> None:
    days = {MON: DayVolume(400, 1000), WED: DayVolume(800, 0)}
    series = volume_series(days, first=MON, last=MON + timedelta(days=6), today=WED)
    assert series.step is Step.DAY and series.slots == 7
    assert [(b.first, b.last, b.backward_m, b.forward_m) for b in series.bars] == [
        (MON, MON, 400, 1000),
        (MON + timedelta(days=1), MON + timedelta(days=1), 0, 0),
        (WED, WED, 800, 0),
    ]
    assert [round(b.average_backward_m, 6) for b in series.bars] == [
        round(400 / 7, 6),
        round(400 / 7, 6),
        round(1200 / 7, 6),
    ]
    assert series.backward_m == 1200 and series.forward_m == 1000 and not series.empty
    assert series.bars[0].total_m == 1400
    assert series.slot_starts() == [MON + timedelta(days=n) for n in range(7)]


def test_the_average_reaches_back_before_the_period_but_the_bars_do_not() -> None:
    days = {MON - timedelta(days=n): DayVolume(700, 500) for n in range(1, 8)}  # the week before
    days[MON] = DayVolume(0, 0)
    series = volume_series(days, first=MON, last=MON + timedelta(days=6), today=MON)
    [bar] = series.bars
    assert (bar.backward_m, bar.forward_m) == (0, 0) and series.empty
    assert bar.average_backward_m == pytest.approx(600)  # 6 × 700 / 7: the six days before Monday


def test_days_after_today_are_left_out_of_bars_and_averages() -> None:
    later = WED + timedelta(days=1)
    days = {WED: DayVolume(700, 0), later: DayVolume(7000, 7000)}  # a clock ahead somewhere
    series = volume_series(days, first=MON, last=MON + timedelta(days=6), today=WED)
    assert series.bars[-1].last == WED
    assert series.backward_m == 700 and series.forward_m == 0
    assert series.bars[-1].average_backward_m == pytest.approx(100)


def test_a_year_is_weeks_its_first_clipped_to_january_its_average_of_whole_weeks() -> None:
    first, last, today = date(2026, 1, 1), date(2026, 12, 31), date(2026, 1, 14)
    days = {date(2025, 12, 29) + timedelta(days=n): DayVolume(100, 10) for n in range(17)}
    series = volume_series(days, first=first, last=last, today=today)
    assert series.step is Step.WEEK and series.slots == 53
    assert [(b.first, b.last) for b in series.bars] == [
        (date(2026, 1, 1), date(2026, 1, 4)),
        (date(2026, 1, 5), date(2026, 1, 11)),
        (date(2026, 1, 12), date(2026, 1, 14)),
    ]
    assert [b.backward_m for b in series.bars] == [400, 700, 300]  # days of 2025 not in a bar
    assert series.forward_m == 140
    # The first week's average is of the whole week, 29 December on (and three empty weeks).
    assert [b.average_backward_m for b in series.bars] == [700 / 4, 1400 / 4, 1700 / 4]
    assert series.slot_starts()[:2] == [date(2026, 1, 1), date(2026, 1, 5)]
    assert series.slot_starts()[-1] == date(2026, 12, 28)


def test_five_years_are_months_and_the_first_average_only_of_what_there_is() -> None:
    today = date(2026, 3, 11)
    first = today - timedelta(days=5 * 365 - 1)
    assert first == date(2021, 3, 13)  # 2024 had a 29 February
    days = {first + timedelta(days=n): DayVolume(1000, 0) for n in range(5 * 365)}
    series = volume_series(days, first=first, last=today, today=today, history_start=first)
    assert series.step is Step.MONTH and len(series.bars) == series.slots == 61
    assert (series.bars[0].first, series.bars[0].last) == (first, date(2021, 3, 31))
    assert series.bars[0].backward_m == 19_000
    assert series.bars[1].first == date(2021, 4, 1) and series.bars[1].backward_m == 30_000
    assert series.bars[-1].first == date(2026, 3, 1) and series.bars[-1].backward_m == 11_000
    assert series.bars[0].average_backward_m == 19_000  # its own month alone
    assert series.bars[1].average_backward_m == 24_500  # two months so far
    assert series.bars[2].average_backward_m == pytest.approx((19_000 + 30_000 + 31_000) / 3)
    assert series.backward_m == 5 * 365 * 1000
    # Without history_start, the months before count as zeros.
    plain = volume_series(days, first=first, last=today, today=today)
    assert plain.bars[0].average_backward_m == pytest.approx(19_000 / 3)


def test_nothing_logged_is_an_empty_series_of_zero_bars() -> None:
    series = volume_series({}, first=MON, last=MON + timedelta(days=6), today=WED)
    assert series.empty and [b.total_m for b in series.bars] == [0, 0, 0]
    assert [b.average_backward_m for b in series.bars] == [0, 0, 0]
    alone = volume_series({}, first=WED, last=WED, today=WED, history_start=WED)
    assert [(b.first, b.last) for b in alone.bars] == [(WED, WED)] and alone.slots == 1


def test_a_chart_cannot_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        volume_series({}, first=WED, last=MON, today=WED)


def test_a_period_not_begun_has_no_bars() -> None:
    series = volume_series({}, first=WED, last=WED + timedelta(days=6), today=MON)
    assert series.bars == [] and series.slots == 7 and series.empty


@given(
    st.dictionaries(
        st.integers(min_value=0, max_value=800),
        st.tuples(st.integers(0, 5000), st.integers(0, 5000)),
        max_size=60,
    ),
    st.integers(min_value=0, max_value=800),
    st.integers(min_value=0, max_value=800),
)
def test_the_bars_add_up_to_the_periods_days_and_tile_it(
    raw: dict[int, tuple[int, int]], span: int, offset: int
) -> None:
    origin = date(2024, 1, 1)
    days = {origin + timedelta(days=k): DayVolume(float(b), float(f)) for k, (b, f) in raw.items()}
    first = origin + timedelta(days=offset // 2)
    last = first + timedelta(days=span)
    today = origin + timedelta(days=offset)
    series = volume_series(days, first=first, last=last, today=today)
    inside = [v for d, v in days.items() if first <= d <= min(last, today)]
    assert series.backward_m == sum(v.backward_m for v in inside)
    assert series.forward_m == sum(v.forward_m for v in inside)
    bars: list[Bar] = series.bars
    if bars:
        assert bars[0].first == first and bars[-1].last == min(last, today)
    for before, after in itertools.pairwise(bars):
        assert after.first == before.last + timedelta(days=1)
    assert len(bars) <= series.slots


@given(st.integers(min_value=0, max_value=400), st.integers(min_value=0, max_value=3000))
def test_a_history_from_before_the_months_mark_is_a_chart_of_months(before: int, later: int) -> None:
    day = date(2026, 3, 11)
    mark = months_for_history_before(day)
    first = mark - timedelta(days=1 + before)
    assert step_for(first, day + timedelta(days=later)) is Step.MONTH
    # The mark is close: from the mark's own week on, there are charts of weeks.
    assert step_for(week_start(mark) + timedelta(weeks=1), day) is Step.WEEK
