"""APScheduler wiring for the daily reminders.

The database is the truth. Jobs are derived from it at start and after every settings change, one
job per distinct (timezone, local time, slot) — not one per team — so the number of jobs is bounded
by the distinct settings in use, whatever the number of teams. Each job is a date trigger at the next
occurrence computed by :func:`backrun_bot.domain.schedule.next_occurrence` (which owns the
daylight-saving rules: a time in a spring-forward gap fires once at the next valid instant, a time
that occurs twice fires once), and re-arms itself after it fires.

Exactly-once delivery is not the scheduler's job: the delivery service claims a unique
(team, local date, slot) row before sending, so a double firing, a restart or a second copy of the
bot cannot send twice.

An occurrence whose run leaves nothing pending (or that is skipped with no team left to another run)
is recorded as finished (``Reminders.settle``); the catch-up at start reads those of its look-back in
one query and runs only the others, so a restart costs what is still unsettled, not one run of every
occurrence of the last day (issue 9).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from backrun_bot.domain.schedule import due_occurrences, next_occurrence
from backrun_bot.services.common import Clock
from backrun_bot.services.delivery import Delivered, SlotGroup

log = logging.getLogger(__name__)

# How far back a restart looks for reminders it missed; anything older than the grace window is
# only recorded as skipped, so a day is plenty.
CATCH_UP_LOOKBACK = timedelta(days=1)
# Another running copy of the bot may change the settings; every copy re-reads them this often.
REFRESH_EVERY = timedelta(minutes=5)
REFRESH_JOB = "refresh"
CATCH_UP_JOB = "catch-up"
PRUNE_JOB = "prune"
# The daily pruning of old delivery rows, at a quiet hour (UTC) that is on no reminder's minute.
PRUNE_AT = (3, 17)
RETRY_JOB_PREFIX = "retry|"  # a caught-up occurrence still pending, run again in the background
# On shutdown, a reminder run in progress gets this long to finish before it is cancelled.
SHUTDOWN_GRACE = timedelta(seconds=10)
# A run that failed (the database not answering, say) or left reminders pending (Discord answered 5xx,
# a crashed copy's claim not yet stale) is run again after a pause that starts here and doubles up to
# RETRY_MAX, while the reminder is still inside its grace window; what is still pending at its end is
# recorded as skipped. Delivery claims each team's reminder, so a run tried again never sends one twice.
RETRY_FIRST = timedelta(seconds=1)
RETRY_MAX = timedelta(minutes=1)
LAST_TRY_MARGIN = timedelta(milliseconds=100)


class Reminders(Protocol):
    """What the scheduler asks of the reminder service: ``DeliveryService`` in the bot, a recording
    stand-in in the scheduler's own tests."""

    async def slot_groups(self) -> set[SlotGroup]: ...

    async def deliver(self, group: SlotGroup, day: date, instant: datetime) -> Delivered: ...

    async def skip(self, group: SlotGroup, day: date, instant: datetime, *, reason: str) -> bool:
        """Record what is due and unsettled as skipped; True if no team was left to another run."""
        ...

    async def settle(self, group: SlotGroup, day: date, instant: datetime) -> None:
        """Record the occurrence as finished: every team due for it is settled."""
        ...

    async def settled(self, since: datetime) -> set[tuple[SlotGroup, date]]:
        """The occurrences due after ``since`` recorded as finished, as (group, local day)."""
        ...

    async def prune(self) -> int: ...


def job_id(group: SlotGroup) -> str:
    return f"{group.slot.value}|{group.timezone}|{group.at.strftime('%H:%M')}"


class ReminderScheduler:
    """Owns the AsyncIOScheduler; started in ``setup_hook`` and shut down with the bot."""

    def __init__(
        self,
        reminders: Reminders,
        *,
        grace: timedelta,
        clock: Clock,
        daily: Sequence[Callable[[], Awaitable[object]]] = (),
    ) -> None:
        self._reminders = reminders
        # Other daily housekeeping run by the pruning job after the ledger's (the retention of
        # removed servers' data): each on its own, so that one failing does not stop the next.
        self._daily = tuple(daily)
        self._grace = grace
        self._clock = clock
        self._scheduler = AsyncIOScheduler(
            timezone="UTC",
            # Lateness is judged by our own grace window, so APScheduler must never drop a run.
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
        )
        # Runs in progress, so that shutdown can let them finish before the bot closes its HTTP
        # session and database engine under them.
        self._in_flight: set[asyncio.Task[object]] = set()
        self._stopping = False
        self._stopped = asyncio.Event()  # wakes a run pausing between retries

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    def job_count(self) -> int:
        """All jobs: one per slot group plus the periodic refresh and the daily pruning (and, just
        after start, the one-off catch-up until it has run)."""
        return len(self._scheduler.get_jobs())

    async def start(self) -> None:
        """Start the scheduler and arm the jobs; what was missed while the bot was down is sent in
        the background (a catch-up of many teams must not hold back the bot's connection)."""
        self._scheduler.start()
        groups = await self._refresh()
        self._scheduler.add_job(
            self._refresh_job, trigger=IntervalTrigger(seconds=REFRESH_EVERY.total_seconds()), id=REFRESH_JOB
        )
        self._scheduler.add_job(
            self._prune_job,
            trigger=CronTrigger(hour=PRUNE_AT[0], minute=PRUNE_AT[1], timezone="UTC"),
            id=PRUNE_JOB,
        )
        # No trigger: runs now, with the groups just read (a group added since has no team due for
        # the past: its settings are newer than every occurrence it would catch up).
        self._scheduler.add_job(self._catch_up_job, args=(groups,), id=CATCH_UP_JOB)

    async def shutdown(self, grace: timedelta = SHUTDOWN_GRACE) -> None:
        """Stop firing, and wait for runs in progress (cancelling what outlives ``grace``).

        A run cut off between claim and send is not lost: its claim goes stale and the next start
        re-takes it within the reminder grace window.
        """
        self._stopping = True
        self._stopped.set()
        if not self._scheduler.running:
            return
        # Pause first: APScheduler's shutdown cancels running coroutine jobs, which could cut a
        # reminder off after Discord took it but before its delivery row says "sent".
        self._scheduler.pause()
        pending = {t for t in self._in_flight if not t.done()}
        if pending:
            _, late = await asyncio.wait(pending, timeout=grace.total_seconds())
            for task in late:
                log.warning("cancelling a reminder run still going at shutdown: %s", task.get_name())
        self._scheduler.shutdown(wait=False)

    def _track(self) -> None:
        """Note the job's task as in progress (called first thing in every job)."""
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)

    async def refresh(self) -> None:
        """Make the jobs match the settings in the database (call after every change)."""
        await self._refresh()

    async def _refresh(self) -> set[SlotGroup]:
        """:meth:`refresh`, returning the slot groups it read."""
        if self._stopping:
            return set()
        groups = await self._reminders.slot_groups()
        wanted = {job_id(g): g for g in groups}
        for job in self._scheduler.get_jobs():
            if (
                job.id not in (REFRESH_JOB, CATCH_UP_JOB, PRUNE_JOB)
                and not job.id.startswith(RETRY_JOB_PREFIX)
                and job.id not in wanted
            ):
                job.remove()
        now = self._clock()
        for jid, group in wanted.items():
            if self._scheduler.get_job(jid) is None:
                self._arm(group, after=now)
        log.debug("reminder jobs: %d for %d slot groups", self.job_count(), len(wanted))
        return groups

    async def _refresh_job(self) -> None:
        self._track()
        await self.refresh()

    async def _prune_job(self) -> None:
        self._track()
        try:
            await self._reminders.prune()
        except Exception:
            log.exception("pruning the reminder ledger failed; tried again tomorrow")
        for job in self._daily:
            if self._stopping:
                return
            try:
                await job()
            except Exception:
                log.exception(
                    "the daily job %s failed; tried again tomorrow", getattr(job, "__qualname__", job)
                )

    async def _catch_up_job(self, groups: set[SlotGroup] | None = None) -> None:
        self._track()
        await self.catch_up(groups)

    def _arm(self, group: SlotGroup, *, after: datetime) -> None:
        local_day, instant = next_occurrence(group.at, ZoneInfo(group.timezone), after)
        self._scheduler.add_job(
            self._fire,
            trigger=DateTrigger(run_date=instant),
            args=(group, local_day, instant),
            id=job_id(group),
            replace_existing=True,
        )

    async def _fire(self, group: SlotGroup, local_day: date, instant: datetime) -> None:
        self._track()
        try:
            await self._run_with_retries(group, local_day, instant)
        finally:
            if not self._stopping and await self._still_wanted(group):
                self._arm(group, after=instant)

    async def _run_with_retries(self, group: SlotGroup, local_day: date, instant: datetime) -> None:
        """Run the occurrence until every team's reminder is settled, pausing longer each time, or
        until its grace window ends (what is still pending then is recorded as skipped)."""
        pause = RETRY_FIRST
        while True:
            try:
                if await self._run_occurrence(group, local_day, instant):
                    return
            except Exception:
                # One bad run must not stop tomorrow's: log it, try again while it is not too late,
                # and re-arm all the same.
                log.exception("reminder run %s on %s failed", job_id(group), local_day)
            if self._stopping:
                return  # what is pending is the next start's (its catch-up runs it again)
            # The last attempt comes just before the end of the window, not after it.
            left = instant + self._grace - self._clock() - LAST_TRY_MARGIN
            if left <= timedelta(0):
                await self._give_up(group, local_day, instant)
                return
            if not await self._pause(min(pause, left)):
                return
            pause = min(pause * 2, RETRY_MAX)

    async def _pause(self, pause: timedelta) -> bool:
        """Wait ``pause`` unless the scheduler stops first; True if it is still running."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopped.wait(), pause.total_seconds())
        return not self._stopping

    async def _give_up(self, group: SlotGroup, local_day: date, instant: datetime) -> None:
        try:
            if await self._reminders.skip(
                group, local_day, instant, reason="not delivered by the end of its grace window"
            ):
                await self._settle(group, local_day, instant)
        except Exception:
            log.exception(
                "could not record %s on %s as skipped; the next start will", job_id(group), local_day
            )

    async def _settle(self, group: SlotGroup, local_day: date, instant: datetime) -> None:
        """Record the occurrence as finished; if that fails, the next start's catch-up only runs it
        once more (finding nothing to send), so it is logged, not retried."""
        try:
            await self._reminders.settle(group, local_day, instant)
        except Exception:
            log.warning(
                "could not record %s on %s as finished; the next start runs it again",
                job_id(group),
                local_day,
                exc_info=True,
            )

    async def _still_wanted(self, group: SlotGroup) -> bool:
        """Whether the group still has teams; if the database cannot say, it is kept (the refresh
        removes it later if it is gone): not re-arming would lose tomorrow's reminder."""
        try:
            return group in await self._reminders.slot_groups()
        except Exception:
            log.warning(
                "could not re-read the slot groups after %s; re-arming it", job_id(group), exc_info=True
            )
            return True

    async def _run_occurrence(self, group: SlotGroup, local_day: date, instant: datetime) -> bool:
        """Deliver (or, past the grace window, skip) one occurrence; True if nothing is left pending."""
        late = self._clock() - instant
        if late > self._grace:
            # A team left to another run is that run's to finish: nothing to retry here, but the
            # occurrence is finished only if none was.
            if await self._reminders.skip(group, local_day, instant, reason=f"{late} late"):
                await self._settle(group, local_day, instant)
            return True
        delivered = await self._reminders.deliver(group, local_day, instant)
        if delivered.pending:
            log.info(
                "%s on %s: %d reminders pending, trying again", job_id(group), local_day, delivered.pending
            )
            return False
        await self._settle(group, local_day, instant)
        return True

    async def catch_up(self, groups: set[SlotGroup] | None = None) -> None:
        """Deliver reminders whose time passed while the bot was down (once, late) within the grace
        window; record older ones as skipped. An occurrence left pending (the crashed copy's claims
        are not stale yet, say) goes on being retried in the background like a fired one.

        Only the occurrences of the look-back not recorded as finished are run: after a restart with
        nothing missed, one query (``groups``, when given, are the slot groups just read; else they
        are read here). If the finished ones cannot be read, every occurrence is run, as each run
        passes over the teams already settled."""
        now = self._clock()
        since = now - CATCH_UP_LOOKBACK
        if groups is None:
            groups = await self._reminders.slot_groups()
        if not groups:
            return
        try:
            finished = await self._reminders.settled(since)
        except Exception:
            log.warning("could not read which reminders are finished; running them all", exc_info=True)
            finished = set()
        for group in sorted(groups):
            tz = ZoneInfo(group.timezone)
            for local_day, instant in due_occurrences(group.at, tz, since, now):
                if (group, local_day) in finished:
                    continue
                try:
                    settled = await self._run_occurrence(group, local_day, instant)
                except Exception:
                    log.exception("catch-up of %s on %s failed", job_id(group), local_day)
                    settled = False
                if not settled and not self._stopping:
                    self._scheduler.add_job(
                        self._retry_job,
                        args=(group, local_day, instant),
                        id=f"{RETRY_JOB_PREFIX}{job_id(group)}|{local_day}",
                        replace_existing=True,
                    )

    async def _retry_job(self, group: SlotGroup, local_day: date, instant: datetime) -> None:
        self._track()
        if await self._pause(RETRY_FIRST):
            await self._run_with_retries(group, local_day, instant)
