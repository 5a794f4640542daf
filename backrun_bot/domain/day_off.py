"""The day-off texts: the warmup's part naming who had a heavy backward day yesterday (in one
message's room), and the advice ``/plan`` gives one athlete.

Plain text logic. Whether a day was heavy is :func:`backrun_bot.domain.load.assess_day`'s call;
this module only words the result and decides whom the warmup may ping.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from backrun_bot.domain.amounts import Units, format_distance
from backrun_bot.domain.drills import short_date
from backrun_bot.domain.load import HeavyDay
from backrun_bot.domain.text import literal_line


@dataclass(frozen=True)
class DayOff:
    """An athlete to rest from backward work today, and why (yesterday's :class:`HeavyDay`).

    ``mention`` is whether they may be pinged (their ``/notify`` choice); otherwise, or when the
    message must not ping anyone, they are named by display name.
    """

    user_id: int
    display_name: str
    mention: bool
    heavy: HeavyDay
    # The store's id, so that the day can be kept as a rest day; bookkeeping, not who it names.
    athlete_id: int | None = field(default=None, compare=False)


def day_off_section(
    offs: Sequence[DayOff], budget: int, units: Units = Units.METRIC
) -> tuple[str, tuple[int, ...]]:
    """The warmup's day-off part in at most ``budget`` characters, and the user ids it pings
    (distances in the team's ``units``).

    Each athlete gets a line with the rule that fired; when a whole squad had a heavy day and that
    would not fit in one Discord message, the athletes are only named (each sees why in ``/plan``),
    and as many as fit are named, the rest counted. Only named athletes are pinged.
    """
    head = "**Day off from backward work today** — yesterday was heavy for:"
    tail = "Do the forward parts of the warmup; the backward work waits for tomorrow."

    def who(off: DayOff) -> str:
        # A name is shown as written: markdown in it must not restyle or forge the public warmup.
        return f"<@{off.user_id}>" if off.mention else literal_line(off.display_name)

    def pings(named: Sequence[DayOff]) -> tuple[int, ...]:
        return tuple(o.user_id for o in named if o.mention)

    detailed = "\n".join([head, *(f"• {who(o)}: {o.heavy.explain(units)}" for o in offs), tail])
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
) -> str:
    """What ``/plan`` says first: take today off from backward work (why, and when it resumes), or
    that no day off is needed and, briefly, why not.

    ``heavy`` is yesterday's assessment for the athlete; ``yesterday_backward_m`` the backward metres
    the rule looked at; ``heavy_mark`` the team's heavy-day mark; ``units`` the team's.
    """
    if heavy is not None:
        resumes = short_date(today + timedelta(days=1))
        return (
            f"**Take today off from backward work**: {heavy.explain(units)}.\n"
            f"The warmup and cooldown below are the forward versions. Backward work resumes tomorrow, "
            f"{resumes}."
        )
    if yesterday_backward_m <= 0:
        return "No day off needed: you ran no backward meters yesterday."
    return (
        f"No day off needed: yesterday you ran {format_distance(yesterday_backward_m, units)} backward "
        f"(your team's heavy-day mark is {format_distance(heavy_mark, units)}), with no sharp jump over your "
        "recent weeks."
    )
