"""The soreness rule, as a table: 6 or more in the hamstring, knee or lower back, nothing else."""

from __future__ import annotations

import pytest

from backrun_bot.domain.wellness import Area, sore_day_off


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
