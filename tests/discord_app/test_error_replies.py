"""Refusals that say the right thing, read as the athlete or coach reads them in Discord.

Every example a refusal gives must work when followed, so several tests follow the advice and check
that it is accepted. The clock is the suite's START: Sunday 2026-03-08, 15:00 UTC.
"""

from __future__ import annotations

import pytest

from backrun_bot.sandbox.driver import Actor, Reply
from backrun_bot.sandbox.harness import Sandbox
from tests.discord_app.conftest import TeamFixture

MANAGE_GUILD = 1 << 5
NEEDS_MANAGE_SERVER = "You need the Manage Server permission for this command."


async def refused(athlete: Actor, **options: str) -> Reply:
    """``/log`` with these options, which must be refused privately, without pings, storing nothing."""
    reply = await athlete.run("log", kind="backward", **options)
    assert reply.ephemeral
    assert not reply.mention_everyone and reply.mentions == [] and reply.mention_roles == []
    assert "No entries yet" in (await athlete.run("history")).text()
    return reply


async def test_a_fraction_is_answered_with_its_decimal_which_then_works(alice: Actor) -> None:
    reply = await refused(alice, amount="1/4 mile")
    assert "Write a fraction as a decimal: 0.25mi, not 1/4." in reply.text()
    logged = await alice.run("log", kind="backward", amount="0.25mi")
    assert "**402 m** backward run" in logged.text()


@pytest.mark.parametrize(
    ("amount", "advice", "date"),
    [
        ("400m yesterday", "write date:yesterday", "yesterday"),
        ("400m 2026-03-06", "write date:2026-03-06", "2026-03-06"),
    ],
)
async def test_a_day_in_the_amount_points_to_the_date_option(
    alice: Actor, amount: str, advice: str, date: str
) -> None:
    reply = await refused(alice, amount=amount)
    assert f"The day goes in the date option, not in the amount: {advice}." in reply.text()
    logged = await alice.run("log", kind="backward", amount="400m", date=date)
    assert not logged.ephemeral and "**400 m**" in logged.text()


async def test_today_in_the_amount_is_the_default(alice: Actor) -> None:
    reply = await refused(alice, amount="400m today")
    assert "Today is the default: leave the day out of the amount." in reply.text()


@pytest.mark.parametrize(
    ("amount", "quoted"),
    [("Banana", "`Banana`"), ("400m  in in 1:30", "`400m in in 1:30`"), ("5-6 km", "`5-6 km`")],
)
async def test_an_unreadable_amount_is_quoted_back(alice: Actor, amount: str, quoted: str) -> None:
    reply = await refused(alice, amount=amount)
    assert f"I could not read {quoted} as an amount." in reply.text()
    assert reply.text().count("`") == 2


@pytest.mark.parametrize("amount", ["@everyone", "`@here`", "<@&1>", "x" * 41])
async def test_mentions_symbols_and_long_text_are_not_quoted(alice: Actor, amount: str) -> None:
    reply = await refused(alice, amount=amount)
    assert amount not in reply.text()
    assert "`" not in reply.text() and "@" not in reply.text()


async def test_the_date_example_is_yesterday_and_works(alice: Actor) -> None:
    reply = await alice.run("log", kind="backward", amount="400m", date="last tuesday")
    assert reply.ephemeral
    assert "Dates: today, yesterday or YYYY-MM-DD (for example 2026-03-07)." in reply.text()
    logged = await alice.run("log", kind="backward", amount="400m", date="2026-03-07")
    assert "for 2026-03-07" in logged.text()


async def test_the_date_example_is_yesterday_in_the_teams_timezone(
    running: Sandbox, team: TeamFixture, alice: Actor
) -> None:
    # 15:00 UTC on 03-08 is 04:00 on 03-09 in Auckland (UTC+13): its yesterday is 03-08.
    team.guild.add_member("coach", permissions=MANAGE_GUILD)
    coach = running.actor(team.guild, "coach")
    general = team.guild.channels["general"]
    await coach.run("reminders set", channel=general, timezone="Pacific/Auckland")
    reply = await alice.run("log", kind="backward", amount="400m", date="2026-03-10")  # the future
    assert "(for example 2026-03-08)." in reply.text()
    logged = await alice.run("log", kind="backward", amount="400m", date="2026-03-08")
    assert "for 2026-03-08" in logged.text()


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("reminders show", {}),
        ("reminders set", {"timezone": "Europe/London"}),
        ("reminders set", {"warmup": "25:00"}),  # the permission, not the time format
        ("reminders pause", {"until": "someday"}),
        ("reminders resume", {}),
        ("reminders preview", {}),
    ],
)
async def test_a_member_shown_reminders_by_an_override_is_told_the_permission(
    running: Sandbox, team: TeamFixture, bob: Actor, command: str, options: dict[str, str]
) -> None:
    running.emulator.set_command_permission(team.guild, "reminders", True)
    reply = await bob.run(command, **options)
    assert reply.ephemeral
    assert reply.text() == NEEDS_MANAGE_SERVER


async def test_without_the_override_discord_hides_reminders_from_members(bob: Actor) -> None:
    with pytest.raises(PermissionError):
        await bob.run("reminders show")
