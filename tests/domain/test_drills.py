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
    _cooldown,
    forward_plan_for,
    plan_for,
    short_date,
)
from tests.domain import documented_plan

REPO = Path(__file__).resolve().parents[2]
TEAMS = (1, 2, 42, 987_654_321_012_345_678, -5)
YEAR = [date(2026, 1, 1) + timedelta(days=n) for n in range(366)]  # into 2027: crosses a new year
SAFETY = (
    "Safety: go backward only in a clear lane or open space, look over your shoulder every few steps, "
    "keep your steps short and stay on the balls of your feet."
)


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


def expected_warmup(day: date, variation: Drill, stride_dose: str) -> str:
    return "\n".join(
        [
            f"**Warmup — {short_date(day)}**",
            "1. Easy jog — 2 laps. Relaxed, conversational pace; let the shoulders loosen.",
            "2. Backward skipping — 1 lap. Small, springy skips, arms swinging easily; glance over your "
            "shoulder.",
            f"3. {variation.name} — {variation.dose}. {variation.cue}",
            "4. Strides — 4 × 80 m. Build to about 85 % of top speed, then float down.",
            f"5. Backpedal strides — {stride_dose}. Hips low, quick short steps, reaching back from the "
            "ball of the foot.",
            SAFETY,
        ]
    )


def cooldown_lines(run: str, jog: str, walk: str) -> list[str]:
    """The three steps of a backward cooldown, as numbered in the text."""
    return [
        f"1. Backward run — {run}. Steady and relaxed, about half effort.",
        f"2. Backward jog — {jog}. Shorter steps; let your breathing settle.",
        f"3. Slow backward walk — {walk}. Tall and slow, rolling from the toes to the heel.",
    ]


def expected_cooldown(day: date, distances: tuple[str, str, str]) -> str:
    return "\n".join(
        [
            f"**Cooldown — {short_date(day)}**",
            "Step down gently, all of it backward:",
            *cooldown_lines(*distances),
            "Slowing down step by step lets your breathing and heart rate come down while the hamstrings, "
            "glutes and calves keep working.",
            SAFETY,
        ]
    )


@pytest.mark.parametrize("team_id", TEAMS)
def test_the_warmup_and_cooldown_read_word_for_word(team_id: int) -> None:
    for day in YEAR:
        plan, chosen = plan_for(team_id, day), documented_plan.choice(team_id, day)
        variation = WARMUP_VARIATIONS[chosen.variation]
        dose = documented_plan.STRIDE_DOSES[chosen.stride_dose]
        assert plan.warmup_text() == expected_warmup(day, variation, dose)
        assert plan.cooldown_text() == expected_cooldown(
            day, documented_plan.COOLDOWN_DISTANCES[chosen.cooldown]
        )


def test_the_titles_name_the_day_in_english() -> None:
    plan = plan_for(7, date(2027, 1, 3))
    assert plan.warmup_text().splitlines()[0] == "**Warmup — Sun 3 Jan**"
    assert plan.cooldown_text().splitlines()[0] == "**Cooldown — Sun 3 Jan**"


def test_the_cooldown_table_steps_down_through_the_documented_distances() -> None:
    assert [tuple(step.dose for step in steps) for steps in COOLDOWN_VARIATIONS] == list(
        documented_plan.COOLDOWN_DISTANCES
    )
    for steps, distances in zip(COOLDOWN_VARIATIONS, documented_plan.COOLDOWN_DISTANCES, strict=True):
        assert [f"{n}. {step.line()}" for n, step in enumerate(steps, 1)] == cooldown_lines(*distances)


@pytest.mark.parametrize(
    ("distances", "shown"),
    [
        ((100, 100, 100), ("100 m", "100 m", "100 m")),
        ((200, 150, 100), ("200 m", "150 m", "100 m")),
        ((1500, 1000, 50), ("1.5 km", "1 km", "50 m")),
    ],
)
def test_a_cooldown_is_worded_with_its_distances(
    distances: tuple[int, int, int], shown: tuple[str, str, str]
) -> None:
    # COOLDOWN_VARIATIONS is built once, at import; building one here is what lets mutation testing
    # (which switches a mutant on only after the import) see the wording of each step.
    built = _cooldown(*distances)
    assert [f"{n}. {step.line()}" for n, step in enumerate(built, 1)] == cooldown_lines(*shown)


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


def calendar_edges() -> list[date]:
    """The calendar's first three weeks (the first has no week before it) and its last days."""
    return [date.min + timedelta(days=n) for n in range(21)] + [
        date.max - timedelta(days=n) for n in range(11)
    ]


@pytest.mark.parametrize("team_id", TEAMS)
def test_the_drill_of_the_day_is_the_documented_weekly_shuffle(team_id: int) -> None:
    for day in [*YEAR, *calendar_edges()]:
        documented = WARMUP_VARIATIONS[documented_plan.choice(team_id, day).variation]
        assert plan_for(team_id, day).drill_of_the_day == documented, day


def test_a_week_that_would_repeat_last_sundays_drill_swaps_only_its_first_two_days() -> None:
    swapped = 0
    for team_id in TEAMS:
        for monday in (date(2026, 1, 5) + timedelta(weeks=n) for n in range(52)):
            shuffled = documented_plan.shuffled_week(team_id, monday)
            if shuffled[0] != documented_plan.shuffled_week(team_id, monday - timedelta(weeks=1))[-1]:
                continue
            swapped += 1
            week = [plan_for(team_id, monday + timedelta(days=n)).drill_of_the_day for n in range(7)]
            unswapped = [WARMUP_VARIATIONS[i] for i in shuffled]
            assert week == [unswapped[1], unswapped[0], *unswapped[2:]]
            assert week[0] != plan_for(team_id, monday - timedelta(days=1)).drill_of_the_day
    assert swapped >= 10  # the case really comes up (about one week in seven)


@pytest.mark.parametrize("team_id", TEAMS)
def test_the_stride_dose_and_cooldown_come_from_the_days_own_digest(team_id: int) -> None:
    for day in [*YEAR, *calendar_edges()]:
        plan, chosen = plan_for(team_id, day), documented_plan.choice(team_id, day)
        assert plan.warmup[-1].dose == documented_plan.STRIDE_DOSES[chosen.stride_dose]
        distances = tuple(step.dose for step in plan.cooldown)
        assert distances == documented_plan.COOLDOWN_DISTANCES[chosen.cooldown]


def test_plans_vary_across_days_and_teams() -> None:
    # Across days: all the cooldowns and stride doses turn up in a year.
    plans = year_of_plans(42)
    assert {p.cooldown for p in plans} == set(COOLDOWN_VARIATIONS)
    assert len({p.warmup[-1].dose for p in plans}) == 3
    # Across teams: the same day does not give every team the same plan.
    day = date(2026, 5, 12)
    assert len({plan_for(team, day).drill_of_the_day for team in range(30)}) > 3
    assert {plan_for(team, day).warmup[-1].dose for team in range(30)} == set(documented_plan.STRIDE_DOSES)
    assert {plan_for(team, day).cooldown for team in range(30)} == set(COOLDOWN_VARIATIONS)
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
        "from backrun_bot.domain.drills import forward_plan_for, plan_for\n"
        "for team in (1, 42, 987654321012345678):\n"
        "    for n in range(0, 60, 3):\n"
        "        for make in (plan_for, forward_plan_for):\n"
        "            plan = make(team, date(2026, 3, 1) + timedelta(days=n))\n"
        "            print(plan.warmup_text())\n"
        "            print(plan.cooldown_text())\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True
    )
    return result.stdout


def test_plans_survive_a_restart_with_another_hash_seed() -> None:
    here = ""
    for team in (1, 42, 987654321012345678):
        for n in range(0, 60, 3):  # every day of the week, the team's plan and its forward version
            for make in (plan_for, forward_plan_for):
                plan = make(team, date(2026, 3, 1) + timedelta(days=n))
                here += plan.warmup_text() + "\n" + plan.cooldown_text() + "\n"
    assert _texts_in_subprocess("1") == here
    assert _texts_in_subprocess("12345") == here
