"""Getting each team's reminder into its channel exactly once: claim, compose, send, mark, skip.

Delivery protocol (what makes "exactly once" hold):

1. **Claim**: insert a ``reminder_deliveries`` row keyed (team, local date, slot) — a unique key, so
   of two bot copies, a restart or a double firing, exactly one insert wins and only the winner sends.
2. **Send** through the adapter's :class:`Sender`, with a nonce derived from the key; discord.py
   sets ``enforce_nonce``, so Discord itself drops a repeat of the same nonce sent within minutes.
3. **Mark** the row ``sent``, ``failed`` (for good: the channel is gone, Discord refused the message)
   or ``retry`` (Discord did not take it this time: a 5xx, a broken connection).

A ``retry`` row may be taken again at once; a crash between 1 and 3 leaves a row ``claimed``, which
may be taken again once stale (after the lease, :data:`CLAIM_LEASE` by default). :meth:`deliver`
reports such reminders as pending, and the scheduler runs the slot group again, with a growing pause,
until every team's is settled or its grace window ends (then they are recorded as skipped). Re-taking
is a conditional update, so again only one copy wins.

An earlier attempt may have reached Discord although its row does not say so (the bot died after
the send, a 5xx came after Discord stored the message). So a re-taken reminder is first looked for in
the channel (:meth:`Sender.find`, by the key the message carries in its button), and recorded if it
is there; Discord's nonce drops a repeat too, but only for a few minutes. What is left: a re-taken
reminder is sent twice if its first copy cannot be found (deleted, or the bot lacks Read Message
History there) and the nonce has expired.

:meth:`DeliveryService.preview` composes the same messages without claiming or sending anything;
:meth:`DeliveryService.send_test` posts one now, marked as a test and without pings, and stays out of
the ledger, so the real one still goes out at its time.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backrun_bot.domain.amounts import Units
from backrun_bot.domain.dates import Period
from backrun_bot.domain.day_off import DayOff, day_off_reason, day_off_section
from backrun_bot.domain.done import DONE_LINE_ROOM
from backrun_bot.domain.drills import plan_for
from backrun_bot.domain.load import LOAD_LOOKBACK_DAYS, DayLog, assess_day, may_be_heavy
from backrun_bot.domain.schedule import Slot, format_days, occurrence_utc
from backrun_bot.domain.shards import ShardSet
from backrun_bot.domain.stats import streaks
from backrun_bot.domain.volume import lead_in_start, volume_series
from backrun_bot.domain.weekly import MIN_STREAK, WeeklySummary, WeekTotals, last_week, placed
from backrun_bot.errors import (
    BackrunError,
    ChannelUnavailable,
    DeliveryError,
    InvalidInput,
    MessageRefused,
    StorageUnavailable,
)
from backrun_bot.services.common import Clock, team_today
from backrun_bot.services.reminder_settings import ReminderSettings
from backrun_bot.services.volume import VolumeChart
from backrun_bot.storage import checkin_queries as cq
from backrun_bot.storage import load_queries as lq
from backrun_bot.storage import occurrence_queries as oq
from backrun_bot.storage import queries
from backrun_bot.storage import reminder_queries as rq
from backrun_bot.storage import weekly_queries as wq
from backrun_bot.storage.models import Team

log = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=2)
# How long the delivery ledger keeps a day's rows. Exactly-once needs a row only until its reminder's
# grace window is over (a day at most); the rest is history for /reminders show and for an operator
# asking "did Monday's warmup go out?", for which about three months is plenty.
LEDGER_DAYS = 90
# How long the occurrence ledger (which slot-group occurrences are finished) keeps a day's rows: the
# catch-up looks back one day, and a missing row only costs that occurrence one more run.
OCCURRENCE_DAYS = 7
# How long the settings change log keeps its rows: every process reads it within minutes (its periodic
# refresh); one whose groups are older than that reads all of them again.
SETTINGS_CHANGES_KEPT = timedelta(days=1)
# Discord's limit on the content of one message.
MAX_MESSAGE = 2000
# The fan-out claims, reads and records this many teams at a time (a constant number of statements
# each), and keeps this many sends in flight: enough to use Discord's 50 requests/s over real
# round trips, which one send at a time could not.
FANOUT_BATCH = 100
SEND_CONCURRENCY = 8
# Batches in progress at once: while one sends, the next claims, reads and composes (and then sends
# too, through the same pacer), so the sends never stop to wait for the database between batches.
# At most this many batches' claims are taken and not yet recorded.
BATCHES_IN_FLIGHT = 2
# A skipped slot group is one log line (not one per team), naming at most this many teams.
SKIPPED_NAMED = 20


@dataclass(frozen=True, order=True)
class SlotGroup:
    """Teams that share a reminder: one scheduler job serves them all."""

    timezone: str
    at: time
    slot: Slot


# What a real warmup's or cooldown's Done button logs: the team, the local day and the slot.
DoneTarget = tuple[int, date, Slot]


class Sender(Protocol):
    """Posts a message to a channel; implemented by the Discord adapter."""

    async def send(
        self,
        channel_id: int,
        content: str,
        *,
        mention_user_ids: Sequence[int],
        nonce: str,
        key: str,
        picture: Picture | None = None,
        done: DoneTarget | None = None,
    ) -> int:
        """Send and return the message id. ``key`` names the reminder (:func:`reminder_key`) and goes
        into the message where :meth:`find` can see it; ``picture``, if any, is drawn and attached
        (left out, and logged, if it cannot be drawn: the text still goes); ``done``, on a real
        warmup or cooldown, is what its Done button logs (services.done; none on the weekly summary
        or a test). Raises
        ChannelUnavailable, MessageRefused or DeliveryError."""
        ...

    async def find(self, channel_id: int, key: str, *, since: datetime) -> int | None:
        """The id of the bot's own message carrying ``key`` posted in the channel since ``since``, if
        there is one. Raises DeliveryError if the channel could not be read."""
        ...


# What became of one team's reminder: posted; failed for good (the channel is gone or Discord refused
# the message); not taken by Discord this time (sent by a later run once the claim is stale); skipped
# (found past the grace window); or an unexpected error (logged with its traceback).
Outcome = Literal["sent", "failed", "retry", "skipped", "error"]


class Outcomes(Protocol):
    """Told what became of each team's reminder (the bot counts them in its metrics); ``late`` is how
    long after its time a sent one went out."""

    def __call__(self, slot: str, outcome: Outcome, *, late: timedelta | None = None) -> None: ...


def _tell_nobody(slot: str, outcome: Outcome, *, late: timedelta | None = None) -> None:
    pass


@dataclass(frozen=True)
class Picture:
    """A chart for the Discord adapter to draw and attach: ``title`` is drawn into it, ``when``
    ("last week") goes into its description for screen readers."""

    chart: VolumeChart
    title: str
    when: str


@dataclass(frozen=True)
class Composed:
    content: str
    mention_user_ids: tuple[int, ...]
    days_off: int = 0  # athletes named for a day off
    picture: Picture | None = None


@dataclass(frozen=True)
class _Post:
    """One team's reminder, claimed and composed, to be sent; on a Monday, the weekly summary too."""

    team_id: int
    channel_id: int
    composed: Composed | None  # None: the reminder is settled, only the weekly summary is left
    retaken: bool  # an earlier attempt may have reached the channel: look there first
    rested: tuple[int, ...] = ()  # athletes the warmup names for a day off (their rest day, once sent)
    weekly: Composed | None = None  # Monday's summary, claimed: sent after the warmup
    weekly_retaken: bool = False


@dataclass(frozen=True)
class _Result:
    team_id: int
    outcome: Outcome
    finished: rq.Finished | None  # None: left claimed (it goes stale and is retried)
    lost_channel: bool = False
    part: str = ""  # the ledger slot: the run's own, or rq.WEEKLY_SLOT


@dataclass(frozen=True)
class PostedTest:
    """What ``/reminders test`` posted, and what becomes of today's real reminder."""

    channel_id: int
    slot: Slot
    real_goes_out: bool
    real_one: str  # a clause: "the real one still goes out at 07:00 Europe/Oslo"
    days_off: int  # athletes named for a day off (the test pinged none of them)


@dataclass(frozen=True)
class Delivered:
    """What one run of a slot group did: ``sent`` reminders posted (and ``weekly`` summaries after
    Monday's warmups), ``pending`` ones (either) not settled yet (Discord did not take them, or
    another run holds them): run the group again later."""

    sent: int = 0
    pending: int = 0
    weekly: int = 0


def reminder_key(day: date, slot: Slot | str, *, test: bool = False) -> str:
    """What a reminder message carries to be recognised later: its day and slot (``warmup``,
    ``cooldown`` or the weekly summary's ``weekly``; a channel is one team's), with a mark on a test
    so that it is never taken for the real one."""
    return f"{day.isoformat()}:{slot}" + (":test" if test else "")


def _nonce(team_id: int, day: date, slot: Slot | str) -> str:
    # Discord's nonce is at most 25 characters.
    return hashlib.sha256(f"{team_id}:{day.isoformat()}:{slot}".encode()).hexdigest()[:25]


def _test_nonce() -> str:
    # Unique per test, so two tests in a row both go out (Discord drops a repeated nonce).
    return "t" + secrets.token_hex(12)


def real_reminder(settings: ReminderSettings, slot: Slot, today: date, now: datetime) -> tuple[bool, str]:
    """Whether today's real ``slot`` reminder goes out (or went out), and a clause saying so."""
    at = settings.warmup if slot is Slot.WARMUP else settings.cooldown
    if at is None:
        return False, f"the {slot.label} is switched off, so no real one goes out"
    if settings.pause_reason:
        return False, f"reminders are paused ({settings.pause_reason}), so no real one goes out"
    if not settings.active:
        return False, "reminders are off, so no real one goes out"
    if settings.paused_until is not None and settings.paused_until > today:
        return False, f"reminders are paused until {settings.paused_until.isoformat()}"
    if today.weekday() not in settings.days:
        return False, f"no real one goes out today (reminders go out {format_days(settings.days)})"
    when = f"{at:%H:%M} {settings.timezone}"
    if occurrence_utc(today, at, ZoneInfo(settings.timezone)) > now:
        return True, f"the real one still goes out at {when}"
    return True, f"the real one was due at {when} today"


class DeliveryService:
    """Sends the teams' reminders when the scheduler says a slot group is due.

    ``shards``: the servers this process serves (``SHARD_IDS``); the reminders of the others are
    another process's (the claim would stop a double send anyway, but each process should not even
    try the teams it does not own).
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        sender: Sender,
        *,
        clock: Clock,
        grace: timedelta,
        lease: timedelta = CLAIM_LEASE,
        ledger_days: int = LEDGER_DAYS,
        outcomes: Outcomes = _tell_nobody,
        shards: ShardSet = ShardSet.every(),  # noqa: B008 (a frozen value)
    ) -> None:
        self._shards = shards
        self._sessionmaker = sessionmaker
        self._sender = sender
        self._clock = clock
        self._grace = grace
        self._lease = lease
        self._ledger_days = ledger_days
        # The slot groups as last read, and the settings version they were read at (slot_groups()).
        self._groups: frozenset[SlotGroup] | None = None
        self._groups_version = 0
        self._outcomes = outcomes

    # --- content --------------------------------------------------------------------------------

    async def days_off(self, s: AsyncSession, team: Team, day: date) -> list[DayOff]:
        """Athletes of ``team`` on a suggested day off from backward work on ``day``, and why: the
        day before was heavy (with the rules that fired) or their check-in of ``day`` is sore."""
        candidates = await self._candidates(s, [team], day - timedelta(days=1))
        sore = await self._sore(s, [team], day)
        return self._days_off_in(team, candidates.get(team.id, []), sore.get(team.id, []), day)

    @staticmethod
    async def _sore(s: AsyncSession, teams: Sequence[Team], day: date) -> dict[int, list[cq.SoreCheckin]]:
        """The check-ins of ``day`` in ``teams`` that may suggest a day off, by team: one query
        however many teams (:func:`cq.sore_checkins`)."""
        result: dict[int, list[cq.SoreCheckin]] = {}
        for checkin in await cq.sore_checkins(s, [team.id for team in teams], day):
            result.setdefault(checkin.athlete.team_id, []).append(checkin)
        return result

    @staticmethod
    async def _candidates(
        s: AsyncSession, teams: Sequence[Team], heavy_day: date
    ) -> dict[int, list[tuple[lq.AthleteRef, list[DayLog]]]]:
        """The athletes of ``teams`` whose ``heavy_day`` may have been heavy, with their days of the
        load model's lookback, by team: at most two queries however many teams and athletes
        (issue 9).

        A few sums per athlete in SQL (:func:`lq.screens`) rule out everyone whose day certainly
        was not heavy (:func:`may_be_heavy`); only the rest have their days read, and
        :func:`assess_day` decides for them, exactly as for one athlete.
        """
        marks = {team.id: team.heavy_meters for team in teams}
        screened = await lq.screens(s, list(marks), heavy_day)
        maybe = [a.athlete for a in screened if may_be_heavy(a.screen, marks[a.athlete.team_id])]
        start = heavy_day - timedelta(days=LOAD_LOOKBACK_DAYS)
        days = await lq.day_logs(s, [athlete.id for athlete in maybe], start, heavy_day)
        result: dict[int, list[tuple[lq.AthleteRef, list[DayLog]]]] = {}
        for athlete in maybe:
            result.setdefault(athlete.team_id, []).append((athlete, days.get(athlete.id, [])))
        return result

    @staticmethod
    def _days_off_in(
        team: Team,
        athletes: Sequence[tuple[lq.AthleteRef, list[DayLog]]],
        sore: Sequence[cq.SoreCheckin],
        day: date,
    ) -> list[DayOff]:
        """Who of the candidates is on a suggested day off on ``day``: :func:`day_off_reason` on the
        day before's assessment and the day's check-in, as for one athlete's ``/plan``."""
        heavy_day = day - timedelta(days=1)
        refs = {athlete.id: athlete for athlete, _ in athletes} | {c.athlete.id: c.athlete for c in sore}
        heavy = {athlete.id: assess_day(days, heavy_day, team.heavy_meters) for athlete, days in athletes}
        checkins = {c.athlete.id: c for c in sore}
        result = []
        for athlete_id, athlete in refs.items():
            checkin = checkins.get(athlete_id)
            reason = day_off_reason(
                heavy.get(athlete_id),
                None if checkin is None else checkin.soreness,
                None if checkin is None else checkin.area,
            )
            if reason is not None:
                result.append(
                    DayOff(
                        athlete.user_id,
                        athlete.display_name,
                        athlete.mentions_enabled,
                        reason.heavy,
                        athlete.id,
                        reason.sore,
                    )
                )
        return sorted(result, key=lambda d: d.display_name.lower())

    async def compose(
        self, s: AsyncSession, team: Team, day: date, slot: Slot, *, header: str = "", pings: bool = True
    ) -> Composed:
        """The ``slot`` message for ``day``, after ``header`` (if any), within one message.

        ``pings=False`` names every athlete given a day off by display name and pings nobody.
        """
        offs = await self.days_off(s, team, day) if slot is Slot.WARMUP else []
        return self._compose(team, day, slot, offs, header=header, pings=pings)

    @staticmethod
    def _compose(
        team: Team, day: date, slot: Slot, offs: list[DayOff], *, header: str = "", pings: bool = True
    ) -> Composed:
        plan = plan_for(team.id, day)
        units = Units(team.units)
        head = f"{header}\n\n" if header else ""
        if slot is Slot.COOLDOWN:
            return Composed(head + plan.cooldown_text(units), ())
        warmup = head + plan.warmup_text(units)
        if not offs:
            return Composed(warmup, ())
        if not pings:
            offs = [dataclasses.replace(off, mention=False) for off in offs]
        # The Done count line is added below it later (services.done): its room is kept free.
        budget = MAX_MESSAGE - DONE_LINE_ROOM - len(warmup) - 2
        section, pinged = day_off_section(offs, budget=budget, units=units)
        return Composed(f"{warmup}\n\n{section}", pinged, days_off=len(offs))

    @staticmethod
    async def _summaries(
        s: AsyncSession, team_ids: Sequence[int], day: date, units_of: dict[int, Units]
    ) -> dict[int, tuple[WeeklySummary, VolumeChart]]:
        """Monday's summaries of last week (Monday to Sunday before ``day``, the teams' local days)
        for ``team_ids``, each with the week's team chart (as /team report draws it, with the 7-day
        average reaching into the week before), in each team's units: four queries however many
        teams (:mod:`backrun_bot.storage.weekly_queries`). The current streaks are /stats's
        (:func:`streaks`, from the mark on), as of ``day``."""
        if not team_ids:
            return {}
        first, last = last_week(day)
        totals = await wq.week_totals(s, team_ids, first, last)
        days = await wq.week_days(s, team_ids, lead_in_start(first, last), last)
        top = await wq.week_top(s, team_ids, first, last)
        parts = await wq.current_streak_parts(s, team_ids, day)
        out = {}
        for team_id in team_ids:
            units = units_of.get(team_id, Units.METRIC)
            current = [(p.display_name, streaks([p.island], day, p.mark)[0]) for p in parts.get(team_id, [])]
            summary = WeeklySummary(
                first,
                last,
                totals.get(team_id, WeekTotals()),
                placed(top.get(team_id, []), lambda a: a.meters, lambda a: a.display_name),
                placed(
                    [(name, days) for name, days in current if days >= MIN_STREAK],
                    lambda c: float(c[1]),
                    lambda c: c[0],
                ),
                units,
            )
            series = volume_series(days.get(team_id, {}), first=first, last=last, today=last)
            out[team_id] = (summary, VolumeChart(Period.WEEK, series, units))
        return out

    async def preview(self, guild_id: int) -> tuple[ReminderSettings, str, str]:
        """The settings, and today's warmup and cooldown as they would be sent (nothing is sent or
        claimed)."""
        async with self._sessionmaker.begin() as s:
            team = await queries.get_or_create_team(s, guild_id)
            today = team_today(team, self._clock)
            warm = await self.compose(s, team, today, Slot.WARMUP)
            cool = await self.compose(s, team, today, Slot.COOLDOWN)
            return ReminderSettings.of(team), warm.content, cool.content

    async def send_test(self, guild_id: int, slot: Slot) -> PostedTest:
        """Post today's ``slot`` reminder now to the team's channel, marked as a test.

        Same content and day-off section as the real one, but nobody is pinged (a coach trying it
        out must not wake the squad), and nothing is written to the delivery ledger, so the real one
        still goes out at its time. Failures come back as :class:`BackrunError` saying what to do.
        """
        async with self._sessionmaker.begin() as s:
            team = await queries.get_or_create_team(s, guild_id)
            if team.reminder_channel_id is None:
                raise InvalidInput("There is no reminder channel yet: run `/reminders set channel:` first.")
            channel_id = team.reminder_channel_id
            today = team_today(team, self._clock)
            goes_out, real_one = real_reminder(ReminderSettings.of(team), slot, today, self._clock())
            look = "will look" if goes_out else "would look"
            banner = f"🧪 Test — this is how today's {slot.label} {look}; {real_one}."
            composed = await self.compose(s, team, today, slot, header=banner, pings=False)
        try:
            await self._sender.send(
                channel_id,
                composed.content,
                mention_user_ids=(),
                nonce=_test_nonce(),
                key=reminder_key(today, slot, test=True),
            )
        except ChannelUnavailable as exc:
            raise BackrunError(
                f"I can't post in <#{channel_id}>: Discord says the channel is gone or I may not post "
                f"there ({exc}).",
                hint="Give me View Channel and Send Messages in it, or pick another channel with "
                "`/reminders set channel:`.",
            ) from exc
        except MessageRefused as exc:
            raise BackrunError(
                f"Discord refused the test {slot.label} in <#{channel_id}> ({exc}).",
                hint="AutoMod or a channel rule may be blocking it, and it would block the real one "
                "too: check the server's AutoMod rules for that channel.",
            ) from exc
        except DeliveryError as exc:
            raise BackrunError(
                f"Discord did not take the test {slot.label} just now ({exc}).", hint="Try again in a minute."
            ) from exc
        log.info("posted a test %s for team %s", slot.value, guild_id)
        return PostedTest(channel_id, slot, goes_out, real_one, composed.days_off)

    # --- delivery -------------------------------------------------------------------------------

    async def slot_groups(self) -> set[SlotGroup]:
        """The distinct reminders of this process's teams (one scheduler job each).

        Asked on every firing and every refresh; read again only when some team's settings changed
        since the last read, which one lookup tells. Then only the groups of the timezones those
        changes touched are read again (the change log says which), unless some change could not say
        or its record is gone: then all of them.
        """
        async with self._sessionmaker() as s:
            version = await rq.settings_generation(s)
            if self._groups is not None and version == self._groups_version:
                return set(self._groups)
            touched = None
            if self._groups is not None and version > self._groups_version:
                touched = await rq.touched_timezones(s, self._groups_version, version)
            if touched is None:
                rows = await rq.slot_groups(s, self._shards)
                kept: frozenset[SlotGroup] = frozenset()
            else:
                rows = await rq.slot_groups(s, self._shards, timezones=sorted(touched))
                kept = frozenset(g for g in self._groups or () if g.timezone not in touched)
        read = (SlotGroup(tz, time.fromisoformat(at), Slot(slot)) for tz, at, slot in rows)
        self._groups = kept | frozenset(read)
        self._groups_version = version
        return set(self._groups)

    async def _due(self, s: AsyncSession, group: SlotGroup, day: date, instant: datetime) -> list[int]:
        """The teams of this process's shards whose ``group`` reminder for ``day`` is due at ``instant``."""
        return await rq.due_team_ids(
            s, group.timezone, group.at.strftime("%H:%M"), group.slot.value, day, instant, shards=self._shards
        )

    async def deliver(self, group: SlotGroup, day: date, instant: datetime) -> Delivered:
        """Send ``group``'s reminder for ``day`` to every team due that has not had it.

        In batches of :data:`FANOUT_BATCH` teams, each a constant number of statements (claim, read
        the teams and their day-off data, record the outcomes), :data:`BATCHES_IN_FLIGHT` at a time,
        each with up to :data:`SEND_CONCURRENCY` sends in flight (the adapter paces them under
        Discord's global limit).

        Safe to run again and again (that is how failures are retried): a team whose reminder is
        settled is passed over. If the database stops answering, the run stops at once with
        :class:`StorageUnavailable` (every other team would wait out the same timeout).
        """
        async with self._sessionmaker() as s:
            team_ids = await self._due(s, group, day, instant)
        gate = asyncio.Semaphore(BATCHES_IN_FLIGHT)

        async def run(batch: Sequence[int]) -> Delivered:
            async with gate:
                try:
                    return await self._deliver_batch(batch, group.slot, day, instant)
                except StorageUnavailable:
                    raise
                except Exception:
                    # One batch's failure never stops the others; its claims (those taken) are
                    # retried once stale, so its teams count as pending.
                    log.exception("%s reminders of teams %s for %s failed", group.slot.value, batch, day)
                    self._outcomes(group.slot.value, "error")
                    return Delivered(pending=len(batch))

        batches = [team_ids[start : start + FANOUT_BATCH] for start in range(0, len(team_ids), FANOUT_BATCH)]
        tasks = [asyncio.ensure_future(run(batch)) for batch in batches]  # they start in this order
        try:
            done = await asyncio.gather(*tasks)
        except BaseException:
            # The database went away (or the run was cancelled): stop the lot; claims taken and not
            # recorded are retried once stale.
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        return Delivered(sum(d.sent for d in done), sum(d.pending for d in done), sum(d.weekly for d in done))

    async def _deliver_batch(
        self, team_ids: Sequence[int], slot: Slot, day: date, instant: datetime
    ) -> Delivered:
        """One batch: claim, read and compose, send, record; on a Monday's warmup, the weekly
        summary of the teams that have it on and logged something last week, after their warmup."""
        now = self._clock()
        stale_before = now - self._lease
        weekly_day = rq.weekly_follows(slot.value, day)
        weekly_claims: dict[int, rq.Claim] = {}
        summaries: dict[int, tuple[WeeklySummary, VolumeChart]] = {}
        async with self._sessionmaker.begin() as s:
            claims = await rq.claim_many(s, team_ids, day, slot.value, now, stale_before=stale_before)
            won = [team_id for team_id in team_ids if claims.get(team_id, rq.Claim.SETTLED).won]
            # On a Monday the weekly summary follows the warmup: for the teams whose warmup this run
            # sends, or that is settled already (the summary failed or was cut off after it), not
            # while another run holds the warmup (that run sends both).
            after = won
            if weekly_day:
                after = [t for t in team_ids if claims.get(t, rq.Claim.HELD) is not rq.Claim.HELD]
            teams = await rq.teams(s, after)
            logs: dict[int, list[tuple[lq.AthleteRef, list[DayLog]]]] = {}
            sore: dict[int, list[cq.SoreCheckin]] = {}
            if slot is Slot.WARMUP and won:
                logs = await self._candidates(s, [teams[t] for t in won], day - timedelta(days=1))
                # The check-ins made before the warmup is composed (a later one changes nothing sent).
                sore = await self._sore(s, [teams[t] for t in won], day)
            if weekly_day:
                wanted = [t for t in after if teams[t].weekly_summary and teams[t].reminder_channel_id]
                # Only a team with something to sum up gets a summary (and a ledger row): one read
                # of the (team_id, day) index per batch, only when some team has the summary on.
                wanted = await rq.logged_last_week(s, wanted, day)
                weekly_claims = await rq.claim_many(
                    s, wanted, day, rq.WEEKLY_SLOT, now, stale_before=stale_before
                )
                summing = [t for t in wanted if weekly_claims[t].won]
                summaries = await self._summaries(
                    s, summing, day, {t: Units(teams[t].units) for t in summing}
                )
        held = sum(claim is rq.Claim.HELD for claim in (*claims.values(), *weekly_claims.values()))
        posts = []
        gone: list[_Result] = []
        for team_id in team_ids:
            is_won = team_id in teams and claims.get(team_id, rq.Claim.SETTLED).won
            summary, chart = summaries.get(team_id, (None, None))
            if not is_won and summary is None:
                continue
            team = teams[team_id]
            if team.reminder_channel_id is None:
                # Its channel was unset since the due teams were read.
                unset = ([slot.value] if is_won else []) + ([rq.WEEKLY_SLOT] if summary is not None else [])
                skip = rq.Finished(team_id, "skipped", detail="no channel")
                gone += [_Result(team_id, "skipped", skip, part=part) for part in unset]
                continue
            composed = None
            rested: tuple[int, ...] = ()
            if is_won:
                offs = self._days_off_in(team, logs.get(team_id, []), sore.get(team_id, []), day)
                composed = self._compose(team, day, slot, offs)
                rested = tuple(off.athlete_id for off in offs if off.athlete_id is not None)
            weekly = None
            if summary is not None and summary.empty:
                # Nobody logged anything last week: nothing to sum up, so nothing is posted.
                gone.append(
                    _Result(
                        team_id,
                        "skipped",
                        rq.Finished(team_id, "skipped", detail="nothing logged last week"),
                        part=rq.WEEKLY_SLOT,
                    )
                )
            elif summary is not None and chart is not None:
                # Names as text: the summary pings nobody. The chart goes with it as a picture.
                picture = Picture(
                    chart, f"Team · week of {summary.first.day} {summary.first:%b}", "last week"
                )
                weekly = Composed(summary.text(), (), picture=picture)
            if composed is None and weekly is None:
                continue
            posts.append(
                _Post(
                    team_id,
                    team.reminder_channel_id,
                    composed,
                    claims.get(team_id) is rq.Claim.RETAKEN,
                    rested,
                    weekly,
                    weekly_claims.get(team_id) is rq.Claim.RETAKEN,
                )
            )
        results = await self._send_all(posts, slot, day, instant) + gone
        channel_of = {post.team_id: post.channel_id for post in posts}
        lost = {
            r.team_id: f"the bot cannot post in <#{channel_of[r.team_id]}>" for r in results if r.lost_channel
        }
        # The athletes a sent warmup told to rest: today is a rest day for them (their streak holds).
        sent_to = {r.team_id for r in results if r.outcome == "sent" and r.part == slot.value}
        # (One named for soreness has had that rest day since the check-in: this adds nothing for them.)
        resting = [a for post in posts if post.team_id in sent_to for a in post.rested]
        parts: dict[str, list[rq.Finished]] = {}
        for r in results:
            if r.finished:
                parts.setdefault(r.part, []).append(r.finished)
        async with self._sessionmaker.begin() as s:
            for part, finished in parts.items():
                await rq.finish_many(s, day, part, finished, self._clock())
            await rq.pause_for_channels(s, lost)
            await queries.record_rest_days(s, resting, day, "warmup", self._clock())
        # Told once the outcomes are committed.
        late = self._clock() - instant
        for r in results:
            self._outcomes(r.part, r.outcome, late=late if r.outcome == "sent" else None)
        sent = sum(r.outcome == "sent" and r.part == slot.value for r in results)
        summed_up = sum(r.outcome == "sent" and r.part == rq.WEEKLY_SLOT for r in results)
        pending = held + sum(r.outcome in ("retry", "error") for r in results)
        return Delivered(sent, pending, summed_up)

    async def _send_all(
        self, posts: Sequence[_Post], slot: Slot, day: date, instant: datetime
    ) -> list[_Result]:
        """Send each post, up to SEND_CONCURRENCY at once; results in the order of ``posts``.

        Anything that is not an ``Exception`` (the task cancelled at shutdown, the process ending) stops
        the lot: the sends still in flight are cancelled and their claims left to go stale.
        """
        gate = asyncio.Semaphore(SEND_CONCURRENCY)

        async def one(post: _Post) -> list[_Result]:
            async with gate:
                return await self._send_post(post, slot, day, instant)

        tasks = [asyncio.ensure_future(one(post)) for post in posts]
        try:
            return [r for results in await asyncio.gather(*tasks) for r in results]
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise

    async def _send_post(self, post: _Post, slot: Slot, day: date, instant: datetime) -> list[_Result]:
        """The team's reminder, then (on a Monday) its weekly summary, once the reminder went out
        or is settled; while the reminder is pending the summary waits with it (marked for a
        retry, so the run that sends the reminder sends it too), and a lost channel ends both."""
        results = []
        first: _Result | None = None
        if post.composed is not None:
            first = await self._send_one(
                post.team_id, post.channel_id, post.composed, post.retaken, slot.value, day, instant
            )
            results.append(first)
        if post.weekly is None:
            return results
        team_id, weekly = post.team_id, rq.WEEKLY_SLOT
        if first is not None and first.lost_channel:
            lost = rq.Finished(team_id, "failed", detail="channel lost")
            results.append(_Result(team_id, "failed", lost, part=weekly))
        elif first is not None and first.outcome in ("retry", "error"):
            wait = f"waiting for the {slot.label}"
            results.append(_Result(team_id, "retry", rq.Finished(team_id, "retry", detail=wait), part=weekly))
        else:
            results.append(
                await self._send_one(
                    team_id, post.channel_id, post.weekly, post.weekly_retaken, weekly, day, instant
                )
            )
        return results

    async def _send_one(
        self,
        team_id: int,
        channel_id: int,
        composed: Composed,
        retaken: bool,
        slot: str,
        day: date,
        instant: datetime,
    ) -> _Result:
        key = reminder_key(day, slot)
        try:
            if retaken and (found := await self._already_posted(channel_id, key, instant)):
                message_id = found
                log.info(
                    "%s reminder of team %s for %s was already posted (message %s): recorded, not sent again",
                    slot,
                    team_id,
                    day,
                    found,
                )
            else:
                message_id = await self._sender.send(
                    channel_id,
                    composed.content,
                    mention_user_ids=composed.mention_user_ids,
                    nonce=_nonce(team_id, day, slot),
                    key=key,
                    picture=composed.picture,
                    done=(team_id, day, Slot(slot)) if slot != rq.WEEKLY_SLOT else None,
                )
        except (ChannelUnavailable, MessageRefused) as exc:
            # Sending again would fail the same way: record it. A lost channel also pauses the team;
            # a refused message (AutoMod, say) leaves the team's reminders on.
            lost_channel = isinstance(exc, ChannelUnavailable)
            if lost_channel:
                log.warning(
                    "pausing reminders of team %s: channel %s unavailable (%s)", team_id, channel_id, exc
                )
            else:
                log.error("Discord refused the %s reminder of team %s for %s: %s", slot, team_id, day, exc)
            return _Result(
                team_id, "failed", rq.Finished(team_id, "failed", detail=str(exc)), lost_channel, slot
            )
        except DeliveryError as exc:
            # Transient (a 5xx, a broken connection): marked for another attempt, which the next run
            # makes (the scheduler runs the group again, with a growing pause, inside the grace
            # window). Discord may have taken it anyway, so that attempt looks in the channel first.
            log.warning(
                "%s reminder of team %s for %s not delivered (%s), will retry", slot, team_id, day, exc
            )
            return _Result(team_id, "retry", rq.Finished(team_id, "retry", detail=str(exc)), part=slot)
        except Exception:
            # Not Discord's answer but a bug: the claim stays until it is stale and is retried then.
            log.exception("%s reminder of team %s for %s failed", slot, team_id, day)
            return _Result(team_id, "error", None, part=slot)
        log.info("sent %s reminder to team %s for %s", slot, team_id, day)
        return _Result(team_id, "sent", rq.Finished(team_id, "sent", message_id=message_id), part=slot)

    async def _already_posted(self, channel_id: int, key: str, instant: datetime) -> int | None:
        """The reminder ``key`` as an earlier, unconfirmed attempt may have posted it (the message id),
        looked for among the channel's messages since ``instant``.

        Discord's nonce check drops a repeat only for a few minutes; a retry after a crash or an
        outage can come later. A failed look is no reason not to send: the nonce still covers a
        retry that comes soon.
        """
        try:
            return await self._sender.find(channel_id, key, since=instant)
        except DeliveryError as exc:
            log.warning("could not look for an earlier %s in channel %s (%s); sending", key, channel_id, exc)
            return None

    async def prune(self) -> int:
        """Delete the ledger's rows older than its retention (``ledger_days``), and the occurrence
        ledger's older than :data:`OCCURRENCE_DAYS`; returns how many delivery rows went."""
        today = self._clock().date()
        before = today - timedelta(days=self._ledger_days)
        async with self._sessionmaker() as s:
            removed = await rq.prune(s, before)
            await oq.prune_occurrences(s, today - timedelta(days=OCCURRENCE_DAYS))
            # The change log is stamped by the database writers' wall clock, not this service's.
            await rq.prune_settings_changes(s, datetime.now(UTC) - SETTINGS_CHANGES_KEPT)
        if removed:
            log.info("pruned %d reminder delivery rows from before %s", removed, before)
        return removed

    async def settle(self, group: SlotGroup, day: date, instant: datetime) -> None:
        """Record ``group``'s occurrence of ``day`` as finished for this process's shards (one
        statement): call it once a run of it left nothing pending. The catch-up at start passes over
        it then (:mod:`backrun_bot.storage.occurrence_queries` says why that is safe)."""
        async with self._sessionmaker.begin() as s:
            await oq.settle_occurrence(
                s,
                self._shards,
                group.timezone,
                group.at.strftime("%H:%M"),
                group.slot.value,
                day,
                instant,
                self._clock(),
            )

    async def settled(self, since: datetime) -> set[tuple[SlotGroup, date]]:
        """The occurrences due after ``since`` already finished for this process's shards, as
        (group, local day): one query, whatever the number of teams."""
        async with self._sessionmaker() as s:
            rows = await oq.settled_occurrences(s, self._shards, since)
        return {(SlotGroup(tz, time.fromisoformat(at), Slot(slot)), day) for tz, at, slot, day in rows}

    async def skip(self, group: SlotGroup, day: date, instant: datetime, *, reason: str) -> bool:
        """Record a reminder too late to send (past the grace window, or still failing at its end) as
        skipped, and log it in one line for the whole group; one that another run is sending right
        now is left to that run. True if no team was left so (every due team's reminder is settled
        now)."""
        now = self._clock()
        weekly_day = rq.weekly_follows(group.slot.value, day)
        weekly: list[int] = []
        at = group.at.strftime("%H:%M")
        async with self._sessionmaker.begin() as s:
            # Each due team, and which of its parts (the reminder; on a Monday's warmup, the weekly
            # summary that follows it: too late for one, too late for the other) is unsettled.
            parts = await rq.due_parts(
                s, group.timezone, at, group.slot.value, day, instant, shards=self._shards
            )
            team_ids = [team_id for team_id, own, _ in parts if own]
            skipped = await rq.skip(
                s, team_ids, day, group.slot.value, now, stale_before=now - self._lease, reason=reason
            )
            summaries = [team_id for team_id, _, pending in parts if pending]
            if weekly_day and summaries:
                weekly = await rq.skip(
                    s, summaries, day, rq.WEEKLY_SLOT, now, stale_before=now - self._lease, reason=reason
                )
        if weekly:
            log.warning("skipped the weekly summary of %d team(s) for %s: %s", len(weekly), day, reason)
        for _ in weekly:
            self._outcomes(rq.WEEKLY_SLOT, "skipped")
        if skipped:
            shown = ", ".join(map(str, skipped[:SKIPPED_NAMED]))
            more = f" and {len(skipped) - SKIPPED_NAMED} more" if len(skipped) > SKIPPED_NAMED else ""
            log.warning(
                "skipped the %s reminder of %d team(s) for %s at %s %s: %s (grace %s); team(s) %s%s",
                group.slot.value,
                len(skipped),
                day,
                group.at.strftime("%H:%M"),
                group.timezone,
                reason,
                self._grace,
                shown,
                more,
            )
        for _ in skipped:  # told once the skips are committed
            self._outcomes(group.slot.value, "skipped")
        # What was unsettled and is not recorded here is held by another run.
        return len(skipped) == len(set(team_ids)) and len(weekly) == len(set(summaries))
