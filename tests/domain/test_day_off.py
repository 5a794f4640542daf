"""The day-off texts: the warmup's part always fits one Discord message and pings exactly the athletes
it names; /plan's advice says why to rest and when backward work resumes, or why no rest is needed."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from backrun_bot.domain.day_off import DayOff, day_off_section, plan_advice
from backrun_bot.domain.drills import forward_plan_for, plan_for
from backrun_bot.domain.load import HeavyDay, Rule
from backrun_bot.services.delivery import MAX_MESSAGE

HEAVY = HeavyDay(date(2026, 3, 8), (Rule.VOLUME,), 2000, 1600, 2000, None, None)


def squad(n: int, *, opted_out: frozenset[int] = frozenset()) -> list[DayOff]:
    return [
        DayOff(100_000_000_000_000_000 + i, f"Athlete {i:02d}", i not in opted_out, HEAVY) for i in range(n)
    ]


def pinged_in(text: str) -> set[int]:
    return {int(m) for m in re.findall(r"<@(\d+)>", text)}


def test_a_few_athletes_each_get_the_reason() -> None:
    offs = squad(3, opted_out=frozenset({1}))
    text, pings = day_off_section(offs, budget=1000)
    assert text.count("2 km of backward running") == 3
    assert "Athlete 01" in text  # named, not pinged: opted out
    assert pings == (offs[0].user_id, offs[2].user_id)
    assert pinged_in(text) == set(pings)


@pytest.mark.parametrize("n", [20, 60, 500])
def test_a_whole_squad_is_named_within_the_budget(n: int) -> None:
    budget = MAX_MESSAGE - 900  # what the warmup leaves
    text, pings = day_off_section(squad(n), budget=budget)
    assert len(text) <= budget
    assert "/plan" in text  # where each athlete finds the reason
    assert pinged_in(text) == set(pings)  # pinged exactly those named
    named = len(pings)
    assert named >= 1
    if named < n:
        assert f"and {n - named} more" in text


def test_the_reason_goes_only_when_it_does_not_fit() -> None:
    offs = squad(20)
    full, _ = day_off_section(offs, budget=10_000)
    assert full.count("2 km of backward running") == 20
    short, _ = day_off_section(offs, budget=len(full) - 1)
    assert "2 km of backward running" not in short
    assert pinged_in(short) == {o.user_id for o in offs}  # all twenty still named


# --- /plan's advice -------------------------------------------------------------------------------

MONDAY = date(2026, 3, 9)


def test_a_day_off_says_why_and_when_backward_work_resumes() -> None:
    text = plan_advice(MONDAY, HEAVY, 2000, 1600)
    assert text.startswith(
        "**Take today off from backward work**: 2 km of backward running "
        "(your team's heavy-day mark is 1.6 km)."
    )
    assert "forward versions" in text
    assert text.endswith("Backward work resumes tomorrow, Tue 10 Mar.")
    assert plan_advice(date(2026, 12, 31), HEAVY, 2000, 1600).endswith("resumes tomorrow, Fri 1 Jan.")


def test_a_normal_day_says_no_day_off_is_needed_and_why_not() -> None:
    text = plan_advice(MONDAY, None, 400, 1600)
    assert text.startswith(
        "No day off needed: yesterday you ran 400 m backward (your team's heavy-day mark is 1.6 km)"
    )
    assert "1600" not in text
    assert plan_advice(MONDAY, None, 1250.4, 2500).startswith(
        "No day off needed: yesterday you ran 1.25 km backward (your team's heavy-day mark is 2.5 km)"
    )
    assert plan_advice(MONDAY, None, 0, 1600) == "No day off needed: you ran no backward meters yesterday."


def test_the_longest_advice_and_either_plan_fit_one_message() -> None:
    every_rule = HeavyDay(
        date(2026, 3, 8),
        (Rule.VOLUME, Rule.SPIKE, Rule.RATIO),
        backward_meters=19_999.99,
        threshold=20_000,
        longest_session=19_999.99,
        previous_longest=1.0,
        ratio=123.456,
    )
    for day in (MONDAY + timedelta(days=n) for n in range(0, 366, 5)):
        advice = plan_advice(day, every_rule, 19_999.99, 20_000)
        for plan in (plan_for(42, day), forward_plan_for(42, day)):
            assert len("\n\n".join([advice, plan.warmup_text(), plan.cooldown_text()])) <= 2000
