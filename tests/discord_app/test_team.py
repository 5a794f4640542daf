"""/team coach-role, /team units and /team overview through the emulator: who may, what each shows,
each refusal ephemeral and changing nothing, and a 300-athlete team's overview within Discord's
limits, page by page."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from backrun_bot.sandbox.driver import Actor, Reply
from backrun_bot.sandbox.emulator.permissions import MANAGE_GUILD
from backrun_bot.sandbox.harness import Sandbox
from backrun_bot.services.teams import EVERYONE_AS_COACH, NOT_A_COACH
from backrun_bot.storage.models import Athlete, RunSession, Team
from tests.discord_app.conftest import START, TeamFixture

pytestmark = pytest.mark.asyncio

NO_MANAGE_SERVER = "You need the Manage Server permission for this command."


@pytest.fixture
def coach(running: Sandbox, team: TeamFixture) -> Actor:
    team.guild.add_member("coach", permissions=MANAGE_GUILD)
    return running.actor(team.guild, "coach")


async def stored_team(running: Sandbox, team: TeamFixture) -> Team | None:
    bot = running.bot
    assert bot is not None
    async with bot.sessionmaker() as s:
        return await s.get(Team, team.guild.id)


def description(reply: Reply) -> str:
    return str(reply.embeds[0]["description"])


def field(reply: Reply, starts: str) -> tuple[str, str]:
    [found] = [(f["name"], f["value"]) for f in reply.embeds[0]["fields"] if f["name"].startswith(starts)]
    return found


# --- /team is visible to everyone; each subcommand checks per call -------------------------------------


async def test_the_team_group_is_not_hidden_from_coaches_without_manage_server(running: Sandbox) -> None:
    [registered] = [c for c in running.emulator.commands if c["name"] == "team"]
    assert registered.get("default_member_permissions") is None
    assert sorted(o["name"] for o in registered["options"]) == ["coach-role", "overview", "report", "units"]


# --- /team coach-role ---------------------------------------------------------------------------------


async def test_an_admin_names_the_coach_role_without_pinging_it(
    running: Sandbox, team: TeamFixture, coach: Actor
) -> None:
    role = team.roles["Sprinters"]
    reply = await coach.run("team coach-role", role="Sprinters")
    assert reply.ephemeral
    assert reply.text() == f"Coaches are now the members of <@&{role}>, and everyone with Manage Server."
    assert reply.mention_roles == [] and not reply.mention_everyone
    stored = await stored_team(running, team)
    assert stored is not None and stored.coach_role_id == role


async def test_a_member_without_manage_server_cannot_name_the_coach_role(
    running: Sandbox, team: TeamFixture, alice: Actor
) -> None:
    team.guild.add_member("alice", roles=["Sprinters"])
    reply = await alice.run("team coach-role", role="Sprinters")
    assert reply.ephemeral
    assert reply.text() == NO_MANAGE_SERVER
    stored = await stored_team(running, team)
    assert stored is None or stored.coach_role_id is None
    # And so the role still makes nobody a coach.
    assert (await alice.run("team overview")).text() == NOT_A_COACH


async def test_everyone_cannot_be_the_coach_role(running: Sandbox, team: TeamFixture, coach: Actor) -> None:
    await coach.run("team coach-role", role="Sprinters")
    reply = await coach.run("team coach-role", role=team.guild.id)  # @everyone's id is the server's
    assert reply.ephemeral
    assert reply.text() == EVERYONE_AS_COACH
    assert not reply.mention_everyone
    stored = await stored_team(running, team)
    assert stored is not None and stored.coach_role_id == team.roles["Sprinters"]


async def test_the_coach_role_makes_its_members_coaches_checked_on_every_call(
    running: Sandbox, team: TeamFixture, coach: Actor
) -> None:
    team.guild.add_member("carol", roles=["Sprinters"])
    carol, bob = running.actor(team.guild, "carol"), running.actor(team.guild, "bob")
    assert (await carol.run("team overview")).text() == NOT_A_COACH  # no coach role named yet
    await coach.run("team coach-role", role="Sprinters")
    reply = await carol.run("team overview")
    assert reply.ephemeral and reply.embeds[0]["title"].startswith("Team overview")
    refused = await bob.run("team overview")
    assert refused.ephemeral and refused.text() == NOT_A_COACH
    other = team.guild.add_role("Physios")
    await coach.run("team coach-role", role=other)
    assert (await carol.run("team overview")).text() == NOT_A_COACH  # at once, not after a restart
    # Manage Server always counts, whatever the role.
    assert (await coach.run("team overview")).embeds


# --- /team units --------------------------------------------------------------------------------------


async def test_units_need_manage_server_and_a_refusal_changes_nothing(
    running: Sandbox, team: TeamFixture, alice: Actor
) -> None:
    reply = await alice.run("team units", system="imperial")
    assert reply.ephemeral and reply.text() == NO_MANAGE_SERVER
    assert "**400 m**" in (await alice.run("log", kind="backward", amount="400m")).text()


async def test_imperial_units_everywhere(
    running: Sandbox, team: TeamFixture, coach: Actor, alice: Actor, clock: time_machine.Traveller
) -> None:
    channel = team.guild.channels["general"]
    await coach.run("reminders set", channel=channel, timezone="UTC")
    await alice.run("log", kind="backward", amount="2000m", date="yesterday")  # a heavy day
    reply = await coach.run("team units", system="imperial")
    assert reply.ephemeral
    assert reply.text().startswith(
        "Distances are now shown in imperial units everywhere (for example 437 yd,"
    )

    logged = await alice.run("log", kind="backward", amount="400m")
    assert "logged **437 yd** backward run" in logged.text()
    assert "Backward today: **437 yd** · this week: **1.49 mi**" in logged.text()  # 2,400 m
    timed = await alice.run("log", kind="backward-jog", amount="9 min")  # counted as 1 km
    assert "(counted as about 1094 yd at a typical pace)" in timed.text()
    assert "**0.25mi**" not in (await alice.run("log", kind="backward", amount="0.25mi")).text()

    history = (await alice.run("history")).text()
    assert "**440 yd** backward run" in history and "**437 yd** backward run" in history
    assert " m " not in history.replace("min", "")
    stats = (await alice.run("stats")).text()
    assert "1.74 mi in 3 entries" in stats  # 2000 + 400 + 402.3 m of backward running
    assert "1094 yd in 1 entry" in stats  # the backward jog
    board = await alice.run("leaderboard")
    assert "🥇 **Alice** (you) — 2.36 mi" in description(board)  # 3,802 m of every backward kind
    overview = await coach.run("team overview")
    assert "2.36 mi this week" in description(overview)
    shown = (await coach.run("reminders show")).text()
    assert "Heavy day: 1750 yd of backward running (`heavy:` is in metres: 1600)" in shown
    plan = (await alice.run("plan")).text()
    assert "1.24 mi of backward running (your team's heavy-day mark is 1750 yd)" in plan
    assert "yd" in plan and " m." not in plan and " m " not in plan
    preview = (await coach.run("reminders preview")).text()
    assert "4 × 85 yd" in preview  # the strides, in the warmup
    assert "1.24 mi of backward running" in preview  # the day-off section names Alice and why
    assert " m." not in preview and " m " not in preview
    undone = await alice.run("undo")
    assert "440 yd" in undone.text()

    back = await coach.run("team units", system="metric")
    assert "for example 400 m, 1.6 km, 5 km" in back.text()
    assert "**400 m**" in (await alice.run("log", kind="backward", amount="400m")).text()


async def test_the_imperial_warmup_as_it_is_posted(
    running: Sandbox, team: TeamFixture, coach: Actor, alice: Actor, clock: time_machine.Traveller
) -> None:
    channel = team.guild.add_channel("training")
    await coach.run("team units", system="imperial")
    clock.move_to(datetime(2026, 3, 9, 6, 59, 57, tzinfo=UTC))
    await alice.run("log", kind="backward", amount="2000m", date="yesterday")
    await coach.run("reminders set", channel=channel, timezone="UTC", warmup="07:00")
    posted = (await running.emulator.wait_for_message(channel.id, timeout=10)).content
    assert "4 × 85 yd" in posted
    assert "1.24 mi of backward running (your team's heavy-day mark is 1750 yd)" in posted
    assert " m." not in posted and " m " not in posted


# --- /team overview -----------------------------------------------------------------------------------


async def test_a_non_coach_is_refused_privately(alice: Actor, bob: Actor) -> None:
    await bob.run("log", kind="backward", amount="400m")
    reply = await alice.run("team overview")
    assert reply.ephemeral
    assert reply.text() == NOT_A_COACH
    assert reply.embeds == []


async def test_the_overview_of_a_small_team(
    running: Sandbox, team: TeamFixture, coach: Actor, clock: time_machine.Traveller
) -> None:
    alice, bob, carl, dana = (running.actor(team.guild, n) for n in ("alice", "bob", "carl", "dana"))
    await alice.run("log", kind="backward", amount="2000m", date="yesterday")  # heavy: the volume rule
    await alice.run("log", kind="forward", amount="3 km")
    await bob.run("log", kind="backward", amount="400m", date="2026-02-28")  # eight days back
    await carl.run("log", kind="backward", amount="300m", date="2026-03-04")
    await carl.run("log", kind="forward", amount="1 km")  # logged today, but not backward
    await dana.run("log", kind="backward", amount="500m")
    await dana.run("undo")  # an athlete with no entries at all
    reply = await coach.run("team overview")
    assert reply.ephemeral
    assert reply.buttons() == []  # one page
    embed = reply.embeds[0]
    assert embed["title"] == "Team overview — week of Mon 2 Mar"
    assert description(reply).splitlines() == [
        "**4 athletes** · backward this week: **2.3 km**",
        "",
        "**Alice** · 2 km this week · last backward yesterday · ⚠️ heavy yesterday: volume",
        "**Bob** · 0 m this week · last backward 8 days ago · 💤 nothing logged for 8 days",
        "**Carl** · 300 m this week · last backward 4 days ago",
        "**Dana** · 0 m this week · no backward yet · 💤 nothing logged yet",
    ]
    assert field(reply, "⚠️ Heavy day yesterday") == ("⚠️ Heavy day yesterday (1)", "Alice (volume)")
    assert field(reply, "💤 Nothing logged for 7 days") == ("💤 Nothing logged for 7 days (2)", "Bob, Dana")
    assert embed["footer"]["text"] == "Page 1 of 1 · today is Sun 8 Mar in UTC"
    assert reply.mentions == [] and reply.mention_roles == []


async def test_seven_days_is_the_line_and_a_member_who_left_is_still_listed(
    running: Sandbox, team: TeamFixture, coach: Actor
) -> None:
    alice, bob = running.actor(team.guild, "alice"), running.actor(team.guild, "bob")
    await alice.run("log", kind="backward", amount="400m", date="2026-03-02")  # six days back
    await bob.run("log", kind="backward", amount="400m", date="2026-03-01")  # seven days back
    team.guild.remove_member("bob")
    rows = description(await coach.run("team overview")).splitlines()
    assert rows[2] == "**Alice** · 400 m this week · last backward 6 days ago"
    assert rows[3] == "**Bob** · 0 m this week · last backward 7 days ago · 💤 nothing logged for 7 days"


async def test_heavy_yesterday_by_each_rule_as_the_warmup_names_them(
    running: Sandbox, team: TeamFixture, coach: Actor
) -> None:
    alice, bob = running.actor(team.guild, "alice"), running.actor(team.guild, "bob")
    await alice.run("log", kind="backward", amount="300m", date="2026-03-01")
    await alice.run("log", kind="backward", amount="500m", date="yesterday")  # 67 % longer: a spike
    await bob.run("log", kind="backward", amount="1000m", date="2026-03-01")
    await bob.run("log", kind="backward", amount="1000m", date="yesterday")  # neither rule
    reply = await coach.run("team overview")
    assert field(reply, "⚠️")[1] == "Alice (spike)"
    section = (await coach.run("reminders preview")).text().split("Day off from backward work today")[1]
    assert f"<@{alice.user_id}>: a 500 m session, 67% longer" in section
    assert f"<@{bob.user_id}>" not in section


async def test_a_team_in_another_timezone_counts_its_own_days(
    running: Sandbox, team: TeamFixture, coach: Actor, clock: time_machine.Traveller
) -> None:
    """Monday 9 March 03:30 UTC is still Sunday 8 March in New York (the day clocks sprang forward):
    the week, yesterday and "today" are New York's."""
    alice = running.actor(team.guild, "alice")
    await coach.run("reminders set", channel=team.guild.channels["general"], timezone="America/New_York")
    await alice.run("log", kind="backward", amount="1800m", date="2026-03-07")
    clock.move_to(datetime(2026, 3, 9, 3, 30, tzinfo=UTC))
    reply = await coach.run("team overview")
    assert reply.embeds[0]["title"] == "Team overview — week of Mon 2 Mar"
    assert description(reply).splitlines()[2] == (
        "**Alice** · 1.8 km this week · last backward yesterday · ⚠️ heavy yesterday: volume"
    )
    assert reply.embeds[0]["footer"]["text"] == "Page 1 of 1 · today is Sun 8 Mar in America/New_York"


LONG = "*_~|`[]\\" * 12  # long display names (99 characters with the number), each one escaped


async def add_squad(running: Sandbox, team: TeamFixture, count: int) -> None:
    """``count`` athletes with long names straight into the database (as if each had logged for a
    while), a few of them heavy yesterday and a few quiet: set-up, not what is tested."""
    bot = running.bot
    assert bot is not None
    now = START
    today = date(2026, 3, 8)
    async with bot.sessionmaker.begin() as s:
        s.add(Team(id=team.guild.id, timezone="UTC", created_at=now))
        await s.flush()
        for i in range(count):
            athlete = Athlete(
                team_id=team.guild.id, user_id=10_000 + i, display_name=f"{i:03d}{LONG}", created_at=now
            )
            s.add(athlete)
            await s.flush()
            days = [today - timedelta(days=d) for d in ((9,) if i % 10 == 0 else (1, 2, 3))]
            for day in days:
                meters = 2000.0 if i % 7 == 0 and day == today - timedelta(days=1) else 400.0
                s.add(
                    RunSession(
                        athlete_id=athlete.id,
                        team_id=team.guild.id,
                        kind="backward",
                        is_backward=True,
                        meters=meters,
                        effective_meters=meters,
                        amount_text=f"{meters:g}m",
                        day=day,
                        logged_at=now,
                    )
                )


async def test_three_hundred_athletes_page_by_page_within_discords_limits(
    running: Sandbox, team: TeamFixture, coach: Actor
) -> None:
    await add_squad(running, team, 300)
    reply = await coach.run("team overview")
    assert reply.ephemeral
    embed = reply.embeds[0]
    rows = description(reply).splitlines()[2:]
    assert len(rows) == 20
    assert embed["footer"]["text"].startswith("Page 1 of 15")
    heavy_name, heavy = field(reply, "⚠️")
    # Every seventh athlete, but for those quiet (every tenth: 0, 70, 140, 210, 280).
    assert heavy_name == "⚠️ Heavy day yesterday (38)"
    assert heavy.endswith("more") and len(heavy) <= 1024
    quiet_name, quiet = field(reply, "💤")
    assert quiet_name == "💤 Nothing logged for 7 days (30)"
    assert len(quiet) <= 1024
    assert [b["label"] for b in reply.buttons()] == ["◀ Previous", "Next ▶"]
    assert reply.buttons()[0].get("disabled") is True

    seen = set(rows)
    page = reply
    for number in range(2, 16):
        page = await coach.press(page, "Next ▶")
        assert page.embeds[0]["footer"]["text"].startswith(f"Page {number} of 15")
        seen |= set(description(page).splitlines()[2:])
    assert len(seen) == 300  # every athlete once
    assert page.buttons()[1].get("disabled") is True
    back = await coach.press(page, "◀ Previous")
    assert back.embeds[0]["footer"]["text"].startswith("Page 14 of 15")
    # The emulator checks every body against Discord's limits (the sandbox fixture fails otherwise);
    # and the whole embed stays under 6,000 characters.
    for shown in (reply, page, back):
        embed = shown.embeds[0]
        size = len(embed["title"]) + len(embed["description"]) + len(embed["footer"]["text"])
        size += sum(len(f["name"]) + len(f["value"]) for f in embed["fields"])
        assert size <= 6000


async def test_a_page_button_checks_the_coach_again(
    running: Sandbox, team: TeamFixture, coach: Actor
) -> None:
    await add_squad(running, team, 45)
    team.guild.add_member("carol", roles=["Sprinters"])
    carol = running.actor(team.guild, "carol")
    await coach.run("team coach-role", role="Sprinters")
    reply = await carol.run("team overview")
    assert reply.embeds[0]["footer"]["text"].startswith("Page 1 of 3")
    await coach.run("team coach-role", role=team.guild.add_role("Physios"))
    refused = await carol.press(reply, "Next ▶")
    assert refused.ephemeral and refused.text() == NOT_A_COACH
    assert running.emulator.world.messages[reply.id].embeds[0]["footer"]["text"].startswith("Page 1 of 3")
