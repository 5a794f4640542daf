"""The Done button under a warmup or cooldown (issue 11): one press logs the reminder's backward
parts for the presser, once; the reminder shows how many athletes are done.

Once only
    A press inserts a ``done_presses`` row keyed (athlete, local day, slot) and the entries in the
    same transaction; an insert that finds the row logs nothing. The database decides, so a double
    tap, a press on another copy of the bot or after a restart cannot log twice. Undo deletes the row
    and its entries together, and the athlete may press Done again.

What it logs
    The steps of that reminder (:meth:`DailyPlan.backward_steps` of the team's plan for the
    reminder's day) as entries of their kinds and metres, dated the reminder's local day, through the
    same store as ``/log`` (``queries.add_entry``): they count in /history, /stats, the leaderboard,
    streaks and the load model. A step without a distance (lunges) is named as left out
    (:mod:`backrun_bot.domain.drills`). On the athlete's suggested day off it logs nothing and says
    why (the same decision as ``/plan``: ``PlanService.day_off_on``).

The count under the reminder
    Each press (and Undo) marks its reminder's count as stale in this process; one task per reminder
    then edits the message, at most once per :data:`EDIT_INTERVAL`, reading the count from the
    database at that moment, so 50 presses in a few seconds make one or two edits, and the last one
    shows the final count. Across copies of the bot the interval holds through the ledger row
    (``reminder_deliveries.done_edit_at``, claimed by a conditional UPDATE with the count it will
    show, ``done_shown``); a copy that loses the claim tries again when the interval is over, unless
    the count shown is already its count. The interval runs on the wall clock: it paces real
    requests to Discord, not the team's day. The count is of the athletes whose Done logged
    something (a press on a day off records nothing). An Undo updates it too, from the reminder's
    text as this process last saw it; after a restart, from the next press.

Not on a test
    A ``/reminders test`` message carries no Done button (only My plan): it is a check of the
    channel, not a reminder anyone trains to, and it is not in the ledger the press is checked
    against, so its Done could only refuse.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backrun_bot.domain.amounts import Units, format_distance
from backrun_bot.domain.done import DONE_DAYS_BACK, too_old, with_done_count
from backrun_bot.domain.drills import Drill, plan_for, short_date
from backrun_bot.domain.kinds import Kind
from backrun_bot.domain.schedule import Slot
from backrun_bot.errors import BackrunError, InvalidInput, NotAllowed, NotFound
from backrun_bot.services.common import Clock, Who, team_today
from backrun_bot.storage import done_queries as dq
from backrun_bot.storage import queries
from backrun_bot.storage.models import Team

log = logging.getLogger(__name__)

# Discord allows about 5 edits of a channel's messages every 5 s per bot; a count that changes every
# 10 s at most is plenty for "how many are done", and leaves the channel's budget to the reminders.
EDIT_INTERVAL = timedelta(seconds=10)
# How many reminders' text this process keeps for an Undo's count edit (a few kB each).
SHOWN_KEPT = 1000


class AlreadyDone(BackrunError):
    """A second Done of the same athlete under the same reminder: nothing more is logged."""


@dataclass(frozen=True, slots=True)
class DoneEntry:
    id: int
    kind: Kind
    meters: float

    def describe(self, units: Units = Units.METRIC) -> str:
        """``#12 · 400 m backward skip``."""
        return f"#{self.id} · {format_distance(self.meters, units)} {self.kind.label}"


@dataclass(frozen=True, slots=True)
class DoneResult:
    """What a press did: the entries logged, the steps left out (no distance), or why nothing."""

    day: date
    slot: Slot
    entries: tuple[DoneEntry, ...] = ()
    left_out: tuple[Drill, ...] = ()
    day_off: str | None = None  # why nothing backward was logged
    units: Units = Units.METRIC


@dataclass(frozen=True, slots=True)
class Undone:
    day: date
    slot: Slot
    entries: tuple[DoneEntry, ...]
    units: Units = Units.METRIC


class CountEditor(Protocol):
    """Edits a reminder message to ``content`` (the adapter keeps its buttons and pings nobody)."""

    async def edit_reminder(
        self,
        channel_id: int,
        message_id: int,
        content: str,
        *,
        team_id: int,
        day: date,
        slot: Slot,
        mention_user_ids: Sequence[int],
    ) -> None: ...


DayOffOn = Callable[[Who, date], Awaitable[str | None]]


@dataclass(frozen=True, slots=True)
class Shown:
    """The reminder message as the presser saw it: where it is and what it says."""

    channel_id: int
    message_id: int
    content: str
    mention_user_ids: tuple[int, ...] = ()


@dataclass
class _Stale:
    shown: Shown
    dirty: bool = True
    task: asyncio.Task[None] | None = field(default=None, repr=False)


def wall_clock() -> datetime:
    return datetime.now(UTC)


class DoneService:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        clock: Clock,
        day_off_on: DayOffOn,
        editor: CountEditor | None = None,
        interval: timedelta = EDIT_INTERVAL,
        wall: Clock = wall_clock,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._clock = clock
        self._day_off_on = day_off_on
        self._editor = editor
        self._interval = interval
        self._wall = wall
        self._stale: dict[tuple[int, date, Slot], _Stale] = {}
        self._last_shown: dict[tuple[int, date, Slot], Shown] = {}

    # --- pressing ---------------------------------------------------------------------------------

    async def press(
        self, who: Who, team_id: int, day: date, slot: Slot, shown: Shown | None = None
    ) -> DoneResult:
        """Log the backward parts of ``team_id``'s ``slot`` reminder of ``day`` for the caller, once.

        Refused, with nothing logged: a button of another server's reminder, a reminder more than
        :data:`DONE_DAYS_BACK` days back, one the ledger does not know (the team's data was deleted,
        or it was never sent), a second press (:class:`AlreadyDone`).
        """
        if team_id != who.guild_id:
            raise InvalidInput(
                "This Done button belongs to another server's reminder, so nothing was logged."
            )
        async with self._sessionmaker() as s:
            team = await s.get(Team, team_id)
            if team is None:
                raise NotFound(_GONE)
            units = Units(team.units)
            today = team_today(team, self._clock)
            if too_old(day, today):
                raise InvalidInput(
                    f"This is the {slot.label} of {short_date(day)}: Done works for {DONE_DAYS_BACK} days "
                    "after a reminder, so nothing was logged.",
                    hint="Log what you did with `/log` and its `date:` option.",
                )
            if await dq.sent_reminder(s, team_id, day, slot.value) is None:
                raise NotFound(_GONE)
        reason = await self._day_off_on(who, day)
        if reason is not None:
            return DoneResult(day, slot, day_off=reason, units=units)
        steps = plan_for(team_id, day).backward_steps(slot)
        now = self._clock()
        async with self._sessionmaker.begin() as s:
            athlete = await queries.get_or_create_athlete(s, team_id, who.user_id, who.display_name)
            if not await dq.claim_press(s, athlete.id, team_id, day, slot.value, now):
                raise AlreadyDone(
                    f"You already pressed Done for this {slot.label} ({short_date(day)}): "
                    "nothing more was logged.",
                    hint="Its Undo takes it back; `/history` shows what it logged.",
                )
            entries = []
            for step in steps:
                part = step.backward
                assert part is not None  # backward_steps gives only steps with a backward part
                if part.metres is None:
                    continue
                entry_id = await queries.add_entry(
                    s,
                    athlete_id=athlete.id,
                    team_id=team_id,
                    kind=part.kind.value,
                    is_backward=part.kind.is_backward,
                    meters=float(part.metres),
                    seconds=None,
                    effective_meters=float(part.metres),
                    amount_text=f"{part.metres} m",
                    note=f"{step.name} ({slot.label}, Done)",
                    day=day,
                    logged_at=now,
                )
                entries.append(DoneEntry(entry_id, part.kind, float(part.metres)))
            await dq.keep_entries(s, athlete.id, day, slot.value, [e.id for e in entries])
        log.info("guild %s user %s pressed Done for the %s of %s", team_id, who.user_id, slot.value, day)
        self._count_changed(team_id, day, slot, shown)
        left_out = tuple(step for step in steps if step.backward is not None and step.backward.metres is None)
        return DoneResult(day, slot, tuple(entries), left_out, units=units)

    async def undo(
        self, who: Who, day: date, slot: Slot, author_id: int, shown: Shown | None = None
    ) -> Undone:
        """Take back the caller's Done under the reminder: its entries go with it, and Done may be
        pressed again."""
        if who.user_id != author_id:
            raise NotAllowed("Only the athlete who pressed Done can undo it.")
        async with self._sessionmaker.begin() as s:
            place = await queries.team_place(s, who.guild_id)
            athlete = await dq.athlete_id(s, who.guild_id, who.user_id)
            ids = None if athlete is None else await dq.take_press(s, athlete, day, slot.value)
            if athlete is None or ids is None:
                raise NotFound("That Done is already undone.")
            entries = []
            for entry_id in ids:
                row = await queries.get_run_session(s, who.guild_id, entry_id, user_id=who.user_id)
                if row is not None and await queries.delete_run_session(s, row):
                    entries.append(DoneEntry(row.id, Kind(row.kind), row.effective_meters))
        self._count_changed(who.guild_id, day, slot, shown)
        units = Units.METRIC if place is None else Units(place.units)
        return Undone(day, slot, tuple(entries), units)

    # --- the count under the reminder ---------------------------------------------------------------

    def _count_changed(self, team_id: int, day: date, slot: Slot, shown: Shown | None) -> None:
        """Mark the reminder's count stale; its task (started if none runs) edits it soon."""
        key = (team_id, day, slot)
        if shown is None:
            # An Undo (its button is on the ephemeral answer, not on the reminder): the reminder as
            # this process last saw it, if it did; otherwise the next press shows the new count.
            shown = self._last_shown.get(key)
        else:
            self._last_shown.pop(key, None)
            self._last_shown[key] = shown
            if len(self._last_shown) > SHOWN_KEPT:
                del self._last_shown[next(iter(self._last_shown))]  # the one seen longest ago
        if shown is None or self._editor is None:
            return
        stale = self._stale.get(key)
        if stale is not None:
            stale.shown, stale.dirty = shown, True
            return
        stale = self._stale[key] = _Stale(shown)
        stale.task = asyncio.create_task(
            self._keep_count(key, stale), name=f"done-count-{team_id}-{day}-{slot}"
        )

    async def _keep_count(self, key: tuple[int, date, Slot], stale: _Stale) -> None:
        try:
            while stale.dirty:
                stale.dirty = False
                wait = await self._edit_count(key, stale.shown)
                if wait is not None:
                    stale.dirty = True  # not shown yet: try again once the interval is over
                    await asyncio.sleep(wait)
        except Exception:
            # An edit is only a courtesy: the presses themselves are recorded.
            log.warning("could not update the Done count of %s", key, exc_info=True)
        finally:
            if self._stale.get(key) is stale:
                del self._stale[key]

    async def _edit_count(self, key: tuple[int, date, Slot], shown: Shown) -> float | None:
        """Edit the count if this copy may now; else the seconds to wait before trying again, or
        None if nothing is left to show."""
        team_id, day, slot = key
        now = self._wall()
        async with self._sessionmaker.begin() as s:
            count = await dq.done_count(s, team_id, day, slot.value)
            message_id = await dq.claim_count_edit(s, team_id, day, slot.value, count, now, self._interval)
            state = None if message_id is not None else await dq.count_edit_state(s, team_id, day, slot.value)
        if message_id is not None:
            if message_id != shown.message_id:
                log.warning(
                    "the Done press was on message %s, not the reminder %s", shown.message_id, message_id
                )
                return None
            assert self._editor is not None
            await self._editor.edit_reminder(
                shown.channel_id,
                message_id,
                with_done_count(shown.content, count),
                team_id=team_id,
                day=day,
                slot=slot,
                mention_user_ids=shown.mention_user_ids,
            )
            return None
        if state is None or state.message_id is None or state.shown == count or state.edit_at is None:
            return None
        return max((state.edit_at + self._interval - now).total_seconds(), 0.0) + 0.05

    async def close(self) -> None:
        """Stop the pending count edits (the bot is closing)."""
        tasks = [stale.task for stale in self._stale.values() if stale.task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


_GONE = (
    "This reminder is no longer known to Backrun (this server's data was deleted, or the reminder was "
    "never recorded), so nothing was logged."
)
