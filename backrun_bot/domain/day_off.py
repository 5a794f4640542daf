"""The day-off texts: the warmup's part naming who should rest from backward work today (in one
message's room), and the advice ``/plan`` gives one athlete; and :func:`day_off_reason`, the one
place that decides whether an athlete's day is a suggested day off and why.

Two reasons exist: yesterday was heavy (:func:`backrun_bot.domain.load.assess_day`'s call) or
today's check-in is sore enough (:func:`backrun_bot.domain.wellness.sore_reason`'s). This module
combines them, words the result and decides whom the warmup may ping.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from backrun_bot.domain.amounts import Units, format_distance
from backrun_bot.domain.drills import short_date
from backrun_bot.domain.load import HeavyDay
from backrun_bot.domain.text import literal_line
from backrun_bot.domain.wellness import SORE_DAY_OFF_AT, Area, Soreness, sore_reason, soreness_words


@dataclass(frozen=True, slots=True)
class DayOffReason:
    """Why a day is a suggested day off from backward work: yesterday's heavy day, the day's own
    sore check-in, or both (at least one is set; :func:`day_off_reason` makes them)."""

    heavy: HeavyDay | None = None
    sore: Soreness | None = None

    def explain(self, units: Units = Units.METRIC) -> str:
        """Both reasons in plain words, joined by ``"; "``, with no final full stop or markdown."""
        parts = [self.heavy.explain(units)] if self.heavy is not None else []
        if self.sore is not None:
            parts.append(self.sore.explain())
        return "; ".join(parts)


def day_off_reason(
    heavy: HeavyDay | None, soreness: int | None, area: Area | str | None
) -> DayOffReason | None:
    """Whether a day is a suggested day off from backward work, and why: ``heavy`` is the assessment
    of the day before (None: it was not heavy), ``soreness`` and ``area`` the day's check-in (None:
    no check-in). The warmup, ``/plan`` and anything else that asks all come here, so they cannot
    disagree."""
    sore = None if soreness is None else sore_reason(soreness, area or Area.NONE)
    if heavy is None and sore is None:
        return None
    return DayOffReason(heavy, sore)


@dataclass(frozen=True)
class DayOff:
    """An athlete to rest from backward work today, and why: yesterday's :class:`HeavyDay`, today's
    sore check-in (:class:`Soreness`), or both (at least one of the two is set).

    ``mention`` is whether they may be pinged (their ``/notify`` choice); otherwise, or when the
    message must not ping anyone, they are named by display name.
    """

    user_id: int
    display_name: str
    mention: bool
    heavy: HeavyDay | None
    # The store's id, so that the day can be kept as a rest day; bookkeeping, not who it names.
    athlete_id: int | None = field(default=None, compare=False)
    sore: Soreness | None = None

    @property
    def reason(self) -> DayOffReason:
        return DayOffReason(self.heavy, self.sore)


def day_off_section(
    offs: Sequence[DayOff], budget: int, units: Units = Units.METRIC
) -> tuple[str, tuple[int, ...]]:
    """The warmup's day-off part in at most ``budget`` characters, and the user ids it pings
    (distances in the team's ``units``).

    Each athlete gets a line with the rule that fired; when a whole squad had a heavy day and that
    would not fit in one Discord message, the athletes are only named (each sees why in ``/plan``),
    and as many as fit are named, the rest counted. Only named athletes are pinged.
    """
    if all(off.sore is None for off in offs):
        head = "**Day off from backward work today** — yesterday was heavy for:"
    else:
        head = "**Day off from backward work today** — suggested for:"
    tail = "Do the forward parts of the warmup; the backward work waits for tomorrow."

    def who(off: DayOff) -> str:
        # A name is shown as written: markdown in it must not restyle or forge the public warmup.
        return f"<@{off.user_id}>" if off.mention else literal_line(off.display_name)

    def pings(named: Sequence[DayOff]) -> tuple[int, ...]:
        return tuple(o.user_id for o in named if o.mention)

    detailed = "\n".join([head, *(f"• {who(o)}: {o.reason.explain(units)}" for o in offs), tail])
    if len(detailed) <= budget:
        return detailed, pings(offs)
    tail = f"Each of you can see why with `/plan`. {tail}"
    for count in range(len(offs), 0, -1):
        named = list(offs[:count])
        rest = len(offs) - count
        names = ", ".join(who(o) for o in named) + (f" and {rest} more" if rest else "")
        text = f"{head}\n{names}.\n{tail}"
        if len(text) <= budget:
            return text, pings(named)
    return f"{head} {len(offs)} athletes.\n{tail}"[:budget], ()


def plan_advice(
    today: date,
    heavy: HeavyDay | None,
    yesterday_backward_m: float,
    heavy_mark: float,
    units: Units = Units.METRIC,
    *,
    checkin: tuple[int, Area | str] | None = None,
) -> str:
    """What ``/plan`` says first: take today off from backward work (why, and when it resumes), or
    that no day off is needed and, briefly, why not.

    ``heavy`` is yesterday's assessment for the athlete; ``yesterday_backward_m`` the backward metres
    the rule looked at; ``heavy_mark`` the team's heavy-day mark; ``units`` the team's; ``checkin``
    today's check-in (soreness, area), if there is one.
    """
    soreness, area = checkin if checkin is not None else (None, None)
    reason = day_off_reason(heavy, soreness, area)
    if reason is not None:
        resumes = short_date(today + timedelta(days=1))
        again = ", unless tomorrow's check-in is as sore" if reason.sore is not None else ""
        return (
            f"**Take today off from backward work**: {reason.explain(units)}.\n"
            f"The warmup and cooldown below are the forward versions. Backward work resumes tomorrow, "
            f"{resumes}{again}."
        )
    if yesterday_backward_m <= 0:
        text = "No day off needed: you ran no backward meters yesterday."
    else:
        text = (
            f"No day off needed: yesterday you ran {format_distance(yesterday_backward_m, units)} backward "
            f"(your team's heavy-day mark is {format_distance(heavy_mark, units)}), with no sharp jump over "
            "your recent weeks."
        )
    if soreness is not None and soreness > 0:
        text += (
            f"\nToday's check-in ({soreness_words(soreness, area or Area.NONE)}) does not call for one: "
            f"only {SORE_DAY_OFF_AT} or more in the hamstring, knee or lower back does."
        )
    return text
