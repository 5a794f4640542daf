"""The forward version of the day (for a suggested day off): the same structure and rotation as the
team's day, with nothing backward in it."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest

from backrun_bot.domain.drills import (
    FORWARD_VARIATIONS,
    WARMUP_VARIATIONS,
    Drill,
    forward_plan_for,
    plan_for,
    short_date,
)
from tests.domain import documented_plan

TEAMS = (1, 2, 42, 987_654_321_012_345_678, -5)
YEAR = [date(2026, 1, 1) + timedelta(days=n) for n in range(366)]
BACKWARD_WORDS = ("backward", "backpedal", "over your shoulder", "reaching back")


def names(drills: tuple[Drill, ...]) -> list[str]:
    return [drill.name for drill in drills]


def test_each_backward_variation_has_a_distinct_forward_twin() -> None:
    assert len(FORWARD_VARIATIONS) == len(WARMUP_VARIATIONS) == 7
    assert len({v.name for v in FORWARD_VARIATIONS}) == 7
    for forward, backward in zip(FORWARD_VARIATIONS, WARMUP_VARIATIONS, strict=True):
        assert forward.dose == backward.dose
        assert not any(word in forward.line().lower() for word in BACKWARD_WORDS)
    assert [v.name for v in FORWARD_VARIATIONS[:3]] == ["A-skips", "High knees", "Butt kicks"]


# Each backward drill and the forward movement that stands in for it, index by index.
TWINS = (
    ("Backward A-skips", "A-skips"),
    ("Backward high knees", "High knees"),
    ("Backward butt kicks", "Butt kicks"),
    ("Backward walking lunges", "Walking lunges"),
    ("Low backward bounds", "Low bounds"),
    ("Shuffle to backpedal", "Shuffle to run"),
    ("Backpedal zig-zag", "Zig-zag run"),
)


def test_the_forward_twins_line_up_index_by_index() -> None:
    assert [(b.name, f.name) for b, f in zip(WARMUP_VARIATIONS, FORWARD_VARIATIONS, strict=True)] == list(
        TWINS
    )


@pytest.mark.parametrize("team_id", TEAMS)
def test_the_forward_day_mirrors_the_teams_day_step_for_step(team_id: int) -> None:
    for day in YEAR:
        backward, forward = plan_for(team_id, day), forward_plan_for(team_id, day)
        assert forward.forward and not backward.forward
        assert names(forward.warmup) == [
            "Easy jog",
            "Skipping",
            forward.drill_of_the_day.name,
            "Strides",
            "Accelerations",
        ]
        # The same rotation: the twin of the team's drill of the day, the same doses.
        index = WARMUP_VARIATIONS.index(backward.drill_of_the_day)
        assert forward.drill_of_the_day == FORWARD_VARIATIONS[index]
        assert (backward.drill_of_the_day.name, forward.drill_of_the_day.name) in TWINS
        assert forward.warmup[-1].dose == backward.warmup[-1].dose
        assert names(forward.cooldown) == ["Easy run", "Jog", "Walk"]
        assert [d.dose for d in forward.cooldown] == [d.dose for d in backward.cooldown]


@pytest.mark.parametrize("team_id", TEAMS)
def test_nothing_backward_and_no_claims_in_the_forward_texts(team_id: int) -> None:
    for day in YEAR:
        plan = forward_plan_for(team_id, day)
        warmup, cooldown = plan.warmup_text(), plan.cooldown_text()
        for text in (warmup, cooldown):
            lower = text.lower()
            assert not any(word in lower for word in BACKWARD_WORDS), text
            assert "prevent" not in lower and "injur" not in lower
            assert "@" not in text and "<" not in text
        assert "(all forward)" in warmup.splitlines()[0]
        assert cooldown.splitlines()[1] == "Step down gently, all of it forward:"
        # /plan sends both with the day-off advice, in one 2,000-character message.
        assert len(warmup) + len(cooldown) + 2 <= 1500


@pytest.mark.parametrize("team_id", TEAMS)
def test_the_forward_drill_still_never_repeats_two_days_in_a_row_and_covers_the_week(team_id: int) -> None:
    drills = [forward_plan_for(team_id, day).drill_of_the_day for day in YEAR]
    for yesterday, today in itertools.pairwise(drills):
        assert yesterday != today
    monday = date(2026, 1, 5)
    for week in range(52):
        start = monday + timedelta(weeks=week)
        week_drills = {
            forward_plan_for(team_id, start + timedelta(days=n)).drill_of_the_day for n in range(7)
        }
        assert week_drills == set(FORWARD_VARIATIONS)


def expected_forward_warmup(day: date, twin: Drill, dose: str) -> str:
    return "\n".join(
        [
            f"**Warmup — {short_date(day)}** (all forward)",
            "1. Easy jog — 2 laps. Relaxed, conversational pace; let the shoulders loosen.",
            "2. Skipping — 1 lap. Small, springy skips forward, arms swinging easily.",
            f"3. {twin.name} — {twin.dose}. {twin.cue}",
            "4. Strides — 4 × 80 m. Build to about 85 % of top speed, then float down.",
            f"5. Accelerations — {dose}. From a walk, drive the arms and build to a fast run by the end.",
        ]
    )


def expected_forward_cooldown(day: date, run: str, jog: str, walk: str) -> str:
    return "\n".join(
        [
            f"**Cooldown — {short_date(day)}**",
            "Step down gently, all of it forward:",
            f"1. Easy run — {run}. Steady and relaxed, about half effort.",
            f"2. Jog — {jog}. Shorter steps; let your breathing settle.",
            f"3. Walk — {walk}. Tall and slow; shake out the legs.",
            "Slowing down step by step lets your breathing and heart rate come down gradually.",
        ]
    )


@pytest.mark.parametrize("team_id", TEAMS)
def test_the_forward_texts_read_word_for_word(team_id: int) -> None:
    for day in YEAR:
        plan, chosen = forward_plan_for(team_id, day), documented_plan.choice(team_id, day)
        twin = FORWARD_VARIATIONS[chosen.variation]
        dose = documented_plan.STRIDE_DOSES[chosen.stride_dose]
        assert plan.warmup_text() == expected_forward_warmup(day, twin, dose)
        distances = documented_plan.COOLDOWN_DISTANCES[chosen.cooldown]
        assert plan.cooldown_text() == expected_forward_cooldown(day, *distances)


@pytest.mark.parametrize("team_id", TEAMS)
def test_the_forward_plan_is_the_teams_day(team_id: int) -> None:
    for day in YEAR[::11]:
        plan = forward_plan_for(team_id, day)
        assert (plan.team_id, plan.day, plan.forward) == (team_id, day, True)


def test_the_forward_texts_for_a_known_day() -> None:
    plan = forward_plan_for(42, date(2026, 11, 24))  # a Tuesday
    assert plan.warmup_text().startswith("**Warmup — Tue 24 Nov** (all forward)\n1. Easy jog — 2 laps.")
    assert plan.cooldown_text().startswith(
        "**Cooldown — Tue 24 Nov**\nStep down gently, all of it forward:\n1. Easy run — "
    )
