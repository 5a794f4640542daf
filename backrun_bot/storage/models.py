"""The tables: teams (one per Discord server), athletes, their run sessions, reminder deliveries and
the occurrences of reminders already finished.

Instants are stored in UTC (``UTCDateTime`` refuses naive values and gives aware ones back on every
backend); training days are plain dates, already decided in the team's timezone by the caller.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ColumnElement,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    and_,
    false,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from backrun_bot.domain.load import DEFAULT_HEAVY_METERS

# Named constraints, so that batch migrations on SQLite and plain ones on PostgreSQL can both find
# and drop them by name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC instant on every backend (SQLite has no timezone type)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store aware UTC instants only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {datetime: UTCDateTime()}


class Team(Base):
    """A Discord server; its id is the guild id."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    created_at: Mapped[datetime]
    # Reminders (issue 3). Times are local wall-clock "HH:MM" in ``timezone``; days are weekday
    # digits, Monday = 0 ("0123456" = every day).
    reminder_channel_id: Mapped[int | None] = mapped_column(BigInteger)
    warmup_time: Mapped[str | None] = mapped_column(String(5), default="07:00", server_default="07:00")
    cooldown_time: Mapped[str | None] = mapped_column(String(5), default="19:00", server_default="19:00")
    reminder_days: Mapped[str] = mapped_column(String(7), default="0123456", server_default="0123456")
    heavy_meters: Mapped[float] = mapped_column(
        Float, default=DEFAULT_HEAVY_METERS, server_default=f"{DEFAULT_HEAVY_METERS:g}"
    )
    reminders_active: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    paused_until: Mapped[date | None] = mapped_column(Date)
    pause_reason: Mapped[str | None] = mapped_column(String(200))
    reminders_updated_at: Mapped[datetime | None]
    # Coaches (issue 10): members with this role, besides everyone with Manage Server.
    coach_role_id: Mapped[int | None] = mapped_column(BigInteger)
    # How distances are shown: "metric" or "imperial" (input always takes both).
    units: Mapped[str] = mapped_column(String(8), default="metric", server_default="metric")
    # Monday's summary of last week after the warmup (when reminders are on).
    weekly_summary: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # When the bot was removed from the server; None while it is there. The retention job deletes
    # the team (and, by cascade, everything of it) RETENTION_DAYS later; coming back clears it.
    removed_at: Mapped[datetime | None]


Index(
    "ix_teams_removed_at",
    Team.removed_at,
    sqlite_where=Team.removed_at.is_not(None),
    postgresql_where=Team.removed_at.is_not(None),
)


def reminder_on(time_column: Mapped[str | None]) -> list[ColumnElement[bool]]:
    """The teams whose reminder at ``time_column`` (``Team.warmup_time`` or ``Team.cooldown_time``)
    goes out: reminders on, a channel, no pause for a lost channel, the slot not switched off.

    Also the condition of that slot's partial index (below): a query must repeat these terms, as
    they are, for SQLite and PostgreSQL to prove that the index holds every row it wants.
    """
    return [
        Team.reminders_active.is_(True),
        Team.reminder_channel_id.is_not(None),
        Team.pause_reason.is_(None),
        time_column.is_not(None),
    ]


# One partial index per slot, only the teams whose reminder goes out, in (timezone, time, id) order:
# the distinct slot groups are read by seeking from one group to the next (a few hundred seeks,
# whatever the number of teams; reminder_queries.slot_groups), and a group's teams are one range of
# it, in id order (due_team_ids). Team ids are in it so that the shard of a team is known without
# reading its row.
Index(
    "ix_teams_warmup_groups",
    Team.timezone,
    Team.warmup_time,
    Team.id,
    sqlite_where=and_(*reminder_on(Team.warmup_time)),
    postgresql_where=and_(*reminder_on(Team.warmup_time)),
)
Index(
    "ix_teams_cooldown_groups",
    Team.timezone,
    Team.cooldown_time,
    Team.id,
    sqlite_where=and_(*reminder_on(Team.cooldown_time)),
    postgresql_where=and_(*reminder_on(Team.cooldown_time)),
)


class Athlete(Base):
    """A member of a team, created on their first command."""

    __tablename__ = "athletes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("teams.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigInteger)
    display_name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    mentions_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # The streak mark (domain/stats.py StreakMark): the best streak up to ``streak_through`` and
    # the island open on it (None: no mark, /stats reads every day). ``streak_epoch`` goes up with
    # every change to the athlete's past entries, so that a mark computed before the change is
    # never written after it.
    streak_through: Mapped[date | None] = mapped_column(Date)
    streak_best: Mapped[int | None] = mapped_column(Integer)
    streak_open: Mapped[int | None] = mapped_column(Integer)
    streak_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The ladder mark (domain/ladder.py LadderMark, migration 0013): the level and the streak of
    # weeks that counted after the week ending Sunday ``ladder_through``, a week no /log can reach
    # any more (None: no mark, /plan replays every week). Written only while ``streak_epoch`` is the
    # one it was read at, and forgotten by a change to a past entry on or before it.
    ladder_through: Mapped[date | None] = mapped_column(Date)
    ladder_level: Mapped[int | None] = mapped_column(SmallInteger)
    ladder_streak: Mapped[int | None] = mapped_column(SmallInteger)

    __table_args__ = (
        UniqueConstraint("team_id", "user_id", name="uq_athletes_team_user"),
        CheckConstraint("ladder_level BETWEEN 1 AND 5", name="ladder_level_range"),
    )


class RestDay(Base):
    """A day the bot told an athlete to rest (the warmup named them, or /plan said so): a streak of
    backward days does not break on it (issue 10)."""

    __tablename__ = "rest_days"

    athlete_id: Mapped[int] = mapped_column(ForeignKey("athletes.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    source: Mapped[str] = mapped_column(String(16))  # "warmup" or "plan"
    recorded_at: Mapped[datetime]


class Checkin(Base):
    """How an athlete feels on a day of the team's (issue 11): soreness 0-10 and where, sleep 1-5,
    a note. One a day; a second check-in that day replaces the first."""

    __tablename__ = "checkins"

    athlete_id: Mapped[int] = mapped_column(ForeignKey("athletes.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    # Denormalised from the athlete so that /team overview reads a team's check-ins by day.
    team_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("teams.id", ondelete="CASCADE"))
    soreness: Mapped[int] = mapped_column(SmallInteger)
    area: Mapped[str] = mapped_column(String(16), default="none", server_default="none")
    sleep: Mapped[int | None] = mapped_column(SmallInteger)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("soreness BETWEEN 0 AND 10", name="soreness_range"),
        CheckConstraint("sleep IS NULL OR sleep BETWEEN 1 AND 5", name="sleep_range"),
        Index("ix_checkins_team_day", "team_id", "day"),
    )


class DonePress(Base):
    """An athlete's Done under one reminder (team, local day, slot), with the entries it logged
    (issue 11). The primary key makes it once only, whatever the copies of the bot; an athlete is in
    one team, so (athlete, day, slot) is also one per team. Undo deletes the row and its entries."""

    __tablename__ = "done_presses"

    athlete_id: Mapped[int] = mapped_column(ForeignKey("athletes.id", ondelete="CASCADE"), primary_key=True)
    local_day: Mapped[date] = mapped_column(Date, primary_key=True)
    slot: Mapped[str] = mapped_column(String(16), primary_key=True)
    # Denormalised from the athlete: the count under a reminder is read by (team, day, slot).
    team_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("teams.id", ondelete="CASCADE"))
    # The run_sessions ids it logged, comma-separated ("" for none): ids are never reused (0003),
    # so an id whose entry was deleted meanwhile can only find nothing.
    entry_ids: Mapped[str] = mapped_column(String(200))
    pressed_at: Mapped[datetime]

    __table_args__ = (Index("ix_done_presses_team_day_slot", "team_id", "local_day", "slot"),)


class GuildWelcome(Base):
    """A server the bot has welcomed: once per server, ever. Not tied to ``teams``, so that deleting
    a server's data after the bot left does not make it welcome the server again."""

    __tablename__ = "guild_welcomes"

    guild_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    welcomed_at: Mapped[datetime]


class RunSession(Base):
    """One logged entry: what was given (meters and/or seconds, original text) and its volume."""

    __tablename__ = "run_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    athlete_id: Mapped[int] = mapped_column(ForeignKey("athletes.id", ondelete="CASCADE"))
    # Denormalised from the athlete so that every read can be scoped to one server cheaply.
    team_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("teams.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    is_backward: Mapped[bool] = mapped_column(Boolean)
    meters: Mapped[float | None] = mapped_column(Float)
    seconds: Mapped[float | None] = mapped_column(Float)
    effective_meters: Mapped[float] = mapped_column(Float)
    amount_text: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    day: Mapped[date] = mapped_column(Date)
    logged_at: Mapped[datetime]
    # How hard it felt, CR-10 (1 very easy ... 10 maximal); None when not rated (migration 0011).
    rpe: Mapped[int | None] = mapped_column(SmallInteger)

    __table_args__ = (
        CheckConstraint("meters IS NOT NULL OR seconds IS NOT NULL", name="amount_given"),
        CheckConstraint("rpe BETWEEN 1 AND 10", name="rpe_range"),
        CheckConstraint("effective_meters > 0", name="positive_volume"),
        # An athlete's entries by day, carrying what /stats sums, so that it reads the index alone
        # (migration 0007).
        Index(
            "ix_run_sessions_athlete_day",
            "athlete_id",
            "day",
            "is_backward",
            "kind",
            "effective_meters",
            "seconds",
        ),
        # An athlete's newest entry by id (/undo) without walking the whole table's primary key.
        Index("ix_run_sessions_athlete_id_id", "athlete_id", "id"),
        # A team's entries by day, carrying what the leaderboard sums, so that a period of a whole
        # team is read from the index alone (migration 0010).
        Index(
            "ix_run_sessions_team_day",
            "team_id",
            "day",
            "athlete_id",
            "is_backward",
            "kind",
            "effective_meters",
        ),
        # Ids are shown to athletes and kept in Undo buttons, so SQLite must never hand out the id
        # of an undone entry again (PostgreSQL sequences never do).
        {"sqlite_autoincrement": True},
    )


class MonthTotal(Base):
    """An athlete's backward (every backward kind) or forward distance in one calendar month (of the
    entries' own days), in whole millimetres, and how many entries make it up. Kept by triggers on
    ``run_sessions`` (:mod:`backrun_bot.storage.month_totals`, migration 0014): never written by the
    application."""

    __tablename__ = "month_totals"

    team_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("teams.id", ondelete="CASCADE"))
    month: Mapped[date] = mapped_column(Date)  # the first day of the month
    athlete_id: Mapped[int] = mapped_column(ForeignKey("athletes.id", ondelete="CASCADE"))
    is_backward: Mapped[bool] = mapped_column(Boolean)
    millimetres: Mapped[int] = mapped_column(BigInteger)
    entries: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        # The key carries the total (index-only on PostgreSQL); SQLite stores rows in key order.
        PrimaryKeyConstraint(
            "team_id",
            "month",
            "athlete_id",
            "is_backward",
            name="pk_month_totals",
            postgresql_include=["millimetres"],
        ),
        {"sqlite_with_rowid": False},
    )


class ReminderDelivery(Base):
    """One reminder for one team, local day and slot; the unique key makes sending exactly-once."""

    __tablename__ = "reminder_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("teams.id", ondelete="CASCADE"))
    local_day: Mapped[date] = mapped_column(Date)
    slot: Mapped[str] = mapped_column(String(16))
    # claimed → sent | failed | skipped | retry (Discord did not take it: sent again, then claimed again)
    status: Mapped[str] = mapped_column(String(16))
    claimed_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    detail: Mapped[str | None] = mapped_column(String(200))
    # The Done count shown under the reminder (migration 0012): when an edit of it was last claimed
    # (by any copy of the bot; at most one every services.done.EDIT_INTERVAL) and the count it shows.
    done_edit_at: Mapped[datetime | None]
    done_shown: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        UniqueConstraint("team_id", "local_day", "slot", name="uq_reminder_deliveries_key"),
        Index("ix_reminder_deliveries_local_day", "local_day"),  # the daily pruning of old rows
    )


class ReminderOccurrence(Base):
    """One occurrence of a slot group (timezone, local time, slot, local day) that the processes
    serving ``shards`` finished: every team due for it had its reminder settled (sent, failed for
    good, skipped) when the row was written. The catch-up at start reads these instead of running
    every occurrence of its look-back again (``reminder_queries.settle_occurrence``, where the
    argument for why a finished occurrence stays finished is written down).

    ``shards`` is the canonical form of the process's shard set (``reminder_queries.shards_key``): a
    process serving other servers never trusts another layout's rows. Kept only a few days (the
    look-back is one): pruned with the delivery ledger.
    """

    __tablename__ = "reminder_occurrences"

    shards: Mapped[str] = mapped_column(String(200), primary_key=True)
    local_day: Mapped[date] = mapped_column(Date, primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[str] = mapped_column(String(5), primary_key=True)  # "HH:MM", local
    slot: Mapped[str] = mapped_column(String(16), primary_key=True)
    instant: Mapped[datetime]  # when it was due (UTC)
    settled_at: Mapped[datetime]


class ReminderSettingsChange(Base):
    """The change log of the reminder settings: for each settings generation (the counter in
    ``bot_state``), the timezones whose slot groups that change could alter, space-separated (None:
    any), so that a process re-reads only those (``reminder_queries.touched_timezones``). Pruned
    after a day."""

    __tablename__ = "reminder_settings_changes"

    generation: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    timezones: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[datetime]


class BotState(Base):
    """Small key/value facts the bot keeps between starts (e.g. the hash of the synced commands)."""

    __tablename__ = "bot_state"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]
