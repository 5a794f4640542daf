"""The day's warmup and cooldown, with the backward work built in (and a forward version for a day off).

Warmup (in this order):

1. Easy forward jog, 2 laps.
2. One lap of **backward skipping**.
3. The **backward drill of the day**, one of :data:`WARMUP_VARIATIONS`.
4. Forward strides, building the pace.
5. **Backpedal strides** (backward strides) once the pace is up, 4 x 30, 40 or 50 m.

Cooldown: always step down through a **backward run**, a **backward jog** and a slow **backward walk**;
:data:`COOLDOWN_VARIATIONS` only change the distances. Going from running to walking lets breathing
and heart rate settle while the hamstrings, glutes and calves keep working. (We make no claim that it
stops injuries, so the text does not either.)

Forward version
---------------
On an athlete's suggested day off from backward work (see :mod:`backrun_bot.domain.load`), ``/plan``
shows :func:`forward_plan_for` instead: the same five warmup steps and three cooldown steps with every
backward part turned forward — forward skipping, the forward twin of the drill of the day
(:data:`FORWARD_VARIATIONS`, index for index with :data:`WARMUP_VARIATIONS`), accelerations in place
of the backpedal strides, and an easy run → jog → walk. It is chosen from exactly the same digests, so
it is the day's team plan, only forward.

Choosing, deterministically
---------------------------
Everything is decided from SHA-256 digests of ``f"{team_id}:{day.isoformat()}"`` (never Python's
``hash()``, which changes with every process), so a restart or another process gives the same plan.

* The drill of the day: each ISO week (Monday to Sunday) a team goes through all seven variations once,
  in an order shuffled by the digest of that week's Monday. If the new week would begin with last
  Sunday's drill, its first two days swap, so the same drill never comes two days in a row.
* The cooldown distances and the backpedal-stride dose come from the digest of the day itself (other
  bytes of it than the weekly shuffle uses).

What the Done button logs
-------------------------
Every backward step carries its :class:`Backward` part: the kind it is logged as and its metres in
all. The dose shown is written from the same numbers (``2 × 20 m`` and 40 m of ``backward-skip``
come from one ``sets, metres`` pair), so the reminder's text and what a **Done** press logs cannot
disagree. Kinds: skipping drills (the lap, A-skips) are ``backward-skip``; backpedalling (the strides,
the second half of the shuffle, the zig-zag) is ``backpedal``; the running drills (high knees, butt
kicks, bounds) and the cooldown's run are ``backward``; then ``backward-jog`` and ``backward-walk``.

A step without a distance (the walking lunges, ``2 × 8 each leg``) has a part with ``metres=None``
and logs nothing: an entry needs a distance or a duration, and inventing one (a step length, a
time) would put a made-up number into the athlete's load. The Done reply says it was left out.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from backrun_bot.domain.amounts import LAP_METERS, YARD_METERS, Units, format_distance
from backrun_bot.domain.kinds import Kind
from backrun_bot.domain.schedule import DAY_ABBREVIATIONS, Slot

MONTH_ABBREVIATIONS: Final = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)
SAFETY_LINE: Final = (
    "Safety: go backward only in a clear lane or open space, look over your shoulder every few steps, "
    "keep your steps short and stay on the balls of your feet."
)


@dataclass(frozen=True)
class Backward:
    """The backward part of a step, as the Done button logs it: its kind and its metres in all
    (``None``: the step has no distance, and is not logged)."""

    kind: Kind
    metres: int | None


@dataclass(frozen=True)
class Drill:
    """One step of a session: what to do, how much, and the one thing to keep in mind; ``backward``
    is its backward part (None for a forward step)."""

    name: str
    dose: str
    cue: str
    backward: Backward | None = None

    def line(self, units: Units = Units.METRIC) -> str:
        """The step as one line: name, dose and cue, as in ``"Strides — 4 x 80 m. Build to…"``; in
        imperial units every distance in metres is given in yards (:func:`in_yards`)."""
        line = f"{self.name} — {self.dose}. {self.cue}"
        return in_yards(line) if units == Units.IMPERIAL else line


# A distance in whole metres as the tables write it ("80 m", "4 × 30 m", "every 5 m"); not "5 min".
_METRES = re.compile(r"\b(\d+) m\b", re.ASCII)
FIELD_YARDS: Final = 5


def in_yards(text: str) -> str:
    """``text`` with each ``"<n> m"`` given in yards, to the nearest 5 yd: a dose is a distance to
    mark out, and a field is lined every 5 yards (80 m → 85 yd, 30 m → 35 yd, 100 m → 110 yd, 5 m →
    5 yd). Only for the plan's own texts (the tables here), never for what anyone typed."""

    def yards(match: re.Match[str]) -> str:
        shown = round(int(match[1]) / YARD_METERS / FIELD_YARDS) * FIELD_YARDS
        return f"{max(shown, FIELD_YARDS)} yd"

    return _METRES.sub(yards, text)


def _sets(name: str, sets: int, metres: int, cue: str, kind: Kind) -> Drill:
    """A backward step of ``sets`` × ``metres``: its dose and its logged part from the same numbers."""
    return Drill(name, f"{sets} × {metres} m", cue, Backward(kind, sets * metres))


EASY_JOG: Final = Drill("Easy jog", "2 laps", "Relaxed, conversational pace; let the shoulders loosen.")
BACKWARD_SKIPPING: Final = Drill(
    "Backward skipping",
    "1 lap",
    "Small, springy skips, arms swinging easily; glance over your shoulder.",
    Backward(Kind.BACKWARD_SKIP, int(LAP_METERS)),
)
STRIDES: Final = Drill("Strides", "4 × 80 m", "Build to about 85 % of top speed, then float down.")
BACKPEDAL_STRIDE_SETS: Final = 4
BACKPEDAL_STRIDE_METRES: Final = (30, 40, 50)
BACKPEDAL_STRIDE_DOSES: Final = tuple(f"{BACKPEDAL_STRIDE_SETS} × {m} m" for m in BACKPEDAL_STRIDE_METRES)
BACKPEDAL_CUE: Final = "Hips low, quick short steps, reaching back from the ball of the foot."
# Shuffle to backpedal: each 20 m is 5 m of sideways shuffle, then backpedal; only the backpedal is
# backward running, so 4 × 15 m of it is logged.
_SHUFFLE_SETS, _SHUFFLE_METRES, _SHUFFLE_SIDEWAYS = 4, 20, 5

# The backward drill of the day. Exactly seven, one per day of a week.
WARMUP_VARIATIONS: Final[tuple[Drill, ...]] = (
    _sets(
        "Backward A-skips", 2, 20, "Drive one knee up at a time and land under your hips.", Kind.BACKWARD_SKIP
    ),
    _sets(
        "Backward high knees",
        2,
        20,
        "Quick, light contacts; stand tall with a slight forward lean.",
        Kind.BACKWARD,
    ),
    _sets("Backward butt kicks", 2, 20, "Heels up toward the glutes with short, quick steps.", Kind.BACKWARD),
    Drill(
        "Backward walking lunges",
        "2 × 8 each leg",
        "Reach back with a long step; chest up, front knee over the ankle.",
        Backward(Kind.BACKWARD_WALK, None),  # no distance: not logged (see the module's docstring)
    ),
    _sets(
        "Low backward bounds",
        2,
        15,
        "Small, controlled push-offs; land softly before the next.",
        Kind.BACKWARD,
    ),
    Drill(
        "Shuffle to backpedal",
        f"{_SHUFFLE_SETS} × {_SHUFFLE_METRES} m",
        f"Shuffle sideways for {_SHUFFLE_SIDEWAYS} m, open the hips and backpedal the rest.",
        Backward(Kind.BACKPEDAL, _SHUFFLE_SETS * (_SHUFFLE_METRES - _SHUFFLE_SIDEWAYS)),
    ),
    _sets(
        "Backpedal zig-zag",
        3,
        15,
        "Backpedal, plant and angle back the other way every 5 m; stay low.",
        Kind.BACKPEDAL,
    ),
)


def _cooldown(run: int, jog: int, walk: int) -> tuple[Drill, Drill, Drill]:
    return (
        Drill(
            "Backward run",
            format_distance(run),
            "Steady and relaxed, about half effort.",
            Backward(Kind.BACKWARD, run),
        ),
        Drill(
            "Backward jog",
            format_distance(jog),
            "Shorter steps; let your breathing settle.",
            Backward(Kind.BACKWARD_JOG, jog),
        ),
        Drill(
            "Slow backward walk",
            format_distance(walk),
            "Tall and slow, rolling from the toes to the heel.",
            Backward(Kind.BACKWARD_WALK, walk),
        ),
    )


# The forward twin of each backward drill, in the same order, so the day's rotation picks the same
# movement either way.
FORWARD_VARIATIONS: Final[tuple[Drill, ...]] = (
    Drill("A-skips", "2 × 20 m", "Drive one knee up at a time and land under your hips."),
    Drill("High knees", "2 × 20 m", "Quick, light contacts; stand tall with a slight forward lean."),
    Drill("Butt kicks", "2 × 20 m", "Heels up toward the glutes with short, quick steps."),
    Drill("Walking lunges", "2 × 8 each leg", "Step forward long; chest up, front knee over the ankle."),
    Drill("Low bounds", "2 × 15 m", "Small, controlled push-offs; land softly before the next."),
    Drill("Shuffle to run", "4 × 20 m", "Shuffle sideways for 5 m, open the hips and run forward the rest."),
    Drill("Zig-zag run", "3 × 15 m", "Run, plant and cut back the other way every 5 m; stay low."),
)
SKIPPING: Final = Drill("Skipping", "1 lap", "Small, springy skips forward, arms swinging easily.")
ACCELERATION_CUE: Final = "From a walk, drive the arms and build to a fast run by the end."


def _forward_cooldown(run: Drill, jog: Drill, walk: Drill) -> tuple[Drill, Drill, Drill]:
    """The forward version of a backward cooldown, with its distances."""
    return (
        Drill("Easy run", run.dose, "Steady and relaxed, about half effort."),
        Drill("Jog", jog.dose, "Shorter steps; let your breathing settle."),
        Drill("Walk", walk.dose, "Tall and slow; shake out the legs."),
    )


# Always run → jog → walk; only the distances change.
COOLDOWN_VARIATIONS: Final[tuple[tuple[Drill, Drill, Drill], ...]] = (
    _cooldown(100, 100, 100),
    _cooldown(150, 100, 100),
    _cooldown(200, 100, 100),
    _cooldown(150, 150, 100),
    _cooldown(200, 150, 100),
)

_WEEK: Final = 7
assert len(WARMUP_VARIATIONS) == _WEEK, "the weekly shuffle needs one variation per day"
assert len(FORWARD_VARIATIONS) == _WEEK, "each backward variation has its forward twin"


@dataclass(frozen=True)
class DailyPlan:
    """A team's warmup and cooldown for one local day."""

    team_id: int
    day: date
    warmup: tuple[Drill, ...]
    cooldown: tuple[Drill, ...]
    forward: bool = False  # the day-off version: nothing backward

    @property
    def drill_of_the_day(self) -> Drill:
        """The rotating drill in the warmup (one of :data:`WARMUP_VARIATIONS`, or of
        :data:`FORWARD_VARIATIONS` in the forward version)."""
        variations = FORWARD_VARIATIONS if self.forward else WARMUP_VARIATIONS
        return next(drill for drill in self.warmup if drill in variations)

    def backward_steps(self, slot: Slot) -> tuple[Drill, ...]:
        """The steps of the ``slot`` reminder with a backward part, in their order: what its Done
        button logs (those with a distance) or names as left out (those without)."""
        steps = self.cooldown if slot is Slot.COOLDOWN else self.warmup
        return tuple(drill for drill in steps if drill.backward is not None)

    def warmup_text(self, units: Units = Units.METRIC) -> str:
        """Discord markdown: a bold title, the numbered steps and (with backward work) the safety
        line; distances in the team's ``units``."""
        title = f"**Warmup — {short_date(self.day)}**" + (" (all forward)" if self.forward else "")
        lines = [title]
        lines += [f"{n}. {drill.line(units)}" for n, drill in enumerate(self.warmup, start=1)]
        if not self.forward:
            lines.append(SAFETY_LINE)
        return "\n".join(lines)

    def cooldown_text(self, units: Units = Units.METRIC) -> str:
        """Discord markdown: a bold title, run → jog → walk (backward, or forward in the forward
        version) and, with backward work, the safety line; distances in the team's ``units``."""
        lines = [f"**Cooldown — {short_date(self.day)}**"]
        if self.forward:
            lines.append("Step down gently, all of it forward:")
        else:
            lines.append("Step down gently, all of it backward:")
        lines += [f"{n}. {drill.line(units)}" for n, drill in enumerate(self.cooldown, start=1)]
        if self.forward:
            lines.append("Slowing down step by step lets your breathing and heart rate come down gradually.")
        else:
            lines.append(
                "Slowing down step by step lets your breathing and heart rate come down while the "
                "hamstrings, glutes and calves keep working."
            )
            lines.append(SAFETY_LINE)
        return "\n".join(lines)


def short_date(day: date) -> str:
    """``"Tue 24 Nov"``, in English whatever the process locale."""
    return f"{DAY_ABBREVIATIONS[day.weekday()]} {day.day} {MONTH_ABBREVIATIONS[day.month - 1]}"


def _digest(team_id: int, day: date) -> bytes:
    return hashlib.sha256(f"{team_id}:{day.isoformat()}".encode()).digest()


def _shuffled_week(team_id: int, monday: date) -> list[int]:
    """A permutation of range(7) from the digest of ``monday`` (first 8 bytes, as a Lehmer code)."""
    code = int.from_bytes(_digest(team_id, monday)[:8], "big") % math.factorial(_WEEK)
    pool = list(range(_WEEK))
    order: list[int] = []
    for place in range(_WEEK - 1, -1, -1):
        index, code = divmod(code, math.factorial(place))
        order.append(pool.pop(index))
    return order


def _week_order(team_id: int, monday: date) -> list[int]:
    """This week's order of variation indices, Monday first, never starting with last Sunday's drill.

    Only positions 0 and 1 are ever swapped, so last Sunday's drill (position 6) does not depend on the
    week before it: no chain back through history.
    """
    order = _shuffled_week(team_id, monday)
    if monday.toordinal() <= _WEEK:
        return order  # the first week of the calendar has no week before it
    last_sunday = _shuffled_week(team_id, monday - timedelta(days=_WEEK))[-1]
    if order[0] == last_sunday:
        order[0], order[1] = order[1], order[0]
    return order


@dataclass(frozen=True)
class _Choice:
    """What the digests pick for a team's day: indices into the variation tables."""

    variation: int
    stride_dose: int
    cooldown: int


def _choose(team_id: int, day: date) -> _Choice:
    monday = day - timedelta(days=day.weekday())
    digest = _digest(team_id, day)
    return _Choice(
        variation=_week_order(team_id, monday)[day.weekday()],
        stride_dose=int.from_bytes(digest[8:16], "big") % len(BACKPEDAL_STRIDE_DOSES),
        cooldown=int.from_bytes(digest[16:24], "big") % len(COOLDOWN_VARIATIONS),
    )


def plan_for(team_id: int, day: date) -> DailyPlan:
    """The plan for ``team_id`` on the local ``day``; the same inputs always give the same plan."""
    choice = _choose(team_id, day)
    warmup = (
        EASY_JOG,
        BACKWARD_SKIPPING,
        WARMUP_VARIATIONS[choice.variation],
        STRIDES,
        _sets(
            "Backpedal strides",
            BACKPEDAL_STRIDE_SETS,
            BACKPEDAL_STRIDE_METRES[choice.stride_dose],
            BACKPEDAL_CUE,
            Kind.BACKPEDAL,
        ),
    )
    return DailyPlan(team_id=team_id, day=day, warmup=warmup, cooldown=COOLDOWN_VARIATIONS[choice.cooldown])


def forward_plan_for(team_id: int, day: date) -> DailyPlan:
    """The forward version of :func:`plan_for` (same choices, nothing backward), for a day off."""
    choice = _choose(team_id, day)
    warmup = (
        EASY_JOG,
        SKIPPING,
        FORWARD_VARIATIONS[choice.variation],
        STRIDES,
        Drill("Accelerations", BACKPEDAL_STRIDE_DOSES[choice.stride_dose], ACCELERATION_CUE),
    )
    cooldown = _forward_cooldown(*COOLDOWN_VARIATIONS[choice.cooldown])
    return DailyPlan(team_id=team_id, day=day, warmup=warmup, cooldown=cooldown, forward=True)
