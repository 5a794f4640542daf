"""Session-RPE load (RPE × minutes, Foster et al. 2001), the default RPE of unrated entries, and
Foster's monotony and strain (1998), with tables of days worked out by hand.

The ratio's own EWMA is tested in test_load.py; here it only matters that above 1.5 it is a caution
line and never a day off.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest

from backrun_bot.domain.day_off import plan_advice
from backrun_bot.domain.drills import forward_plan_for, plan_for
from backrun_bot.domain.kinds import Kind
from backrun_bot.domain.load import (
    DEFAULT_RPE,
    MONOTONY_CAP,
    DayLog,
    HeavyDay,
    LoadPicture,
    Rule,
    assess_day,
    load_picture,
    monotony,
    rpe_problem,
    session_load,
    session_minutes,
    strain,
)

DAY = date(2026, 3, 7)


def week(*loads: float, backward: bool = True) -> list[DayLog]:
    """Seven days ending on DAY with these loads (oldest first); 400 m backward on each loaded day,
    or forward only."""
    assert len(loads) == 7
    return [
        DayLog(
            DAY - timedelta(days=6 - n),
            (400.0,) if backward and load else (),
            0.0 if backward else 1000.0,
            load,
        )
        for n, load in enumerate(loads)
    ]


# --- minutes and load -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "meters", "seconds", "minutes"),
    [
        (Kind.BACKWARD, 1000.0, None, 7.0),  # 420 s/km
        (Kind.FORWARD, 1000.0, None, 5.5),  # 330 s/km
        (Kind.BACKWARD_WALK, 600.0, None, 9.0),  # 900 s/km
        (Kind.BACKWARD_SPRINT, 200.0, None, 200 * 0.25 / 60),  # 250 s/km: 50 s
        (Kind.BACKWARD_JOG, 1000.0, 540.0, 9.0),  # a duration given: its own minutes
        (Kind.BACKWARD_SPRINT, 200.0, 40.0, 40 / 60),  # distance and duration: the duration counts
    ],
)
def test_minutes_come_from_the_duration_or_the_kinds_pace(
    kind: Kind, meters: float, seconds: float | None, minutes: float
) -> None:
    assert session_minutes(kind, meters, seconds) == pytest.approx(minutes)


def test_the_default_rpe_per_kind() -> None:
    # The forward effort of the movement, times 1.35 for backward kinds (Wright & Weyand 2001).
    assert (
        pytest.approx(
            {
                Kind.FORWARD: 3.0,
                Kind.BACKWARD: 4.05,
                Kind.BACKPEDAL: 4.05,
                Kind.BACKWARD_SKIP: 4.05,
                Kind.BACKWARD_JOG: 2.7,
                Kind.BACKWARD_WALK: 1.35,
                Kind.BACKWARD_SPRINT: 9.45,
            }
        )
        == DEFAULT_RPE
    )
    assert set(DEFAULT_RPE) == set(Kind)


@pytest.mark.parametrize(
    ("kind", "meters", "seconds", "rpe", "load"),
    [
        (Kind.BACKWARD, 1000.0, None, 6, 42.0),  # 6 × 7 min
        (Kind.BACKWARD, 1000.0, None, None, 28.35),  # 4.05 × 7 min
        (Kind.FORWARD, 1000.0, None, None, 16.5),  # 3 × 5.5 min
        (Kind.BACKWARD_SPRINT, 200.0, 40.0, 9, 6.0),  # 9 × 2/3 min
        (Kind.BACKWARD_WALK, 333.33, 300.0, None, 6.75),  # 1.35 × 5 min
    ],
)
def test_session_load_is_rpe_times_minutes(
    kind: Kind, meters: float, seconds: float | None, rpe: int | None, load: float
) -> None:
    assert session_load(kind, meters, seconds, rpe) == pytest.approx(load)


def test_the_backward_cost_is_never_counted_twice() -> None:
    # Rated: the athlete's rating already says how hard it was, backward or not.
    assert session_load(Kind.BACKWARD, 700.0, 300.0, 5) == session_load(Kind.FORWARD, 700.0, 300.0, 5) == 25.0
    # Unrated: the same minutes weigh 1.35 times more backward than forward.
    backward = session_load(Kind.BACKWARD, 700.0, 300.0, None)
    forward = session_load(Kind.FORWARD, 700.0, 300.0, None)
    assert backward == pytest.approx(1.35 * forward) and forward == pytest.approx(15.0)


@pytest.mark.parametrize(
    ("rpe", "ok"), [(1, True), (10, True), (5, True), (0, False), (11, False), (-3, False)]
)
def test_rpe_is_a_cr10_rating(rpe: int, ok: bool) -> None:
    problem = rpe_problem(rpe)
    assert (problem is None) == ok
    if not ok:
        assert problem == "How hard it was (rpe) is a whole number from 1 (very easy) to 10 (maximal)."


# --- monotony and strain ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("loads", "expected"),
    [
        ((0, 0, 0, 0, 0, 0, 0), 0.0),  # no load: no monotony (and no division by zero)
        ((35, 35, 35, 35, 35, 35, 35), MONOTONY_CAP),  # deviation 0: capped
        ((35, 35, 35, 35, 35, 35, 0), math.sqrt(6)),  # k equal days of 7: sqrt(k / (7 - k))
        ((50, 50, 50, 50, 50, 0, 0), math.sqrt(5 / 2)),
        ((80, 0, 80, 0, 80, 0, 0), math.sqrt(3 / 4)),
        ((120, 80, 120, 80, 100, 100, 100), 100 / math.sqrt(1600 / 7)),  # mean 100, Σd² = 1600
        ((110, 90, 100, 100, 100, 100, 100), MONOTONY_CAP),  # 100 / sqrt(200/7) ≈ 18.7: capped
    ],
)
def test_monotony_is_mean_over_deviation_capped(loads: tuple[float, ...], expected: float) -> None:
    assert monotony(loads) == pytest.approx(expected)


def test_monotony_cap_is_ten() -> None:
    assert MONOTONY_CAP == 10.0


@pytest.mark.parametrize(
    ("loads", "expected"),
    [
        ((35, 35, 35, 35, 35, 35, 35), 245 * 10.0),
        ((35, 35, 35, 35, 35, 35, 0), 210 * math.sqrt(6)),
        ((80, 0, 80, 0, 80, 0, 0), 240 * math.sqrt(3 / 4)),
        ((0, 0, 0, 0, 0, 0, 0), 0.0),
    ],
)
def test_strain_is_the_weeks_load_times_its_monotony(loads: tuple[float, ...], expected: float) -> None:
    assert strain(loads) == pytest.approx(expected)


# --- what /plan is told -----------------------------------------------------------------------------


def test_a_monotonous_week_with_backward_work_advises_variety_but_no_day_off() -> None:
    logs = week(35, 35, 35, 35, 35, 35, 35)
    picture = load_picture(logs, DAY)
    assert (picture.monotony, picture.strain, picture.week_load) == (MONOTONY_CAP, 2450.0, 245.0)
    assert picture.vary_backward and not picture.ratio_caution
    assert picture.lines() == [
        "Vary it: your last 7 days were monotonous (monotony 10+, above 2; strain 2,450). Vary the "
        "backward drills or the load: an easier or shorter day between harder ones."
    ]
    assert assess_day(logs, DAY) is None


def test_monotony_advice_needs_backward_work_and_more_than_two() -> None:
    assert not load_picture(week(35, 35, 35, 35, 35, 35, 35, backward=False), DAY).vary_backward
    six = load_picture(week(35, 35, 35, 35, 35, 35, 0), DAY)  # sqrt(6) ≈ 2.45
    assert six.vary_backward
    assert "(monotony 2.4, above 2; strain 514)" in six.lines()[0]
    assert not load_picture(week(50, 50, 50, 50, 50, 0, 0), DAY).vary_backward  # sqrt(2.5) ≈ 1.58
    # Days before the week do not count; rest days inside it count as 0.
    older = [DayLog(DAY - timedelta(days=7), (400.0,), 0.0, 500.0), *week(35, 35, 35, 35, 35, 35, 35)]
    assert load_picture(older, DAY).monotony == MONOTONY_CAP
    gap = [log for log in week(35, 35, 35, 35, 35, 35, 35) if log.day != DAY - timedelta(days=3)]
    assert load_picture(gap, DAY).monotony == pytest.approx(math.sqrt(6))


def test_the_ratio_is_a_caution_line_with_its_figure_never_a_day_off() -> None:
    # 28 days of load 300, then 2000 with one 1500 m backward session: ratio 21025/12100 ≈ 1.738.
    logs = [DayLog(DAY - timedelta(days=28 - n), (), 0.0, 300.0) for n in range(28)]
    logs.append(DayLog(DAY, (1500.0,), 0.0, 2000.0))
    picture = load_picture(logs, DAY)
    assert picture.ratio == pytest.approx(21025 / 12100)
    assert picture.ratio_caution and not picture.vary_backward
    assert picture.lines() == [
        "Caution: your acute:chronic load ratio is 1.74 (above 1.5): your last week was much harder "
        "than your last month. Not a reason for a day off on its own; build up gradually."
    ]
    assert assess_day(logs, DAY) is None  # ratio alone: not a day off
    # No ratio before 28 days: no caution.
    assert load_picture(logs[-7:], DAY).ratio is None and load_picture(logs[-7:], DAY).lines() == []


def test_a_ratio_just_over_the_limit_is_shown_over_it() -> None:
    picture = LoadPicture(DAY, 1.5004, 100.0, 1.0, 100.0, True)
    assert "ratio is 1.5004 (above 1.5)" in picture.lines()[0]
    assert LoadPicture(DAY, 1.5, 100.0, 1.0, 100.0, True).lines() == []


def test_the_longest_advice_with_both_lines_and_either_plan_fit_one_message() -> None:
    every_rule = HeavyDay(DAY, (Rule.VOLUME, Rule.SPIKE), 19_999.99, 20_000, 19_999.99, 1.0)
    both = LoadPicture(DAY, 123.456, 99_999_999.0, MONOTONY_CAP, 999_999_999.0, True)
    assert len(both.lines()) == 2
    for day in (DAY + timedelta(days=n) for n in range(0, 366, 5)):
        advice = "\n".join([plan_advice(day, every_rule, 19_999.99, 20_000), *both.lines()])
        for plan in (plan_for(42, day), forward_plan_for(42, day)):
            assert len("\n\n".join([advice, plan.warmup_text(), plan.cooldown_text()])) <= 2000
