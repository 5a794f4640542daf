"""Training load: when was an athlete's backward day heavy enough to suggest a day off from it?

A day is heavy when the athlete did backward running that day and at least one rule fires:

1. **Volume** (:attr:`Rule.VOLUME`): the day's backward metres reach the team's heavy-day mark
   (:data:`DEFAULT_HEAVY_METERS`, 1,600 m, unless the team set another between
   :data:`MIN_HEAVY_METERS` and :data:`MAX_HEAVY_METERS`).
2. **Spike** (:attr:`Rule.SPIKE`): one backward session that day is more than 30 % longer
   (:data:`SPIKE_FACTOR`) than the athlete's longest backward session of the previous
   :data:`SPIKE_LOOKBACK_DAYS` days (``day - 30`` to ``day - 1``). Only when there was such a session:
   a first-ever session is not a spike. Exactly 30 % longer is not a spike. Large single-session jumps
   in distance, rather than weekly totals, were linked to running injuries in a 2025 study of 5,205
   runners.
3. **Ratio** (:attr:`Rule.RATIO`): the acute:chronic workload ratio (:func:`acwr`) is above
   :data:`RATIO_LIMIT` (1.5).

Load and the ratio
------------------
A day's load is ``BACKWARD_COST * backward metres + forward metres``: running backward costs about a
third more energy than running forward at the same speed (Wright & Weyand 2001), so backward metres
weigh 4/3.

The ratio uses exponentially weighted moving averages (Williams et al. 2017) with
``λ_a = 2 / (7 + 1)`` (acute, about a week) and ``λ_c = 2 / (28 + 1)`` (chronic, about four weeks)::

    EWMA(today) = λ * load(today) + (1 - λ) * EWMA(yesterday)

Both averages are **seeded with the load of the athlete's first logged day** (EWMA(first) = load(first))
and then updated for every calendar day up to ``day``, days without entries counting as load 0. Seeding
with the first load rather than with 0 means a steady routine has a ratio of exactly 1 instead of
looking like a build-up. The ratio is only given once 28 days are covered (the first logged day is at
least 27 days before ``day``); before that, and when the chronic average is 0, it is ``None``.

"First logged day" is the earliest day in what the caller passes in, so the caller decides how much
history counts; the services pass the last :data:`LOAD_LOOKBACK_DAYS` (60) days.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Final

from backrun_bot.domain.amounts import format_distance

BACKWARD_COST: Final = 4 / 3
DEFAULT_HEAVY_METERS: Final = 1600.0
# The marks a team may choose (whole metres; the slash command's option range comes from these).
MIN_HEAVY_METERS: Final = 100
MAX_HEAVY_METERS: Final = 20_000
SPIKE_FACTOR: Final = 1.30
SPIKE_LOOKBACK_DAYS: Final = 30
RATIO_LIMIT: Final = 1.5
ACUTE_DAYS: Final = 7
CHRONIC_DAYS: Final = 28
ACUTE_LAMBDA: Final = 2 / (ACUTE_DAYS + 1)
CHRONIC_LAMBDA: Final = 2 / (CHRONIC_DAYS + 1)
# How much history the services read for one assessment: enough for the 28-day chronic window and
# the 30-day spike lookback, with room to spare.
LOAD_LOOKBACK_DAYS: Final = 60
assert max(CHRONIC_DAYS, SPIKE_LOOKBACK_DAYS) < LOAD_LOOKBACK_DAYS, "the lookback must cover both windows"


class Rule(StrEnum):
    """A reason a day was heavy."""

    VOLUME = "volume"
    SPIKE = "spike"
    RATIO = "ratio"


@dataclass(frozen=True)
class DayLog:
    """One athlete's running on one day: each backward session's effective metres, and forward metres."""

    day: date
    backward_sessions: tuple[float, ...]
    forward_meters: float = 0.0

    def __post_init__(self) -> None:
        values = (*self.backward_sessions, self.forward_meters)
        if not all(math.isfinite(v) and v >= 0 for v in values):
            raise ValueError("metres must be finite and not negative")

    @property
    def backward_meters(self) -> float:
        """All backward metres of the day."""
        return math.fsum(self.backward_sessions)

    @property
    def load(self) -> float:
        """The day's training load: backward metres weighted by :data:`BACKWARD_COST`, plus forward."""
        return BACKWARD_COST * self.backward_meters + self.forward_meters


@dataclass(frozen=True)
class HeavyDay:
    """Why ``day`` was heavy: the rules that fired and the numbers behind them."""

    day: date
    rules: tuple[Rule, ...]
    backward_meters: float
    threshold: float
    longest_session: float
    previous_longest: float | None
    ratio: float | None

    def explain(self) -> str:
        """The fired rules in plain words, joined by ``"; "``, with no final full stop or markdown."""
        parts: list[str] = []
        if Rule.VOLUME in self.rules:
            parts.append(
                f"{format_distance(self.backward_meters)} of backward running "
                f"(your team's heavy-day mark is {format_distance(self.threshold)})"
            )
        if Rule.SPIKE in self.rules and self.previous_longest:
            percent = _shown_above((self.longest_session / self.previous_longest - 1) * 100, 30.0, 0)
            parts.append(
                f"a {format_distance(self.longest_session)} session, {percent}% longer than your longest "
                f"in the previous {SPIKE_LOOKBACK_DAYS} days ({format_distance(self.previous_longest)})"
            )
        if Rule.RATIO in self.rules and self.ratio is not None:
            shown = _shown_above(self.ratio, RATIO_LIMIT, 1)
            parts.append(f"acute:chronic load ratio {shown} (above {RATIO_LIMIT:g})")
        return "; ".join(parts)


def _shown_above(value: float, limit: float, decimals: int) -> str:
    """``value`` with as few decimals (from ``decimals``, at most 3 more) as show it above ``limit``."""
    text = f"{value:.{decimals}f}"
    for extra in range(decimals + 1, decimals + 4):
        if float(text) > limit:
            break
        text = f"{value:.{extra}f}"
    return text


def _merged(logs: Iterable[DayLog], day: date) -> dict[date, DayLog]:
    """Logs up to and including ``day``, one per day (duplicates merged)."""
    by_day: dict[date, DayLog] = {}
    for log in logs:
        if log.day > day:
            continue
        seen = by_day.get(log.day)
        by_day[log.day] = (
            log
            if seen is None
            else DayLog(
                log.day,
                seen.backward_sessions + log.backward_sessions,
                seen.forward_meters + log.forward_meters,
            )
        )
    return by_day


def _acwr(by_day: dict[date, DayLog], day: date) -> float | None:
    if not by_day:
        return None
    first = min(by_day)
    if (day - first).days < CHRONIC_DAYS - 1:
        return None
    acute = chronic = by_day[first].load
    current = first
    while current < day:
        current += timedelta(days=1)
        log = by_day.get(current)
        load = log.load if log is not None else 0.0
        acute = ACUTE_LAMBDA * load + (1 - ACUTE_LAMBDA) * acute
        chronic = CHRONIC_LAMBDA * load + (1 - CHRONIC_LAMBDA) * chronic
    if chronic <= 0:
        return None
    return acute / chronic


def acwr(logs: Sequence[DayLog], day: date) -> float | None:
    """The EWMA acute:chronic workload ratio on ``day`` (see the module notes), or None before 28 days.

    ``logs`` may be in any order, contain several logs for one day (they are added up) and days after
    ``day`` (ignored).
    """
    return _acwr(_merged(logs, day), day)


def assess_day(
    logs: Sequence[DayLog], day: date, heavy_meters: float = DEFAULT_HEAVY_METERS
) -> HeavyDay | None:
    """Whether ``day`` was heavy for the athlete whose ``logs`` these are, and why; None if not.

    A day without backward running is never heavy, whatever the forward load.
    """
    if not (math.isfinite(heavy_meters) and heavy_meters > 0):
        raise ValueError("the heavy-day mark must be a positive number of metres")
    by_day = _merged(logs, day)
    today = by_day.get(day)
    if today is None or not today.backward_meters > 0:
        return None
    rules: list[Rule] = []
    backward = today.backward_meters
    # "Reaches" the mark: metres derived from durations can land a float hair below it.
    if backward >= heavy_meters or math.isclose(backward, heavy_meters, rel_tol=1e-9):
        rules.append(Rule.VOLUME)

    longest = max(today.backward_sessions)
    window_start = day - timedelta(days=SPIKE_LOOKBACK_DAYS)
    earlier = [
        meters
        for log in by_day.values()
        if window_start <= log.day < day
        for meters in log.backward_sessions
        if meters > 0
    ]
    previous_longest = max(earlier) if earlier else None
    if previous_longest is not None:
        limit = previous_longest * SPIKE_FACTOR
        # Exactly 30 % longer is not a spike, even when float rounding lands a hair above the limit.
        if longest > limit and not math.isclose(longest, limit, rel_tol=1e-9):
            rules.append(Rule.SPIKE)

    ratio = _acwr(by_day, day)
    if ratio is not None and ratio > RATIO_LIMIT:
        rules.append(Rule.RATIO)

    if not rules:
        return None
    return HeavyDay(
        day=day,
        rules=tuple(rules),
        backward_meters=backward,
        threshold=heavy_meters,
        longest_session=longest,
        previous_longest=previous_longest,
        ratio=ratio,
    )
