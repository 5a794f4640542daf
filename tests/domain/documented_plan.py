"""The day's choices as the docstring of :mod:`backrun_bot.domain.drills` documents them, worked out
independently of the module (lexicographic permutations instead of its Lehmer decoding), so that the
tests can check the plan against the documentation rather than against itself.

The derivation is part of the behaviour: a change to it gives every team another plan for today, so
the morning's posted warmup and a ``/plan`` after a deploy would disagree.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass
from datetime import date, timedelta

# Every order of the seven drills, in lexicographic order: the k-th is the one Lehmer code k names.
ORDERS = tuple(itertools.permutations(range(7)))
STRIDE_DOSES = ("4 × 30 m", "4 × 40 m", "4 × 50 m")  # "4 x 30, 40 or 50 m"
COOLDOWN_DISTANCES = (  # run, jog, walk
    ("100 m", "100 m", "100 m"),
    ("150 m", "100 m", "100 m"),
    ("200 m", "100 m", "100 m"),
    ("150 m", "150 m", "100 m"),
    ("200 m", "150 m", "100 m"),
)


def digest(team_id: int, day: date) -> bytes:
    """SHA-256 of ``"{team_id}:{day.isoformat()}"``."""
    return hashlib.sha256(f"{team_id}:{day.isoformat()}".encode()).digest()


def _number(data: bytes) -> int:
    return int.from_bytes(data, "big")


def shuffled_week(team_id: int, monday: date) -> tuple[int, ...]:
    """The week's order before the boundary rule: the first 8 bytes of the Monday's digest."""
    return ORDERS[_number(digest(team_id, monday)[:8]) % len(ORDERS)]


def week_order(team_id: int, monday: date) -> tuple[int, ...]:
    """The week's order of variation indices, Monday first, after the boundary rule (the first two
    days swap when the week would begin with last Sunday's drill)."""
    order = list(shuffled_week(team_id, monday))
    if monday - date.min >= timedelta(weeks=1):  # the calendar's first week has no week before it
        last_sunday = shuffled_week(team_id, monday - timedelta(weeks=1))[-1]
        if order[0] == last_sunday:
            order[0], order[1] = order[1], order[0]
    return tuple(order)


@dataclass(frozen=True)
class Choice:
    """Indices into the variation, stride-dose and cooldown tables."""

    variation: int
    stride_dose: int
    cooldown: int


def choice(team_id: int, day: date) -> Choice:
    """What the documentation says ``team_id`` does on ``day``."""
    monday = day - timedelta(days=day.weekday())
    of_the_day = digest(team_id, day)
    return Choice(
        variation=week_order(team_id, monday)[day.weekday()],
        stride_dose=_number(of_the_day[8:16]) % len(STRIDE_DOSES),
        cooldown=_number(of_the_day[16:24]) % len(COOLDOWN_DISTANCES),
    )
