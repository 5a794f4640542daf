"""The check-in reads and writes (storage/checkin_queries.py) on SQLite and PostgreSQL: one upsert a
day, the batch's sore check-ins, each athlete's latest, and rest days kept for soreness."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backrun_bot.storage import checkin_queries as cq
from backrun_bot.storage import queries
from backrun_bot.storage.models import Checkin, RestDay

Sessions = async_sessionmaker[AsyncSession]
NOW = datetime(2026, 3, 8, 15, tzinfo=UTC)
DAY = date(2026, 3, 8)
TEAM, OTHER, THIRD = 10 << 22, 11 << 22, 12 << 22


async def athletes(sm: Sessions) -> dict[str, int]:
    out = {}
    async with sm.begin() as s:
        for team, user, name in ((TEAM, 1, "ann"), (TEAM, 2, "ben"), (OTHER, 1, "ann2"), (THIRD, 3, "cid")):
            out[name] = (await queries.get_or_create_athlete(s, team, user, name)).id
    return out


async def check_in(
    sm: Sessions, athlete: int, team: int, day: date, soreness: int, area: str = "none", **more: object
) -> None:
    async with sm.begin() as s:
        await cq.record(
            s,
            athlete_id=athlete,
            team_id=team,
            day=day,
            soreness=soreness,
            area=area,
            sleep=more.get("sleep"),  # type: ignore[arg-type]
            note=more.get("note"),  # type: ignore[arg-type]
            now=NOW,
        )


async def test_a_second_checkin_of_the_day_replaces_the_first(sessionmaker: Sessions) -> None:
    ids = await athletes(sessionmaker)
    await check_in(sessionmaker, ids["ann"], TEAM, DAY, 7, "knee", sleep=2, note="sore")
    await check_in(sessionmaker, ids["ann"], TEAM, DAY - timedelta(days=1), 1)
    await check_in(sessionmaker, ids["ann"], TEAM, DAY, 3)
    async with sessionmaker() as s:
        rows = (await s.scalars(select(Checkin).order_by(Checkin.day))).all()
        assert [(r.day, r.soreness, r.area, r.sleep, r.note) for r in rows] == [
            (DAY - timedelta(days=1), 1, "none", None, None),
            (DAY, 3, "none", None, None),
        ]
        assert await cq.checkin_of(s, TEAM, 1, DAY) == cq.CheckinRow(ids["ann"], DAY, 3, "none", None)
        assert await cq.checkin_of(s, OTHER, 1, DAY) is None  # the same user in another team
        assert await cq.checkin_of(s, TEAM, 99, DAY) is None  # no athlete at all


async def test_the_batch_reads_the_days_sore_checkins_of_its_teams_only(sessionmaker: Sessions) -> None:
    ids = await athletes(sessionmaker)
    await check_in(sessionmaker, ids["ann"], TEAM, DAY, 6, "hamstring")
    await check_in(sessionmaker, ids["ben"], TEAM, DAY, 5, "knee")  # under the mark
    await check_in(sessionmaker, ids["ann2"], OTHER, DAY, 9, "calf")  # sore, but the area decides later
    await check_in(sessionmaker, ids["ann2"], OTHER, DAY - timedelta(days=1), 9, "knee")  # another day
    await check_in(sessionmaker, ids["cid"], THIRD, DAY, 10, "knee")  # a team outside the batch
    async with sessionmaker() as s:
        sore = await cq.sore_checkins(s, [TEAM, OTHER], DAY)
        assert await cq.sore_checkins(s, [], DAY) == []
    assert sorted((c.athlete.id, c.athlete.team_id, c.soreness, c.area) for c in sore) == sorted(
        [(ids["ann"], TEAM, 6, "hamstring"), (ids["ann2"], OTHER, 9, "calf")]
    )


async def test_the_latest_checkin_of_each_athlete_up_to_today(sessionmaker: Sessions) -> None:
    ids = await athletes(sessionmaker)
    # The latest first: a read that kept whichever row came last would keep an older one (on a
    # table scan, rows come in the order they were written).
    await check_in(sessionmaker, ids["ann"], TEAM, DAY - timedelta(days=2), 4, "calf")
    await check_in(sessionmaker, ids["ann"], TEAM, DAY - timedelta(days=5), 8, "knee")
    await check_in(sessionmaker, ids["ann"], TEAM, DAY + timedelta(days=1), 1)  # after "today"
    await check_in(sessionmaker, ids["ann2"], OTHER, DAY, 9, "knee")
    async with sessionmaker() as s:
        latest = await cq.latest_checkins(s, TEAM, DAY)
    assert latest == {ids["ann"]: cq.CheckinRow(ids["ann"], DAY - timedelta(days=2), 4, "calf", None)}


async def test_a_rest_day_for_soreness_marks_an_earlier_one_of_the_day(sessionmaker: Sessions) -> None:
    ids = await athletes(sessionmaker)
    async with sessionmaker.begin() as s:
        await queries.record_rest_days(s, [ids["ann"]], DAY, "plan", NOW)
        await cq.record_sore_rest_days(s, [ids["ann"], ids["ben"], ids["ben"]], DAY, NOW)
        await cq.record_sore_rest_days(s, [], DAY, NOW)
        await queries.record_rest_days(s, [ids["ben"]], DAY, "warmup", NOW)  # changes nothing
    async with sessionmaker() as s:
        rows = (await s.scalars(select(RestDay).order_by(RestDay.athlete_id))).all()
    assert [(r.athlete_id, r.day, r.source) for r in rows] == [
        (ids["ann"], DAY, "soreness"),
        (ids["ben"], DAY, "soreness"),
    ]
