"""Getting each team's reminder into its channel exactly once: claim, compose, send, mark, skip.

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

:meth:`DeliveryService.preview` composes the same messages without claiming or sending anything.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backrun_bot.domain.day_off import DayOff, day_off_section
from backrun_bot.domain.drills import plan_for
from backrun_bot.domain.load import LOAD_LOOKBACK_DAYS, assess_day
from backrun_bot.domain.schedule import Slot
from backrun_bot.errors import ChannelUnavailable, DeliveryError, MessageRefused
from backrun_bot.services.common import Clock, team_today
from backrun_bot.services.reminder_settings import ReminderSettings
from backrun_bot.storage import queries
from backrun_bot.storage import reminder_queries as rq
from backrun_bot.storage.models import Team

log = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=2)
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
class Composed:
    content: str
    mention_user_ids: tuple[int, ...]


def _nonce(team_id: int, day: date, slot: Slot) -> str:
    # Discord's nonce is at most 25 characters.
    return hashlib.sha256(f"{team_id}:{day.isoformat()}:{slot.value}".encode()).hexdigest()[:25]


class DeliveryService:
    """Sends the teams' reminders when the scheduler says a slot group is due."""

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
            today = team_today(team, self._clock)
            warm = await self.compose(s, team, today, Slot.WARMUP)
            cool = await self.compose(s, team, today, Slot.COOLDOWN)
            return ReminderSettings.of(team), warm.content, cool.content

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
