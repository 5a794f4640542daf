"""The daily warmup and cooldown: content, order, rotation and determinism."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backrun_bot.domain.drills import (
    COOLDOWN_VARIATIONS,
    WARMUP_VARIATIONS,
    DailyPlan,
    Drill,
    plan_for,
)

REPO = Path(__file__).resolve().parents[2]
TEAMS = (1, 2, 42, 987_654_321_012_345_678, -5)
YEAR = [date(2026, 1, 1) + timedelta(days=n) for n in range(366)]  # into 2027: crosses a new year


def year_of_plans(team_id: int) -> list[DailyPlan]:
    return [plan_for(team_id, day) for day in YEAR]


def names(drills: tuple[Drill, ...]) -> list[str]:
    return [drill.name for drill in drills]


# --- content --------------------------------------------------------------------------------------


def test_variations_are_backward_and_distinct() -> None:
    assert len(WARMUP_VARIATIONS) == 7  # one per day of the week
    assert len({v.name for v in WARMUP_VARIATIONS}) == len(WARMUP_VARIATIONS)
    for drill in WARMUP_VARIATIONS:
        assert "backward" in drill.name.lower() or "backpedal" in drill.name.lower()
        assert drill.dose and drill.cue
    assert len(set(COOLDOWN_VARIATIONS)) == len(COOLDOWN_VARIATIONS) >= 3


def test_every_cooldown_variation_steps_down_run_jog_walk() -> None:
    for run, jog, walk in COOLDOWN_VARIATIONS:
        assert (run.name, jog.name, walk.name) == ("Backward run", "Backward jog", "Slow backward walk")
        assert all(drill.dose.endswith(" m") for drill in (run, jog, walk))


@pytest.mark.parametrize("team_id", TEAMS)
def test_every_warmup_has_a_backward_skipping_lap_and_backward_strides(team_id: int) -> None:
    for plan in year_of_plans(team_id):
        steps = names(plan.warmup)
        assert steps[0] == "Easy jog"
        assert steps[1] == "Backward skipping"
        assert plan.warmup[1].dose == "1 lap"
        assert steps.index("Strides") < steps.index("Backpedal strides")  # backward once the pace is up
        assert plan.warmup[-1].dose in ("4 × 30 m", "4 × 40 m", "4 × 50 m")
        assert plan.drill_of_the_day in WARMUP_VARIATIONS
        text = plan.warmup_text().lower()
        assert "backward skipping — 1 lap" in text
        assert "backpedal strides — 4 × " in text


@pytest.mark.parametrize("team_id", TEAMS)
def test_every_cooldown_is_run_then_jog_then_walk(team_id: int) -> None:
    for plan in year_of_plans(team_id):
        assert plan.cooldown in COOLDOWN_VARIATIONS
        text = plan.cooldown_text()
        run, jog, walk = (text.index(f"{n}. {name} — ") for n, name in enumerate(names(plan.cooldown), 1))
        assert run < jog < walk
        assert "1. Backward run — " in text
        assert "2. Backward jog — " in text
        assert "3. Slow backward walk — " in text


def test_the_texts_for_a_known_day() -> None:
    plan = plan_for(42, date(2026, 11, 24))  # a Tuesday
    warmup, cooldown = plan.warmup_text(), plan.cooldown_text()
    assert warmup.startswith("**Warmup — Tue 24 Nov**\n1. Easy jog — 2 laps.")
    assert cooldown.startswith("**Cooldown — Tue 24 Nov**\n")
    assert f"3. {plan.drill_of_the_day.name} — {plan.drill_of_the_day.dose}." in warmup
    for text in (warmup, cooldown):
        lower = text.lower()
        for cue in ("clear lane", "open space", "over your shoulder", "short", "balls of your feet"):
            assert cue in lower
        assert text.count("**") == 2  # only the title is bold
        assert "@" not in text
        assert "<" not in text


@pytest.mark.parametrize("team_id", TEAMS)
def test_no_injury_prevention_claims(team_id: int) -> None:
    for plan in year_of_plans(team_id):
        for text in (plan.cooldown_text(), plan.warmup_text()):
            lower = text.lower()
            assert "prevent" not in lower
            assert "injur" not in lower


@pytest.mark.parametrize("team_id", TEAMS)
def test_length_limits(team_id: int) -> None:
    for plan in year_of_plans(team_id):
        warmup, cooldown = plan.warmup_text(), plan.cooldown_text()
        assert len(warmup) <= 1500
        assert len(cooldown) <= 1500
        # /plan sends both together, with room left for a day-off note, in one 2,000-character message.
        assert len(warmup) + len(cooldown) + 2 <= 1500


# --- rotation -------------------------------------------------------------------------------------


@pytest.mark.parametrize("team_id", [*TEAMS, *range(100, 140)])
def test_never_the_same_warmup_variation_two_days_in_a_row(team_id: int) -> None:
    drills = [plan.drill_of_the_day for plan in year_of_plans(team_id)]
    for yesterday, today in itertools.pairwise(drills):
        assert yesterday != today


@pytest.mark.parametrize("team_id", TEAMS)
def test_every_variation_once_a_week(team_id: int) -> None:
    monday = date(2026, 1, 5)
    for week in range(52):
        start = monday + timedelta(weeks=week)
        drills = {plan_for(team_id, start + timedelta(days=n)).drill_of_the_day for n in range(7)}
        assert drills == set(WARMUP_VARIATIONS)


def test_plans_vary_across_days_and_teams() -> None:
    # Across days: all the cooldowns and stride doses turn up in a year.
    plans = year_of_plans(42)
    assert {p.cooldown for p in plans} == set(COOLDOWN_VARIATIONS)
    assert len({p.warmup[-1].dose for p in plans}) == 3
    # Across teams: the same day does not give every team the same plan.
    day = date(2026, 5, 12)
    assert len({plan_for(team, day).drill_of_the_day for team in range(30)}) > 3
    week = [day + timedelta(days=n) for n in range(7)]
    orders = {tuple(plan_for(team, d).drill_of_the_day.name for d in week) for team in range(30)}
    assert len(orders) > 20


@given(st.integers(min_value=-(2**63), max_value=2**63), st.dates())
def test_any_team_and_day_has_a_valid_plan(team_id: int, day: date) -> None:
    plan = plan_for(team_id, day)
    assert (plan.team_id, plan.day) == (team_id, day)
    assert len(plan.warmup_text()) <= 1500
    assert plan.cooldown in COOLDOWN_VARIATIONS
    if day > date.min:
        assert plan_for(team_id, day - timedelta(days=1)).drill_of_the_day != plan.drill_of_the_day


# --- determinism ----------------------------------------------------------------------------------


def test_same_inputs_same_plan() -> None:
    for team_id in TEAMS:
        for day in YEAR[::17]:
            first, again = plan_for(team_id, day), plan_for(team_id, day)
            assert first == again
            assert first.warmup_text() == again.warmup_text()
            assert first.cooldown_text() == again.cooldown_text()


def _texts_in_subprocess(hash_seed: str) -> str:
    code = (
        "from datetime import date, timedelta\n"
        "from backrun_bot.domain.drills import plan_for\n"
        "for team in (1, 42, 987654321012345678):\n"
        "    for n in range(0, 60, 7):\n"
        "        plan = plan_for(team, date(2026, 3, 1) + timedelta(days=n))\n"
        "        print(plan.warmup_text())\n"
        "        print(plan.cooldown_text())\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True
    )
    return result.stdout


def test_plans_survive_a_restart_with_another_hash_seed() -> None:
    here = ""
    for team in (1, 42, 987654321012345678):
        for n in range(0, 60, 7):
            plan = plan_for(team, date(2026, 3, 1) + timedelta(days=n))
            here += plan.warmup_text() + "\n" + plan.cooldown_text() + "\n"
    assert _texts_in_subprocess("1") == here
    assert _texts_in_subprocess("12345") == here
