"""Monday's summary of the team's last week: what it says, in one Discord message.

Plain text logic over figures the store has summed (``storage/weekly_queries.py``): the week's team
totals, the athletes placed by backward metres (ties share a place: 1, 2, 2, 4), and the longest
current streaks (computed as /stats does, :func:`backrun_bot.domain.stats.streaks`). Names are shown
literally (:func:`literal_line`) and pinged never: the summary goes to the whole squad.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar

from backrun_bot.domain.amounts import Units, format_distance
from backrun_bot.domain.text import literal_line

# The places the summary shows ("the top three"); everyone tied on one of them is shown.
PLACES = 3
# A streak of one day is no streak: the summary lists streaks of at least this many days.
MIN_STREAK = 2
# At most this many names per list (a tie of a whole squad on third place is counted, not listed).
MAX_NAMED = 10
NAME_LIMIT = 40


def last_week(day: date) -> tuple[date, date]:
    """The Monday and the Sunday of the week before the one ``day`` is in (the team's local days)."""
    monday = day - timedelta(days=day.weekday())
    return monday - timedelta(days=7), monday - timedelta(days=1)


@dataclass(frozen=True, slots=True)
class WeekTotals:
    """One team's week: backward and forward metres (effective, as /stats counts them) and how many
    athletes logged anything."""

    backward_m: float = 0.0
    forward_m: float = 0.0
    athletes: int = 0


@dataclass(frozen=True, slots=True)
class Placed:
    """An athlete on a list: their place (shared by ties), name and figure."""

    place: int
    name: str
    value: float


T = TypeVar("T")


def placed(items: Sequence[T], value: Callable[[T], float], name: Callable[[T], str]) -> list[Placed]:
    """``items`` ranked by ``value``, highest first (ties by name), with competition places (1, 2, 2,
    4), keeping those placed within :data:`PLACES`."""
    ordered = sorted(items, key=lambda i: (-value(i), name(i).lower()))
    out: list[Placed] = []
    for index, item in enumerate(ordered):
        place = out[-1].place if out and out[-1].value == value(item) else index + 1
        if place > PLACES:
            break
        out.append(Placed(place, name(item), value(item)))
    return out


@dataclass(frozen=True, slots=True)
class WeeklySummary:
    """Everything Monday's summary says for one team."""

    first: date
    last: date
    totals: WeekTotals
    top: list[Placed]  # by backward metres
    streaks: list[Placed]  # by current streak, in days
    units: Units = Units.METRIC  # the team's: how distances are shown

    @property
    def empty(self) -> bool:
        """Nobody logged anything last week (the summary is not sent: nothing to sum up)."""
        return self.totals.athletes == 0

    def text(self) -> str:
        """The message, well under Discord's 2,000 characters whatever the names."""
        t = self.totals

        def shown(meters: float) -> str:
            return format_distance(meters, self.units)

        athletes = f"{t.athletes} athlete{'s' if t.athletes != 1 else ''}"
        lines = [
            f"📊 **Last week** ({_day(self.first)} – {_day(self.last)})",
            f"Backward: **{shown(t.backward_m)}** · Forward: **{shown(t.forward_m)}** "
            f"· {athletes} logged runs",
            "",
            "**Top three, backward**",
        ]
        lines += _listed(self.top, shown) or ["No backward running logged last week."]
        lines += ["", "**Longest current streaks** (days in a row with backward work)"]
        lines += _listed(self.streaks, lambda d: f"{d:.0f} days") or [
            f"No streak of {MIN_STREAK} days or more right now."
        ]
        return "\n".join(lines)


def _day(d: date) -> str:
    return f"{d:%a} {d.day} {d:%b}"


def _listed(entries: Sequence[Placed], shown: Callable[[float], str]) -> list[str]:
    lines = [f"{e.place}. {literal_line(e.name, NAME_LIMIT)} — {shown(e.value)}" for e in entries[:MAX_NAMED]]
    if len(entries) > MAX_NAMED:
        lines.append(f"… and {len(entries) - MAX_NAMED} more")
    return lines
