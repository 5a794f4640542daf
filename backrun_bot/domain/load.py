"""Training load: when was an athlete's backward day heavy enough to suggest a day off from it, and
what else ``/plan`` should say about their recent load.

Day off (:func:`assess_day`)
----------------------------
A day is heavy when the athlete did backward running that day and at least one rule fires; both
read backward **metres**:

1. **Volume** (:attr:`Rule.VOLUME`): the day's backward metres reach the team's heavy-day mark
   (:data:`DEFAULT_HEAVY_METERS`, 1,600 m, unless the team set another between
   :data:`MIN_HEAVY_METERS` and :data:`MAX_HEAVY_METERS`).
2. **Spike** (:attr:`Rule.SPIKE`): one backward session that day is more than 30 % longer
   (:data:`SPIKE_FACTOR`) than the athlete's longest backward session of the previous
   :data:`SPIKE_LOOKBACK_DAYS` days (``day - 30`` to ``day - 1``). Only when there was such a session:
   a first-ever session is not a spike. Exactly 30 % longer is not a spike. Large single-session jumps
   in distance, rather than weekly totals, were linked to running injuries in a 2025 study of 5,205
   runners.

The acute:chronic ratio is **not** a rule any more: a ratio above :data:`RATIO_LIMIT` alone does not
suggest a day off, because its value for predicting injury is disputed (Impellizzeri et al. 2020,
"Acute:chronic workload ratio: conceptual issues and fundamental pitfalls"). ``/plan`` shows it as a
caution with the figure (:class:`LoadPicture`).

Session-RPE load
----------------
A session's load is its rating of perceived exertion on the CR-10 scale times its minutes
(Foster et al. 2001, "A new approach to monitoring exercise training"), in arbitrary units:

* **Minutes** come from the entry's duration when one was given, else from its distance at the
  kind's typical pace (:attr:`backrun_bot.domain.kinds.Kind.pace_s_per_km`).
* **RPE** is the athlete's own rating (``/log rpe:`` or ``/entry edit rpe:``, :data:`RPE_MIN` to
  :data:`RPE_MAX`). A rating given later still counts: sRPE "has been shown to be temporally robust
  across periods ranging from 1 minute to 14 days following an exercise session" (Foster et al.
  2021, "25 Years of Session Rating of Perceived Exertion", IJSPP 16(5)).
* An entry **without a rating** gets :data:`DEFAULT_RPE` for its kind: the effort of the same
  movement done forward (:data:`FORWARD_EQUIVALENT_RPE`, a conservative team-level guess on the
  CR-10 anchors: 1 very easy, 2 easy, 3 moderate, 7 very hard), times :data:`BACKWARD_COST` for the
  backward kinds.

**Backward cost, counted once.** Running backward costs more energy than running forward at the same
speed: Wright & Weyand 2001 measured metabolic rates higher backward at all eight speeds they tested,
35 ± 6 % at 3.0 m/s (:data:`BACKWARD_COST`, 1.35). A rating the athlete gave already reflects how hard
the backward session felt, so the cost is **not** applied to it (that would count it twice); it
enters only through the unrated default. Scaling a CR-10 rating by an energy ratio is a
simplification (perceived exertion is not linear in energy); it only has to make an unrated backward
session weigh more than the same minutes forward, as the energy data say it should.

The ratio, monotony and strain
------------------------------
The ratio uses exponentially weighted moving averages of the daily session-RPE loads (Williams et al.
2017) with ``λ_a = 2 / (7 + 1)`` (acute, about a week) and ``λ_c = 2 / (28 + 1)`` (chronic, about four
weeks)::

    EWMA(today) = λ * load(today) + (1 - λ) * EWMA(yesterday)

Both averages are **seeded with the load of the athlete's first logged day** (EWMA(first) = load(first))
and then updated for every calendar day up to ``day``, days without entries counting as load 0. Seeding
with the first load rather than with 0 means a steady routine has a ratio of exactly 1 instead of
looking like a build-up. The ratio is only given once 28 days are covered (the first logged day is at
least 27 days before ``day``); before that, and when the chronic average is 0, it is ``None``.

**Monotony** is the mean of the last 7 daily loads divided by their standard deviation, and
**strain** the week's load times its monotony (Foster 1998, "Monitoring training in athletes with
reference to overtraining syndrome"; days without entries count as 0). The deviation is the
population one (the 7 days are the whole week, not a sample of it). A week of identical non-zero
loads has a deviation of 0 and an infinite quotient: monotony is capped at :data:`MONOTONY_CAP` (10,
five times the 2.0 mark), which any near-constant week also reaches, so the figure stays readable and
such a week still counts as monotonous; a week without load has monotony 0. Monotony above
:data:`MONOTONY_LIMIT` (2.0, the level Foster 1998 linked to illness and injury) in a week with
backward work makes ``/plan`` advise varying the backward drills or the load.

"First logged day" is the earliest day in what the caller passes in, so the caller decides how much
history counts; the services pass the last :data:`LOAD_LOOKBACK_DAYS` (60) days.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Final

from backrun_bot.domain.amounts import Units, format_distance
from backrun_bot.domain.kinds import Kind

BACKWARD_COST: Final = 1.35
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
MONOTONY_DAYS: Final = 7
MONOTONY_LIMIT: Final = 2.0
MONOTONY_CAP: Final = 10.0
# The CR-10 scale (Foster et al. 2001): 1 very easy ... 10 maximal.
RPE_MIN: Final = 1
RPE_MAX: Final = 10
# How much history the services read for one assessment: enough for the 28-day chronic window and
# the 30-day spike lookback, with room to spare.
LOAD_LOOKBACK_DAYS: Final = 60
assert max(CHRONIC_DAYS, SPIKE_LOOKBACK_DAYS) < LOAD_LOOKBACK_DAYS, "the lookback must cover both windows"

# The effort of each movement done forward, on the CR-10 anchors (see the module notes): a guess for
# entries the athlete did not rate, not a measurement.
FORWARD_EQUIVALENT_RPE: Final[dict[Kind, float]] = {
    Kind.FORWARD: 3.0,  # an easy run: moderate
    Kind.BACKWARD: 3.0,  # a steady run
    Kind.BACKPEDAL: 3.0,  # quick athletic steps, like strides at an easy effort
    Kind.BACKWARD_SKIP: 3.0,  # skipping
    Kind.BACKWARD_JOG: 2.0,  # an easy, conversational jog
    Kind.BACKWARD_WALK: 1.0,  # a walk: very easy
    Kind.BACKWARD_SPRINT: 7.0,  # sprint efforts: very hard
}
# An unrated entry's RPE: the forward effort, times the backward cost for backward kinds (1.35 for a
# walk, 2.7 for a jog, 4.05 for a run, a backpedal or a skip, 9.45 for sprints; 3 forward).
DEFAULT_RPE: Final[dict[Kind, float]] = {
    kind: rpe * (BACKWARD_COST if kind.is_backward else 1.0) for kind, rpe in FORWARD_EQUIVALENT_RPE.items()
}


def rpe_problem(rpe: int) -> str | None:
    """Why ``rpe`` is not a CR-10 rating (None if it is one): for the refusal of a client that
    ignored the option's declared range."""
    if RPE_MIN <= rpe <= RPE_MAX:
        return None
    return f"How hard it was (rpe) is a whole number from {RPE_MIN} (very easy) to {RPE_MAX} (maximal)."


def session_minutes(kind: Kind, meters: float, seconds: float | None) -> float:
    """An entry's minutes: its duration if one was given, else its metres at the kind's pace."""
    if seconds is not None:
        return seconds / 60
    return meters * kind.pace_s_per_km / 1000 / 60


def session_load(kind: Kind, meters: float, seconds: float | None, rpe: int | None) -> float:
    """An entry's session-RPE load (Foster et al. 2001): its RPE, or :data:`DEFAULT_RPE` for its kind
    when not rated, times its minutes (:func:`session_minutes`). ``meters`` are the counted metres."""
    felt = DEFAULT_RPE[kind] if rpe is None else float(rpe)
    return felt * session_minutes(kind, meters, seconds)


class Rule(StrEnum):
    """A reason a day was heavy."""

    VOLUME = "volume"
    SPIKE = "spike"


@dataclass(frozen=True)
class DayLog:
    """One athlete's running on one day: each backward session's counted metres, forward metres, and
    the day's session-RPE load (the sum of :func:`session_load` over its entries)."""

    day: date
    backward_sessions: tuple[float, ...]
    forward_meters: float = 0.0
    load: float = 0.0

    def __post_init__(self) -> None:
        # Finite and not negative: NaN fails every comparison. (A big team's composition builds
        # thousands of these, hence a plain loop.)
        for meters in (*self.backward_sessions, self.forward_meters):
            if not 0.0 <= meters < math.inf:
                raise ValueError("metres must be finite and not negative")
        if not 0.0 <= self.load < math.inf:
            raise ValueError("the load must be finite and not negative")

    @property
    def backward_meters(self) -> float:
        """All backward metres of the day."""
        return math.fsum(self.backward_sessions)


@dataclass(frozen=True)
class HeavyDay:
    """Why ``day`` was heavy: the rules that fired and the numbers behind them."""

    day: date
    rules: tuple[Rule, ...]
    backward_meters: float
    threshold: float
    longest_session: float
    previous_longest: float | None

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
                seen.load + log.load,
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
    """The EWMA acute:chronic ratio of session-RPE load on ``day`` (see the module notes), or None
    before 28 days.

    ``logs`` may be in any order, contain several logs for one day (they are added up) and days after
    ``day`` (ignored).
    """
    return _acwr(_merged(logs, day), day)


def monotony(daily_loads: Sequence[float]) -> float:
    """Foster's monotony (1998) of ``daily_loads`` (one per day, rest days as 0): their mean over
    their population standard deviation, at most :data:`MONOTONY_CAP` (also when the deviation is 0
    and the mean is not); 0 when there was no load."""
    mean = statistics.fmean(daily_loads)
    if mean <= 0:
        return 0.0
    deviation = statistics.pstdev(daily_loads)
    if deviation * MONOTONY_CAP <= mean:
        return MONOTONY_CAP
    return mean / deviation


def strain(daily_loads: Sequence[float]) -> float:
    """Foster's strain (1998): the loads' sum (the week's load) times their :func:`monotony`."""
    return math.fsum(daily_loads) * monotony(daily_loads)


@dataclass(frozen=True)
class LoadPicture:
    """An athlete's session-RPE load up to ``day``: the ratio, the monotony and strain of the 7 days
    ending on ``day``, and whether those days had backward work. Advice, never a day off."""

    day: date
    ratio: float | None
    week_load: float
    monotony: float
    strain: float
    backward_in_week: bool

    @property
    def ratio_caution(self) -> bool:
        """The ratio is above :data:`RATIO_LIMIT`: worth a caution line, not a day off."""
        return self.ratio is not None and self.ratio > RATIO_LIMIT

    @property
    def vary_backward(self) -> bool:
        """Monotony above :data:`MONOTONY_LIMIT` over a week with backward work."""
        return self.backward_in_week and self.monotony > MONOTONY_LIMIT

    def lines(self) -> list[str]:
        """What ``/plan`` adds under its advice: the ratio caution and the monotony advice, each a
        plain line with its figure (none when neither applies)."""
        lines = []
        if self.ratio_caution and self.ratio is not None:
            shown = _shown_above(self.ratio, RATIO_LIMIT, 2)
            lines.append(
                f"Caution: your acute:chronic load ratio is {shown} (above {RATIO_LIMIT:g}): your last "
                "week was much harder than your last month. Not a reason for a day off on its own; "
                "build up gradually."
            )
        if self.vary_backward:
            shown = "10+" if self.monotony >= MONOTONY_CAP else _shown_above(self.monotony, MONOTONY_LIMIT, 1)
            lines.append(
                f"Vary it: your last {MONOTONY_DAYS} days were monotonous (monotony {shown}, above "
                f"{MONOTONY_LIMIT:g}; strain {self.strain:,.0f}). Vary the backward drills or the load: "
                "an easier or shorter day between harder ones."
            )
        return lines


def load_picture(logs: Sequence[DayLog], day: date) -> LoadPicture:
    """The :class:`LoadPicture` of ``logs`` (given as to :func:`assess_day`) on ``day``."""
    by_day = _merged(logs, day)
    week = [day - timedelta(days=k) for k in range(MONOTONY_DAYS - 1, -1, -1)]
    loads = [by_day[d].load if d in by_day else 0.0 for d in week]
    return LoadPicture(
        day=day,
        ratio=_acwr(by_day, day),
        week_load=math.fsum(loads),
        monotony=monotony(loads),
        strain=strain(loads),
        backward_in_week=any(d in by_day and by_day[d].backward_meters > 0 for d in week),
    )


def assess_day(
    logs: Sequence[DayLog], day: date, heavy_meters: float = DEFAULT_HEAVY_METERS
) -> HeavyDay | None:
    """Whether ``day`` was heavy for the athlete whose ``logs`` these are, and why; None if not.

    A day without backward running is never heavy, whatever the forward load; the load ratio does not
    decide (see the module notes).
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

    if not rules:
        return None
    return HeavyDay(
        day=day,
        rules=tuple(rules),
        backward_meters=backward,
        threshold=heavy_meters,
        longest_session=longest,
        previous_longest=previous_longest,
    )


# --- Screening a whole team at once ------------------------------------------------------------------
#
# Composing a big team's warmup must not build every athlete's 60 days in Python (issue 9). The
# storage layer reads a few sums per athlete in SQL (:class:`LoadScreen`, specified by
# :func:`screen_of`); :func:`may_be_heavy` lets through every athlete whose day *could* be heavy,
# and :func:`assess_day` then decides for those few, exactly as before. The screen only has to be
# conservative: it may let through a day that is not heavy, never hold back one that is. Both rules
# read backward metres of ``day`` and the 30 days before it, so that is all the screen reads (the
# ratio, which no longer decides, needs no screening).
#
# Margins: SQL adds up in whatever order it likes, and the domain computes with its own rounding
# (fsum), so each screen threshold is lowered by SCREEN_MARGIN (relative). Both computations are
# within about 1e-13 (relative) of the exact value for any history of a few thousand entries, and the
# volume rule's own tolerance (math.isclose, 1e-9) is well inside it, so 1e-6 can only let a few more
# borderline days through to the exact check, never hold one back.

SCREEN_DAYS: Final = SPIKE_LOOKBACK_DAYS + 1  # ``day`` and the 30 days before it
SCREEN_MARGIN: Final = 1e-6


@dataclass(frozen=True)
class LoadScreen:
    """A few sums over one athlete's ``day`` and the SCREEN_DAYS - 1 days before it (what SQL reads
    for a whole team in one query; :func:`screen_of` says exactly what each one is)."""

    backward_meters: float  # the day's backward metres (0 without backward running)
    longest_session: float | None  # the day's longest backward session (None: none)
    previous_longest: float | None  # the longest backward session of the 30 days before (None: none)


def screen_of(logs: Sequence[DayLog], day: date) -> LoadScreen:
    """The :class:`LoadScreen` of ``logs`` (given as to :func:`assess_day`): the specification of
    the storage layer's query, and its reference in the tests."""
    by_day = _merged(logs, day)
    today = by_day.get(day)
    sessions = today.backward_sessions if today is not None else ()
    window_start = day - timedelta(days=SPIKE_LOOKBACK_DAYS)
    earlier = [m for log in by_day.values() if window_start <= log.day < day for m in log.backward_sessions]
    return LoadScreen(
        backward_meters=math.fsum(sessions),
        longest_session=max(sessions) if sessions else None,
        previous_longest=max(earlier) if earlier else None,
    )


def may_be_heavy(screen: LoadScreen, heavy_meters: float = DEFAULT_HEAVY_METERS) -> bool:
    """False only when :func:`assess_day` would certainly find the day not heavy (see the notes
    above); True means "assess it"."""
    if screen.longest_session is None:
        return False  # no backward running that day
    keep = 1 - SCREEN_MARGIN
    if screen.backward_meters >= heavy_meters * keep:
        return True
    return (
        screen.previous_longest is not None
        and screen.longest_session > screen.previous_longest * SPIKE_FACTOR * keep
    )
