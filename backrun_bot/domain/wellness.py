"""The daily check-in: how sore an athlete is, where, and how they slept; when soreness means a day
off from backward work today.

Why ask at all: in a systematic review of 56 studies, athletes' own ratings of how they feel
responded to changes in training load more consistently than blood markers, heart rate or
performance tests (Saw, Main & Gastin 2016, *Br J Sports Med* 50:281-291).

The day-off mark: soreness of **6 or more** on the 0-10 scale (:data:`SORE_DAY_OFF_AT`) in the
hamstring, knee or lower back (:data:`DAY_OFF_AREAS`), the areas backward running loads most. It
follows the pain-monitoring model of Silbernagel et al. 2007 (*Am J Sports Med* 35:897-906), in
which training went on while pain stayed at 5 or less of 10 and was cut back above it. Calf and
"other" soreness is recorded and shown to coaches but does not by itself suggest a day off.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

SORENESS_MIN: Final = 0
SORENESS_MAX: Final = 10
SLEEP_MIN: Final = 1
SLEEP_MAX: Final = 5
SORE_DAY_OFF_AT: Final = 6


class Area(StrEnum):
    """Where it is sore (the ``/checkin area`` choices, values as the client shows them)."""

    HAMSTRING = "hamstring"
    KNEE = "knee"
    CALF = "calf"
    LOWER_BACK = "lower-back"
    OTHER = "other"
    NONE = "none"


DAY_OFF_AREAS: Final = frozenset({Area.HAMSTRING, Area.KNEE, Area.LOWER_BACK})


def sore_day_off(soreness: int, area: Area | str) -> bool:
    """Whether a check-in of ``soreness`` in ``area`` suggests a day off from backward work today."""
    return soreness >= SORE_DAY_OFF_AT and Area(area) in DAY_OFF_AREAS


# Where it is sore, as it reads after a figure ("soreness 7/10 in the lower back").
AREA_WORDS: Final = {
    Area.HAMSTRING: " in the hamstring",
    Area.KNEE: " in the knee",
    Area.CALF: " in the calf",
    Area.LOWER_BACK: " in the lower back",
    Area.OTHER: " elsewhere",
    Area.NONE: "",
}


def soreness_words(soreness: int, area: Area | str) -> str:
    """``soreness 7/10 in the hamstring`` (``soreness 2/10`` when no area was given)."""
    return f"soreness {soreness}/{SORENESS_MAX}{AREA_WORDS[Area(area)]}"


@dataclass(frozen=True, slots=True)
class Soreness:
    """A check-in that suggests a day off from backward work on its day (:func:`sore_reason`)."""

    soreness: int
    area: Area

    def explain(self) -> str:
        """``soreness 7/10 in the hamstring at your check-in (6 or more there suggests a day
        off)``: no final full stop or markdown, like :meth:`HeavyDay.explain`."""
        return (
            f"{soreness_words(self.soreness, self.area)} at your check-in "
            f"({SORE_DAY_OFF_AT} or more in the hamstring, knee or lower back suggests a day off)"
        )


def sore_reason(soreness: int, area: Area | str) -> Soreness | None:
    """The reason a check-in gives for a day off from backward work on its day, or None
    (:func:`sore_day_off`)."""
    return Soreness(soreness, Area(area)) if sore_day_off(soreness, area) else None


def checkin_problem(soreness: int, sleep: int | None) -> str | None:
    """What is wrong with a check-in's numbers (a client that ignores the declared ranges can send
    anything), or None."""
    if not SORENESS_MIN <= soreness <= SORENESS_MAX:
        return f"Soreness is a whole number from {SORENESS_MIN} (none) to {SORENESS_MAX} (worst imaginable)."
    if sleep is not None and not SLEEP_MIN <= sleep <= SLEEP_MAX:
        return f"Sleep is a whole number from {SLEEP_MIN} (very poor) to {SLEEP_MAX} (very good)."
    return None
