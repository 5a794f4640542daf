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

from backrun_bot.domain.amounts import Units, format_distance

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
        # Finite and not negative: NaN fails every comparison. (A big team's composition builds
        # thousands of these, hence a plain loop.)
        for meters in (*self.backward_sessions, self.forward_meters):
            if not 0.0 <= meters < math.inf:
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

    def explain(self, units: Units = Units.METRIC) -> str:
        """The fired rules in plain words, joined by ``"; "``, with no final full stop or markdown;
        distances in the team's ``units``."""
        parts: list[str] = []
        if Rule.VOLUME in self.rules:
            parts.append(
                f"{format_distance(self.backward_meters, units)} of backward running "
                f"(your team's heavy-day mark is {format_distance(self.threshold, units)})"
            )
        if Rule.SPIKE in self.rules and self.previous_longest:
            percent = _shown_above((self.longest_session / self.previous_longest - 1) * 100, 30.0, 0)
            parts.append(
                f"a {format_distance(self.longest_session, units)} session, {percent}% longer than your "
                f"longest in the previous {SPIKE_LOOKBACK_DAYS} days "
                f"({format_distance(self.previous_longest, units)})"
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
    # Every calendar day from the first, by day number (no date arithmetic in the loop).
    loads = {when.toordinal(): log.load for when, log in by_day.items()}
    acute = chronic = loads[first.toordinal()]
    keep_acute, keep_chronic = 1 - ACUTE_LAMBDA, 1 - CHRONIC_LAMBDA
    for number in range(first.toordinal() + 1, day.toordinal() + 1):
        load = loads.get(number, 0.0)
        acute = ACUTE_LAMBDA * load + keep_acute * acute
        chronic = CHRONIC_LAMBDA * load + keep_chronic * chronic
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


# --- Screening a whole team at once ------------------------------------------------------------------
#
# Composing a big team's warmup must not build every athlete's 60 days in Python (issue 9). The
# storage layer reads a few sums per athlete in SQL (:class:`LoadScreen`, specified by
# :func:`screen_of`); :func:`may_be_heavy` lets through every athlete whose day *could* be heavy,
# and :func:`assess_day` then decides for those few, exactly as before. The screen only has to be
# conservative: it may let through a day that is not heavy, never hold back one that is.
#
# Why the ratio can be screened from the last SCREEN_DAYS days: unrolling the recurrence from the
# first logged day f (n = day - f days before ``day``, L_d the load of day d, 0 on days without
# entries), with w(k) = λ(1-λ)^k (:func:`ewma_weights`),
#
#     EWMA(day) = Σ_{d=f..day} w(day - d) · L_d  +  (1-λ)^(n+1) · L_f
#
# (the seed L_f is weighted (1-λ)^n in all, split as w(n) plus the rest). Call the sums A (acute)
# and C (chronic), and the seed terms a·L_f and c·L_f: the ratio (A + a·L_f) / (C + c·L_f) lies
# between A/C and a/c = ((1-λ_a)/(1-λ_c))^(n+1) < 1, so a ratio above RATIO_LIMIT needs A/C above
# it too, that is A - RATIO_LIMIT·C > 0. That is Σ_d v(day - d) · L_d > 0 with
# v(k) = w_a(k) - RATIO_LIMIT·w_c(k), and v(k) < 0 from k = 5 on (the acute weights fall faster):
# leaving out the days before the spike window can only raise the sum. So "the sum of v(k)·L over
# the last SCREEN_DAYS days is above 0" is necessary for the ratio rule; the spike rule reads those
# days anyway.
#
# Margins: SQL adds up in whatever order it likes, and the domain computes with its own rounding
# (fsum, the recurrence), so each screen threshold is lowered by SCREEN_MARGIN (relative). Both
# computations are within about 1e-13 (relative) of the exact value for any history of a few
# thousand entries, and the volume rule's own tolerance (math.isclose, 1e-9) is well inside it, so
# 1e-6 can only let a few more borderline days through to the exact check, never hold one back.

SCREEN_DAYS: Final = SPIKE_LOOKBACK_DAYS + 1  # ``day`` and the 30 days before it
SCREEN_MARGIN: Final = 1e-6


def ewma_weights(lam: float, days: int) -> tuple[float, ...]:
    """``λ(1-λ)^k`` for k = 0 … days - 1: the weight of the load of ``day - k`` in the EWMA on ``day``
    (the first logged day counts ``(1-λ)^(n+1)`` more, see the notes above)."""
    return tuple(lam * (1 - lam) ** k for k in range(days))


def _ratio_weights(days: int) -> tuple[float, ...]:
    limit = RATIO_LIMIT * (1 - SCREEN_MARGIN)
    acute, chronic = ewma_weights(ACUTE_LAMBDA, days), ewma_weights(CHRONIC_LAMBDA, days)
    return tuple(a - limit * c for a, c in zip(acute, chronic, strict=True))


def screen_weights() -> tuple[float, ...]:
    """v(k) = w_a(k) - RATIO_LIMIT·(1 - SCREEN_MARGIN)·w_c(k) for k = 0 … SCREEN_DAYS - 1: a day's
    ratio can be above the limit only if the sum of v(k) times the load of ``day - k`` is above 0."""
    return _ratio_weights(SCREEN_DAYS)


# The lookback's days before the screen's window, which the screen leaves out, must all weigh
# below 0 (leaving them out can then only raise the sum).
assert all(v < 0 for v in _ratio_weights(LOAD_LOOKBACK_DAYS + 1)[SCREEN_DAYS:]), "see the notes above"


@dataclass(frozen=True)
class LoadScreen:
    """A few sums over one athlete's ``day`` and the SCREEN_DAYS - 1 days before it (what SQL reads
    for a whole team in one query; :func:`screen_of` says exactly what each one is)."""

    backward_meters: float  # the day's backward metres (0 without backward running)
    longest_session: float | None  # the day's longest backward session (None: none)
    previous_longest: float | None  # the longest backward session of the 30 days before (None: none)
    ratio_sum: float  # Σ v(k) · load(day - k) over k = 0 … SCREEN_DAYS - 1 (screen_weights)
    covers_chronic: bool  # a logged day at least CHRONIC_DAYS - 1 days before ``day``


def screen_of(logs: Sequence[DayLog], day: date) -> LoadScreen:
    """The :class:`LoadScreen` of ``logs`` (given as to :func:`assess_day`): the specification of
    the storage layer's query, and its reference in the tests."""
    by_day = _merged(logs, day)
    today = by_day.get(day)
    sessions = today.backward_sessions if today is not None else ()
    window_start = day - timedelta(days=SPIKE_LOOKBACK_DAYS)
    earlier = [m for log in by_day.values() if window_start <= log.day < day for m in log.backward_sessions]
    weights = screen_weights()
    ratio_sum = math.fsum(
        weights[(day - log.day).days] * log.load for log in by_day.values() if log.day >= window_start
    )
    return LoadScreen(
        backward_meters=math.fsum(sessions),
        longest_session=max(sessions) if sessions else None,
        previous_longest=max(earlier) if earlier else None,
        ratio_sum=ratio_sum,
        covers_chronic=bool(by_day) and (day - min(by_day)).days >= CHRONIC_DAYS - 1,
    )


def may_be_heavy(screen: LoadScreen, heavy_meters: float = DEFAULT_HEAVY_METERS) -> bool:
    """False only when :func:`assess_day` would certainly find the day not heavy (see the notes
    above); True means "assess it"."""
    if screen.longest_session is None:
        return False  # no backward running that day
    keep = 1 - SCREEN_MARGIN
    if screen.backward_meters >= heavy_meters * keep:
        return True
    if (
        screen.previous_longest is not None
        and screen.longest_session > screen.previous_longest * SPIKE_FACTOR * keep
    ):
        return True
    return screen.covers_chronic and screen.ratio_sum > 0
