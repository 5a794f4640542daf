"""Imperial units (``/team units``): distances shown in yards and miles, everywhere the rules word
them; metric stays the default and reads exactly as before."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backrun_bot.domain.amounts import MAX_METERS, Units, format_distance, parse_amount
from backrun_bot.domain.day_off import DayOff, day_off_section, plan_advice
from backrun_bot.domain.drills import (
    BACKPEDAL_STRIDE_DOSES,
    COOLDOWN_VARIATIONS,
    FORWARD_VARIATIONS,
    STRIDES,
    WARMUP_VARIATIONS,
    Drill,
    forward_plan_for,
    in_yards,
    plan_for,
)
from backrun_bot.domain.load import HeavyDay, Rule

IMPERIAL = Units.IMPERIAL
# A metric distance as the texts write one: "400 m", "1.2 km" (not "5 min").
METRIC_DISTANCE = re.compile(r"\d m\b|\dkm\b|\d km\b")


@pytest.mark.parametrize(
    ("meters", "text"),
    [
        (0.0, "0 yd"),
        (0.9144, "1 yd"),
        (400.0, "437 yd"),
        (402.336, "440 yd"),
        (1600.0, "1750 yd"),
        (1609.0, "1 mi"),  # 1759.6 yd: rounded before the unit is chosen
        (1608.0, "1759 yd"),
        (1609.344, "1 mi"),
        (2011.68, "1.25 mi"),
        (5000.0, "3.11 mi"),
        (16093.44, "10 mi"),
        (50000.0, "31.07 mi"),
        (-400.0, "-437 yd"),
    ],
)
def test_imperial_distances(meters: float, text: str) -> None:
    assert format_distance(meters, IMPERIAL) == text


def test_metric_is_the_default_and_unchanged() -> None:
    for meters in (0.0, 400.0, 999.7, 1200.0, 50000.0):
        assert format_distance(meters) == format_distance(meters, Units.METRIC)
    assert format_distance(1600.0) == "1.6 km"


def test_units_are_the_values_the_team_row_stores() -> None:
    assert [u.value for u in Units] == ["metric", "imperial"]


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("440yd", "440 yd"),
        ("0.25mi", "440 yd"),
        ("400m", "437 yd"),
        ("2 laps", "875 yd"),
        ("1.25 mi", "1.25 mi"),
        ("5 km", "3.11 mi"),
        ("90s", "1:30"),
        ("400m in 1:30", "437 yd in 1:30"),
    ],
)
def test_an_entry_is_shown_in_imperial(typed: str, shown: str) -> None:
    assert parse_amount(typed).display(IMPERIAL) == shown


@given(st.floats(1.5, MAX_METERS - 10))
def test_an_imperial_display_is_accepted_again_and_is_a_fixed_point(meters: float) -> None:
    # (At the very edges rounding crosses the limits: 1 m shows as 1 yd, under 1 m; 50 km as
    # 31.07 mi, a little over 50 km.)
    shown = parse_amount(f"{meters:.3f}m").display(IMPERIAL)
    again = parse_amount(shown)
    assert again.display(IMPERIAL) == shown


def test_drill_distances_are_marked_out_in_whole_five_yards() -> None:
    assert in_yards("4 × 80 m") == "4 × 85 yd"
    assert in_yards("4 × 30 m") == "4 × 35 yd"
    assert in_yards("2 × 20 m") == "2 × 20 yd"
    assert in_yards("100 m") == "110 yd"
    assert in_yards("200 m") == "220 yd"
    assert in_yards("every 5 m; for 5 min, 85 % and 2 × 8 each leg") == (
        "every 5 yd; for 5 min, 85 % and 2 × 8 each leg"
    )
    assert in_yards("1 m") == "5 yd"  # never 0 yd


def every_drill() -> list[Drill]:
    cooldowns = [drill for steps in COOLDOWN_VARIATIONS for drill in steps]
    strides = [Drill("Backpedal strides", dose, "") for dose in BACKPEDAL_STRIDE_DOSES]
    return [*WARMUP_VARIATIONS, *FORWARD_VARIATIONS, STRIDES, *cooldowns, *strides]


def test_no_drill_keeps_a_metric_distance_in_imperial() -> None:
    for drill in every_drill():
        metric, imperial = drill.line(), drill.line(IMPERIAL)
        assert metric == f"{drill.name} — {drill.dose}. {drill.cue}"
        assert METRIC_DISTANCE.search(imperial) is None, imperial
        if METRIC_DISTANCE.search(metric):
            assert " yd" in imperial


@pytest.mark.parametrize("team_id", [1, 42, 987654321])
def test_a_year_of_plans_in_imperial(team_id: int) -> None:
    start = date(2026, 1, 1)
    for offset in range(366):
        day = start + timedelta(days=offset)
        for plan in (plan_for(team_id, day), forward_plan_for(team_id, day)):
            warmup, cooldown = plan.warmup_text(IMPERIAL), plan.cooldown_text(IMPERIAL)
            assert METRIC_DISTANCE.search(warmup + cooldown) is None
            assert "yd" in warmup and "yd" in cooldown
            # /plan sends both with the day-off advice in one message: the same room as in metric.
            assert len(warmup) + len(cooldown) + 2 <= 1500
            assert warmup.replace(" yd", " m").count("\n") == plan.warmup_text().count("\n")


HEAVY = HeavyDay(
    day=date(2026, 3, 7),
    rules=(Rule.VOLUME, Rule.SPIKE),
    backward_meters=2000.0,
    threshold=1600.0,
    longest_session=1200.0,
    previous_longest=400.0,
)


def test_the_day_off_reasons_in_imperial() -> None:
    assert HEAVY.explain(IMPERIAL) == (
        "1.24 mi of backward running (your team's heavy-day mark is 1750 yd); a 1312 yd session, "
        "200% longer than your longest in the previous 30 days (437 yd)"
    )
    assert HEAVY.explain() == (
        "2 km of backward running (your team's heavy-day mark is 1.6 km); a 1.2 km session, "
        "200% longer than your longest in the previous 30 days (400 m)"
    )
    section, _ = day_off_section([DayOff(1, "Alice", False, HEAVY)], 2000, IMPERIAL)
    assert "1.24 mi of backward running" in section
    assert " km" not in section


def test_the_plan_advice_in_imperial() -> None:
    today = date(2026, 3, 8)
    assert "1.24 mi of backward running" in plan_advice(today, HEAVY, 2000.0, 1600.0, IMPERIAL)
    assert plan_advice(today, None, 800.0, 1600.0, IMPERIAL) == (
        "No day off needed: yesterday you ran 875 yd backward (your team's heavy-day mark is 1750 yd), "
        "with no sharp jump over your recent weeks."
    )
