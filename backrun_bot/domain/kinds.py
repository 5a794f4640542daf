"""The kinds of running an athlete can log.

Six are backward; ``forward`` is logged too, only so the backward share of all running can be shown.

An entry given as a duration only (``9 min``) is counted as a distance through an assumed pace, and
the session-RPE load (:mod:`backrun_bot.domain.load`) counts a distance-only entry's minutes at the
same pace. The paces are deliberately conservative team-level guesses, not measurements:

=================  ========  ==========================================================================
kind               s/km      why
=================  ========  ==========================================================================
backward           420       7:00/km: a steady backward run is roughly 1.3x slower than forward.
backpedal          400       6:40/km: short, quick athletic steps, a little faster than a backward run.
backward-skip      480       8:00/km: skipping spends effort going up, not back.
backward-jog       540       9:00/km: an easy, conversational backward jog.
backward-walk      900       15:00/km: walking backward, a bit slower than a normal walk.
backward-sprint    250       4:10/km: sprint efforts, averaged with the slowing down at each end.
forward            330       5:30/km: a typical easy forward run for a trained team athlete.
=================  ========  ==========================================================================
"""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    """A kind of running; the value is what is stored and what the slash command sends."""

    BACKWARD = "backward"
    BACKPEDAL = "backpedal"
    BACKWARD_SKIP = "backward-skip"
    BACKWARD_JOG = "backward-jog"
    BACKWARD_WALK = "backward-walk"
    BACKWARD_SPRINT = "backward-sprint"
    FORWARD = "forward"

    @property
    def is_backward(self) -> bool:
        """True for every kind except forward running."""
        return self is not Kind.FORWARD

    @property
    def label(self) -> str:
        """Lower-case words for sentences: ``"backward run"``, ``"backpedal"``, ``"forward run"``."""
        return _LABELS[self]

    @property
    def pace_s_per_km(self) -> float:
        """The assumed pace (seconds per km): a duration-only entry's distance, a distance-only
        entry's minutes for its load; see the table."""
        return _PACES[self]


_LABELS: dict[Kind, str] = {
    Kind.BACKWARD: "backward run",
    Kind.BACKPEDAL: "backpedal",
    Kind.BACKWARD_SKIP: "backward skip",
    Kind.BACKWARD_JOG: "backward jog",
    Kind.BACKWARD_WALK: "backward walk",
    Kind.BACKWARD_SPRINT: "backward sprint",
    Kind.FORWARD: "forward run",
}

_PACES: dict[Kind, float] = {
    Kind.BACKWARD: 420.0,
    Kind.BACKPEDAL: 400.0,
    Kind.BACKWARD_SKIP: 480.0,
    Kind.BACKWARD_JOG: 540.0,
    Kind.BACKWARD_WALK: 900.0,
    Kind.BACKWARD_SPRINT: 250.0,
    Kind.FORWARD: 330.0,
}

# (name shown in Discord's choice list, value sent back), in enum order. Capitalised because Discord
# shows the names as a menu; Discord allows at most 100 characters per name (asserted in the tests).
KIND_CHOICES: list[tuple[str, str]] = [(kind.label.capitalize(), kind.value) for kind in Kind]
