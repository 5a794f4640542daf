"""The daily check-ins (:class:`~backrun_bot.storage.models.Checkin`): one upsert to record one,
and reads for one athlete's day (``/plan``), a fan-out batch's sore ones (the warmup) and a team's
latest (``/team overview``), each one statement."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from backrun_bot.domain.wellness import SORE_DAY_OFF_AT
from backrun_bot.storage.dialect import insert
from backrun_bot.storage.load_queries import AthleteRef
from backrun_bot.storage.models import Athlete, Checkin, RestDay

# The rest_days source of a day off suggested by a sore check-in.
SORENESS = "soreness"


@dataclass(frozen=True, slots=True)
class CheckinRow:
    """One check-in as the rules read it."""

    athlete_id: int
    day: date
    soreness: int
    area: str
    sleep: int | None = None


async def record(
    s: AsyncSession,
    *,
    athlete_id: int,
    team_id: int,
    day: date,
    soreness: int,
    area: str,
    sleep: int | None,
    note: str | None,
    now: datetime,
) -> None:
    """Keep the athlete's check-in of ``day``; one already there for that day is replaced (every
    column, so a check-in without a note or sleep clears the earlier one's). One statement: two
    check-ins at once both succeed and the later write is the one kept."""
    values = {"soreness": soreness, "area": area, "sleep": sleep, "note": note, "recorded_at": now}
    statement = insert(s, Checkin).values(athlete_id=athlete_id, team_id=team_id, day=day, **values)
    await s.execute(statement.on_conflict_do_update(index_elements=["athlete_id", "day"], set_=values))


async def checkin_of(s: AsyncSession, team_id: int, user_id: int, day: date) -> CheckinRow | None:
    """A member's check-in of ``day`` in this team (None if they have none, or are no athlete yet)."""
    query = (
        select(Checkin.athlete_id, Checkin.day, Checkin.soreness, Checkin.area, Checkin.sleep)
        .join(Athlete, Athlete.id == Checkin.athlete_id)
        .where(Athlete.team_id == team_id, Athlete.user_id == user_id, Checkin.day == day)
    )
    row = (await s.execute(query)).one_or_none()
    return None if row is None else CheckinRow(*row)


@dataclass(frozen=True, slots=True)
class SoreCheckin:
    athlete: AthleteRef
    soreness: int
    area: str


async def sore_checkins(s: AsyncSession, team_ids: list[int], day: date) -> list[SoreCheckin]:
    """The check-ins of ``day`` in ``team_ids`` that may suggest a day off, with their athletes: one
    query per fan-out batch, through ``ix_checkins_team_day``.

    Only a screen (soreness at the day-off mark or above): the area, and so the decision, is
    :func:`backrun_bot.domain.day_off.day_off_reason`'s.
    """
    if not team_ids:
        return []
    query = (
        select(
            Athlete.id,
            Athlete.team_id,
            Athlete.user_id,
            Athlete.display_name,
            Athlete.mentions_enabled,
            Checkin.soreness,
            Checkin.area,
        )
        .join(Athlete, Athlete.id == Checkin.athlete_id)
        .where(Checkin.team_id.in_(team_ids), Checkin.day == day, Checkin.soreness >= SORE_DAY_OFF_AT)
    )
    rows = (await s.execute(query)).all()
    return [
        SoreCheckin(AthleteRef(athlete_id, team_id, user_id, name, bool(mentions)), soreness, area)
        for athlete_id, team_id, user_id, name, mentions, soreness, area in rows
    ]


async def latest_checkins(s: AsyncSession, team_id: int, today: date) -> dict[int, CheckinRow]:
    """Each athlete's latest check-in up to ``today`` in the team, by athlete id (athletes who never
    checked in are absent): one statement. Per athlete of the team, a short backward walk of the
    check-ins' primary key ``(athlete_id, day)`` from ``today`` that stops at the first row (as the
    overview's other latest days are read), then that row: a few index pages per athlete, however
    long the team has been checking in."""
    latest = aliased(Checkin)
    latest_day = (
        select(latest.day)
        .where(latest.athlete_id == Athlete.id, latest.day <= today)
        .order_by(latest.day.desc())
        .limit(1)
        .scalar_subquery()
    )
    query = (
        select(Checkin.athlete_id, Checkin.day, Checkin.soreness, Checkin.area, Checkin.sleep)
        .join(Athlete, Athlete.id == Checkin.athlete_id)
        .where(Athlete.team_id == team_id, Checkin.day == latest_day)
    )
    return {row[0]: CheckinRow(*row) for row in (await s.execute(query)).all()}


async def record_sore_rest_days(s: AsyncSession, athlete_ids: list[int], day: date, now: datetime) -> None:
    """Keep ``day`` as a rest day for soreness (source ``"soreness"``) for these athletes: like
    :func:`backrun_bot.storage.queries.record_rest_days`, but a rest day already kept for that day
    for another reason (yesterday was heavy) is marked ``"soreness"`` too, so that whoever asks why
    the athlete rested (the backward ladder moves down on soreness) sees it whichever came first."""
    if not athlete_ids:
        return
    rows = [
        {"athlete_id": a, "day": day, "source": SORENESS, "recorded_at": now}
        for a in sorted(set(athlete_ids))
    ]
    statement = insert(s, RestDay).values(rows)
    await s.execute(
        statement.on_conflict_do_update(index_elements=["athlete_id", "day"], set_={"source": SORENESS})
    )
