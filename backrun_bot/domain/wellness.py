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
