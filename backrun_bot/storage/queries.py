"""Reads and writes for training entries. Every query is scoped to one team (Discord server)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    BindParameter,
    ColumnElement,
    CompoundSelect,
    Date,
    Float,
    Integer,
    ScalarSelect,
    Select,
    String,
    TextualSelect,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    literal,
    null,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy import insert as insert_into
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from backrun_bot.domain.stats import Island, StreakMark, settled_day
from backrun_bot.storage.dialect import day_number, insert
from backrun_bot.storage.models import Athlete, Base, BotState, RestDay, RunSession, Team, UTCDateTime


async def get_or_create_team(s: AsyncSession, guild_id: int) -> Team:
    """The team of a server, created on first use. Safe when two requests race to create it."""
    team = await s.get(Team, guild_id)
    if team is not None:
        return team
    await s.execute(
        insert(s, Team)
        .values(id=guild_id, timezone="UTC", created_at=datetime.now(UTC))
        .on_conflict_do_nothing()
    )
    team = await s.get(Team, guild_id, populate_existing=True)
    assert team is not None
    return team


async def get_or_create_athlete(s: AsyncSession, guild_id: int, user_id: int, display_name: str) -> Athlete:
    """The athlete record, created on first use (no sign-up step); keeps the display name fresh."""
    display_name = display_name[:100]
    query = select(Athlete).where(Athlete.team_id == guild_id, Athlete.user_id == user_id)
    athlete = await s.scalar(query)
    if athlete is None:
        await get_or_create_team(s, guild_id)
        await s.execute(
            insert(s, Athlete)
            .values(
                team_id=guild_id, user_id=user_id, display_name=display_name, created_at=datetime.now(UTC)
            )
            .on_conflict_do_nothing()
        )
        athlete = await s.scalar(query)
        assert athlete is not None
    elif athlete.display_name != display_name:
        athlete.display_name = display_name
    return athlete


# /log, the command a whole squad sends at the end of practice, is one statement for a member
# already known (_ADD_KNOWN_ENTRY, below); a process's first /log in a team, which has yet to read
# the team's timezone, runs the read below and the INSERT. All are built once, with bound
# parameters, so no call pays for building a statement and its cache key.
_TEAMS, _ATHLETES, _ENTRIES = (Base.metadata.tables[t] for t in ("teams", "athletes", "run_sessions"))

_LOGGER = (
    select(
        _TEAMS.c.timezone,
        _TEAMS.c.units,
        _ATHLETES.c.id,
        _ATHLETES.c.display_name,
        _ENTRIES.c.day,
        func.sum(_ENTRIES.c.effective_meters),
    )
    .select_from(
        _TEAMS.outerjoin(
            _ATHLETES,
            and_(_ATHLETES.c.team_id == _TEAMS.c.id, _ATHLETES.c.user_id == bindparam("user_id")),
        ).outerjoin(
            _ENTRIES,
            and_(
                _ENTRIES.c.athlete_id == _ATHLETES.c.id,
                _ENTRIES.c.is_backward.is_(True),
                _ENTRIES.c.day >= bindparam("first"),
                _ENTRIES.c.day <= bindparam("last"),
            ),
        )
    )
    .where(_TEAMS.c.id == bindparam("guild_id"))
    .group_by(_TEAMS.c.timezone, _TEAMS.c.units, _ATHLETES.c.id, _ATHLETES.c.display_name, _ENTRIES.c.day)
)

_ADD_ENTRY = insert_into(_ENTRIES).returning(_ENTRIES.c.id)

_TIMEZONE = select(_TEAMS.c.timezone).where(_TEAMS.c.id == bindparam("guild_id"))


async def team_timezone(s: AsyncSession, guild_id: int) -> str | None:
    """The team's timezone (a plain read of one column); None if the team does not exist yet."""
    timezone: str | None = await s.scalar(_TIMEZONE, {"guild_id": guild_id})
    return timezone


@dataclass(frozen=True, slots=True)
class TeamPlace:
    """What a read of the team's entries needs of the team first: where its days are (timezone) and
    how it shows distances (units, as stored: ``Units`` values)."""

    timezone: str
    units: str


_PLACE = select(_TEAMS.c.timezone, _TEAMS.c.units).where(_TEAMS.c.id == bindparam("guild_id"))


async def team_place(s: AsyncSession, guild_id: int) -> TeamPlace | None:
    """The team's timezone and units (one row by its key); None if the team does not exist yet."""
    row = (await s.execute(_PLACE, {"guild_id": guild_id})).first()
    return None if row is None else TeamPlace(row[0], row[1])


@dataclass(frozen=True, slots=True)
class Logger:
    """What /log reads before it stores an entry: the team's timezone, the member's athlete record,
    and the athlete's backward meters on each day of ``window`` that has any."""

    timezone: str
    athlete_id: int | None  # None: the member has no athlete record in this team yet
    display_name: str | None
    window: tuple[date, date]
    backward_by_day: dict[date, float]
    units: str = "metric"  # how the team shows distances (teams.units)

    def backward_meters(self, first: date, last: date) -> float:
        """The backward meters of [first, last], which must lie inside the window read."""
        if not self.window[0] <= first <= last <= self.window[1]:
            raise ValueError(
                f"{first}..{last} is not inside the window read, {self.window[0]}..{self.window[1]}"
            )
        return sum(m for day, m in self.backward_by_day.items() if first <= day <= last)


def logger_query(guild_id: int, user_id: int, window: tuple[date, date]) -> Select[Any]:
    """The read of :func:`logger` with its values bound (for EXPLAIN)."""
    return _LOGGER.params(guild_id=guild_id, user_id=user_id, first=window[0], last=window[1])


async def logger(s: AsyncSession, guild_id: int, user_id: int, window: tuple[date, date]) -> Logger | None:
    """The team's timezone, the member's athlete record (if any) and their backward meters per day
    in ``window`` (first and last day), in one read: the team by its key, the athlete by the
    (team, user) unique index, the entries by the athlete's (athlete_id, day) index. None if the
    team itself does not exist yet."""
    params = {"guild_id": guild_id, "user_id": user_id, "first": window[0], "last": window[1]}
    rows = (await s.execute(_LOGGER, params)).all()
    if not rows:
        return None
    timezone, units, athlete_id, display_name = rows[0][0], rows[0][1], rows[0][2], rows[0][3]
    by_day = {day: float(meters) for *_, day, meters in rows if day is not None}
    return Logger(timezone, athlete_id, display_name, window, by_day, units)


async def rename_athlete(s: AsyncSession, athlete_id: int, display_name: str) -> None:
    await s.execute(update(Athlete).where(Athlete.id == athlete_id).values(display_name=display_name[:100]))


async def add_entry(
    s: AsyncSession,
    *,
    athlete_id: int,
    team_id: int,
    kind: str,
    is_backward: bool,
    meters: float | None,
    seconds: float | None,
    effective_meters: float,
    amount_text: str,
    note: str | None,
    day: date,
    logged_at: datetime,
    rpe: int | None = None,
) -> int:
    """Store one entry (a plain INSERT, no ORM object); its id."""
    values = {
        "athlete_id": athlete_id,
        "team_id": team_id,
        "kind": kind,
        "is_backward": is_backward,
        "meters": meters,
        "seconds": seconds,
        "effective_meters": effective_meters,
        "amount_text": amount_text[:64],
        "note": note,
        "day": day,
        "logged_at": logged_at,
        "rpe": rpe,
    }
    return int((await s.execute(_ADD_ENTRY, values)).scalar_one())


# /log for a member the team already knows, as ONE statement: the INSERT takes the athlete from
# the (team, user) unique index and stores the entry only if the athlete's display name and the
# team's timezone are still those the caller assumed (the day was decided in that timezone); its
# RETURNING adds the athlete's backward meters of the entry's day and week, by the athlete's
# (athlete_id, day) index. Written as SQL text: SQLAlchemy renders neither a subquery correlated to
# the INSERT's own row in RETURNING nor, on SQLite, table names there. The same text runs on both
# databases; the entry itself is left out of the sums by its id (PostgreSQL's subqueries would not
# see it anyway, SQLite's do).
_ENTRY_VALUES = ("kind", "is_backward", "meters", "seconds", "effective_meters", "amount_text", "note", "rpe")
_ADD_KNOWN_ENTRY = (
    text(
        """
        INSERT INTO run_sessions (athlete_id, team_id, kind, is_backward, meters, seconds,
                                  effective_meters, amount_text, note, rpe, day, logged_at)
        SELECT athletes.id, athletes.team_id, :kind, :is_backward, :meters, :seconds,
               :effective_meters, :amount_text, :note, :rpe, :day, :logged_at
        FROM athletes JOIN teams ON teams.id = athletes.team_id
        WHERE athletes.team_id = :guild_id AND athletes.user_id = :user_id
          AND athletes.display_name = :display_name AND teams.timezone = :timezone
        RETURNING id,
            (SELECT coalesce(sum(earlier.effective_meters), 0) FROM run_sessions AS earlier
             WHERE earlier.athlete_id = run_sessions.athlete_id AND earlier.is_backward
               AND earlier.day = :day AND earlier.id <> run_sessions.id) AS day_m,
            (SELECT coalesce(sum(earlier.effective_meters), 0) FROM run_sessions AS earlier
             WHERE earlier.athlete_id = run_sessions.athlete_id AND earlier.is_backward
               AND earlier.day >= :week_first AND earlier.day <= :week_last
               AND earlier.id <> run_sessions.id) AS week_m,
            (SELECT team.units FROM teams AS team WHERE team.id = run_sessions.team_id) AS units
        """
    )
    .bindparams(
        bindparam("guild_id", type_=BigInteger),
        bindparam("user_id", type_=BigInteger),
        bindparam("display_name", type_=_ATHLETES.c.display_name.type),
        bindparam("timezone", type_=_TEAMS.c.timezone.type),
        *(bindparam(name, type_=_ENTRIES.c[name].type) for name in _ENTRY_VALUES),
        bindparam("day", type_=Date),
        bindparam("week_first", type_=Date),
        bindparam("week_last", type_=Date),
        bindparam("logged_at", type_=UTCDateTime()),
    )
    .columns(id=_ENTRIES.c.id.type, day_m=Float(), week_m=Float(), units=_TEAMS.c.units.type)
)


@dataclass(frozen=True, slots=True)
class KnownEntry:
    """An entry stored by :func:`add_known_entry`, with the athlete's backward meters of its day
    and of its week (Monday to Sunday) before it."""

    id: int
    backward_day_m: float
    backward_week_m: float
    units: str  # the team's display units, read in the same statement


def known_entry_query(guild_id: int, user_id: int, day: date, week: tuple[date, date]) -> TextualSelect:
    """The statement of :func:`add_known_entry` with values bound, for EXPLAIN (which runs nothing)."""
    return _ADD_KNOWN_ENTRY.bindparams(
        guild_id=guild_id,
        user_id=user_id,
        display_name="name",
        timezone="UTC",
        kind="backward",
        is_backward=True,
        meters=400.0,
        seconds=None,
        effective_meters=400.0,
        amount_text="400m",
        note=None,
        rpe=None,
        day=day,
        week_first=week[0],
        week_last=week[1],
        logged_at=datetime.now(UTC),
    )


async def add_known_entry(
    s: AsyncSession | AsyncConnection,
    *,
    guild_id: int,
    user_id: int,
    display_name: str,
    timezone: str,
    kind: str,
    is_backward: bool,
    meters: float | None,
    seconds: float | None,
    effective_meters: float,
    amount_text: str,
    note: str | None,
    day: date,
    week: tuple[date, date],
    logged_at: datetime,
    rpe: int | None = None,
) -> KnownEntry | None:
    """Store one entry of the member's athlete in one statement, if the team has an athlete for
    the member named ``display_name`` and the team's timezone is ``timezone``; None (nothing stored)
    otherwise: a member new here, renamed, or a timezone changed since the caller read it."""
    params = {
        "guild_id": guild_id,
        "user_id": user_id,
        "display_name": display_name[:100],
        "timezone": timezone,
        "kind": kind,
        "is_backward": is_backward,
        "meters": meters,
        "seconds": seconds,
        "effective_meters": effective_meters,
        "amount_text": amount_text[:64],
        "note": note,
        "rpe": rpe,
        "day": day,
        "week_first": week[0],
        "week_last": week[1],
        "logged_at": logged_at,
    }
    row = (await s.execute(_ADD_KNOWN_ENTRY, params)).one_or_none()
    if row is None:
        return None
    return KnownEntry(int(row.id), float(row.day_m), float(row.week_m), str(row.units))


# The per-athlete query builders take values, or bound parameters for a statement built once and
# run many times (building a statement costs more Python than running it: 2.6 ms for /stats's).
Id = int | BindParameter[int]
Day = date | BindParameter[date]


def _athlete_id(guild_id: Id, user_id: Id) -> ScalarSelect[int]:
    """The athlete's id, found through the (team, user) unique index."""
    return select(Athlete.id).where(Athlete.team_id == guild_id, Athlete.user_id == user_id).scalar_subquery()


def _mine(guild_id: Id, user_id: Id) -> ColumnElement[bool]:
    """Entries of one athlete, by the athlete's own (athlete_id, day) index.

    Not a join filtered by team and user: with it the planners walked the team's (team_id, day)
    index (SQLite) or scanned every athlete (PostgreSQL), so one member's /stats cost as much as the
    whole team's history. The athlete belongs to the team, so this is scoped to the server too.
    """
    return RunSession.athlete_id == _athlete_id(guild_id, user_id)


def _of(guild_id: int, user_id: int) -> Select[RunSession]:
    return select(RunSession).where(_mine(guild_id, user_id))


async def get_run_session(
    s: AsyncSession, guild_id: int, entry_id: int, *, user_id: int | None = None
) -> RunSession | None:
    """An entry by id, only if it belongs to this server (and to ``user_id``'s athlete, if given)."""
    query = select(RunSession) if user_id is None else _of(guild_id, user_id)
    row: RunSession | None = await s.scalar(
        query.where(RunSession.id == entry_id, RunSession.team_id == guild_id)
    )
    return row


@dataclass(frozen=True, slots=True)
class AuthoredEntry:
    """An entry with who logged it (for a correction, which must know whose it is)."""

    row: RunSession
    user_id: int
    display_name: str
    timezone: str  # the team's, for the days a correction may move the entry to


async def authored_entry(s: AsyncSession, guild_id: int, entry_id: int) -> AuthoredEntry | None:
    """Entry ``entry_id`` of this server whoever logged it, with its author and the team's timezone
    (one read by the primary keys); None if no entry of this server has that id."""
    found = (
        await s.execute(
            select(RunSession, Athlete.user_id, Athlete.display_name, Team.timezone)
            .join(Athlete, Athlete.id == RunSession.athlete_id)
            .join(Team, Team.id == RunSession.team_id)
            .where(RunSession.id == entry_id, RunSession.team_id == guild_id)
        )
    ).first()
    if found is None:
        return None
    row, user_id, display_name, timezone = found
    return AuthoredEntry(row, user_id, display_name, timezone)


async def update_entry(
    s: AsyncSession,
    entry_id: int,
    *,
    kind: str,
    is_backward: bool,
    meters: float | None,
    seconds: float | None,
    effective_meters: float,
    amount_text: str,
    note: str | None,
    day: date,
    athlete_id: int,
    was_on: date,
    rpe: int | None,
) -> bool:
    """Rewrite entry ``entry_id`` of ``athlete_id``, which was on day ``was_on`` (a correction);
    False if it was deleted meanwhile. The athlete's streak mark learns of the change
    (:func:`past_changed`, from the earlier of the two days)."""
    statement = (
        update(RunSession)
        .where(RunSession.id == entry_id)
        .values(
            kind=kind,
            is_backward=is_backward,
            meters=meters,
            seconds=seconds,
            effective_meters=effective_meters,
            amount_text=amount_text[:64],
            note=note,
            day=day,
            rpe=rpe,
        )
        .returning(RunSession.id)
    )
    if await s.scalar(statement) is None:
        return False
    await past_changed(s, athlete_id, min(was_on, day))
    return True


def latest_query(guild_id: int, user_id: int) -> Select[RunSession]:
    # Served by the (athlete_id, id) index; without it PostgreSQL walked the whole table's primary key
    # backwards until it met one of the athlete's entries.
    return _of(guild_id, user_id).order_by(RunSession.id.desc()).limit(1)


async def latest_run_session(s: AsyncSession, guild_id: int, user_id: int) -> RunSession | None:
    """The athlete's most recently logged entry (by when it was logged, not the day it is for)."""
    return await s.scalar(latest_query(guild_id, user_id))


async def delete_run_session(s: AsyncSession, row: RunSession) -> bool:
    """Delete the entry ``row``; False if it was already gone.

    Two undos of one entry can both read it before either deletes it (a double tap, /undo while
    pressing Undo). The DELETE itself says which of them removed it: the second one finds no row
    (on PostgreSQL it waits for the first to commit, then matches nothing; SQLite runs one writer at
    a time), so only one of them may tell the athlete it removed the entry.
    """
    statement = delete(RunSession).where(RunSession.id == row.id).returning(RunSession.id)
    if await s.scalar(statement) is None:
        return False
    await past_changed(s, row.athlete_id, row.day)
    return True


def history_query(guild_id: int, user_id: int, limit: int) -> Select[RunSession]:
    return _of(guild_id, user_id).order_by(RunSession.day.desc(), RunSession.id.desc()).limit(limit)


async def history(s: AsyncSession, guild_id: int, user_id: int, limit: int) -> list[RunSession]:
    """Newest first: by training day, then by when it was logged."""
    return list(await s.scalars(history_query(guild_id, user_id, limit)))


@dataclass(frozen=True, slots=True)
class KindTotal:
    kind: str
    count: int
    meters: float  # effective meters (duration entries counted through their pace)
    seconds: float  # seconds given by duration entries


def totals_query(
    guild_id: Id, user_id: Id, start: Day | None, end: Day
) -> Select[str, int, float, float | None]:
    query = (
        select(
            RunSession.kind,
            func.count(RunSession.id).label("n"),
            func.sum(RunSession.effective_meters).label("meters"),
            func.coalesce(func.sum(RunSession.seconds), 0.0).label("seconds"),
        )
        .where(_mine(guild_id, user_id), RunSession.day <= end)
        .group_by(RunSession.kind)
    )
    return query if start is None else query.where(RunSession.day >= start)


def backward_meters_query(guild_id: int, user_id: int, start: date, end: date) -> Select[float]:
    return select(func.coalesce(func.sum(RunSession.effective_meters), 0.0)).where(
        _mine(guild_id, user_id),
        RunSession.is_backward.is_(True),
        RunSession.day >= start,
        RunSession.day <= end,
    )


async def backward_meters_between(
    s: AsyncSession, guild_id: int, user_id: int, start: date, end: date
) -> float:
    total = await s.scalar(backward_meters_query(guild_id, user_id, start, end))
    return float(total or 0.0)


def _mark_day(guild_id: Id, user_id: Id) -> ColumnElement[date]:
    """The athlete's streak mark day, or the first day there is when they have none."""
    through = (
        select(Athlete.streak_through)
        .where(Athlete.team_id == guild_id, Athlete.user_id == user_id)
        .scalar_subquery()
    )
    return func.coalesce(through, literal(date.min, Date))


def streak_islands_query(guild_id: Id, user_id: Id, end: Day, settled: Day) -> Select[date, date, int]:
    """The athlete's islands after their streak mark, up to ``end``: (first day, last day, backward
    days) of each run of consecutive days with backward work or a suggested rest day; an island
    that spans ``settled`` comes in two parts, up to it and after it, so that a mark can be moved
    into it (domain/stats.py: an athlete who runs every day has one island).

    Gaps and islands in SQL: a day's number minus its rank among the days is the same for every day
    of one run. Reads the athlete's own index entries after the mark (one per backward day) and
    their rest days (the rest_days primary key), never the days before the mark.
    """
    after = _mark_day(guild_id, user_id)
    work = (
        select(RunSession.day, literal(1, Integer).label("w"))
        .where(_mine(guild_id, user_id), RunSession.is_backward.is_(True), RunSession.day > after)
        .where(RunSession.day <= end)
        .distinct()
    )
    rest = select(RestDay.day, literal(0, Integer).label("w")).where(
        RestDay.athlete_id == _athlete_id(guild_id, user_id), RestDay.day > after, RestDay.day <= end
    )
    both = union_all(work, rest).subquery()
    days = select(both.c.day, func.max(both.c.w).label("w")).group_by(both.c.day).subquery()
    island = (day_number(days.c.day) - func.row_number().over(order_by=days.c.day)).label("island")
    numbered = select(days.c.day, days.c.w, island).subquery()
    return select(
        func.min(numbered.c.day).label("first"),
        func.max(numbered.c.day).label("last"),
        func.sum(numbered.c.w).label("length"),
    ).group_by(numbered.c.island, numbered.c.day <= settled)


def streak_mark_query(guild_id: Id, user_id: Id) -> Select[date | None, int | None, int | None, int]:
    return select(
        Athlete.streak_through, Athlete.streak_best, Athlete.streak_open, Athlete.streak_epoch
    ).where(Athlete.team_id == guild_id, Athlete.user_id == user_id)


@dataclass(frozen=True, slots=True)
class PeriodStats:
    """What /stats shows, read in one statement (:func:`period_stats`)."""

    totals: list[KindTotal]  # by kind, in [start, end]
    active_days: int  # distinct days with an entry in [start, end]
    islands: list[Island]  # after the streak mark, up to ``end``
    mark: StreakMark | None  # what is known of the islands up to the mark
    epoch: int  # the athlete's streak epoch as read (0 for an athlete not stored yet)


def _none(type_: type[String] | type[Float[float]] | type[Date] | type[Integer]) -> ColumnElement[Any]:
    """A NULL cast to the type the other parts give that column (PostgreSQL will not match an untyped
    NULL with a date across a UNION; the type also says how to read the rows)."""
    return cast(null(), type_())


def period_stats_query(
    guild_id: Id, user_id: Id, start: Day | None, end: Day, settled: Day
) -> CompoundSelect[Any]:
    """:func:`totals_query`, :func:`active_day_count_query`, :func:`streak_islands_query` and
    :func:`streak_mark_query` as one statement, a UNION ALL whose first column says which of them a
    row comes from: one round trip for /stats, each part served by the athlete's own index.
    Columns: part, kind, n, n2, n3, meters, seconds, d1, d2 (a NULL where a part has nothing)."""
    totals = totals_query(guild_id, user_id, start, end).subquery("totals")
    days = active_day_count_query(guild_id, user_id, start, end).subquery("days")
    islands = streak_islands_query(guild_id, user_id, end, settled).subquery("islands")
    mark = streak_mark_query(guild_id, user_id).subquery("mark")

    def row(part: str, *columns: ColumnElement[Any] | None) -> Select[Any]:
        types = (String, Integer, Integer, Integer, Float, Float, Date, Date)
        return select(
            literal(part, String).label("part"),
            *(_none(t) if c is None else c for c, t in zip(columns, types, strict=True)),
        )

    c = totals.c
    return union_all(
        row("kind", c.kind, c.n, None, None, c.meters, c.seconds, None, None),
        row("days", None, days.c.n, None, None, None, None, None, None),
        row("island", None, islands.c.length, None, None, None, None, islands.c.first, islands.c["last"]),
        row(
            "mark",
            None,
            mark.c.streak_best,
            mark.c.streak_open,
            mark.c.streak_epoch,
            None,
            None,
            mark.c.streak_through,
            None,
        ),
    )


def active_days_query(
    guild_id: int, user_id: int, start: date | None, end: date, *, backward_only: bool = False
) -> Select[date]:
    query = (
        select(RunSession.day)
        .where(_mine(guild_id, user_id), RunSession.day <= end)
        .distinct()
        .order_by(RunSession.day)
    )
    if start is not None:
        query = query.where(RunSession.day >= start)
    if backward_only:
        query = query.where(RunSession.is_backward.is_(True))
    return query


def active_day_count_query(guild_id: Id, user_id: Id, start: Day | None, end: Day) -> Select[int]:
    query = select(func.count(func.distinct(RunSession.day)).label("n")).where(
        _mine(guild_id, user_id), RunSession.day <= end
    )
    return query if start is None else query.where(RunSession.day >= start)


_PERIOD_STATS = period_stats_query(
    bindparam("guild_id", type_=BigInteger),
    bindparam("user_id", type_=BigInteger),
    bindparam("start", type_=Date),
    bindparam("end", type_=Date),
    bindparam("settled", type_=Date),
)


async def period_stats(
    s: AsyncSession, guild_id: int, user_id: int, start: date | None, end: date
) -> PeriodStats:
    """The athlete's totals by kind and active days in [start, end] (``start`` None: from the first
    entry), their islands after the streak mark up to ``end``, and the mark, in one read."""
    totals: list[KindTotal] = []
    active_days = 0
    islands: list[Island] = []
    mark: StreakMark | None = None
    epoch = 0
    params = {
        "guild_id": guild_id,
        "user_id": user_id,
        "start": start or date.min,
        "end": end,
        "settled": settled_day(end),
    }
    for part, kind, n, n2, n3, meters, seconds, d1, d2 in await s.execute(_PERIOD_STATS, params):
        if part == "kind":
            totals.append(KindTotal(kind, int(n), float(meters or 0.0), float(seconds or 0.0)))
        elif part == "days":
            active_days = int(n or 0)
        elif part == "island":
            islands.append(Island(d1, d2, int(n)))
        else:
            epoch = int(n3)
            if d1 is not None and n is not None:
                mark = StreakMark(d1, int(n), None if n2 is None else int(n2))
    return PeriodStats(totals, active_days, islands, mark, epoch)


async def save_streak_mark(
    s: AsyncSession, guild_id: int, user_id: int, mark: StreakMark, epoch: int
) -> bool:
    """Keep ``mark`` for the athlete, unless their past entries changed since it was read at
    ``epoch`` (then it may be wrong: nothing is written). True if it was kept."""
    statement = (
        update(Athlete)
        .where(Athlete.team_id == guild_id, Athlete.user_id == user_id, Athlete.streak_epoch == epoch)
        .values(streak_through=mark.through, streak_best=mark.best, streak_open=mark.open)
        .returning(Athlete.id)
    )
    return await s.scalar(statement) is not None


async def record_rest_days(
    s: AsyncSession, athlete_ids: Sequence[int], day: date, source: str, now: datetime
) -> None:
    """Keep ``day`` as a suggested day off for these athletes (once each; a second suggestion the
    same day changes nothing): their backward streak does not break on it."""
    if not athlete_ids:
        return
    rows = [{"athlete_id": a, "day": day, "source": source, "recorded_at": now} for a in set(athlete_ids)]
    await s.execute(insert(s, RestDay).values(rows).on_conflict_do_nothing())


async def record_rest_day_of(
    s: AsyncSession, guild_id: int, user_id: int, day: date, source: str, now: datetime
) -> None:
    """:func:`record_rest_days` for the athlete a member is in this server, if they are one."""
    athlete_id = await s.scalar(
        select(Athlete.id).where(Athlete.team_id == guild_id, Athlete.user_id == user_id)
    )
    if athlete_id is not None:
        await record_rest_days(s, [athlete_id], day, source, now)


async def past_changed(s: AsyncSession, athlete_id: int, day: date) -> None:
    """An entry of the athlete on ``day`` was removed or changed: a streak mark or a ladder mark on
    or after that day no longer holds (forgotten: the next /stats or /plan reads every day again),
    and the epoch moves on so that a mark computed before this change is not written after it
    (:func:`save_streak_mark`, ``ladder_queries.save_ladder_mark``)."""
    await s.execute(
        update(Athlete)
        .where(Athlete.id == athlete_id)
        .values(
            streak_epoch=Athlete.streak_epoch + 1,
            streak_through=case((Athlete.streak_through >= day, None), else_=Athlete.streak_through),
            ladder_through=case((Athlete.ladder_through >= day, None), else_=Athlete.ladder_through),
        )
    )


async def active_days(
    s: AsyncSession,
    guild_id: int,
    user_id: int,
    start: date | None,
    end: date,
    *,
    backward_only: bool = False,
) -> list[date]:
    """Distinct days with an entry (or a backward entry) in [start, end], oldest first."""
    days = await s.scalars(active_days_query(guild_id, user_id, start, end, backward_only=backward_only))
    return list(days)


async def get_state(s: AsyncSession, key: str) -> str | None:
    row = await s.get(BotState, key)
    return None if row is None else row.value


async def set_state(s: AsyncSession, key: str, value: str) -> None:
    now = datetime.now(UTC)
    await s.execute(
        insert(s, BotState)
        .values(key=key, value=value, updated_at=now)
        .on_conflict_do_update(index_elements=[BotState.key], set_={"value": value, "updated_at": now})
    )
