"""/leaderboard through the emulator: the team ranked by distance, in public, pinging nobody; ties,
the caller's own place, kinds, periods in the team's timezone (a DST week), members who left."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from backrun_bot.sandbox.driver import Actor, Reply
from backrun_bot.sandbox.emulator.permissions import MANAGE_GUILD
from backrun_bot.sandbox.harness import Sandbox
from tests.discord_app.conftest import TeamFixture

pytestmark = pytest.mark.asyncio


def lines(reply: Reply) -> list[str]:
    [embed] = reply.embeds
    return str(embed["description"]).splitlines()


def footer(reply: Reply) -> str:
    return str(reply.embeds[0]["footer"]["text"])


def members(running: Sandbox, team: TeamFixture, *names: str) -> list[Actor]:
    return [running.actor(team.guild, name) for name in names]


async def log(actor: Actor, amount: str, kind: str = "backward", **options: str) -> None:
    reply = await actor.run("log", kind=kind, amount=amount, **options)
    assert not reply.ephemeral, reply.text()


def assert_pings_nobody(reply: Reply) -> None:
    assert not reply.mention_everyone
    assert reply.mentions == []
    assert reply.mention_roles == []


async def test_ranked_by_distance_ties_share_a_place_in_public(running: Sandbox, team: TeamFixture) -> None:
    alice, bob, carl, dana = members(running, team, "alice", "bob", "carl", "dana")
    await log(alice, "800m")
    await log(bob, "400m")
    await log(bob, "0.4 km", kind="backpedal")  # every backward kind counts together
    await log(carl, "400m")
    await log(dana, "1.2 km")
    await log(dana, "5 km", kind="forward")  # forward running is not on the backward board
    reply = await carl.run("leaderboard")
    assert not reply.ephemeral
    assert_pings_nobody(reply)
    assert reply.embeds[0]["title"] == "Leaderboard — backward running, week"
    assert lines(reply) == [
        "🥇 Dana — 1.2 km",
        "🥈 Alice — 800 m",
        "🥈 Bob — 800 m",
        "**4.** **Carl** (you) — 400 m",
    ]
    # Sunday 8 March: the calendar week from Monday, as /stats counts it.
    assert footer(reply) == "This week: Mon 2 Mar – Sun 8 Mar 2026 (UTC) · 4 athletes"


async def test_top_ten_then_the_callers_own_place(running: Sandbox, team: TeamFixture) -> None:
    squad = members(running, team, *(f"runner{i:02d}" for i in range(12)))
    for i, runner in enumerate(squad):
        await log(runner, f"{2000 - i * 100}m")
    last = squad[-1]
    reply = await last.run("leaderboard")
    shown = lines(reply)
    assert shown[:3] == ["🥇 Runner00 — 2 km", "🥈 Runner01 — 1.9 km", "🥉 Runner02 — 1.8 km"]
    assert shown[9] == "**10.** Runner09 — 1.1 km"
    assert shown[10:] == ["", "**12.** **Runner11** (you) — 900 m"]
    assert "Runner10" not in reply.text()
    # Someone in the top ten is marked in place and not repeated.
    mine = lines(await squad[4].run("leaderboard"))
    assert mine[4] == "**5.** **Runner04** (you) — 1.6 km"
    assert len(mine) == 10


async def test_a_tie_cut_at_the_tenth_row_is_counted(running: Sandbox, team: TeamFixture) -> None:
    squad = members(running, team, *(f"runner{i:02d}" for i in range(13)))
    for i, runner in enumerate(squad):
        await log(runner, f"{2000 - min(i, 9) * 100}m")  # runner09 … runner12 tie for 10th
    reply = await squad[12].run("leaderboard")
    shown = lines(reply)
    assert shown[9] == "**10.** Runner09 — 1.1 km"
    assert shown[10] == "… and 3 more sharing place 10"
    assert shown[11:] == ["", "**10.** **Runner12** (you) — 1.1 km"]


async def test_an_empty_board_says_so_kindly(alice: Actor, bob: Actor) -> None:
    reply = await alice.run("leaderboard")
    assert not reply.ephemeral
    assert lines(reply) == [
        "Nobody has logged any backward running this week yet. Be the first: `/log backward 400m`."
    ]
    await log(bob, "400m")
    shown = lines(await alice.run("leaderboard"))
    assert shown == ["🥇 Bob — 400 m", "", "You have no backward running this week yet."]
    empty = await alice.run("leaderboard", kind="forward")
    assert lines(empty) == [
        "Nobody has logged any forward run this week yet. Be the first: `/log forward 400m`."
    ]


async def test_one_kind_only(running: Sandbox, team: TeamFixture) -> None:
    alice, bob = members(running, team, "alice", "bob")
    await log(alice, "800m")
    await log(alice, "200m", kind="backpedal")
    await log(bob, "300m", kind="backpedal")
    await log(bob, "3 km", kind="forward")
    backpedal = await alice.run("leaderboard", kind="backpedal")
    assert backpedal.embeds[0]["title"] == "Leaderboard — backpedal, week"
    assert lines(backpedal) == ["🥇 Bob — 300 m", "🥈 **Alice** (you) — 200 m"]
    forward = await alice.run("leaderboard", kind="forward")
    assert lines(forward) == ["🥇 Bob — 3 km", "", "You have no forward run this week yet."]
    everything = await alice.run("leaderboard", kind="backward")
    assert lines(everything) == ["🥇 **Alice** (you) — 1 km", "🥈 Bob — 300 m"]


async def test_month_and_year(running: Sandbox, team: TeamFixture) -> None:
    alice, bob = members(running, team, "alice", "bob")
    await log(alice, "400m", date="2026-02-27")  # last month, this year
    await log(alice, "400m", date="2025-12-31")  # last year
    await log(bob, "300m", date="2026-03-01")  # this month, last week
    assert lines(await alice.run("leaderboard"))[0].startswith("Nobody has logged")
    month = await alice.run("leaderboard", period="month")
    assert lines(month) == ["🥇 Bob — 300 m", "", "You have no backward running this month yet."]
    assert footer(month).startswith("This month: Sun 1 Mar – Sun 8 Mar 2026")
    year = await alice.run("leaderboard", period="year")
    assert lines(year) == ["🥇 **Alice** (you) — 400 m", "🥈 Bob — 300 m"]


async def test_the_week_is_the_teams_across_a_dst_change(
    running: Sandbox, team: TeamFixture, clock: time_machine.Traveller
) -> None:
    """New York springs forward on Sunday 8 March 2026 (a 23-hour day). At 23:30 that Sunday it is
    already Monday 03:30 in UTC: the team's week is still Monday 2 – Sunday 8 March, and it ends at
    the team's midnight, not UTC's."""
    team.guild.add_member("coach", permissions=MANAGE_GUILD)
    coach, alice, bob = members(running, team, "coach", "alice", "bob")
    await coach.run("reminders set", channel=team.guild.channels["general"], timezone="America/New_York")
    await log(alice, "500m", date="2026-03-02")  # the week's first day
    await log(bob, "100m", date="2026-03-01")  # the Sunday before: last week
    clock.move_to(datetime(2026, 3, 9, 3, 30, tzinfo=UTC))  # Sunday 23:30 EDT
    await log(bob, "300m")  # today, Sunday 8 March in New York
    reply = await alice.run("leaderboard")
    assert lines(reply) == ["🥇 **Alice** (you) — 500 m", "🥈 Bob — 300 m"]
    assert footer(reply) == "This week: Mon 2 Mar – Sun 8 Mar 2026 (America/New_York) · 2 athletes"
    clock.move_to(datetime(2026, 3, 9, 4, 1, tzinfo=UTC))  # Monday 00:01 EDT: a new week
    monday = await alice.run("leaderboard")
    assert lines(monday)[0].startswith("Nobody has logged any backward running this week yet.")
    assert footer(monday).startswith("This week: Mon 9 Mar – Mon 9 Mar 2026 (America/New_York)")


async def test_a_team_in_utc_starts_the_week_at_utc_midnight(
    running: Sandbox, team: TeamFixture, clock: time_machine.Traveller
) -> None:
    alice = running.actor(team.guild, "alice")
    await log(alice, "500m")  # Sunday 8 March, UTC
    clock.move_to(datetime(2026, 3, 9, 0, 1, tzinfo=UTC))
    assert lines(await alice.run("leaderboard"))[0].startswith("Nobody has logged")


async def test_members_who_left_stay_under_their_last_name(running: Sandbox, team: TeamFixture) -> None:
    alice, bob = members(running, team, "alice", "bob")
    await log(alice, "800m")
    await log(bob, "400m")
    team.guild.remove_member("alice")
    reply = await bob.run("leaderboard")
    assert lines(reply) == ["🥇 Alice — 800 m", "🥈 **Bob** (you) — 400 m"]


async def test_names_are_shown_literally_and_ping_nobody(running: Sandbox, team: TeamFixture) -> None:
    role = team.roles["Sprinters"]
    hostile = f"**x** @everyone <@&{role}> [a](https://evil.example)"
    team.guild.add_member(hostile)
    mallory, alice = members(running, team, hostile, "alice")
    await log(mallory, "800m")
    await log(alice, "400m")
    reply = await alice.run("leaderboard")
    assert_pings_nobody(reply)
    first = lines(reply)[0]
    assert first.startswith("🥇 \\*\\*x\\*\\* @everyone")
    assert "**x**" not in first
    assert first.endswith("… — 800 m")  # the name shortened to 40 characters, escapes included


async def test_other_servers_are_not_on_the_board(alice: Actor, alice_elsewhere: Actor) -> None:
    await log(alice_elsewhere, "5 km")
    assert lines(await alice.run("leaderboard"))[0].startswith("Nobody has logged")


@pytest.mark.parametrize(("option", "value"), [("period", "all"), ("period", "decade"), ("kind", "swim")])
async def test_values_outside_the_choices_are_refused_privately(
    alice: Actor, option: str, value: str
) -> None:
    reply = await alice.run_raw("leaderboard", **{option: value})
    assert reply.ephemeral
    assert ("week, month, year" if option == "period" else "kind") in reply.text()
