"""The warmup's day-off part always fits one Discord message, and pings exactly the athletes it names."""

from __future__ import annotations

import re
from datetime import date

import pytest

from backrun_bot.domain.day_off import DayOff, day_off_section
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
