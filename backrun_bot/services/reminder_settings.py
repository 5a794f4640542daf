"""A team's reminder settings: the use cases behind /reminders set, show, pause, resume and /notify.

Every change that can alter when reminders go out (set, pause, resume) calls the ``on_change``
callback once its transaction has committed, so whoever arms the reminders (the scheduler, wired in
``BackrunBot.setup_hook``) re-reads the settings; this service never knows who that is. A failing
callback is logged, not raised: the change is already saved, and the scheduler's periodic refresh
picks it up within minutes, so telling the coach "nothing was saved" would be wrong.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, time

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backrun_bot.domain.amounts import Units, format_distance
from backrun_bot.domain.dates import require_timezone
from backrun_bot.domain.load import MAX_HEAVY_METERS, MIN_HEAVY_METERS
from backrun_bot.domain.schedule import format_days
from backrun_bot.errors import InvalidInput
from backrun_bot.services.common import Clock, Who, team_today
from backrun_bot.storage import queries
from backrun_bot.storage import reminder_queries as rq
from backrun_bot.storage.models import Team

log = logging.getLogger(__name__)

OnChange = Callable[[], Awaitable[None]]


async def _nothing() -> None:
    """The default ``on_change``: nobody to tell."""


@dataclass(frozen=True)
class ReminderSettings:
    channel_id: int | None
    timezone: str
    warmup: time | None
    cooldown: time | None
    days: frozenset[int]
    heavy_meters: float
    active: bool
    paused_until: date | None
    pause_reason: str | None
    units: Units = Units.METRIC  # the team's: how the heavy-day mark is shown
    weekly: bool = True  # Monday's summary of last week, after the warmup

    def describe(self) -> str:
        def hhmm(t: time | None) -> str:
            return t.strftime("%H:%M") if t else "off"

        state = "on" if self.active else "off"
        if self.paused_until:
            state = f"paused until {self.paused_until.isoformat()}"
        elif self.pause_reason:
            state = f"paused ({self.pause_reason})"
        channel = f"<#{self.channel_id}>" if self.channel_id else "not set"
        return (
            f"Reminders: **{state}**\nChannel: {channel}\nTimezone: {self.timezone}\n"
            f"Warmup: {hhmm(self.warmup)} · Cooldown: {hhmm(self.cooldown)}\n"
            f"Days: {format_days(self.days)}\n"
            f"Heavy day: {format_distance(self.heavy_meters, self.units)} of backward running"
            # The option is in metres whatever the team's units: say so where they differ.
            + (f" (`heavy:` is in metres: {self.heavy_meters:.0f})" if self.units != Units.METRIC else "")
            + f"\nWeekly summary: {'on' if self.weekly else 'off'} (Mondays, after the warmup)"
        )

    @classmethod
    def of(cls, team: Team) -> ReminderSettings:
        return cls(
            channel_id=team.reminder_channel_id,
            timezone=team.timezone,
            warmup=time.fromisoformat(team.warmup_time) if team.warmup_time else None,
            cooldown=time.fromisoformat(team.cooldown_time) if team.cooldown_time else None,
            days=frozenset(int(c) for c in team.reminder_days),
            heavy_meters=team.heavy_meters,
            active=team.reminders_active,
            paused_until=team.paused_until,
            pause_reason=team.pause_reason,
            units=Units(team.units),
            weekly=team.weekly_summary,
        )


async def _locked_team(s: AsyncSession, guild_id: int) -> Team:
    """The team, its row locked until the transaction ends (PostgreSQL; SQLite has one writer): the
    timezone read here is the one the change moves the team from, which the settings change log
    must name, not one a concurrent change has just replaced."""
    team = await queries.get_or_create_team(s, guild_id)
    await s.refresh(team, with_for_update=True)
    return team


class ReminderSettingsService:
    """Read and change one team's reminder settings, and an athlete's ping choice."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], *, clock: Clock, on_change: OnChange = _nothing
    ) -> None:
        self._sessionmaker = sessionmaker
        self._clock = clock
        self._on_change = on_change

    async def _changed(self) -> None:
        try:
            await self._on_change()
        except Exception:
            log.exception("reminder settings changed, but telling the scheduler failed")

    async def settings(self, guild_id: int) -> ReminderSettings:
        async with self._sessionmaker.begin() as s:
            return ReminderSettings.of(await queries.get_or_create_team(s, guild_id))

    async def update(
        self,
        guild_id: int,
        *,
        channel_id: int | None = None,
        timezone: str | None = None,
        warmup: time | None = None,
        cooldown: time | None = None,
        days: frozenset[int] | None = None,
        heavy_meters: float | None = None,
        weekly: bool | None = None,
    ) -> ReminderSettings:
        """Change the given settings; the first change must name a channel. Validates everything
        before writing anything."""
        if timezone is not None:
            require_timezone(timezone)
        if heavy_meters is not None and not MIN_HEAVY_METERS <= heavy_meters <= MAX_HEAVY_METERS:
            raise InvalidInput(
                f"The heavy-day mark must be between {format_distance(MIN_HEAVY_METERS)} and "
                f"{format_distance(MAX_HEAVY_METERS)}."
            )
        if days is not None and not days:
            raise InvalidInput("Pick at least one day.")
        async with self._sessionmaker.begin() as s:
            team = await _locked_team(s, guild_id)
            if channel_id is None and team.reminder_channel_id is None:
                raise InvalidInput("The first `/reminders set` needs a channel to post in.")
            was_in = team.timezone  # its groups there may go, and those of the new one come
            if channel_id is not None:
                team.reminder_channel_id = channel_id
                team.pause_reason = None  # a new channel lifts a pause caused by the old one
            if timezone is not None:
                team.timezone = timezone
            if warmup is not None:
                team.warmup_time = warmup.strftime("%H:%M")
            if cooldown is not None:
                team.cooldown_time = cooldown.strftime("%H:%M")
            if days is not None:
                team.reminder_days = "".join(str(d) for d in sorted(days))
            if heavy_meters is not None:
                team.heavy_meters = heavy_meters
            if weekly is not None:
                team.weekly_summary = weekly
            team.reminders_active = True
            team.reminders_updated_at = self._clock()
            await rq.bump_settings_generation(s, {was_in, team.timezone})
            settings = ReminderSettings.of(team)
        await self._changed()
        return settings

    async def pause(self, guild_id: int, until: date | None) -> ReminderSettings:
        async with self._sessionmaker.begin() as s:
            team = await _locked_team(s, guild_id)
            today = team_today(team, self._clock)
            if until is not None and until < today:
                raise InvalidInput(
                    f"{until.isoformat()} is in the past (today is {today.isoformat()} here); "
                    "pause until today or a later date."
                )
            team.paused_until = until
            if until is None:
                team.reminders_active = False
            # Saved now: a pause shortened to today must not make the team due for a reminder whose
            # time already passed (the catch-up trusts a finished occurrence to stay finished).
            team.reminders_updated_at = self._clock()
            await rq.bump_settings_generation(s, {team.timezone})
            settings = ReminderSettings.of(team)
        await self._changed()
        return settings

    async def resume(self, guild_id: int) -> ReminderSettings:
        async with self._sessionmaker.begin() as s:
            team = await _locked_team(s, guild_id)
            if team.reminder_channel_id is None:
                raise InvalidInput("Set a channel first with `/reminders set channel:`.")
            team.paused_until = None
            team.pause_reason = None
            team.reminders_active = True
            team.reminders_updated_at = self._clock()
            await rq.bump_settings_generation(s, {team.timezone})
            settings = ReminderSettings.of(team)
        await self._changed()
        return settings

    async def set_mentions(self, who: Who, enabled: bool) -> None:
        async with self._sessionmaker.begin() as s:
            await queries.get_or_create_team(s, who.guild_id)
            athlete = await queries.get_or_create_athlete(s, who.guild_id, who.user_id, who.display_name)
            athlete.mentions_enabled = enabled
