"""The soreness rule, as a table: 6 or more in the hamstring, knee or lower back, nothing else."""

from __future__ import annotations

import pytest

from backrun_bot.domain.wellness import (
    Area,
    Soreness,
    checkin_problem,
    sore_day_off,
    sore_reason,
    soreness_words,
)


@pytest.mark.parametrize(
    ("soreness", "area", "day_off"),
    [
        (6, Area.HAMSTRING, True),
        (5, Area.HAMSTRING, False),
        (10, Area.KNEE, True),
        (6, Area.LOWER_BACK, True),
        (5, Area.LOWER_BACK, False),
        (10, Area.CALF, False),
        (10, Area.OTHER, False),
        (10, Area.NONE, False),
        (0, Area.KNEE, False),
        (7, "knee", True),
        (7, "lower-back", True),
    ],
)
def test_sore_day_off(soreness: int, area: Area | str, day_off: bool) -> None:
    assert sore_day_off(soreness, area) is day_off


def test_an_unknown_area_is_refused() -> None:
    with pytest.raises(ValueError):
        sore_day_off(8, "elbow")


def test_a_sore_reason_is_given_exactly_when_the_rule_says_so() -> None:
    assert sore_reason(6, "hamstring") == Soreness(6, Area.HAMSTRING)
    assert sore_reason(5, Area.KNEE) is None
    assert sore_reason(10, Area.CALF) is None
    assert sore_reason(7, "lower-back") == Soreness(7, Area.LOWER_BACK)
    assert Soreness(7, Area.LOWER_BACK).explain() == (
        "soreness 7/10 in the lower back at your check-in "
        "(6 or more in the hamstring, knee or lower back suggests a day off)"
    )


def test_soreness_reads_with_its_area() -> None:
    assert soreness_words(3, "calf") == "soreness 3/10 in the calf"
    assert soreness_words(2, Area.NONE) == "soreness 2/10"
    assert soreness_words(4, Area.OTHER) == "soreness 4/10 elsewhere"


@pytest.mark.parametrize(
    ("soreness", "sleep", "refused"),
    [
        (0, None, None),
        (10, 5, None),
        (5, 1, None),
        (-1, None, "Soreness"),
        (11, None, "Soreness"),
        (5, 0, "Sleep"),
        (5, 6, "Sleep"),
    ],
)
def test_a_checkins_numbers_are_checked_at_their_ranges(
    soreness: int, sleep: int | None, refused: str | None
) -> None:
    problem = checkin_problem(soreness, sleep)
    assert (problem is None) if refused is None else (problem is not None and problem.startswith(refused))
