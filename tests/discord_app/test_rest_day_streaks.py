"""A day Backrun suggested as a day off does not break a backward streak (issue 10): the warmup that
names an athlete, or /plan telling them to rest, keeps that day as a rest day; it bridges the streak
without lengthening it, and /stats says so in its footnote.

The suite's clock starts on Sunday 2026-03-08, 15:00 UTC (a team with no timezone is on UTC).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import time_machine
from sqlalchemy import select

from backrun_bot.discord_app.embeds import STREAK_FOOTNOTE
from backrun_bot.sandbox.driver import Actor
from backrun_bot.sandbox.emulator import DiscordEmulator
from backrun_bot.sandbox.emulator import permissions as P
from backrun_bot.sandbox.harness import Sandbox
from backrun_bot.storage.engine import create_engine, make_sessionmaker
from backrun_bot.storage.models import RestDay
from tests.discord_app.conftest import TeamFixture

MONDAY_NOON = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
MONDAY_JUST_BEFORE_SEVEN = datetime(2026, 3, 9, 6, 59, 57, tzinfo=UTC)
TUESDAY_NOON = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


async def rest_days(sandbox: Sandbox) -> list[tuple[str, str]]:
    engine = create_engine(sandbox.settings.database_url)
    try:
        async with make_sessionmaker(engine)() as s:
            rows = await s.scalars(select(RestDay).order_by(RestDay.day))
            return [(r.day.isoformat(), r.source) for r in rows]
    finally:
        await engine.dispose()


def streak(reply_text: str) -> str:
    return reply_text.split("Backward streak", 1)[1].split("\n", 2)[1]


async def test_a_day_off_from_plan_keeps_the_streak(
    alice: Actor, bob: Actor, sandbox: Sandbox, clock: time_machine.Traveller
) -> None:
    for day in ("2026-03-05", "2026-03-06"):
        await alice.run("log", kind="backward", amount="400m", date=day)
        await bob.run("log", kind="backward", amount="400m", date=day)
    await alice.run("log", kind="backward", amount="2 km", date="yesterday")  # Saturday: heavy
    await bob.run("log", kind="backward", amount="2 km", date="yesterday")
    assert (await alice.run("plan")).text().startswith("**Take today off from backward work**")
    assert await rest_days(sandbox) == [("2026-03-08", "plan")]  # alice asked; bob did not
    clock.move_to(MONDAY_NOON)
    await alice.run("log", kind="backward", amount="400m")
    await bob.run("log", kind="backward", amount="400m")
    stats = await alice.run("stats")
    # Thu, Fri, Sat, (Sunday's rest), Mon: four backward days in a row.
    assert streak(stats.text()) == "4 days (best 4)"
    assert stats.embeds[0].get("footer", {}).get("text") == STREAK_FOOTNOTE
    # Bob was not told to rest (he never asked /plan, and no warmup went out): his Sunday broke it.
    assert streak((await bob.run("stats")).text()) == "1 day (best 3)"


async def test_the_warmup_naming_an_athlete_keeps_the_streak(
    running: Sandbox,
    team: TeamFixture,
    alice: Actor,
    emulator: DiscordEmulator,
    clock: time_machine.Traveller,
) -> None:
    team.guild.add_member("coach", permissions=P.MANAGE_GUILD)
    coach = running.actor(team.guild, "coach")
    channel = team.guild.add_channel("training")
    await alice.run("log", kind="backward", amount="400m", date="2026-03-07")
    await alice.run("log", kind="backward", amount="2 km")  # Sunday: heavy
    clock.move_to(MONDAY_JUST_BEFORE_SEVEN)
    await coach.run("reminders set", channel=channel, warmup="07:00")
    warmup = await emulator.wait_for_message(channel.id, timeout=10)
    assert warmup.mentions == [alice.user_id]  # named for a day off
    # Kept with the warmup's outcome, a moment after Discord has the message.
    for _ in range(50):
        if await rest_days(running):
            break
        await asyncio.sleep(0.1)
    assert await rest_days(running) == [("2026-03-09", "warmup")]
    clock.move_to(TUESDAY_NOON)
    await alice.run("log", kind="backward", amount="400m")
    # Sat, Sun, (Monday's rest), Tue.
    assert streak((await alice.run("stats")).text()) == "3 days (best 3)"
