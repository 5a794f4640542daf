"""The Done button's domain: every backward step of every day's warmup and cooldown maps to an entry
that says what the text says; the count line; which days Done still takes."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from backrun_bot.domain.done import DONE_LINE_ROOM, done_line, too_old, with_done_count
from backrun_bot.domain.drills import Backward, Drill, forward_plan_for, plan_for
from backrun_bot.domain.kinds import Kind
from backrun_bot.domain.schedule import Slot

TEAMS = (1, 42, 987_654_321_012_345_678)
DAYS = [date(2026, 1, 1) + timedelta(days=n) for n in range(120)]
BACKWARD_WORDS = ("backward", "backpedal")


def dose_metres(drill: Drill) -> int | None:
    """The metres the step's text asks for, read from its dose (and, for the shuffle, less the
    sideways part its cue names), independently of the structured part."""
    if m := re.fullmatch(r"(\d+) × (\d+) m", drill.dose):
        total = int(m[1]) * int(m[2])
        if sideways := re.search(r"sideways for (\d+) m", drill.cue):
            total -= int(m[1]) * int(sideways[1])
        return total
    if m := re.fullmatch(r"(\d+) laps?", drill.dose):
        return int(m[1]) * 400
    if m := re.fullmatch(r"(\d+) m", drill.dose):
        return int(m[1])
    return None


@pytest.mark.parametrize("slot", list(Slot))
def test_every_backward_step_of_every_day_maps_to_an_entry_of_what_the_text_says(slot: Slot) -> None:
    for team_id in TEAMS:
        for day in DAYS:
            plan = plan_for(team_id, day)
            steps = plan.cooldown if slot is Slot.COOLDOWN else plan.warmup
            text = plan.cooldown_text() if slot is Slot.COOLDOWN else plan.warmup_text()
            backward = [d for d in steps if any(w in d.name.lower() for w in BACKWARD_WORDS)]
            # Nothing backward in the text is left without a part, and nothing forward has one.
            assert plan.backward_steps(slot) == tuple(backward)
            for drill in backward:
                assert drill.backward is not None
                assert drill.backward.kind.is_backward
                assert f"{drill.name} — {drill.dose}." in text
                assert drill.backward.metres == dose_metres(drill), drill


def test_the_kinds_follow_the_movement() -> None:
    warmup = plan_for(1, DAYS[0]).backward_steps(Slot.WARMUP)
    assert (warmup[0].name, warmup[0].backward) == ("Backward skipping", Backward(Kind.BACKWARD_SKIP, 400))
    strides = warmup[-1]
    assert strides.name == "Backpedal strides" and strides.backward is not None
    assert strides.backward.kind is Kind.BACKPEDAL and strides.backward.metres in (120, 160, 200)
    cooldown = plan_for(1, DAYS[0]).backward_steps(Slot.COOLDOWN)
    assert [d.backward.kind for d in cooldown if d.backward] == [
        Kind.BACKWARD,
        Kind.BACKWARD_JOG,
        Kind.BACKWARD_WALK,
    ]


def test_the_lunges_have_no_distance_and_log_nothing() -> None:
    """Documented in domain/drills.py: a step without a distance is left out, not given a made-up one."""
    lunges = [
        d
        for day in DAYS
        for d in plan_for(1, day).backward_steps(Slot.WARMUP)
        if d.name == "Backward walking lunges"
    ]
    assert lunges, "the lunges come up in any week"
    assert all(d.backward is not None and d.backward.metres is None for d in lunges)
    assert all(d.backward is None or d.backward.metres is not None for d in plan_for(1, DAYS[0]).cooldown)


def test_the_forward_version_has_nothing_to_log() -> None:
    for day in DAYS[:14]:
        plan = forward_plan_for(42, day)
        assert plan.backward_steps(Slot.WARMUP) == () == plan.backward_steps(Slot.COOLDOWN)


def test_the_count_line_replaces_itself_and_fits_its_room() -> None:
    reminder = "**Warmup — Mon 9 Mar**\n1. Easy jog — 2 laps."
    once = with_done_count(reminder, 1)
    assert once == f"{reminder}\n\n✅ 1 athlete done"
    assert with_done_count(once, 12) == f"{reminder}\n\n✅ 12 athletes done"
    assert with_done_count(with_done_count(once, 12), 0) == reminder  # the last one undone
    # A text that merely ends like a count (no blank line before it) is not taken for one.
    assert with_done_count("x ✅ 3 athletes done", 1) == "x ✅ 3 athletes done\n\n✅ 1 athlete done"
    assert len("\n\n" + done_line(999_999)) <= DONE_LINE_ROOM


def test_done_takes_today_and_two_days_back() -> None:
    today = date(2026, 3, 11)
    assert not too_old(today, today)
    assert not too_old(today - timedelta(days=2), today)
    assert too_old(today - timedelta(days=3), today)
    assert too_old(today + timedelta(days=1), today)
