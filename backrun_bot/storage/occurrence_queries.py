"""The occurrence ledger: which occurrences of a slot group are finished, so that the catch-up at
start costs what is still unsettled, not every occurrence of its look-back (issue 9).

An occurrence is one (timezone, local time, slot, local day) of a slot group. Its row, keyed also by
the shard set of the process (:func:`shards_key`), is written (:func:`settle_occurrence`) when a run
of it ended with nothing pending — every team due for it had its reminder settled in the delivery
ledger (sent, failed for good, skipped) — or when it was skipped with no team left to another run.
The catch-up reads the rows of its look-back in one query (:func:`settled_occurrences`) and runs
only the other occurrences.

Why a finished occurrence stays finished, so that trusting its row never loses a reminder:

* A team is due for an occurrence only if its settings were saved at or before the occurrence's
  instant (``reminders_updated_at <= instant`` in ``reminder_queries.due_team_ids_query``), and every
  writer that can make a team due sets ``reminders_updated_at`` to the time of the change
  (``ReminderSettingsService.update``, ``resume`` and ``pause``; ``pause_for_channels`` only ever
  makes a team not due). A row is written after the instant (a run starts at it or later), so a
  change saved after the row never makes a team due for that occurrence: no settle mark needs
  invalidating, and the settings generation (which moves on any team's change) is not needed — a
  mark invalidated by it would almost never survive at a hundred thousand teams.
* A due team's settled delivery row only leaves the ledger by pruning, months after the look-back.
* A change whose transaction began before the instant and committed after the run read the due teams
  is missed by that run as it is by a run with no ledger at all (the fired job does not come back for
  it); the only difference is that a restart within the grace window no longer sends it late, which
  makes a restart behave like no restart.
* Teams written straight into the database with an old ``reminders_updated_at`` (a benchmark, a
  test) bypass the rule; an operator doing so deletes the rows of the occurrences concerned.
* A different shard layout (``SHARD_IDS`` changed, a second process added) has another key and trusts
  none of these rows; two processes serving the same servers share them, as they share the teams.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from backrun_bot.domain.shards import ShardSet
from backrun_bot.storage.dialect import insert
from backrun_bot.storage.models import ReminderOccurrence

# Local days lie up to 14 hours ahead of UTC and 12 behind: the local days of the occurrences after
# an instant are those from the day before its UTC date.
_ZONE_SPREAD = timedelta(days=1)
_KEY_WIDTH = 200  # the column's


def _runs(ids: Iterable[int]) -> str:
    """Sorted ids as runs: 0-3,7,9-10."""
    parts: list[str] = []
    ordered = sorted(ids)
    start = prev = ordered[0]
    for n in [*ordered[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ",".join(parts)


def shards_key(shards: ShardSet) -> str:
    """The servers ``shards`` serves, canonically: ``all`` for every server (however many shards),
    else ``<count>:<ids as runs>`` (``16:0-3``); a digest if that is too long for the column."""
    if shards.owns_all:
        return "all"
    key = f"{shards.count}:{_runs(shards.ids)}"
    if len(key) <= _KEY_WIDTH:
        return key
    return f"{shards.count}#" + hashlib.sha256(key.encode()).hexdigest()


async def settle_occurrence(
    s: AsyncSession,
    shards: ShardSet,
    timezone: str,
    at: str,
    slot: str,
    day: date,
    instant: datetime,
    now: datetime,
) -> None:
    """Record the occurrence as finished for ``shards`` (one statement; again is a no-op). Call it
    only once every team due for it is settled."""
    await s.execute(
        insert(s, ReminderOccurrence)
        .values(
            shards=shards_key(shards),
            local_day=day,
            timezone=timezone,
            at=at,
            slot=slot,
            instant=instant,
            settled_at=now,
        )
        .on_conflict_do_nothing()
    )


async def settled_occurrences(
    s: AsyncSession, shards: ShardSet, since: datetime
) -> set[tuple[str, str, str, date]]:
    """The (timezone, HH:MM, slot, local day) of the occurrences due after ``since`` that are finished
    for ``shards``: one range of the primary key (shard set, local day)."""
    rows = await s.execute(
        select(
            ReminderOccurrence.timezone,
            ReminderOccurrence.at,
            ReminderOccurrence.slot,
            ReminderOccurrence.local_day,
        ).where(
            ReminderOccurrence.shards == shards_key(shards),
            ReminderOccurrence.local_day >= (since - _ZONE_SPREAD).date(),
            ReminderOccurrence.instant > since,
        )
    )
    return {(tz, at, slot, day) for tz, at, slot, day in rows.all()}


async def prune_occurrences(s: AsyncSession, before: date) -> int:
    """Delete the rows of local days before ``before`` (a few hundred a day per shard set: one
    statement). Returns how many went."""
    gone = await s.execute(delete(ReminderOccurrence).where(ReminderOccurrence.local_day < before))
    await s.commit()
    return int(gone.rowcount)  # type: ignore[attr-defined]
