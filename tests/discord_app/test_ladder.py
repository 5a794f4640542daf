"""/plan's backward ladder (issue 11): the level, today's dose at it and what is left to move up, in
an embed of its own under the plan; up after two weeks that count, down the day of a soreness day
off, the dose waiting on a day off; the reminder itself stays one message without the doses.

The suite's clock starts on Sunday 2026-03-08, 15:00 UTC (a team with no timezone is on UTC).
Check-ins are written straight into their table: /checkin is another branch's (issue 11).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import time_machine
from sqlalchemy import select

from backrun_bot.sandbox.driver import Actor, Reply
from backrun_bot.sandbox.emulator import DiscordEmulator
from backrun_bot.sandbox.emulator import permissions as P
from backrun_bot.sandbox.harness import Sandbox
from backrun_bot.storage.models import Athlete, Checkin
from tests.discord_app.conftest import TeamFixture

MONDAY_NOON = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
TITLE_MAX, FIELD_MAX = 256, 1024  # Discord's limits on an embed's title and a field's value


def ladder_of(reply: Reply) -> dict[str, Any]:
    """The ladder embed of a /plan reply, checked against Discord's embed limits: its title and
    each field by name."""
    [embed] = reply.embeds
    assert len(embed["title"]) <= TITLE_MAX
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert set(fields) == {"Today at your level", "To move up"}
    assert all(len(v) <= FIELD_MAX for v in fields.values())
    return {"title": embed["title"], **fields}


async def walks(athlete: Actor, days: list[date]) -> None:
    for day in days:
        await athlete.run("log", kind="backward-walk", amount="400m", date=day.isoformat())


def three_days_of(monday: date) -> list[date]:
    return [monday, monday + timedelta(days=2), monday + timedelta(days=4)]


async def sore(running: Sandbox, team: TeamFixture, who: Actor, day: date, soreness: int, area: str) -> None:
    assert running.bot is not None
    async with running.bot.sessionmaker.begin() as s:
        athlete = await s.scalar(
            select(Athlete.id).where(Athlete.team_id == team.guild.id, Athlete.user_id == who.user_id)
        )
        assert athlete is not None
        now = datetime.now(UTC)
        s.add(
            Checkin(
                athlete_id=athlete,
                day=day,
                team_id=team.guild.id,
                soreness=soreness,
                area=area,
                recorded_at=now,
            )
        )


async def test_a_new_athlete_is_at_level_one_and_is_told_how_the_placement_works(alice: Actor) -> None:
    reply = await alice.run("plan")
    assert reply.ephemeral and reply.content.startswith("No day off needed")
    ladder = ladder_of(reply)
    assert ladder["title"] == "Backward ladder — level 1 of 5: backward walk"
    assert ladder["Today at your level"] == "400 m backward walk."
    assert ladder["To move up"].startswith("Your first 2 weeks of backward work set your starting level")


async def test_two_weeks_that_count_move_up_and_a_soreness_day_off_moves_down(
    running: Sandbox, team: TeamFixture, alice: Actor, clock: time_machine.Traveller
) -> None:
    # Placed by the weeks of 9 and 16 February (walks: level 1); then the weeks of 23 February
    # and 2 March, three backward days each, count.
    for week in (date(2026, 2, 9), date(2026, 2, 16), date(2026, 2, 23), date(2026, 3, 2)):
        await walks(alice, three_days_of(week))
    sunday = ladder_of(await alice.run("plan"))
    assert sunday["title"] == "Backward ladder — level 1 of 5: backward walk"
    assert sunday["To move up"] == (
        "This week counts if it stays free of a day off and of soreness 6+; then you move up on Mon 9 Mar."
    )

    clock.move_to(MONDAY_NOON)
    monday = ladder_of(await alice.run("plan"))
    assert monday["title"] == "Backward ladder — level 2 of 5: backward jog"
    assert monday["Today at your level"] == "200 m backward walk, then 4 × 60 m backward jog (440 m in all)."
    assert monday["To move up"] == (
        "3 more backward days this week (to Sun 15 Mar), with no day off, then one more such week."
    )

    # Calf soreness of 7: no day off, no move down, but this week no longer counts.
    await sore(running, team, alice, date(2026, 3, 9), 7, "calf")
    calf = ladder_of(await alice.run("plan"))
    assert calf["title"] == "Backward ladder — level 2 of 5: backward jog"
    assert calf["To move up"].startswith(
        "This week no longer counts toward moving up (you reported soreness of 7)."
    )

    # Tuesday, hamstring 7: a soreness day off, down one the same day.
    clock.move_to(MONDAY_NOON + timedelta(days=1))
    await sore(running, team, alice, date(2026, 3, 10), 7, "hamstring")
    tuesday = ladder_of(await alice.run("plan"))
    assert tuesday["title"] == (
        "Backward ladder — level 1 of 5: backward walk (down from 2: a day off for soreness this week)"
    )
    assert tuesday["To move up"].startswith(
        "This week no longer counts toward moving up (it has a suggested day off)."
    )


async def test_on_a_day_off_the_level_stays_and_the_dose_waits(alice: Actor) -> None:
    await walks(alice, three_days_of(date(2026, 2, 16)) + three_days_of(date(2026, 2, 23)))
    await alice.run("log", kind="backward", amount="2 km", date="yesterday")  # heavy
    reply = await alice.run("plan")
    assert reply.content.startswith("**Take today off from backward work**")
    ladder = ladder_of(reply)
    assert ladder["title"] == "Backward ladder — level 1 of 5: backward walk"
    assert ladder["Today at your level"] == (
        "Today is a day off from backward work: your level stays at 1 and today's dose waits for your "
        "next backward day."
    )
    # /plan recorded today as a day off: this week no longer counts.
    assert "it has a suggested day off" in ladder["To move up"]


async def test_my_plan_under_the_reminder_shows_the_ladder_and_the_reminder_has_no_doses(
    running: Sandbox, team: TeamFixture, alice: Actor, emulator: DiscordEmulator
) -> None:
    team.guild.add_member("coach", permissions=P.MANAGE_GUILD)
    coach = running.actor(team.guild, "coach")
    channel = team.guild.add_channel("training")  # /log replies go to #general
    await walks(alice, three_days_of(date(2026, 2, 16)))
    await coach.run("reminders set", channel=channel)
    await coach.run("reminders test", slot="warmup")
    [message] = emulator.messages(channel.id)
    reminder = Reply.of(message, emulator)
    assert reminder.embeds == [] and "level" not in reminder.text().lower()  # one message, no doses
    pressed = await alice.press(reminder, "My plan")
    assert pressed.ephemeral
    assert ladder_of(pressed) == ladder_of(await alice.run("plan"))
