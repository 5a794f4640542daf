"""Queries for reminders: slot groups, due teams, delivery claims and their outcomes."""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    CompoundSelect,
    Integer,
    ScalarSelect,
    Select,
    SQLColumnExpression,
    String,
    Text,
    and_,
    case,
    cast,
    delete,
    exists,
    false,
    literal,
    or_,
    select,
    true,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from backrun_bot.domain.shards import ShardSet
from backrun_bot.storage.dialect import insert
from backrun_bot.storage.models import (
    BotState,
    ReminderDelivery,
    ReminderSettingsChange,
    RunSession,
    Team,
    reminder_on,
)

SLOT_COLUMNS = {"warmup": Team.warmup_time, "cooldown": Team.cooldown_time}
# The ledger's slot of Monday's weekly summary, which the warmup's run sends after the warmup: it has
# no time of its own (it follows the warmup), only its own exactly-once key.
WEEKLY_SLOT = "weekly"


def weekly_follows(slot: str, day: date) -> bool:
    """Whether the ``slot`` run of ``day`` (a team-local date) also sends the weekly summary: the
    warmup's, on a Monday."""
    return slot == "warmup" and day.weekday() == 0


def _owned(shards: ShardSet) -> ColumnElement[bool]:
    """Teams on ``shards``, by Discord's rule ``(guild_id >> 22) % count`` (SQLite and PostgreSQL
    both shift and take the remainder of integers); no condition when ``shards`` owns every server."""
    if shards.owns_all:
        return true()
    # The numbers are plain ints from the settings, inlined so that both drivers see integer literals.
    shard = Team.id.op(">>", return_type=BigInteger)(literal(22, BigInteger, literal_execute=True))
    remainder = shard.op("%", return_type=BigInteger)(literal(shards.count, BigInteger, literal_execute=True))
    return remainder.in_(sorted(shards.ids))


def _first(
    value: SQLColumnExpression[Any], where: Sequence[ColumnElement[bool]], *after: ColumnElement[bool]
) -> ScalarSelect[Any]:
    """The smallest ``value`` among the teams that satisfy ``where`` and ``after`` (one index seek)."""
    return select(value).where(*where, *after).order_by(value).limit(1).scalar_subquery()


def slot_groups_query(
    shards: ShardSet, timezones: Sequence[str] | None = None
) -> CompoundSelect[str, str, str]:
    """The distinct (timezone, HH:MM, slot) of the teams on ``shards`` whose reminder goes out, read
    from each slot's partial index (``ix_teams_<slot>_groups``) by seeking from one group to the next,
    not by reading every team: one seek for each timezone and one for each group. Only those of
    ``timezones`` if given (a re-read after changes that touched only them: a range of the index
    each, no seek through the other timezones).

    A recursive query per slot: the timezones first (each the smallest one after the last), then in
    each timezone its times (each the smallest after the last). A team on another process's shards
    is stepped over where the seek lands on it, so a group none of whose teams is on ``shards`` costs
    a walk through that group's teams."""
    owned = _owned(shards)
    per_slot = []
    for slot, column in SLOT_COLUMNS.items():
        goes_out = [*reminder_on(column), owned]
        if timezones is None:
            zones = select(_first(Team.timezone, goes_out).label("tz")).cte(f"{slot}_zones", recursive=True)
            zones = zones.union_all(
                select(_first(Team.timezone, goes_out, Team.timezone > zones.c.tz)).where(
                    zones.c.tz.is_not(None)
                )
            )
        else:
            zones = union_all(
                *(select(cast(literal(tz), String).label("tz")) for tz in sorted(set(timezones)))
            ).cte(f"{slot}_zones")
        times = (
            select(zones.c.tz, _first(column, goes_out, Team.timezone == zones.c.tz).label("at"))
            .where(zones.c.tz.is_not(None))
            .cte(f"{slot}_times", recursive=True)
        )
        times = times.union_all(
            select(
                times.c.tz, _first(column, goes_out, Team.timezone == times.c.tz, column > times.c.at)
            ).where(times.c.at.is_not(None))
        )
        per_slot.append(
            select(
                type_coerce(times.c.tz, String), type_coerce(times.c.at, String), literal(slot).label("slot")
            ).where(times.c.at.is_not(None))
        )
    return union_all(*per_slot)


async def slot_groups(
    s: AsyncSession, shards: ShardSet | None = None, *, timezones: Sequence[str] | None = None
) -> list[tuple[str, str, str]]:
    """Distinct (timezone, HH:MM, slot) among teams with reminders on (on ``shards``, default all;
    in ``timezones``, default any): one scheduler job each. A few hundred index seeks, not a scan of
    the teams (:func:`slot_groups_query`)."""
    if timezones is not None and not timezones:
        return []
    rows = await s.execute(slot_groups_query(shards or ShardSet.every(), timezones))
    return [(tz, at, slot) for tz, at, slot in rows.all()]


# bot_state key of a counter that every change to which teams get which reminders moves by one.
SETTINGS_GENERATION = "reminder_settings_generation"


async def bump_settings_generation(s: AsyncSession, timezones: Iterable[str] | None = None) -> None:
    """Count one change of reminder settings (call it in the transaction that makes the change). An
    atomic increment, so no change is missed however many processes make them at once.

    ``timezones``: every timezone whose slot groups the change can alter (a team's old and new one);
    recorded with the generation in ``reminder_settings_changes``, so that a process re-reads only
    those timezones' groups (:func:`touched_timezones`). None (the default, for a change that cannot
    say, such as teams written straight into the table) means any: a full re-read.

    The increment holds the counter's row until commit (PostgreSQL's row lock; SQLite's one writer),
    so generations commit in order, each with its change row: a reader that sees generation ``g``
    sees the change rows of every generation up to ``g``."""
    now = datetime.now(UTC)
    stmt = insert(s, BotState).values(key=SETTINGS_GENERATION, value="1", updated_at=now)
    generation = await s.scalar(
        stmt.on_conflict_do_update(
            index_elements=[BotState.key],
            set_={"value": cast(cast(BotState.value, Integer) + 1, Text), "updated_at": now},
        ).returning(BotState.value)
    )
    touched = None if timezones is None else " ".join(sorted(set(timezones)))
    await s.execute(
        insert(s, ReminderSettingsChange).values(
            generation=int(generation or 0), timezones=touched, changed_at=now
        )
    )


async def touched_timezones(s: AsyncSession, after: int, upto: int) -> set[str] | None:
    """The timezones the changes of generations ``after + 1`` … ``upto`` touched (one range of the
    change log's primary key), or None if some change could not say (or its row is gone: pruned,
    or written by an older version of the bot): then every group must be read again."""
    rows = (
        await s.execute(
            select(ReminderSettingsChange.generation, ReminderSettingsChange.timezones).where(
                ReminderSettingsChange.generation > after, ReminderSettingsChange.generation <= upto
            )
        )
    ).all()
    if len(rows) != upto - after or any(timezones is None for _, timezones in rows):
        return None
    return {tz for _, timezones in rows for tz in (timezones or "").split()}


async def prune_settings_changes(s: AsyncSession, before: datetime) -> None:
    """Delete the change log's rows written before ``before`` (a process whose groups are older
    than that reads them all again)."""
    await s.execute(delete(ReminderSettingsChange).where(ReminderSettingsChange.changed_at < before))
    await s.commit()


async def settings_generation(s: AsyncSession) -> int:
    """How many changes of reminder settings there have been (one primary-key lookup): the slot
    groups need reading again only when this moves."""
    value = await s.scalar(select(BotState.value).where(BotState.key == SETTINGS_GENERATION))
    return int(value or 0)


def due_team_ids_query(
    timezone: str,
    at: str,
    slot: str,
    day: date,
    instant: datetime,
    *,
    shards: ShardSet | None = None,
) -> Select[int]:
    """:func:`due_team_ids` as a statement: one range of the slot's partial index, in id order."""
    column = SLOT_COLUMNS[slot]
    return (
        select(Team.id)
        .where(
            *reminder_on(column),  # the terms of the slot's partial index
            _owned(shards or ShardSet.every()),
            Team.timezone == timezone,
            column == at,
            Team.reminder_days.contains(str(day.weekday())),
            or_(Team.paused_until.is_(None), Team.paused_until <= day),
            Team.reminders_updated_at <= instant,
            # Not settled already: a run made again (a retry, the catch-up, another copy) touches only
            # the reminders still to send, through the delivery key's unique index.
            _unsettled(slot, day),
        )
        .order_by(Team.id)
    )


def _pending(slot: str, day: date) -> ColumnElement[bool]:
    return ~exists().where(*_key(Team.id, day, slot), ReminderDelivery.status.not_in(UNSETTLED))


def _weekly_pending(day: date) -> ColumnElement[bool]:
    """The team's weekly summary of ``day`` is on, has something to sum up (an entry last week: one
    probe of the (team_id, day) index; a team that logged nothing gets no summary and no ledger
    row), and is not settled."""
    monday = day - timedelta(days=day.weekday())
    logged = exists().where(
        RunSession.team_id == Team.id,
        RunSession.day >= monday - timedelta(days=7),
        RunSession.day < monday,
    )
    return and_(Team.weekly_summary.is_(True), logged, _pending(WEEKLY_SLOT, day))


def _unsettled(slot: str, day: date) -> ColumnElement[bool]:
    """The team's ``slot`` reminder of ``day`` is not settled; on a Monday's warmup, or its weekly
    summary is on and not settled (so a retry or the restart's catch-up sends a summary that failed
    or was cut off after its warmup went out)."""
    if not weekly_follows(slot, day):
        return _pending(slot, day)
    return or_(_pending(slot, day), _weekly_pending(day))


async def logged_last_week(s: AsyncSession, team_ids: Sequence[int], day: date) -> list[int]:
    """The teams of ``team_ids`` with an entry in the week before ``day``'s (one query: a range of
    the (team_id, day) index per team, last week's entries), in the order given."""
    if not team_ids:
        return []
    monday = day - timedelta(days=day.weekday())
    logged = set(
        await s.scalars(
            select(RunSession.team_id)
            .where(
                RunSession.team_id.in_(list(team_ids)),
                RunSession.day >= monday - timedelta(days=7),
                RunSession.day < monday,
            )
            .distinct()
        )
    )
    return [team_id for team_id in team_ids if team_id in logged]


async def due_parts(
    s: AsyncSession,
    timezone: str,
    at: str,
    slot: str,
    day: date,
    instant: datetime,
    *,
    shards: ShardSet | None = None,
) -> list[tuple[int, bool, bool]]:
    """:func:`due_team_ids` with, for each team, whether its ``slot`` reminder and its weekly summary
    are still to settle (one statement; the summary's only on a Monday's warmup)."""
    query = due_team_ids_query(timezone, at, slot, day, instant, shards=shards).add_columns(
        _pending(slot, day), _weekly_pending(day) if weekly_follows(slot, day) else false()
    )
    return [(team_id, bool(own), bool(weekly)) for team_id, own, weekly in await s.execute(query)]


async def due_team_ids(
    s: AsyncSession,
    timezone: str,
    at: str,
    slot: str,
    day: date,
    instant: datetime,
    *,
    shards: ShardSet | None = None,
) -> list[int]:
    """Teams in the group whose reminder for ``day`` is due: on that weekday, not paused that day,
    and whose settings already existed at ``instant`` (so a catch-up never sends a reminder for a
    time that was set after it passed); only those on ``shards`` (default: every team)."""
    return list(await s.scalars(due_team_ids_query(timezone, at, slot, day, instant, shards=shards)))


class Claim(enum.Enum):
    """What :func:`claim` found for one (team, day, slot) delivery."""

    NEW = "new"  # no row yet: this caller sends it, for the first time
    RETAKEN = "retaken"  # an earlier attempt failed or was cut off (it may have reached Discord)
    HELD = "held"  # another run is sending it (or was, less than a lease ago): not settled yet
    SETTLED = "settled"  # sent, failed for good or skipped: nothing more to do

    @property
    def won(self) -> bool:
        return self in (Claim.NEW, Claim.RETAKEN)


# Teams per statement when many are skipped at once (SQLite allows 32,766 bound values; 7 per row).
SKIP_BATCH = 1000

# Rows whose reminder is not settled: being sent (``claimed``) or waiting for another attempt
# (``retry``: Discord did not take it; any run may take it again at once).
UNSETTLED = ("claimed", "retry")


def _key(team_id: int | SQLColumnExpression[int], day: date, slot: str) -> list[ColumnElement[bool]]:
    return [
        ReminderDelivery.team_id == team_id,
        ReminderDelivery.local_day == day,
        ReminderDelivery.slot == slot,
    ]


def _keys(team_ids: Sequence[int], day: date, slot: str) -> list[ColumnElement[bool]]:
    """:func:`_key` of several teams (one statement for a batch)."""
    return [
        ReminderDelivery.team_id.in_(team_ids),
        ReminderDelivery.local_day == day,
        ReminderDelivery.slot == slot,
    ]


def _takeable(stale_before: datetime) -> ColumnElement[bool]:
    """A row another attempt may take: marked for a retry, or claimed and not confirmed for a lease."""
    return or_(
        ReminderDelivery.status == "retry",
        and_(ReminderDelivery.status == "claimed", ReminderDelivery.claimed_at < stale_before),
    )


async def claim(
    s: AsyncSession, team_id: int, day: date, slot: str, now: datetime, *, stale_before: datetime
) -> Claim:
    """Take one (team, day, slot) delivery: :func:`claim_many` of one team."""
    return (await claim_many(s, [team_id], day, slot, now, stale_before=stale_before))[team_id]


async def claim_many(
    s: AsyncSession, team_ids: Sequence[int], day: date, slot: str, now: datetime, *, stale_before: datetime
) -> dict[int, Claim]:
    """Take the (team, day, slot) deliveries of ``team_ids``: ``Claim.NEW`` or ``Claim.RETAKEN`` for
    exactly one caller across every bot copy, in at most three statements (insert the new claims,
    take over the takeable rows, read the state of the rest).

    A row marked ``retry``, or left ``claimed`` since before ``stale_before`` (its sender crashed), is
    taken over by a conditional update, which again only one copy can win. Rows are taken in team
    order, so two copies claiming the same teams at once wait for each other rather than deadlock."""
    if not team_ids:
        return {}
    ordered = sorted(set(team_ids))
    values = [
        {"team_id": team_id, "local_day": day, "slot": slot, "status": "claimed", "claimed_at": now}
        for team_id in ordered
    ]
    new = set(
        await s.scalars(
            insert(s, ReminderDelivery)
            .values(values)
            .on_conflict_do_nothing()
            .returning(ReminderDelivery.team_id)
        )
    )
    claims = dict.fromkeys(new, Claim.NEW)
    rest = [team_id for team_id in ordered if team_id not in new]
    if rest:
        retaken = await s.scalars(
            update(ReminderDelivery)
            .where(
                *_keys(rest, day, slot),
                _takeable(stale_before),
            )
            .values(status="claimed", claimed_at=now, attempts=ReminderDelivery.attempts + 1)
            .returning(ReminderDelivery.team_id)
        )
        claims.update(dict.fromkeys(retaken, Claim.RETAKEN))
    others = [team_id for team_id in rest if team_id not in claims]
    if others:
        rows = await s.execute(
            select(ReminderDelivery.team_id, ReminderDelivery.status).where(
                *_keys(others, day, slot),
            )
        )
        for team_id, status in rows:
            claims[team_id] = Claim.HELD if status in UNSETTLED else Claim.SETTLED
    return claims


@dataclass(frozen=True)
class Finished:
    """How one team's reminder ended in a run: ``sent`` (with its message), ``failed`` or ``retry``."""

    team_id: int
    status: str
    message_id: int | None = None
    detail: str | None = None


async def finish_many(
    s: AsyncSession, day: date, slot: str, finished: Sequence[Finished], now: datetime
) -> None:
    """Record how the reminders of a run ended: one UPDATE per status, however many teams."""
    by_status: dict[str, list[Finished]] = defaultdict(list)
    for row in finished:
        by_status[row.status].append(row)
    for status, rows in by_status.items():
        ids = [row.team_id for row in rows]
        message_ids = {row.team_id: row.message_id for row in rows if row.message_id is not None}
        details = {row.team_id: row.detail[:200] for row in rows if row.detail}
        await s.execute(
            update(ReminderDelivery)
            .where(
                *_keys(ids, day, slot),
            )
            .values(
                status=status,
                finished_at=now,
                message_id=case(message_ids, value=ReminderDelivery.team_id) if message_ids else None,
                detail=case(details, value=ReminderDelivery.team_id) if details else None,
            )
        )


async def pause_for_channels(s: AsyncSession, reasons: dict[int, str]) -> None:
    """Pause the reminders of teams whose channel is lost, each with its reason (one UPDATE)."""
    if not reasons:
        return
    trimmed = {team_id: reason[:200] for team_id, reason in reasons.items()}
    touched = await s.scalars(
        update(Team)
        .where(Team.id.in_(list(trimmed)))
        .values(pause_reason=case(trimmed, value=Team.id))
        .returning(Team.timezone)
    )
    await bump_settings_generation(s, set(touched))


async def skip(
    s: AsyncSession,
    team_ids: Sequence[int],
    day: date,
    slot: str,
    now: datetime,
    *,
    stale_before: datetime,
    reason: str,
) -> list[int]:
    """Record the (team, day, slot) reminders of ``team_ids`` as skipped, in a few statements however
    many teams: new rows, and rows left unsettled (a retry, a stale claim). Returns the teams this
    call recorded; a settled row or a fresh claim (another copy sending it now) is left as it is."""
    recorded: list[int] = []
    for start in range(0, len(team_ids), SKIP_BATCH):
        batch = list(team_ids[start : start + SKIP_BATCH])
        values = [
            {
                "team_id": team_id,
                "local_day": day,
                "slot": slot,
                "status": "skipped",
                "claimed_at": now,
                "finished_at": now,
                "detail": reason[:200],
            }
            for team_id in batch
        ]
        inserted = await s.scalars(
            insert(s, ReminderDelivery)
            .values(values)
            .on_conflict_do_nothing()
            .returning(ReminderDelivery.team_id)
        )
        recorded += inserted
        # An unconfirmed attempt may have reached the channel; the detail says so.
        unconfirmed = f"{reason}; earlier attempts not confirmed"
        taken = await s.scalars(
            update(ReminderDelivery)
            .where(
                *_keys(batch, day, slot),
                _takeable(stale_before),
            )
            .values(status="skipped", finished_at=now, detail=unconfirmed[:200])
            .returning(ReminderDelivery.team_id)
        )
        recorded += taken
    return sorted(set(recorded))


async def prune(s: AsyncSession, before: date, *, batch: int = 10_000) -> int:
    """Delete the delivery rows of days before ``before``, ``batch`` rows per statement (the first
    pruning of a big ledger must not hold one long transaction). Returns how many went."""
    removed = 0
    while True:
        ids = select(ReminderDelivery.id).where(ReminderDelivery.local_day < before).limit(batch)
        gone = await s.execute(delete(ReminderDelivery).where(ReminderDelivery.id.in_(ids.scalar_subquery())))
        count = int(gone.rowcount)  # type: ignore[attr-defined]
        removed += count
        await s.commit()
        if count < batch:
            return removed


async def deliveries(s: AsyncSession, team_id: int) -> list[ReminderDelivery]:
    result = await s.scalars(
        select(ReminderDelivery)
        .where(ReminderDelivery.team_id == team_id)
        .order_by(ReminderDelivery.local_day, ReminderDelivery.slot)
    )
    return list(result)


async def teams(s: AsyncSession, team_ids: Sequence[int]) -> dict[int, Team]:
    """The teams of ``team_ids``, by id (one query)."""
    if not team_ids:
        return {}
    return {team.id: team for team in await s.scalars(select(Team).where(Team.id.in_(list(team_ids))))}
