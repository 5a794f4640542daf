"""/plan: on a suggested day off, the forward version of the day and when backward work resumes; on
any other day, plainly that no day off is needed and why not.

The suite's clock is Sunday 2026-03-08 (UTC for a team that set no timezone), so "yesterday" is
Saturday 7 March and backward work resumes on Monday 9 March.
"""

from __future__ import annotations

import pytest

from backrun_bot.sandbox.driver import Actor
from backrun_bot.sandbox.emulator import permissions as P
from backrun_bot.sandbox.harness import Sandbox
from tests.discord_app.conftest import TeamFixture


@pytest.fixture
def coach(running: Sandbox, team: TeamFixture) -> Actor:
    team.guild.add_member("coach", permissions=P.MANAGE_GUILD)
    return running.actor(team.guild, "coach")


def drills_part(text: str) -> str:
    """The plan after the advice paragraph."""
    return text.split("\n\n", 1)[1]


async def test_a_day_off_shows_the_forward_day_and_when_backward_work_resumes(alice: Actor) -> None:
    await alice.run("log", kind="backward", amount="2 km", date="yesterday")
    reply = await alice.run("plan")
    assert reply.ephemeral
    text = reply.text()
    assert len(reply.content) <= 2000
    assert text.startswith("**Take today off from backward work**: 2 km of backward running")
    assert "Backward work resumes tomorrow, Mon 9 Mar." in text
    drills = drills_part(reply.content)  # the message itself; the ladder is an embed of its own
    assert "**Warmup — Sun 8 Mar** (all forward)" in drills and "**Cooldown — Sun 8 Mar**" in drills
    assert "backward" not in drills.lower() and "backpedal" not in drills.lower()
    assert "2. Skipping — 1 lap." in drills and "Accelerations — 4 × " in drills
    assert drills.index("1. Easy run — ") < drills.index("2. Jog — ") < drills.index("3. Walk — ")


async def test_a_normal_day_says_why_no_day_off_is_needed(alice: Actor, bob: Actor) -> None:
    await alice.run("log", kind="backward", amount="400m", date="yesterday")
    text = (await alice.run("plan")).text()
    assert text.startswith(
        "No day off needed: yesterday you ran 400 m backward (your team's heavy-day mark is 1.6 km)"
    )
    assert "take today off" not in text.lower()
    assert "Backward skipping" in drills_part(text)  # the usual, backward plan

    # Forward running alone never makes a day heavy, and it is not backward metres.
    await bob.run("log", kind="forward", amount="10 km", date="yesterday")
    text = (await bob.run("plan")).text()
    assert text.startswith("No day off needed: you ran no backward meters yesterday.")
    assert "Backward skipping" in drills_part(text)


async def test_the_teams_own_mark_is_shown_as_a_distance_everywhere(
    coach: Actor, alice: Actor, team: TeamFixture
) -> None:
    await coach.run("reminders set", channel=team.guild.channels["general"], heavy=2500)
    assert "Heavy day: 2.5 km of backward running" in (await coach.run("reminders show")).text()
    await alice.run("log", kind="backward", amount="2 km", date="yesterday")
    text = (await alice.run("plan")).text()
    assert "yesterday you ran 2 km backward (your team's heavy-day mark is 2.5 km)" in text
