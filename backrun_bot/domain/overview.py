"""The coach's overview of the team (``/team overview``): one line per athlete, in pages that fit
Discord's limits, and two lists of who needs a look.

For each athlete: backward metres this week (the calendar week from Monday, as ``/stats`` counts
it), days since their last backward day, whether yesterday was heavy for them and by which rule (the
warmup's own assessment, :func:`backrun_bot.domain.load.assess_day`), whether they have logged
nothing for :data:`QUIET_DAYS` days: no entry today or on the six days before (or none ever), and
their latest check-in (``/checkin``: soreness and area, and how long ago).

Who has not checked in for :data:`CHECKIN_DAYS` days (no check-in today nor on the two days before)
is listed too, and an athlete who never checked in counts among them ("no check-in yet" on their
line): a coach who asks for check-ins wants to see who never sent one. A team where nobody ever
checked in does not use them: its lines say nothing of check-ins and the list says so once.

What was decided for a big team (300 athletes do not fit one message: an embed holds 4,096
characters of description and 6,000 in all, and a name alone may take 100):

* The athletes are listed by name, :data:`PAGE_ROWS` a page, each line at most
  :data:`MAX_LINE` characters (names shortened to :data:`NAME_CHARS`); the buttons under the
  message turn the pages.
* Every page starts with the team's summary and ends with the three lists that need a coach's eye —
  heavy yesterday (with the rule), nothing for 7 days, no check-in for 3 days — each in at most
  :data:`LIST_CHARS` characters, as many names as fit and the rest counted, so the flags of the
  whole team are on every page whichever one is open. With lines of :data:`MAX_LINE`, a page's
  description stays under 4,096 characters and the whole embed under 6,000 (three lists of 550,
  their names, the title and footer).

Plain text: the adapter puts it in an embed. Names are shown literally (:func:`literal_line`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

from backrun_bot.domain.amounts import Units, format_distance
from backrun_bot.domain.drills import short_date
from backrun_bot.domain.load import HeavyDay, Rule
from backrun_bot.domain.text import literal_line
from backrun_bot.domain.wellness import SORENESS_MAX, Area, sore_day_off

QUIET_DAYS: Final = 7
CHECKIN_DAYS: Final = 3
PAGE_ROWS: Final = 20
NAME_CHARS: Final = 32
MAX_LINE: Final = 200
LIST_CHARS: Final = 550  # an embed field's value may hold 1,024; three lists share the 6,000
RULE_WORDS: Final = {Rule.VOLUME: "volume", Rule.SPIKE: "spike"}
AREA_SHORT: Final = {
    Area.HAMSTRING: " hamstring",
    Area.KNEE: " knee",
    Area.CALF: " calf",
    Area.LOWER_BACK: " lower back",
    Area.OTHER: " other",
    Area.NONE: "",
}


@dataclass(frozen=True, slots=True)
class LatestCheckin:
    """An athlete's latest check-in up to today."""

    day: date
    soreness: int
    area: Area


@dataclass(frozen=True, slots=True)
class AthleteWeek:
    """What the overview knows of one athlete (read in SQL for the whole team at once)."""

    user_id: int
    name: str
    backward_week: float
    last_backward: date | None  # up to today
    last_entry: date | None  # up to today
    heavy: HeavyDay | None  # yesterday, if it was heavy for them
    checkin: LatestCheckin | None = None  # None: never checked in

    def checkin_missing(self, today: date) -> bool:
        """No check-in today nor on the :data:`CHECKIN_DAYS` - 1 days before (or none ever)."""
        return self.checkin is None or (today - self.checkin.day).days >= CHECKIN_DAYS

    def quiet_for(self, today: date) -> int | None:
        """Days since their last entry (0: today); None if they never logged anything."""
        return None if self.last_entry is None else (today - self.last_entry).days

    def is_quiet(self, today: date) -> bool:
        """Nothing logged today nor on the :data:`QUIET_DAYS` - 1 days before."""
        days = self.quiet_for(today)
        return days is None or days >= QUIET_DAYS


@dataclass(frozen=True, slots=True)
class ListedNames:
    """One of the page's two lists: how many athletes are in it, and as many as fit, as text."""

    count: int
    text: str


@dataclass(frozen=True, slots=True)
class OverviewPage:
    number: int  # from 0
    pages: int
    title: str
    summary: str
    lines: tuple[str, ...]
    heavy: ListedNames
    quiet: ListedNames
    unchecked: ListedNames  # no check-in for CHECKIN_DAYS days
    footer: str


def _ago(days: int) -> str:
    return "today" if days == 0 else "yesterday" if days == 1 else f"{days} days ago"


def _rules(heavy: HeavyDay) -> str:
    return ", ".join(RULE_WORDS[rule] for rule in heavy.rules)


def _name(athlete: AthleteWeek) -> str:
    return literal_line(athlete.name, NAME_CHARS)


def checkin_part(checkin: LatestCheckin | None, today: date) -> str:
    """``🩹 check-in today: 7/10 hamstring`` (the mark for a soreness that suggests a day off today),
    ``check-in 2 days ago: 3/10 calf``, ``no check-in yet``."""
    if checkin is None:
        return "no check-in yet"
    sore = checkin.day == today and sore_day_off(checkin.soreness, checkin.area)
    figure = f"{checkin.soreness}/{SORENESS_MAX}{AREA_SHORT[checkin.area]}"
    return f"{'🩹 ' if sore else ''}check-in {_ago((today - checkin.day).days)}: {figure}"


def athlete_line(
    athlete: AthleteWeek, today: date, units: Units = Units.METRIC, *, checkins: bool = False
) -> str:
    """``**Alice** · 1.2 km this week · last backward yesterday · ⚠️ heavy yesterday: volume ·
    check-in today: 2/10 calf``; the check-in only with ``checkins`` (the team uses them)."""
    parts = [f"**{_name(athlete)}**", f"{format_distance(athlete.backward_week, units)} this week"]
    if athlete.last_backward is None:
        parts.append("no backward yet")
    else:
        parts.append(f"last backward {_ago((today - athlete.last_backward).days)}")
    if athlete.heavy is not None:
        parts.append(f"⚠️ heavy yesterday: {_rules(athlete.heavy)}")
    quiet = athlete.quiet_for(today)
    if quiet is None:
        parts.append("💤 nothing logged yet")
    elif quiet >= QUIET_DAYS:
        parts.append(f"💤 nothing logged for {quiet} days")
    if checkins:
        parts.append(checkin_part(athlete.checkin, today))
    return " · ".join(parts)


def listed(names: Sequence[str], budget: int = LIST_CHARS) -> ListedNames:
    """``names`` joined by commas in at most ``budget`` characters: as many as fit, then "and N
    more"; "nobody" for none."""
    if not names:
        return ListedNames(0, "nobody")
    fits, used = 0, 0
    for count, name in enumerate(names, start=1):
        used += len(name) + (2 if count > 1 else 0)  # ", " before every name but the first
        rest = len(names) - count
        if used + (len(f" and {rest} more") if rest else 0) <= budget:
            fits = count
    if not fits:
        count = len(names)
        return ListedNames(count, f"{count} athlete{'s' if count != 1 else ''}"[:budget])
    rest = len(names) - fits
    return ListedNames(len(names), ", ".join(names[:fits]) + (f" and {rest} more" if rest else ""))


def page_count(athletes: int) -> int:
    return max(1, math.ceil(athletes / PAGE_ROWS))


def overview_page(
    athletes: Sequence[AthleteWeek],
    today: date,
    week_start: date,
    *,
    page: int = 0,
    units: Units = Units.METRIC,
    timezone: str = "UTC",
) -> OverviewPage:
    """Page ``page`` (from 0; clamped to the pages there are, since the team may have changed since
    the button was drawn) of the overview of ``athletes``."""
    ordered = sorted(athletes, key=lambda a: (a.name.casefold(), a.user_id))
    pages = page_count(len(ordered))
    page = min(max(page, 0), pages - 1)
    rows = ordered[page * PAGE_ROWS : (page + 1) * PAGE_ROWS]
    week_total = math.fsum(a.backward_week for a in ordered)
    heavy = [a for a in ordered if a.heavy is not None]
    quiet = [a for a in ordered if a.is_quiet(today)]
    uses_checkins = any(a.checkin is not None for a in ordered)
    unchecked = [a for a in ordered if a.checkin_missing(today)]
    if ordered:
        summary = (
            f"**{len(ordered)} athlete{'s' if len(ordered) != 1 else ''}** · backward this week: "
            f"**{format_distance(week_total, units)}**"
        )
    else:
        summary = "Nobody on the team has logged anything yet: athletes appear here after their first `/log`."
    heavy_names = [f"{_name(a)} ({_rules(a.heavy)})" for a in heavy if a.heavy is not None]
    return OverviewPage(
        number=page,
        pages=pages,
        title=f"Team overview — week of {short_date(week_start)}",
        summary=summary,
        lines=tuple(athlete_line(a, today, units, checkins=uses_checkins) for a in rows),
        heavy=listed(heavy_names),
        quiet=listed([_name(a) for a in quiet]),
        unchecked=listed([_name(a) for a in unchecked])
        if uses_checkins
        else ListedNames(0, "nobody on the team uses `/checkin` yet"),
        footer=f"Page {page + 1} of {pages} · today is {short_date(today)} in {timezone}",
    )
