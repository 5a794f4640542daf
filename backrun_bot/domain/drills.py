"""The day's warmup and cooldown, with the backward work built in.

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

Choosing, deterministically
---------------------------
Everything is decided from SHA-256 digests of ``f"{team_id}:{day.isoformat()}"`` (never Python's
``hash()``, which changes with every process), so a restart or another process gives the same plan.

* The drill of the day: each ISO week (Monday to Sunday) a team goes through all seven variations once,
  in an order shuffled by the digest of that week's Monday. If the new week would begin with last
  Sunday's drill, its first two days swap, so the same drill never comes two days in a row.
* The cooldown distances and the backpedal-stride dose come from the digest of the day itself (other
  bytes of it than the weekly shuffle uses).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from backrun_bot.domain.schedule import DAY_ABBREVIATIONS

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
class Drill:
    """One step of a session: what to do, how much, and the one thing to keep in mind."""

    name: str
    dose: str
    cue: str

    def line(self) -> str:
        """The step as one line: name, dose and cue, as in ``"Strides — 4 x 80 m. Build to…"``."""
        return f"{self.name} — {self.dose}. {self.cue}"


EASY_JOG: Final = Drill("Easy jog", "2 laps", "Relaxed, conversational pace; let the shoulders loosen.")
BACKWARD_SKIPPING: Final = Drill(
    "Backward skipping", "1 lap", "Small, springy skips, arms swinging easily; glance over your shoulder."
)
STRIDES: Final = Drill("Strides", "4 × 80 m", "Build to about 85 % of top speed, then float down.")
BACKPEDAL_STRIDE_DOSES: Final = ("4 × 30 m", "4 × 40 m", "4 × 50 m")
BACKPEDAL_CUE: Final = "Hips low, quick short steps, reaching back from the ball of the foot."

# The backward drill of the day. Exactly seven, one per day of a week.
WARMUP_VARIATIONS: Final[tuple[Drill, ...]] = (
    Drill("Backward A-skips", "2 × 20 m", "Drive one knee up at a time and land under your hips."),
    Drill("Backward high knees", "2 × 20 m", "Quick, light contacts; stand tall with a slight forward lean."),
    Drill("Backward butt kicks", "2 × 20 m", "Heels up toward the glutes with short, quick steps."),
    Drill(
        "Backward walking lunges",
        "2 × 8 each leg",
        "Reach back with a long step; chest up, front knee over the ankle.",
    ),
    Drill("Low backward bounds", "2 × 15 m", "Small, controlled push-offs; land softly before the next."),
    Drill(
        "Shuffle to backpedal",
        "4 × 20 m",
        "Shuffle sideways for 5 m, open the hips and backpedal the rest.",
    ),
    Drill(
        "Backpedal zig-zag",
        "3 × 15 m",
        "Backpedal, plant and angle back the other way every 5 m; stay low.",
    ),
)


def _cooldown(run: int, jog: int, walk: int) -> tuple[Drill, Drill, Drill]:
    return (
        Drill("Backward run", f"{run} m", "Steady and relaxed, about half effort."),
        Drill("Backward jog", f"{jog} m", "Shorter steps; let your breathing settle."),
        Drill("Slow backward walk", f"{walk} m", "Tall and slow, rolling from the toes to the heel."),
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


@dataclass(frozen=True)
class DailyPlan:
    """A team's warmup and cooldown for one local day."""

    team_id: int
    day: date
    warmup: tuple[Drill, ...]
    cooldown: tuple[Drill, ...]

    @property
    def drill_of_the_day(self) -> Drill:
        """The rotating backward drill in the warmup (one of :data:`WARMUP_VARIATIONS`)."""
        return next(drill for drill in self.warmup if drill in WARMUP_VARIATIONS)

    def warmup_text(self) -> str:
        """Discord markdown: a bold title, the numbered steps and the safety line."""
        lines = [f"**Warmup — {_short_date(self.day)}**"]
        lines += [f"{n}. {drill.line()}" for n, drill in enumerate(self.warmup, start=1)]
        lines.append(SAFETY_LINE)
        return "\n".join(lines)

    def cooldown_text(self) -> str:
        """Discord markdown: a bold title, backward run → jog → slow walk, and the safety line."""
        lines = [f"**Cooldown — {_short_date(self.day)}**", "Step down gently, all of it backward:"]
        lines += [f"{n}. {drill.line()}" for n, drill in enumerate(self.cooldown, start=1)]
        lines.append(
            "Slowing down step by step lets your breathing and heart rate come down while the "
            "hamstrings, glutes and calves keep working."
        )
        lines.append(SAFETY_LINE)
        return "\n".join(lines)


def _short_date(day: date) -> str:
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


def plan_for(team_id: int, day: date) -> DailyPlan:
    """The plan for ``team_id`` on the local ``day``; the same inputs always give the same plan."""
    monday = day - timedelta(days=day.weekday())
    variation = WARMUP_VARIATIONS[_week_order(team_id, monday)[day.weekday()]]
    digest = _digest(team_id, day)
    stride_dose = BACKPEDAL_STRIDE_DOSES[int.from_bytes(digest[8:16], "big") % len(BACKPEDAL_STRIDE_DOSES)]
    cooldown = COOLDOWN_VARIATIONS[int.from_bytes(digest[16:24], "big") % len(COOLDOWN_VARIATIONS)]
    warmup = (
        EASY_JOG,
        BACKWARD_SKIPPING,
        variation,
        STRIDES,
        Drill("Backpedal strides", stride_dose, BACKPEDAL_CUE),
    )
    return DailyPlan(team_id=team_id, day=day, warmup=warmup, cooldown=cooldown)
