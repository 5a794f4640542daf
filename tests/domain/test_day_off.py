"""The day-off texts: the warmup's part always fits one Discord message and pings exactly the athletes
it names; /plan's advice says why to rest and when backward work resumes, or why no rest is needed."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from backrun_bot.domain.day_off import DayOff, DayOffReason, day_off_reason, day_off_section, plan_advice
from backrun_bot.domain.drills import forward_plan_for, plan_for
from backrun_bot.domain.load import HeavyDay, LoadPicture, Rule
from backrun_bot.domain.wellness import Area, Soreness
from backrun_bot.services.delivery import MAX_MESSAGE

HEAVY = HeavyDay(date(2026, 3, 8), (Rule.VOLUME,), 2000, 1600, 2000, None)
HEAD = "**Day off from backward work today** — yesterday was heavy for:"
TAIL = "Do the forward parts of the warmup; the backward work waits for tomorrow."
NAMES_TAIL = f"Each of you can see why with `/plan`. {TAIL}"


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


def test_the_detailed_section_reads_word_for_word() -> None:
    offs = [DayOff(11, "Ana", True, HEAVY), DayOff(22, "Ben", False, HEAVY)]
    reason = "2 km of backward running (your team's heavy-day mark is 1.6 km)"
    text, pings = day_off_section(offs, budget=1000)
    assert text == f"{HEAD}\n• <@11>: {reason}\n• Ben: {reason}\n{TAIL}"
    assert pings == (11,)


def test_the_detailed_section_exactly_at_the_budget_fits_and_one_over_names_only() -> None:
    offs = [DayOff(11, "Ana", True, HEAVY), DayOff(22, "Ben", False, HEAVY)]
    full, _ = day_off_section(offs, budget=10_000)
    assert day_off_section(offs, budget=len(full)) == (full, (11,))
    assert day_off_section(offs, budget=len(full) - 1) == (f"{HEAD}\n<@11>, Ben.\n{NAMES_TAIL}", (11,))


def names_only(offs: list[DayOff], count: int) -> str:
    """The names-only section naming the first ``count`` athletes, as users read it."""
    who = ", ".join(f"<@{o.user_id}>" if o.mention else o.display_name for o in offs[:count])
    rest = len(offs) - count
    return f"{HEAD}\n{who}{f' and {rest} more' if rest else ''}.\n{NAMES_TAIL}"


def test_names_only_at_the_budget_edge_then_and_n_more() -> None:
    offs = squad(5, opted_out=frozenset({1}))
    ids = [o.user_id for o in offs]
    everyone = names_only(offs, 5)
    assert everyone == (
        f"{HEAD}\n<@{ids[0]}>, Athlete 01, <@{ids[2]}>, <@{ids[3]}>, <@{ids[4]}>.\n{NAMES_TAIL}"
    )
    assert day_off_section(offs, budget=len(everyone)) == (everyone, (ids[0], ids[2], ids[3], ids[4]))
    # One character short: the last athlete is counted, not named (nor pinged).
    four = names_only(offs, 4)
    assert four.endswith(f"<@{ids[3]}> and 1 more.\n{NAMES_TAIL}")
    assert day_off_section(offs, budget=len(everyone) - 1) == (four, (ids[0], ids[2], ids[3]))
    assert day_off_section(offs, budget=len(four)) == (four, (ids[0], ids[2], ids[3]))
    assert day_off_section(offs, budget=len(four) - 1) == (names_only(offs, 3), (ids[0], ids[2]))
    # Room for one name only.
    one = names_only(offs, 1)
    assert one == f"{HEAD}\n<@{ids[0]}> and 4 more.\n{NAMES_TAIL}"
    assert day_off_section(offs, budget=len(one)) == (one, (ids[0],))


def test_when_not_even_one_name_fits_the_athletes_are_counted_and_nobody_is_pinged() -> None:
    offs = squad(5)
    budget = len(names_only(offs, 1)) - 1
    text, pings = day_off_section(offs, budget=budget)
    assert text == f"{HEAD} 5 athletes.\n{NAMES_TAIL}"[:budget]
    assert pings == ()
    assert "<@" not in text


def test_pings_are_exactly_the_named_athletes_with_mentions_on() -> None:
    offs = squad(30, opted_out=frozenset(range(0, 30, 3)))
    for budget in (10_000, 900, 400, 200):
        text, pings = day_off_section(offs, budget=budget)
        named = [o for o in offs if f"<@{o.user_id}>" in text or o.display_name in text]
        assert named == offs[: len(named)]  # named in order, the rest counted
        assert pings == tuple(o.user_id for o in named if o.mention)
        assert pinged_in(text) == set(pings)
        assert not any(o.display_name in text for o in named if o.mention)  # pinged, not also named


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


DAY_OFF_END = (
    "\nThe warmup and cooldown below are the forward versions. Backward work resumes tomorrow, Tue 10 Mar."
)


@pytest.mark.parametrize(
    ("heavy", "reason"),
    [
        (HEAVY, "2 km of backward running (your team's heavy-day mark is 1.6 km)"),
        (
            HeavyDay(date(2026, 3, 8), (Rule.SPIKE,), 1200, 1600, 1200, 800),
            "a 1.2 km session, 50% longer than your longest in the previous 30 days (800 m)",
        ),
    ],
)
def test_the_day_off_advice_for_each_rule_reads_word_for_word(heavy: HeavyDay, reason: str) -> None:
    advice = plan_advice(MONDAY, heavy, heavy.backward_meters, heavy.threshold)
    assert advice == f"**Take today off from backward work**: {reason}.{DAY_OFF_END}"


@pytest.mark.parametrize(
    ("backward_m", "ran"), [(400, "400 m"), (1, "1 m"), (1599.9, "1.6 km"), (1250.4, "1.25 km")]
)
def test_the_normal_day_advice_reads_word_for_word(backward_m: float, ran: str) -> None:
    assert plan_advice(MONDAY, None, backward_m, 1600) == (
        f"No day off needed: yesterday you ran {ran} backward (your team's heavy-day mark is 1.6 km), "
        "with no sharp jump over your recent weeks."
    )


def test_the_longest_advice_and_either_plan_fit_one_message() -> None:
    every_rule = HeavyDay(
        date(2026, 3, 8),
        (Rule.VOLUME, Rule.SPIKE),
        backward_meters=19_999.99,
        threshold=20_000,
        longest_session=19_999.99,
        previous_longest=1.0,
    )
    for day in (MONDAY + timedelta(days=n) for n in range(0, 366, 5)):
        advice = plan_advice(day, every_rule, 19_999.99, 20_000)
        for plan in (plan_for(42, day), forward_plan_for(42, day)):
            assert len("\n\n".join([advice, plan.warmup_text(), plan.cooldown_text()])) <= 2000


# --- soreness as a reason (issue 11) ---------------------------------------------------------------

SORE = Soreness(7, Area.KNEE)


@pytest.mark.parametrize(
    ("heavy", "soreness", "area", "expected"),
    [
        (None, None, None, None),
        (None, 7, "knee", DayOffReason(None, SORE)),
        (None, 9, "calf", None),
        (None, 5, "knee", None),
        (HEAVY, None, None, DayOffReason(HEAVY, None)),
        (HEAVY, 2, "none", DayOffReason(HEAVY, None)),
        (HEAVY, 7, "knee", DayOffReason(HEAVY, SORE)),
    ],
)
def test_day_off_reason_takes_either_reason_or_both(
    heavy: HeavyDay | None, soreness: int | None, area: str | None, expected: DayOffReason | None
) -> None:
    assert day_off_reason(heavy, soreness, area) == expected


def test_both_reasons_are_explained() -> None:
    both = DayOffReason(HEAVY, SORE).explain()
    assert both.startswith("2 km of backward running (your team's heavy-day mark is 1.6 km); soreness 7/10")


def test_a_sore_athlete_in_the_warmup_has_the_soreness_as_the_reason() -> None:
    offs = [DayOff(11, "Ana", True, HEAVY), DayOff(22, "Ben", False, None, sore=SORE)]
    text, pings = day_off_section(offs, budget=1000)
    assert text.splitlines()[0] == "**Day off from backward work today** — suggested for:"
    assert "• Ben: soreness 7/10 in the knee at your check-in" in text
    assert "• <@11>: 2 km of backward running" in text
    assert pings == (11,)
    # Heavy days only: the heading says yesterday was heavy, as before.
    assert day_off_section(offs[:1], budget=1000)[0].startswith(HEAD)


def test_the_plan_advice_for_soreness_and_for_a_checkin_that_is_no_reason() -> None:
    sore = plan_advice(MONDAY, None, 0, 1600, checkin=(7, "knee"))
    assert sore.startswith(
        "**Take today off from backward work**: soreness 7/10 in the knee at your check-in"
    )
    assert sore.endswith("Backward work resumes tomorrow, Tue 10 Mar, unless tomorrow's check-in is as sore.")
    calf = plan_advice(MONDAY, None, 400, 1600, checkin=(9, "calf"))
    assert calf.startswith("No day off needed: yesterday you ran 400 m backward")
    assert calf.endswith(
        "Today's check-in (soreness 9/10 in the calf) does not call for one: only 6 or more in the "
        "hamstring, knee or lower back does."
    )
    # A check-in of no soreness at all needs no word.
    assert plan_advice(MONDAY, None, 0, 1600, checkin=(0, "none")) == plan_advice(MONDAY, None, 0, 1600)


def test_the_longest_advice_with_soreness_still_fits_one_message() -> None:
    every_rule = HeavyDay(
        MONDAY - timedelta(days=1),
        (Rule.VOLUME, Rule.SPIKE),
        backward_meters=19_999.99,
        threshold=20_000,
        longest_session=19_999.99,
        previous_longest=1.0,
    )
    # With both of the load's lines under it (a caution and the variety advice, at their longest).
    load = LoadPicture(MONDAY, 123.456, 9e9, 99.0, 1.234e12, True)
    assert len(load.lines()) == 2
    for day in (MONDAY + timedelta(days=n) for n in range(0, 366, 5)):
        advice = plan_advice(day, every_rule, 19_999.99, 20_000, checkin=(10, "lower-back"))
        advice = "\n".join([advice, *load.lines()])
        for plan in (plan_for(42, day), forward_plan_for(42, day)):
            assert len("\n\n".join([advice, plan.warmup_text(), plan.cooldown_text()])) <= 2000
