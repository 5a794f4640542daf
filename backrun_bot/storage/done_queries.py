"""Reads and writes for the Done button (issue 11): the presses, and the count edit's claim on the
reminder's ledger row."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backrun_bot.storage.dialect import insert
from backrun_bot.storage.models import Athlete, DonePress, ReminderDelivery


@dataclass(frozen=True, slots=True)
class SentReminder:
    message_id: int | None


async def sent_reminder(s: AsyncSession, team_id: int, day: date, slot: str) -> SentReminder | None:
    """The team's ``slot`` reminder of ``day`` as the ledger has it, if it was sent (or found
    posted); None if the ledger knows no such reminder (never sent, or the team's data deleted)."""
    message_id = await s.execute(
        select(ReminderDelivery.message_id).where(
            ReminderDelivery.team_id == team_id,
            ReminderDelivery.local_day == day,
            ReminderDelivery.slot == slot,
            ReminderDelivery.status == "sent",
        )
    )
    row = message_id.first()
    return None if row is None else SentReminder(row[0])


async def claim_press(
    s: AsyncSession, athlete_id: int, team_id: int, day: date, slot: str, now: datetime
) -> bool:
    """Record the athlete's Done under the reminder; False if there is one already. The primary key
    decides: of two presses (two copies of the bot, a double tap) one insert wins; on PostgreSQL the
    second waits for the first's transaction and then finds the row."""
    statement = (
        insert(s, DonePress)
        .values(
            athlete_id=athlete_id, team_id=team_id, local_day=day, slot=slot, entry_ids="", pressed_at=now
        )
        .on_conflict_do_nothing()
        .returning(DonePress.athlete_id)
    )
    return await s.scalar(statement) is not None


async def keep_entries(
    s: AsyncSession, athlete_id: int, day: date, slot: str, entry_ids: Sequence[int]
) -> None:
    await s.execute(
        update(DonePress)
        .where(DonePress.athlete_id == athlete_id, DonePress.local_day == day, DonePress.slot == slot)
        .values(entry_ids=",".join(map(str, entry_ids)))
    )


async def take_press(s: AsyncSession, athlete_id: int, day: date, slot: str) -> list[int] | None:
    """Delete the athlete's Done under the reminder; the ids of the entries it logged, or None if
    there was none (never pressed, or already undone: of two undos only one finds it)."""
    taken = await s.scalar(
        delete(DonePress)
        .where(DonePress.athlete_id == athlete_id, DonePress.local_day == day, DonePress.slot == slot)
        .returning(DonePress.entry_ids)
    )
    if taken is None:
        return None
    return [int(i) for i in taken.split(",") if i]


async def done_count(s: AsyncSession, team_id: int, day: date, slot: str) -> int:
    """How many athletes pressed Done under the reminder (the team's index on the three)."""
    count = await s.scalar(
        select(func.count())
        .select_from(DonePress)
        .where(DonePress.team_id == team_id, DonePress.local_day == day, DonePress.slot == slot)
    )
    return int(count or 0)


@dataclass(frozen=True, slots=True)
class EditState:
    message_id: int | None
    edit_at: datetime | None
    shown: int | None


async def claim_count_edit(
    s: AsyncSession, team_id: int, day: date, slot: str, count: int, now: datetime, interval: timedelta
) -> int | None:
    """Claim the edit of the reminder's count to show ``count``: only if it shows another count and
    no edit was claimed in the last ``interval`` (by any copy of the bot). The message id if
    claimed. A conditional UPDATE: of two copies claiming at once, one wins (PostgreSQL re-checks the
    WHERE after the other's commit; SQLite has one writer at a time)."""
    return await s.scalar(
        update(ReminderDelivery)
        .where(
            ReminderDelivery.team_id == team_id,
            ReminderDelivery.local_day == day,
            ReminderDelivery.slot == slot,
            ReminderDelivery.status == "sent",
            ReminderDelivery.message_id.is_not(None),
            or_(ReminderDelivery.done_edit_at.is_(None), ReminderDelivery.done_edit_at <= now - interval),
            or_(ReminderDelivery.done_shown.is_(None), ReminderDelivery.done_shown != count),
        )
        .values(done_edit_at=now, done_shown=count)
        .returning(ReminderDelivery.message_id)
    )


async def count_edit_state(s: AsyncSession, team_id: int, day: date, slot: str) -> EditState | None:
    row = (
        await s.execute(
            select(
                ReminderDelivery.message_id, ReminderDelivery.done_edit_at, ReminderDelivery.done_shown
            ).where(
                ReminderDelivery.team_id == team_id,
                ReminderDelivery.local_day == day,
                ReminderDelivery.slot == slot,
                ReminderDelivery.status == "sent",
            )
        )
    ).first()
    return None if row is None else EditState(*row)


async def athlete_id(s: AsyncSession, team_id: int, user_id: int) -> int | None:
    """The member's athlete id in the team, if they are one."""
    found: int | None = await s.scalar(
        select(Athlete.id).where(Athlete.team_id == team_id, Athlete.user_id == user_id)
    )
    return found
