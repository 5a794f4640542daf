"""Team reminder settings, the day's plan, the day-off advice, and exactly-once delivery.

Delivery protocol (what makes "exactly once" hold):

1. **Claim**: insert a ``reminder_deliveries`` row keyed (team, local date, slot) — a unique key, so
   of two bot copies, a restart or a double firing, exactly one insert wins and only the winner sends.
2. **Send** through the adapter's :class:`Sender`, with a nonce derived from the key; discord.py
   sets ``enforce_nonce``, so Discord itself drops a repeat of the same nonce sent within minutes.
3. **Mark** the row sent (or failed).

A crash between 1 and 3 leaves a row in state ``claimed``. Such a claim is stale after
:data:`CLAIM_LEASE`; the next run of that slot or the catch-up at start re-takes it with a
conditional update (again only one copy wins) and sends, as long as the reminder is still inside the
grace window. So a crash never loses a reminder for good, and the nonce covers the one window where a
message went out but its row was not yet marked.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backrun_bot.domain.dates import local_date, require_timezone
from backrun_bot.domain.drills import DailyPlan, plan_for
from backrun_bot.domain.load import DEFAULT_HEAVY_METERS, HeavyDay, assess_day
from backrun_bot.domain.schedule import Slot, format_days
from backrun_bot.errors import ChannelUnavailable, DeliveryError, InvalidInput, MessageRefused
from backrun_bot.services.training import Clock, Who
from backrun_bot.storage import queries
from backrun_bot.storage import reminder_queries as rq
from backrun_bot.storage.models import Team

log = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=2)
LOAD_LOOKBACK_DAYS = 60  # enough for the 28-day chronic window and the 30-day spike lookback
MAX_HEAVY_METERS = 20_000.0
# Discord's limit on the content of one message.
MAX_MESSAGE = 2000


@dataclass(frozen=True, order=True)
class SlotGroup:
    """Teams that share a reminder: one scheduler job serves them all."""

    timezone: str
    at: time
    slot: Slot


class Sender(Protocol):
    """Posts a message to a channel; implemented by the Discord adapter."""

    async def send(
        self, channel_id: int, content: str, *, mention_user_ids: Sequence[int], nonce: str
    ) -> int:
        """Send and return the message id. Raises ChannelUnavailable, MessageRefused or DeliveryError."""
        ...


@dataclass(frozen=True)
class DayOff:
    user_id: int
    display_name: str
    mention: bool
    heavy: HeavyDay


@dataclass(frozen=True)
class Composed:
    content: str
    mention_user_ids: tuple[int, ...]


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
            f"Days: {format_days(self.days)}\nHeavy day: {self.heavy_meters:.0f} m of backward running"
        )


def _nonce(team_id: int, day: date, slot: Slot) -> str:
    # Discord's nonce is at most 25 characters.
    return hashlib.sha256(f"{team_id}:{day.isoformat()}:{slot.value}".encode()).hexdigest()[:25]


class ReminderService:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        sender: Sender,
        *,
        clock: Clock,
        grace: timedelta,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._sender = sender
        self._clock = clock
        self._grace = grace

    # --- settings -------------------------------------------------------------------------------

    async def settings(self, guild_id: int) -> ReminderSettings:
        async with self._sessionmaker.begin() as s:
            return _settings_of(await queries.get_or_create_team(s, guild_id))

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
    ) -> ReminderSettings:
        """Change the given settings; the first change must name a channel. Validates everything
        before writing anything."""
        if timezone is not None:
            require_timezone(timezone)
        if heavy_meters is not None and not 100 <= heavy_meters <= MAX_HEAVY_METERS:
            raise InvalidInput(f"The heavy-day mark must be between 100 and {MAX_HEAVY_METERS:.0f} meters.")
        if days is not None and not days:
            raise InvalidInput("Pick at least one day.")
        async with self._sessionmaker.begin() as s:
            team = await queries.get_or_create_team(s, guild_id)
            if channel_id is None and team.reminder_channel_id is None:
                raise InvalidInput("The first `/reminders set` needs a channel to post in.")
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
            team.reminders_active = True
            team.reminders_updated_at = self._clock()
            return _settings_of(team)

    async def pause(self, guild_id: int, until: date | None) -> ReminderSettings:
        async with self._sessionmaker.begin() as s:
            team = await queries.get_or_create_team(s, guild_id)
            today = local_date(self._clock(), ZoneInfo(team.timezone))
            if until is not None and until < today:
                raise InvalidInput(
                    f"{until.isoformat()} is in the past (today is {today.isoformat()} here); "
                    "pause until today or a later date."
                )
            team.paused_until = until
            if until is None:
                team.reminders_active = False
            return _settings_of(team)

    async def resume(self, guild_id: int) -> ReminderSettings:
        async with self._sessionmaker.begin() as s:
            team = await queries.get_or_create_team(s, guild_id)
            if team.reminder_channel_id is None:
                raise InvalidInput("Set a channel first with `/reminders set channel:`.")
            team.paused_until = None
            team.pause_reason = None
            team.reminders_active = True
            team.reminders_updated_at = self._clock()
            return _settings_of(team)

    async def set_mentions(self, who: Who, enabled: bool) -> None:
        async with self._sessionmaker.begin() as s:
            await queries.get_or_create_team(s, who.guild_id)
            athlete = await queries.get_or_create_athlete(s, who.guild_id, who.user_id, who.display_name)
            athlete.mentions_enabled = enabled

    # --- content --------------------------------------------------------------------------------

    async def days_off(self, s: AsyncSession, team: Team, heavy_day: date) -> list[DayOff]:
        """Athletes of ``team`` whose ``heavy_day`` was heavy, with the rules that fired."""
        logs = await rq.day_logs(s, team.id, heavy_day - timedelta(days=LOAD_LOOKBACK_DAYS), heavy_day)
        result = []
        for athlete, days in logs:
            heavy = assess_day(days, heavy_day, team.heavy_meters)
            if heavy is not None:
                result.append(DayOff(athlete.user_id, athlete.display_name, athlete.mentions_enabled, heavy))
        return sorted(result, key=lambda d: d.display_name.lower())

    async def compose(self, s: AsyncSession, team: Team, day: date, slot: Slot) -> Composed:
        plan = plan_for(team.id, day)
        if slot is Slot.COOLDOWN:
            return Composed(plan.cooldown_text(), ())
        warmup = plan.warmup_text()
        offs = await self.days_off(s, team, day - timedelta(days=1))
        if not offs:
            return Composed(warmup, ())
        section, pinged = day_off_section(offs, budget=MAX_MESSAGE - len(warmup) - 2)
        return Composed(f"{warmup}\n\n{section}", pinged)

    async def preview(self, guild_id: int) -> tuple[ReminderSettings, str, str]:
        """The settings, and today's warmup and cooldown as they would be sent (nothing is sent or
        claimed)."""
        async with self._sessionmaker.begin() as s:
            team = await queries.get_or_create_team(s, guild_id)
            today = local_date(self._clock(), ZoneInfo(team.timezone))
            warm = await self.compose(s, team, today, Slot.WARMUP)
            cool = await self.compose(s, team, today, Slot.COOLDOWN)
            return _settings_of(team), warm.content, cool.content

    async def plan(self, who: Who) -> tuple[DailyPlan, HeavyDay | None]:
        """/plan: today's plan for the caller and, if yesterday was heavy for them, why to rest."""
        async with self._sessionmaker.begin() as s:
            team = await queries.get_or_create_team(s, who.guild_id)
            today = local_date(self._clock(), ZoneInfo(team.timezone))
            yesterday = today - timedelta(days=1)
            logs = await rq.day_logs(
                s, team.id, yesterday - timedelta(days=LOAD_LOOKBACK_DAYS), yesterday, user_id=who.user_id
            )
            heavy = None
            for _athlete, days in logs:
                heavy = assess_day(days, yesterday, team.heavy_meters)
            return plan_for(team.id, today), heavy

    # --- delivery -------------------------------------------------------------------------------

    async def slot_groups(self) -> set[SlotGroup]:
        async with self._sessionmaker() as s:
            rows = await rq.slot_groups(s)
        return {SlotGroup(tz, time.fromisoformat(at), Slot(slot)) for tz, at, slot in rows}

    async def deliver(self, group: SlotGroup, day: date, instant: datetime) -> int:
        """Send ``group``'s reminder for ``day`` to every team due; returns how many were sent."""
        sent = 0
        async with self._sessionmaker() as s:
            team_ids = await rq.due_team_ids(
                s, group.timezone, group.at.strftime("%H:%M"), group.slot.value, day, instant
            )
        for team_id in team_ids:
            try:
                sent += await self._deliver_one(team_id, group.slot, day)
            except Exception:
                # One team's failure never stops the others.
                log.exception("reminder %s for team %s on %s failed", group.slot.value, team_id, day)
        return sent

    async def _deliver_one(self, team_id: int, slot: Slot, day: date) -> int:
        now = self._clock()
        async with self._sessionmaker.begin() as s:
            if not await rq.claim(s, team_id, day, slot.value, now, stale_before=now - CLAIM_LEASE):
                return 0
            team = await s.get(Team, team_id)
            assert team is not None and team.reminder_channel_id is not None
            composed = await self.compose(s, team, day, slot)
            channel_id = team.reminder_channel_id
        try:
            message_id = await self._sender.send(
                channel_id,
                composed.content,
                mention_user_ids=composed.mention_user_ids,
                nonce=_nonce(team_id, day, slot),
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
                log.error(
                    "Discord refused the %s reminder of team %s for %s: %s", slot.value, team_id, day, exc
                )
            async with self._sessionmaker.begin() as s:
                await rq.finish(
                    s, team_id, day, slot.value, status="failed", detail=str(exc), now=self._clock()
                )
                if lost_channel:
                    await rq.pause_for_channel(s, team_id, f"the bot cannot post in <#{channel_id}>")
            return 0
        except DeliveryError as exc:
            # Transient: the claim goes stale after the lease and the next run or restart retries.
            log.warning("reminder for team %s not delivered, will retry: %s", team_id, exc)
            return 0
        async with self._sessionmaker.begin() as s:
            await rq.finish(
                s, team_id, day, slot.value, status="sent", message_id=message_id, now=self._clock()
            )
        log.info("sent %s reminder to team %s for %s", slot.value, team_id, day)
        return 1

    async def skip(self, group: SlotGroup, day: date, instant: datetime, *, reason: str) -> None:
        """Record a reminder too late to send (past the grace window) as skipped, and log it."""
        async with self._sessionmaker.begin() as s:
            team_ids = await rq.due_team_ids(
                s, group.timezone, group.at.strftime("%H:%M"), group.slot.value, day, instant
            )
            for team_id in team_ids:
                if await rq.claim(
                    s, team_id, day, group.slot.value, self._clock(), stale_before=None, status="skipped"
                ):
                    log.warning(
                        "skipped %s reminder of team %s for %s: %s (grace %s)",
                        group.slot.value,
                        team_id,
                        day,
                        reason,
                        self._grace,
                    )


def day_off_section(offs: Sequence[DayOff], budget: int) -> tuple[str, tuple[int, ...]]:
    """The warmup's day-off part in at most ``budget`` characters, and the user ids it pings.

    Each athlete gets a line with the rule that fired; when a whole squad had a heavy day and that
    would not fit in one Discord message, the athletes are only named (each sees why in ``/plan``),
    and as many as fit are named, the rest counted. Only named athletes are pinged.
    """
    head = "**Day off from backward work today** — yesterday was heavy for:"
    tail = "Do the forward parts of the warmup; the backward work waits for tomorrow."

    def who(off: DayOff) -> str:
        return f"<@{off.user_id}>" if off.mention else off.display_name

    def pings(named: Sequence[DayOff]) -> tuple[int, ...]:
        return tuple(o.user_id for o in named if o.mention)

    detailed = "\n".join([head, *(f"• {who(o)}: {o.heavy.explain()}" for o in offs), tail])
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


def _settings_of(team: Team) -> ReminderSettings:
    return ReminderSettings(
        channel_id=team.reminder_channel_id,
        timezone=team.timezone,
        warmup=time.fromisoformat(team.warmup_time) if team.warmup_time else None,
        cooldown=time.fromisoformat(team.cooldown_time) if team.cooldown_time else None,
        days=frozenset(int(c) for c in team.reminder_days),
        heavy_meters=team.heavy_meters,
        active=team.reminders_active,
        paused_until=team.paused_until,
        pause_reason=team.pause_reason,
    )


__all__ = ["DEFAULT_HEAVY_METERS", "Composed", "ReminderService", "ReminderSettings", "Sender", "SlotGroup"]
