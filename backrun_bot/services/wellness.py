"""/checkin: how an athlete feels today (issue 11), kept once a day, and whether it means a day off
from backward work (:func:`backrun_bot.domain.day_off.day_off_reason`, as ``/plan`` and the warmup
decide it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backrun_bot.domain.day_off import DayOffReason, day_off_reason
from backrun_bot.domain.text import clean_note
from backrun_bot.domain.wellness import Area, checkin_problem
from backrun_bot.errors import InvalidInput
from backrun_bot.services.common import Clock, Who, team_today
from backrun_bot.storage import checkin_queries as cq
from backrun_bot.storage import queries

# A check-in's note: a line for the coach, as long as an entry's.
CHECKIN_NOTE_MAX = 200


@dataclass(frozen=True, slots=True)
class CheckedIn:
    """What ``/checkin`` kept, and the day off it suggests (None: none)."""

    day: date
    soreness: int
    area: Area
    sleep: int | None
    note: str | None
    reason: DayOffReason | None


class CheckinService:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], *, clock: Clock) -> None:
        self._sessionmaker = sessionmaker
        self._clock = clock

    async def checkin(
        self,
        who: Who,
        soreness: int,
        area: str = Area.NONE,
        sleep: int | None = None,
        note: str | None = None,
    ) -> CheckedIn:
        """Keep the caller's check-in for today (the team's day), replacing one made earlier today.

        Checked here whatever the client enforced: numbers outside their ranges, an area that is not
        one of the choices, a note with a control character or over :data:`CHECKIN_NOTE_MAX` are
        refused (:class:`InvalidInput`) and nothing is stored. A check-in that suggests a day off
        keeps today as a rest day for soreness (the reply told them to rest: their streak holds).
        """
        problem = checkin_problem(soreness, sleep)
        if problem is not None:
            raise InvalidInput(problem)
        try:
            where = Area(area)
        except ValueError:
            raise InvalidInput(f"Pick the area from the list: {', '.join(a.value for a in Area)}.") from None
        note = clean_note(note)
        if note is not None and len(note) > CHECKIN_NOTE_MAX:
            raise InvalidInput(f"The note is {len(note)} characters; keep it to {CHECKIN_NOTE_MAX}.")
        reason = day_off_reason(None, soreness, where)
        async with self._sessionmaker.begin() as s:
            athlete = await queries.get_or_create_athlete(s, who.guild_id, who.user_id, who.display_name)
            team = await queries.get_or_create_team(s, who.guild_id)
            today = team_today(team, self._clock)
            now = self._clock()
            await cq.record(
                s,
                athlete_id=athlete.id,
                team_id=team.id,
                day=today,
                soreness=soreness,
                area=where.value,
                sleep=sleep,
                note=note,
                now=now,
            )
            if reason is not None:
                await cq.record_sore_rest_days(s, [athlete.id], today, now)
        return CheckedIn(today, soreness, where, sleep, note, reason)
