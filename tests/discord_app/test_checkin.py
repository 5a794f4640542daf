"""/checkin through the emulator (issue 11): what it declares, stores and refuses; a sore check-in
turning /plan and the next warmup into a day off from backward work; the check-ins in /team overview.

The suite's clock starts on Sunday 2026-03-08, 15:00 UTC (a team with no timezone is on UTC).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from backrun_bot.discord_app.team_embeds import overview_embed
from backrun_bot.domain.amounts import Units
from backrun_bot.domain.load import HeavyDay, Rule
from backrun_bot.domain.overview import AthleteWeek, LatestCheckin, overview_page
from backrun_bot.domain.wellness import Area
from backrun_bot.sandbox.driver import Actor, Reply
from backrun_bot.sandbox.emulator import Channel, DiscordEmulator
from backrun_bot.sandbox.emulator.permissions import MANAGE_GUILD
from backrun_bot.sandbox.harness import Sandbox
from backrun_bot.services.teams import NOT_A_COACH
from backrun_bot.storage.models import Athlete, Checkin, RestDay
from tests.discord_app.conftest import TeamFixture

MONDAY_EARLY = datetime(2026, 3, 9, 6, 30, tzinfo=UTC)
MONDAY_JUST_BEFORE_SEVEN = datetime(2026, 3, 9, 6, 59, 57, tzinfo=UTC)
SUNDAY = date(2026, 3, 8)


@pytest.fixture
def coach(running: Sandbox, team: TeamFixture) -> Actor:
    team.guild.add_member("coach", permissions=MANAGE_GUILD)
    return running.actor(team.guild, "coach")


async def checkins(running: Sandbox) -> list[tuple[int, str, int, str, int | None, str | None]]:
    """Every stored check-in: (athlete, day, soreness, area, sleep, note)."""
    assert running.bot is not None
    async with running.bot.sessionmaker() as s:
        rows = await s.scalars(select(Checkin).order_by(Checkin.athlete_id, Checkin.day))
        return [(r.athlete_id, r.day.isoformat(), r.soreness, r.area, r.sleep, r.note) for r in rows]


async def rest_days(running: Sandbox) -> list[tuple[str, str]]:
    assert running.bot is not None
    async with running.bot.sessionmaker() as s:
        rows = await s.scalars(select(RestDay).order_by(RestDay.day))
        return [(r.day.isoformat(), r.source) for r in rows]


def drills_part(reply: Reply) -> str:
    """The plan's drills: its text after the advice (the ladder's embed below it left out)."""
    return reply.content.split("\n\n", 1)[1]


# --- what the command declares ----------------------------------------------------------------------


async def test_the_declared_ranges_choices_and_lengths(running: Sandbox, alice: Actor) -> None:
    [registered] = [c for c in running.emulator.commands if c["name"] == "checkin"]
    options = {o["name"]: o for o in registered["options"]}
    assert list(options) == ["soreness", "area", "sleep", "note"]
    soreness, area, sleep, note = (options[n] for n in ("soreness", "area", "sleep", "note"))
    assert (soreness["type"], soreness["min_value"], soreness["max_value"], soreness["required"]) == (
        4,
        0,
        10,
        True,
    )
    assert (sleep["type"], sleep["min_value"], sleep["max_value"]) == (4, 1, 5)
    assert not sleep.get("required")
    assert [c["value"] for c in area["choices"]] == [
        "hamstring",
        "knee",
        "calf",
        "lower-back",
        "other",
        "none",
    ]
    assert note["max_length"] == 200
    # Discord's client enforces them: it does not send these at all.
    with pytest.raises(ValueError):
        await alice.run("checkin", soreness=11)
    with pytest.raises(ValueError):
        await alice.run("checkin", soreness=3, sleep=0)
    assert await checkins(running) == []


# --- storing and replacing ---------------------------------------------------------------------------


async def test_a_checkin_is_stored_and_a_second_one_that_day_replaces_it(
    running: Sandbox, alice: Actor
) -> None:
    first = await alice.run("checkin", soreness=3, area="calf", sleep=4, note="tight after hills")
    assert first.ephemeral
    assert first.text().startswith("Checked in for today, Sun 8 Mar: soreness 3/10 in the calf, sleep 4/5.")
    assert "Note: tight after hills" in first.text()
    assert "take today off" not in first.text().lower()
    [(athlete, *stored)] = await checkins(running)
    assert stored == ["2026-03-08", 3, "calf", 4, "tight after hills"]

    second = await alice.run("checkin", soreness=1)
    assert second.text().startswith("Checked in for today, Sun 8 Mar: soreness 1/10.")
    # One row for the day: the second replaced the first, every column of it.
    assert await checkins(running) == [(athlete, "2026-03-08", 1, "none", None, None)]


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"soreness": 11}, "Soreness is a whole number from 0 (none) to 10"),
        ({"soreness": -1}, "Soreness is a whole number from 0 (none) to 10"),
        ({"soreness": 2**31}, "Soreness is a whole number"),
        ({"soreness": 5, "sleep": 0}, "Sleep is a whole number from 1 (very poor) to 5"),
        ({"soreness": 5, "sleep": 6}, "Sleep is a whole number"),
        ({"soreness": 5, "area": "ankle"}, "Pick the area from the list: hamstring, knee, calf"),
        ({"soreness": 5, "note": "n" * 201}, "keep it to 200"),
        ({"soreness": 5, "note": "nul \x00 inside"}, "control character (U+0000)"),
    ],
)
async def test_what_a_modified_client_sends_outside_the_declaration_is_refused(
    running: Sandbox, alice: Actor, options: dict[str, object], says: str
) -> None:
    reply = await alice.run_raw("checkin", **options)
    assert reply.ephemeral
    assert says in reply.text()
    assert await checkins(running) == []
    assert await rest_days(running) == []


async def test_the_note_is_shown_literally_and_pings_nobody(alice: Actor, team: TeamFixture) -> None:
    role = team.roles["Sprinters"]
    reply = await alice.run(
        "checkin", soreness=2, note=f"@everyone <@&{role}> **sore** [x](https://e.example)"
    )
    assert not reply.mention_everyone and reply.mention_roles == [] and reply.mentions == []
    assert f"Note: @everyone <@&{role}> \\*\\*sore\\*\\* \\[x\\](<https://e.example>)" in reply.text()


# --- the day off -----------------------------------------------------------------------------------


async def test_a_sore_hamstring_turns_plan_into_a_day_off_and_keeps_the_streak(
    running: Sandbox, alice: Actor
) -> None:
    reply = await alice.run("checkin", soreness=7, area="hamstring")
    assert "**Take today off from backward work**: soreness 7/10 in the hamstring at your check-in" in (
        reply.text()
    )
    plan = await alice.run("plan")
    assert plan.text().startswith("**Take today off from backward work**: soreness 7/10 in the hamstring")
    assert "unless tomorrow's check-in is as sore" in plan.text()
    drills = drills_part(plan)
    assert "(all forward)" in drills
    assert "backward" not in drills.lower() and "backpedal" not in drills.lower()
    assert await rest_days(running) == [("2026-03-08", "soreness")]


async def test_plan_keeps_the_rest_day_for_soreness_itself(running: Sandbox, alice: Actor) -> None:
    """The check-in keeps it already; /plan keeps it too for a check-in stored without one."""
    await alice.run("log", kind="backward", amount="400m", date="2026-03-01")
    assert running.bot is not None
    async with running.bot.sessionmaker.begin() as s:
        [athlete] = (await s.scalars(select(Athlete))).all()
        s.add(
            Checkin(
                athlete_id=athlete.id,
                team_id=athlete.team_id,
                day=SUNDAY,
                soreness=6,
                area="knee",
                recorded_at=datetime.now(UTC),
            )
        )
    assert (await alice.run("plan")).text().startswith("**Take today off from backward work**: soreness 6/10")
    assert await rest_days(running) == [("2026-03-08", "soreness")]


async def test_calf_soreness_of_nine_is_not_a_day_off(running: Sandbox, alice: Actor) -> None:
    reply = await alice.run("checkin", soreness=9, area="calf")
    assert "take today off" not in reply.text().lower()
    plan = await alice.run("plan")
    assert plan.text().startswith("No day off needed")
    assert "Today's check-in (soreness 9/10 in the calf) does not call for one" in plan.text()
    assert "Backward skipping" in drills_part(plan)
    assert await rest_days(running) == []


async def test_soreness_after_a_heavy_day_gives_both_reasons_and_the_rest_day_is_for_soreness(
    running: Sandbox, alice: Actor
) -> None:
    await alice.run("log", kind="backward", amount="2 km", date="yesterday")
    assert (await alice.run("plan")).text().startswith("**Take today off from backward work**: 2 km")
    assert await rest_days(running) == [("2026-03-08", "plan")]
    await alice.run("checkin", soreness=6, area="lower-back")
    text = (await alice.run("plan")).text()
    assert "2 km of backward running" in text and "soreness 6/10 in the lower back" in text
    assert await rest_days(running) == [("2026-03-08", "soreness")]


async def test_the_warmup_names_who_checked_in_sore_before_it_and_not_after(
    running: Sandbox,
    team: TeamFixture,
    coach: Actor,
    alice: Actor,
    bob: Actor,
    emulator: DiscordEmulator,
    clock: time_machine.Traveller,
) -> None:
    channel: Channel = team.guild.add_channel("training")
    team.guild.add_member("carl")
    carl = running.actor(team.guild, "carl")
    await carl.run("notify", mentions="off")
    clock.move_to(MONDAY_EARLY)
    await alice.run("checkin", soreness=8, area="knee")
    await carl.run("checkin", soreness=6, area="hamstring")
    await bob.run("checkin", soreness=9, area="calf")  # not a day off
    clock.move_to(MONDAY_JUST_BEFORE_SEVEN)
    await coach.run("reminders set", channel=channel, warmup="07:00")
    warmup = await emulator.wait_for_message(channel.id, timeout=10)
    assert warmup.mentions == [alice.user_id]  # carl chose no pings: named, not pinged
    assert not warmup.mention_everyone and warmup.mention_roles == []
    assert "**Day off from backward work today** — suggested for:" in warmup.content
    assert f"• <@{alice.user_id}>: soreness 8/10 in the knee at your check-in" in warmup.content
    assert "• Carl: soreness 6/10 in the hamstring at your check-in" in warmup.content
    assert "Bob" not in warmup.content and f"<@{bob.user_id}>" not in warmup.content
    for _ in range(50):  # kept with the warmup's outcome, a moment after Discord has it
        if len(await rest_days(running)) == 2:
            break
        await asyncio.sleep(0.1)
    assert await rest_days(running) == [("2026-03-09", "soreness")] * 2

    # Bob checks in sore after the warmup went out: his /plan says so, the warmup stays as sent.
    await bob.run("checkin", soreness=8, area="lower-back")
    assert (await bob.run("plan")).text().startswith("**Take today off from backward work**")
    await asyncio.sleep(0.5)
    sent = [m for m in emulator.world.messages.values() if m.channel_id == channel.id]
    assert [m.id for m in sent] == [warmup.id]
    assert sent[0].content == warmup.content and "Bob" not in sent[0].content


# --- /team overview --------------------------------------------------------------------------------


async def test_the_overview_shows_the_latest_checkin_and_who_has_not_checked_in(
    running: Sandbox, team: TeamFixture, coach: Actor, alice: Actor, bob: Actor
) -> None:
    carl, dana = running.actor(team.guild, "carl"), running.actor(team.guild, "dana")
    await alice.run("checkin", soreness=7, area="hamstring")
    await bob.run("log", kind="backward", amount="400m")
    await carl.run("log", kind="backward", amount="400m")
    await dana.run("checkin", soreness=1)
    assert running.bot is not None
    # Bob's latest check-in is three days old, two days ago is Carl's: set in the store directly.
    async with running.bot.sessionmaker.begin() as s:
        athletes = {a.display_name: a.id for a in await s.scalars(select(Athlete))}
        for name, days, soreness, area in (
            ("bob", 3, 4, "knee"),
            ("bob", 5, 9, "knee"),
            ("carl", 2, 2, "calf"),
        ):
            s.add(
                Checkin(
                    athlete_id=athletes[name.title()],
                    team_id=team.guild.id,
                    day=SUNDAY - timedelta(days=days),
                    soreness=soreness,
                    area=area,
                    recorded_at=datetime.now(UTC),
                )
            )
    reply = await coach.run("team overview")
    rows = str(reply.embeds[0]["description"]).splitlines()[2:]
    assert [r.split(" · ")[-1] for r in rows] == [
        "🩹 check-in today: 7/10 hamstring",
        "check-in 3 days ago: 4/10 knee",
        "check-in 2 days ago: 2/10 calf",
        "check-in today: 1/10",
    ]
    [(name, value)] = [
        (f["name"], f["value"]) for f in reply.embeds[0]["fields"] if f["name"].startswith("🩺")
    ]
    assert (name, value) == ("🩺 No check-in for 3 days (1)", "Bob")

    # An athlete who never checked in is shown so, and counted among those who have not.
    team.guild.add_member("erin")
    await running.actor(team.guild, "erin").run("log", kind="backward", amount="400m")
    reply = await coach.run("team overview")
    rows = str(reply.embeds[0]["description"]).splitlines()[2:]
    assert rows[-1].endswith(" · no check-in yet")
    [value] = [f["value"] for f in reply.embeds[0]["fields"] if f["name"].startswith("🩺")]
    assert value == "Bob, Erin"

    refused = await alice.run("team overview")
    assert refused.ephemeral and refused.text() == NOT_A_COACH and refused.embeds == []


async def test_a_team_that_never_checks_in_sees_no_checkin_columns(coach: Actor, alice: Actor) -> None:
    await alice.run("log", kind="backward", amount="400m")
    reply = await coach.run("team overview")
    rows = str(reply.embeds[0]["description"]).splitlines()[2:]
    assert rows == ["**Alice** · 400 m this week · last backward today"]
    [value] = [f["value"] for f in reply.embeds[0]["fields"] if f["name"].startswith("🩺")]
    assert value == "nobody on the team uses `/checkin` yet"


def test_a_page_of_the_longest_lines_and_three_full_lists_stays_within_an_embeds_limits() -> None:
    """Pure: the embed of a page whose every line and list is as long as they can be."""
    every_rule = HeavyDay(SUNDAY, (Rule.VOLUME, Rule.SPIKE), 1.0, 1.0, 1.0, 1.0)
    old = LatestCheckin(SUNDAY - timedelta(days=99_999), 10, Area.LOWER_BACK)
    quiet = SUNDAY - timedelta(days=99_999)
    # Half of them heavy yesterday, half quiet for ages (a quiet athlete cannot have been heavy), and
    # none checked in lately: every list is full.
    squad = [
        AthleteWeek(
            n,
            "\\" * 100 + str(n),
            123_456_789.0,
            quiet,
            SUNDAY if n % 2 else quiet,
            every_rule if n % 2 else None,
            old,
        )
        for n in range(300)
    ]
    page = overview_page(squad, SUNDAY, SUNDAY - timedelta(days=6), units=Units.IMPERIAL, timezone="x" * 64)
    embed = overview_embed(page)
    assert len(page.lines) == 20 and page.unchecked.count == 300
    assert page.heavy.count == page.quiet.count == 150
    assert len(embed.description or "") <= 4096
    assert all(len(f.value or "") <= 1024 for f in embed.fields)
    assert len(embed) <= 6000, len(embed)
