"""Logging runs and reading them back: the use cases behind /log, /undo, /history and /stats.

The service owns the transactions (one per call) and raises the typed errors of
:mod:`backrun_bot.errors`; it knows nothing about Discord. Amounts arrive already parsed (the adapter
validates them where they enter); dates are parsed here because "today" depends on the team's
timezone, which lives in the database.
"""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from backrun_bot.domain.amounts import Amount, Units
from backrun_bot.domain.dates import Period, local_date, parse_day, period_start, week_start
from backrun_bot.domain.kinds import Kind
from backrun_bot.domain.load import rpe_problem
from backrun_bot.domain.stats import StreakMark, backward_share, moved_mark, streaks
from backrun_bot.domain.text import clean_note
from backrun_bot.errors import BackrunError, InvalidInput, NotAllowed, NotFound
from backrun_bot.services.common import Clock, Who, team_today, utc_now
from backrun_bot.storage import queries
from backrun_bot.storage.engine import single_statement
from backrun_bot.storage.models import RunSession

log = logging.getLogger(__name__)

NOTE_MAX_LENGTH = 200
HISTORY_MAX = 25
# How many teams' timezones /log keeps in memory (about a megabyte at most).
TIMEZONES_KEPT = 10_000


class UndoInProgress(BackrunError):
    """An /undo while another undo of the same member in the same server is still running here.

    A slow database keeps an /undo waiting; the athlete, seeing no answer, runs it again. Once the
    first has removed the latest entry, a second /undo would read the entry before it as the latest
    and remove that too. So the second changes nothing and says why."""

    TEXT = (
        "Your previous undo is still running, so nothing else was removed. "
        "Its answer follows; check /history afterwards."
    )

    def __init__(self) -> None:
        super().__init__(self.TEXT)


@dataclass(frozen=True, slots=True)
class EntryView:
    """One logged entry, as the adapter shows it."""

    id: int
    user_id: int
    kind: Kind
    amount: str
    effective_meters: float
    note: str | None
    day: date
    distance_given: bool
    rpe: int | None = None  # how hard it felt, CR-10 (None: not rated)

    @classmethod
    def of(cls, row: RunSession, user_id: int, units: Units = Units.METRIC) -> EntryView:
        amount = Amount(meters=row.meters, seconds=row.seconds, text=row.amount_text).display(units)
        return cls(
            id=row.id,
            user_id=user_id,
            kind=Kind(row.kind),
            amount=amount,
            effective_meters=row.effective_meters,
            note=row.note,
            day=row.day,
            distance_given=row.meters is not None,
            rpe=row.rpe,
        )

    def describe(self) -> str:
        """``#12 · 400 m backward run · 2026-11-23``, and `` · RPE 6`` when rated."""
        line = f"#{self.id} · {self.amount} {self.kind.label} · {self.day.isoformat()}"
        return line if self.rpe is None else f"{line} · RPE {self.rpe}"


@dataclass(frozen=True, slots=True)
class LogResult:
    entry: EntryView
    today: date
    backward_today_m: float
    backward_week_m: float
    units: Units = Units.METRIC  # the team's: how the reply shows distances


@dataclass(frozen=True, slots=True)
class _Logged:
    """What storing an entry for /log gives back: its id, today and its day in the team's timezone,
    and the athlete's backward meters of that day and its week before it."""

    entry_id: int
    today: date
    day: date
    day_before_m: float
    week_before_m: float
    units: str  # the team's display units


@dataclass(frozen=True, slots=True)
class _NewEntry:
    """What /log stores, checked: the kind, the parsed amount, the cleaned note and the rating."""

    kind: Kind
    amount: Amount
    note: str | None
    rpe: int | None


def check_rpe(rpe: int | None) -> None:
    """Refuse a rating outside CR-10's 1-10 (a client may ignore the option's declared range)."""
    problem = None if rpe is None else rpe_problem(rpe)
    if problem is not None:
        raise InvalidInput(problem)


@dataclass(frozen=True, slots=True)
class KindLine:
    kind: Kind
    count: int
    meters: float
    seconds: float


@dataclass(frozen=True, slots=True)
class StatsView:
    user_id: int
    period: Period
    start: date | None
    end: date
    lines: list[KindLine]
    backward_meters: float
    total_meters: float
    backward_share: float | None
    active_days: int
    current_streak: int
    longest_streak: int
    units: Units = Units.METRIC  # the team's: how the reply shows distances


def _log_window(now: datetime) -> tuple[date, date]:
    """The days whose backward meters /log reads before it knows the team's timezone: every day of
    the weeks of today and yesterday in any timezone (UTC-12 to UTC+14 puts today within a day of
    the UTC date), so that one read serves every /log for today or yesterday."""
    utc_day = now.astimezone(UTC).date()
    return week_start(utc_day - timedelta(days=2)), week_start(utc_day + timedelta(days=1)) + timedelta(
        days=6
    )


async def _units(s: AsyncSession, guild_id: int) -> Units:
    """How the team shows distances (metric for a team not made yet)."""
    place = await queries.team_place(s, guild_id)
    return Units.METRIC if place is None else Units(place.units)


class TrainingService:
    """Log, undo and read training entries, one team (Discord server) at a time."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock = utc_now) -> None:
        self._sessionmaker = sessionmaker
        engine = sessionmaker.kw.get("bind")
        assert isinstance(engine, AsyncEngine), "a sessionmaker bound to one engine"
        self._engine = engine
        self._clock = clock
        # Undos running in this process, by (server, member): /undo and the Undo button.
        self._undoing: Counter[tuple[int, int]] = Counter()
        # Each team's timezone as /log last read it, the one read longest ago first (see _log_known).
        self._timezones: dict[int, str] = {}

    @contextlib.contextmanager
    def _undo_running(self, who: Who, *, exclusive: bool) -> Iterator[None]:
        """Count an undo of ``who`` as running for the block. ``exclusive`` (/undo, which removes
        whatever is latest) refuses with :class:`UndoInProgress` if one is running already. Checked
        and counted before the first ``await``, so two undos on the event loop cannot both pass."""
        key = (who.guild_id, who.user_id)
        if exclusive and self._undoing[key]:
            raise UndoInProgress()
        self._undoing[key] += 1
        try:
            yield
        finally:
            self._undoing[key] -= 1
            if not self._undoing[key]:
                del self._undoing[key]

    async def _today(self, s: AsyncSession, guild_id: int) -> date:
        return team_today(await queries.get_or_create_team(s, guild_id), self._clock)

    async def log(
        self,
        who: Who,
        kind: Kind,
        amount: Amount,
        *,
        note: str | None = None,
        day_text: str | None = None,
        rpe: int | None = None,
    ) -> LogResult:
        """Store one entry (with how hard it felt, ``rpe`` 1-10, if given); return it with the
        athlete's backward totals for its day and week."""
        # Control characters refused (PostgreSQL cannot store U+0000), line breaks folded to spaces.
        note = clean_note(note)
        if note is not None and len(note) > NOTE_MAX_LENGTH:
            raise InvalidInput(f"The note is {len(note)} characters; keep it to {NOTE_MAX_LENGTH}.")
        check_rpe(rpe)
        new = _NewEntry(kind, amount, note, rpe)
        logged = None
        timezone = self._timezones.get(who.guild_id)
        if timezone is not None:
            logged = await self._log_known(who, new, day_text, timezone)
        if logged is None:
            logged = await self._log_any(who, new, day_text)
        effective = amount.effective_meters(kind)
        own = effective if kind.is_backward else 0.0
        units = Units(logged.units)
        entry = EntryView(
            id=logged.entry_id,
            user_id=who.user_id,
            kind=kind,
            amount=amount.display(units),
            effective_meters=effective,
            note=note,
            day=logged.day,
            distance_given=amount.meters is not None,
            rpe=rpe,
        )
        log.info("guild %s user %s logged entry %s", who.guild_id, who.user_id, entry.id)
        # Totals are for the entry's own day and week, so a late entry for yesterday shows
        # yesterday's picture rather than an unchanged today.
        return LogResult(
            entry=entry,
            today=logged.today,
            backward_today_m=logged.day_before_m + own,
            backward_week_m=logged.week_before_m + own,
            units=units,
        )

    def _remember_timezone(self, guild_id: int, timezone: str) -> None:
        self._timezones.pop(guild_id, None)
        self._timezones[guild_id] = timezone
        if len(self._timezones) > TIMEZONES_KEPT:
            del self._timezones[next(iter(self._timezones))]  # the one read longest ago

    async def _log_known(
        self, who: Who, entry: _NewEntry, day_text: str | None, timezone: str
    ) -> _Logged | None:
        """/log for a member this team already knows, as one statement (on PostgreSQL one round
        trip besides the checkout's ping), the day decided in ``timezone``, the team's as last read
        here. None, with nothing stored, if that does not hold (a member new here or renamed, the
        timezone changed, or a day that timezone refuses): :meth:`_log_any` decides then."""
        today = local_date(self._clock(), ZoneInfo(timezone))
        try:
            day = parse_day(day_text, today=today)
        except InvalidInput:
            return None  # perhaps only in this timezone: the team's own decides
        week = (week_start(day), week_start(day) + timedelta(days=6))
        kind, amount = entry.kind, entry.amount
        async with single_statement(self._engine) as conn:
            stored = await queries.add_known_entry(
                conn,
                guild_id=who.guild_id,
                user_id=who.user_id,
                display_name=who.display_name,
                timezone=timezone,
                kind=kind.value,
                is_backward=kind.is_backward,
                meters=amount.meters,
                seconds=amount.seconds,
                effective_meters=amount.effective_meters(kind),
                amount_text=amount.text,
                note=entry.note,
                day=day,
                week=week,
                logged_at=self._clock(),
                rpe=entry.rpe,
            )
        if stored is None:
            return None
        return _Logged(stored.id, today, day, stored.backward_day_m, stored.backward_week_m, stored.units)

    async def _log_any(self, who: Who, entry: _NewEntry, day_text: str | None) -> _Logged:
        """/log for any member: the team and the athlete made if they are new, the name kept fresh,
        in one transaction. Remembers the team's timezone for :meth:`_log_known`."""
        async with self._sessionmaker.begin() as s:
            # Two statements for a member already known here (a process's first /log in the team):
            # one read (the team's timezone, the athlete, and their backward meters per day around
            # now) and the INSERT.
            window = _log_window(self._clock())
            found = await queries.logger(s, who.guild_id, who.user_id, window)
            if found is None or found.athlete_id is None:
                # First use in this server (or of this member): made as before, team first.
                team = await queries.get_or_create_team(s, who.guild_id)
                timezone = team.timezone
                today = team_today(team, self._clock)
                day = parse_day(day_text, today=today)
                athlete = await queries.get_or_create_athlete(s, who.guild_id, who.user_id, who.display_name)
                athlete_id = athlete.id
            else:
                timezone = found.timezone
                today = local_date(self._clock(), ZoneInfo(timezone))
                day = parse_day(day_text, today=today)
                athlete_id = found.athlete_id
                if found.display_name != who.display_name[:100]:
                    await queries.rename_athlete(s, athlete_id, who.display_name)
            week = (week_start(day), week_start(day) + timedelta(days=6))
            if found is None or found.athlete_id is None or not window[0] <= week[0] <= week[1] <= window[1]:
                # A new athlete, or a day further back than the window: read that week (a third read).
                found = await queries.logger(s, who.guild_id, who.user_id, week)
                assert found is not None
            units = found.units
            kind, amount = entry.kind, entry.amount
            entry_id = await queries.add_entry(
                s,
                athlete_id=athlete_id,
                team_id=who.guild_id,
                kind=kind.value,
                is_backward=kind.is_backward,
                meters=amount.meters,
                seconds=amount.seconds,
                effective_meters=amount.effective_meters(kind),
                amount_text=amount.text,
                note=entry.note,
                day=day,
                logged_at=self._clock(),
                rpe=entry.rpe,
            )
        self._remember_timezone(who.guild_id, timezone)
        return _Logged(
            entry_id, today, day, found.backward_meters(day, day), found.backward_meters(*week), units
        )

    async def undo_latest(self, who: Who) -> EntryView:
        """Remove the caller's newest entry in this server; refused with :class:`UndoInProgress`
        while another undo of theirs (command or button) is running in this process."""
        with self._undo_running(who, exclusive=True):
            async with self._sessionmaker.begin() as s:
                row = await queries.latest_run_session(s, who.guild_id, who.user_id)
                if row is None:
                    raise NotFound("You have no entries in this server to undo.")
                entry = EntryView.of(row, who.user_id, await _units(s, who.guild_id))
                if not await queries.delete_run_session(s, row):
                    # Another undo (another process's, or the Undo button's) read the same entry and
                    # removed it first. Removing the next one instead would take away an entry nobody
                    # asked about.
                    raise NotFound(
                        f"Your entry {entry.describe()} was already removed by another undo; "
                        "nothing else was removed."
                    )
        return entry

    async def undo_entry(self, who: Who, entry_id: int, author_id: int) -> EntryView:
        """Remove one entry through its Undo button; only its author may."""
        if who.user_id != author_id:
            raise NotAllowed("Only the athlete who logged this entry can undo it.")
        # The button names its entry, so a second press (or one during an /undo) can only find it
        # gone: it is not refused. It counts as running, though, so that an /undo meanwhile (a retry
        # of a slow press) does not remove the entry before it.
        with self._undo_running(who, exclusive=False):
            return await self._undo_entry(who, entry_id)

    async def _undo_entry(self, who: Who, entry_id: int) -> EntryView:
        async with self._sessionmaker.begin() as s:
            # Scoped to the caller too: an old button must never reach somebody else's entry.
            row = await queries.get_run_session(s, who.guild_id, entry_id, user_id=who.user_id)
            if row is None:
                raise NotFound("That entry is already gone.")
            entry = EntryView.of(row, who.user_id, await _units(s, who.guild_id))
            if not await queries.delete_run_session(s, row):
                raise NotFound("That entry is already gone.")  # removed by a concurrent undo
        return entry

    async def _keep_mark(self, guild_id: int, user_id: int, mark: StreakMark, epoch: int) -> None:
        """Keep the athlete's streak mark, about once a month each, in a transaction of its own after
        the read (on SQLite a read that turns into a write can fail if another write came between).
        Only a saving: if it fails, the next /stats reads those days again."""
        try:
            async with self._sessionmaker.begin() as s:
                await queries.save_streak_mark(s, guild_id, user_id, mark, epoch)
        except Exception:
            log.warning(
                "could not keep the streak mark of user %s in guild %s", user_id, guild_id, exc_info=True
            )

    async def history(self, guild_id: int, user_id: int, limit: int = 10) -> list[EntryView]:
        if not 1 <= limit <= HISTORY_MAX:
            raise InvalidInput(f"The limit must be between 1 and {HISTORY_MAX}.")
        async with self._sessionmaker() as s:
            rows = await queries.history(s, guild_id, user_id, limit)
            units = await _units(s, guild_id)
            return [EntryView.of(r, user_id, units) for r in rows]

    async def stats(self, guild_id: int, user_id: int, period: Period = Period.WEEK) -> StatsView:
        async with self._sessionmaker.begin() as s:
            place = await queries.team_place(s, guild_id)
            if place is None:
                today = await self._today(s, guild_id)  # the team's first command: made here
                units = Units.METRIC
            else:
                today = local_date(self._clock(), ZoneInfo(place.timezone))
                units = Units(place.units)
            start = period_start(period, today)
            # One read: the period's totals and active days, and the streaks, which look further
            # back than the period (a streak that began before it still counts): the streak mark
            # and the islands after it, counted in SQL (one row per run of days, not one per day).
            read = await queries.period_stats(s, guild_id, user_id, start, today)
            totals, active_days = read.totals, read.active_days
            current, longest = streaks(read.islands, today, read.mark)
        moved = moved_mark(read.islands, today, read.mark)
        if moved is not None:
            await self._keep_mark(guild_id, user_id, moved, read.epoch)
        order = list(Kind)
        lines = sorted(
            (KindLine(Kind(t.kind), t.count, t.meters, t.seconds) for t in totals),
            key=lambda line: order.index(line.kind),
        )
        backward = sum(line.meters for line in lines if line.kind.is_backward)
        total = sum(line.meters for line in lines)
        return StatsView(
            user_id=user_id,
            period=period,
            start=start,
            end=today,
            lines=lines,
            backward_meters=backward,
            total_meters=total,
            backward_share=backward_share(backward, total),
            active_days=active_days,
            current_streak=current,
            longest_streak=longest,
            units=units,
        )
