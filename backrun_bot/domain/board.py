"""The leaderboard's ranking rule: who stands where, and which rows a board shows.

Standard competition ranking ("1224"): athletes are ordered by distance, most first, and an athlete's
place is one more than the number of athletes with strictly more. Athletes with the same distance
share a place, and the place after them is skipped: 1, 2, 2, 4.

"The same distance" is the same to the whole metre (what the board shows at most, and what anyone
logs): the database adds floats in no fixed order, and a duration-only entry counts a fraction of a
metre through its pace, so two athletes who both ran 1,000 m could otherwise differ by 1e-13 m and
be split. Within a place the order is by name (case-insensitive), then by athlete id, so a board
reads the same on every call.

A board shows the first :data:`TOP` standings, then the caller's own if it is not among them, and
says how many more athletes share the place of its last row (so that a cut through a tie is never
silent).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from backrun_bot.domain.amounts import Units, format_distance
from backrun_bot.domain.kinds import Kind
from backrun_bot.domain.text import literal_line

TOP: Final = 10
NAME_CHARS: Final = 40  # a board line's name, shortened (escapes included) so ten lines stay short
MEDALS: Final = {1: "🥇", 2: "🥈", 3: "🥉"}
# The leaderboard's ``kind`` option: "backward" is every backward kind together (on /log it is the
# backward run alone); any other kind of /log is that kind only.
ALL_BACKWARD: Final = Kind.BACKWARD.value


@dataclass(frozen=True, slots=True)
class Total:
    """One athlete's distance over the board's period (what the database sums)."""

    athlete_id: int
    user_id: int
    name: str
    meters: float


@dataclass(frozen=True, slots=True)
class Standing:
    place: int
    total: Total


@dataclass(frozen=True, slots=True)
class Board:
    """What a leaderboard shows: the top rows, the caller's row if it is below them, and how many
    athletes beyond the top rows share the last top row's place."""

    top: tuple[Standing, ...]
    caller: Standing | None  # the caller's standing when it is not in ``top``
    tied_beyond: int
    athletes: int  # everyone ranked (everyone with a distance in the period)


def _whole_metres(meters: float) -> int:
    return math.floor(meters + 0.5)


def rank(totals: Iterable[Total]) -> list[Standing]:
    """Every athlete with a distance above 0 (rounded to the whole metre), by place; see the module
    notes for the order and the ties."""
    counted = [t for t in totals if math.isfinite(t.meters) and _whole_metres(t.meters) > 0]
    ordered = sorted(counted, key=lambda t: (-_whole_metres(t.meters), t.name.casefold(), t.athlete_id))
    standings: list[Standing] = []
    for position, total in enumerate(ordered, start=1):
        if standings and _whole_metres(standings[-1].total.meters) == _whole_metres(total.meters):
            place = standings[-1].place
        else:
            place = position
        standings.append(Standing(place, total))
    return standings


def board(totals: Iterable[Total], caller_user_id: int, top: int = TOP) -> Board:
    """The board of ``totals`` as the member ``caller_user_id`` sees it (their row added below the
    first ``top`` when it is lower; none when they have no distance in the period)."""
    standings = rank(totals)
    shown = tuple(standings[:top])
    rest = standings[top:]
    tied = sum(1 for s in rest if shown and s.place == shown[-1].place)
    mine = next((s for s in rest if s.total.user_id == caller_user_id), None)
    return Board(top=shown, caller=mine, tied_beyond=tied, athletes=len(standings))


def board_kind(value: str) -> Kind | None:
    """The kind a board counts: None for every backward kind (``backward``), else that kind.
    ValueError for anything that is not a kind of /log."""
    return None if value == ALL_BACKWARD else Kind(value)


def board_kind_choices() -> list[tuple[str, str]]:
    """(name shown, value) for the ``kind`` option, "All backward" first."""
    return [("All backward", ALL_BACKWARD)] + [
        (kind.label.capitalize(), kind.value) for kind in Kind if kind is not Kind.BACKWARD
    ]


def kind_words(kind: Kind | None) -> str:
    """What a board counts, for its title and its empty text: ``"backward running"``, ``"backpedal"``."""
    return "backward running" if kind is None else kind.label


def standing_line(standing: Standing, units: Units, *, you: bool = False) -> str:
    """``🥇 **Alice** — 2.4 km``, ``**4.** Dan — 1.2 km`` (the caller's own name in bold, "(you)")."""
    place = MEDALS.get(standing.place, f"**{standing.place}.**")
    name = literal_line(standing.total.name, NAME_CHARS)
    shown = f"**{name}** (you)" if you else name
    return f"{place} {shown} — {format_distance(standing.total.meters, units)}"


def board_lines(shown: Board, caller_user_id: int, units: Units, kind: Kind | None, period: str) -> list[str]:
    """The board as lines of text: the top rows, a cut tie counted, then the caller's own row (or
    that they have none yet); a kind line for an empty board. ``period`` is ``"week"`` etc."""
    if not shown.top:
        return [
            f"Nobody has logged any {kind_words(kind)} this {period} yet. "
            f"Be the first: `/log {(kind or Kind.BACKWARD).value} 400m`."
        ]
    lines = [standing_line(s, units, you=s.total.user_id == caller_user_id) for s in shown.top]
    if shown.tied_beyond:
        place = shown.top[-1].place
        lines.append(f"… and {shown.tied_beyond} more sharing place {place}")
    if shown.caller is not None:
        lines += ["", standing_line(shown.caller, units, you=True)]
    elif all(s.total.user_id != caller_user_id for s in shown.top):
        lines += ["", f"You have no {kind_words(kind)} this {period} yet."]
    return lines
