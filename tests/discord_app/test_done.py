"""The Done button under the warmup and the cooldown (issue 11), through the emulator: what one press
logs, once only (a double press, after a restart), the whole-Done Undo, the day off, the refusals,
and the count the reminder shows (edited at most once every 10 s).

The two-copies race on PostgreSQL is in test_done_copies.py.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select, update

from backrun_bot.discord_app.views import DONE_LABEL, done_custom_id
from backrun_bot.domain.drills import plan_for
from backrun_bot.domain.schedule import Slot
from backrun_bot.sandbox.driver import Actor, Reply
from backrun_bot.sandbox.emulator import Channel, DiscordEmulator, Message
from backrun_bot.sandbox.harness import Sandbox
from backrun_bot.storage.engine import create_engine, make_sessionmaker
from backrun_bot.storage.models import Athlete, DonePress, RunSession, Team
from tests.discord_app.conftest import TeamFixture

pytestmark = pytest.mark.asyncio

MANAGE_GUILD = 1 << 5
MONDAY = date(2026, 3, 9)
JUST_BEFORE_SEVEN = datetime(2026, 3, 9, 6, 59, 57, tzinfo=UTC)
JUST_BEFORE_NINETEEN = datetime(2026, 3, 9, 18, 59, 57, tzinfo=UTC)


@pytest.fixture
def coach(running: Sandbox, team: TeamFixture) -> Actor:
    team.guild.add_member("coach", permissions=MANAGE_GUILD)
    return running.actor(team.guild, "coach")


@pytest.fixture
def channel(team: TeamFixture) -> Channel:
    return team.guild.add_channel("training")


async def reminder(
    coach: Actor, channel: Channel, emulator: DiscordEmulator, clock: time_machine.Traveller, slot: Slot
) -> Reply:
    """Monday's real ``slot`` reminder, as posted in ``channel``."""
    if slot is Slot.WARMUP:
        clock.move_to(JUST_BEFORE_SEVEN)
        await coach.run("reminders set", channel=channel, timezone="UTC", warmup="07:00", weekly="off")
    else:
        clock.move_to(JUST_BEFORE_NINETEEN)
        await coach.run("reminders set", channel=channel, timezone="UTC", cooldown="19:00", weekly="off")
    message = await emulator.wait_for_message(channel.id, timeout=10)
    await asyncio.sleep(0.3)  # the ledger row is marked sent once the message is in
    return Reply.of(message, emulator)


async def entries(sandbox: Sandbox, user_id: int | None = None) -> list[tuple[str, float, date]]:
    """Every entry (of ``user_id``'s athlete, if given) as (kind, metres, day), oldest first."""
    engine = create_engine(sandbox.settings.database_url)
    try:
        async with make_sessionmaker(engine)() as s:
            query = select(RunSession).order_by(RunSession.id)
            rows = list(await s.scalars(query))
            if user_id is not None:
                mine = await s.scalar(select(Athlete.id).where(Athlete.user_id == user_id))
                rows = [r for r in rows if r.athlete_id == mine]
            return [(r.kind, r.effective_meters, r.day) for r in rows]
    finally:
        await engine.dispose()


def expected(team: TeamFixture, day: date, slot: Slot) -> list[tuple[str, float, date]]:
    """What the reminder's own steps say a Done logs: each backward step with a distance."""
    steps = plan_for(team.guild.id, day).backward_steps(slot)
    return [
        (s.backward.kind.value, float(s.backward.metres), day)
        for s in steps
        if s.backward is not None and s.backward.metres is not None
    ]


async def test_done_on_the_warmup_logs_its_backward_parts_once(
    coach: Actor,
    alice: Actor,
    channel: Channel,
    team: TeamFixture,
    emulator: DiscordEmulator,
    clock: time_machine.Traveller,
    running: Sandbox,
) -> None:
    warmup = await reminder(coach, channel, emulator, clock, Slot.WARMUP)
    labels = [b["label"] for b in warmup.buttons()]
    assert labels[0].startswith("Done") and "My plan" in labels
    assert len(done_custom_id(2**64 - 1, MONDAY, Slot.COOLDOWN)) <= 100  # Discord's custom_id limit

    # A double tap: two presses at once.
    first, second = await asyncio.gather(alice.press(warmup, DONE_LABEL), alice.press(warmup, DONE_LABEL))

    assert first.ephemeral and second.ephemeral
    logged = [r for r in (first, second) if r.text().startswith("✅ Logged")]
    refused = [r for r in (first, second) if "already pressed Done" in r.text()]
    assert len(logged) == 1 and len(refused) == 1, (first.text(), second.text())
    want = expected(team, MONDAY, Slot.WARMUP)
    assert await entries(running) == want
    # The lap of backward skipping and the backpedal strides (4 × 30, 40 or 50 m) are always there.
    assert ("backward-skip", 400.0, MONDAY) in want
    assert any(kind == "backpedal" and metres in (120.0, 160.0, 200.0) for kind, metres, _ in want)
    assert "400 m backward skip" in logged[0].text()
    assert [b["label"] for b in logged[0].buttons()] == ["Undo"]
    # The entries are /log's: in /history, dated the reminder's day, and in /stats.
    history = (await alice.run("history")).text()
    assert history.count("2026-03-09") == len(want) and "backward skip" in history
    stats = (await alice.run("stats")).text()
    assert "backward skip" in stats.lower()

    # After a restart the same button still answers, and still logs nothing more.
    await running.stop_bot()
    await running.start_bot()
    again = await alice.press(warmup, DONE_LABEL)
    assert again.ephemeral and "already pressed Done" in again.text()
    assert await entries(running) == want


async def test_done_on_the_cooldown_logs_run_jog_and_walk(
    coach: Actor,
    bob: Actor,
    channel: Channel,
    team: TeamFixture,
    emulator: DiscordEmulator,
    clock: time_machine.Traveller,
    running: Sandbox,
) -> None:
    cooldown = await reminder(coach, channel, emulator, clock, Slot.COOLDOWN)
    pressed = await bob.press(cooldown, DONE_LABEL)
    assert pressed.ephemeral and pressed.text().startswith("✅ Logged the cooldown of Mon 9 Mar")
    kinds = [kind for kind, _, _ in await entries(running)]
    assert kinds == ["backward", "backward-jog", "backward-walk"]
    assert await entries(running) == expected(team, MONDAY, Slot.COOLDOWN)


async def test_a_press_after_a_restart_logs(
    coach: Actor,
    alice: Actor,
    channel: Channel,
    team: TeamFixture,
    emulator: DiscordEmulator,
    clock: time_machine.Traveller,
    running: Sandbox,
) -> None:
    warmup = await reminder(coach, channel, emulator, clock, Slot.WARMUP)
    await running.stop_bot()
    await running.start_bot()
    pressed = await alice.press(warmup, DONE_LABEL)
    assert pressed.text().startswith("✅ Logged")
    assert await entries(running) == expected(team, MONDAY, Slot.WARMUP)


async def test_undo_takes_back_the_whole_done_and_done_works_again(
    coach: Actor,
    alice: Actor,
    channel: Channel,
    team: TeamFixture,
    emulator: DiscordEmulator,
    clock: time_machine.Traveller,
    running: Sandbox,
) -> None:
    warmup = await reminder(coach, channel, emulator, clock, Slot.WARMUP)
    await alice.run("log", kind="forward", amount="3 km")  # not the Done's: it stays
    pressed = await alice.press(warmup, DONE_LABEL)
    undone = await alice.press(pressed, "Undo")
    assert "Undone" in undone.text() and "press Done again" in undone.text()
    assert undone.buttons() == []
    assert await entries(running) == [("forward", 3000.0, MONDAY)]

    again = await alice.press(warmup, DONE_LABEL)
    assert again.text().startswith("✅ Logged")
    assert await entries(running) == [("forward", 3000.0, MONDAY), *expected(team, MONDAY, Slot.WARMUP)]


async def test_on_a_suggested_day_off_done_logs_nothing_and_says_why(
    coach: Actor,
    alice: Actor,
    bob: Actor,
    channel: Channel,
    emulator: DiscordEmulator,
    clock: time_machine.Traveller,
    running: Sandbox,
) -> None:
    clock.move_to(JUST_BEFORE_SEVEN - timedelta(minutes=1))
    await alice.run("log", kind="backward", amount="2 km", date="yesterday")
    warmup = await reminder(coach, channel, emulator, clock, Slot.WARMUP)

    rest = await alice.press(warmup, DONE_LABEL)
    assert rest.ephemeral and "Nothing backward was logged" in rest.text()
    assert "2 km of backward running" in rest.text()  # why: the same rule and words as /plan
    assert rest.buttons() == []
    assert [e for e in await entries(running, alice.user_id) if e[2] == MONDAY] == []
    logged = await bob.press(warmup, DONE_LABEL)
    assert logged.text().startswith("✅ Logged")


async def test_after_a_sore_checkin_done_logs_nothing_and_says_why(
    coach: Actor,
    alice: Actor,
    channel: Channel,
    emulator: DiscordEmulator,
    clock: time_machine.Traveller,
    running: Sandbox,
) -> None:
    """The check-in's day off (issue 11), after the warmup went out as well as before it."""
    clock.move_to(JUST_BEFORE_SEVEN - timedelta(minutes=1))
    warmup = await reminder(coach, channel, emulator, clock, Slot.WARMUP)
    await alice.run("checkin", soreness=7, area="hamstring")
    rest = await alice.press(warmup, DONE_LABEL)
    assert rest.ephemeral and "Nothing backward was logged" in rest.text()
    assert "soreness 7/10 in the hamstring at your check-in" in rest.text()
    assert await entries(running, alice.user_id) == []


async def test_a_button_naming_another_server_logs_nothing(
    coach: Actor,
    alice: Actor,
    channel: Channel,
    other_team: TeamFixture,
    emulator: DiscordEmulator,
    clock: time_machine.Traveller,
    running: Sandbox,
) -> None:
    warmup = await reminder(coach, channel, emulator, clock, Slot.WARMUP)
    # What a modified client (or a copied message) could send: the custom id of another server's Done.
    stored = emulator.world.messages[warmup.id]
    for row in stored.components:
        for button in row.get("components", []):
            if button.get("label") == DONE_LABEL:
                button["custom_id"] = done_custom_id(other_team.guild.id, MONDAY, Slot.WARMUP)
    refused = await alice.press(warmup, DONE_LABEL)
    assert refused.ephemeral and "another server" in refused.text()
    assert await entries(running) == []


async def test_a_reminder_more_than_two_days_back_logs_nothing(
    coach: Actor,
    alice: Actor,
    channel: Channel,
    emulator: DiscordEmulator,
    clock: time_machine.Traveller,
    running: Sandbox,
) -> None:
    warmup = await reminder(coach, channel, emulator, clock, Slot.WARMUP)
    clock.move_to(datetime(2026, 3, 11, 23, 0, tzinfo=UTC))  # Wednesday: two days back still works
    assert (await alice.press(warmup, DONE_LABEL)).text().startswith("✅ Logged")
    bob = running.actor(alice.guild, "bob")
    clock.move_to(datetime(2026, 3, 12, 0, 30, tzinfo=UTC))  # Thursday: three days back
    refused = await bob.press(warmup, DONE_LABEL)
    assert refused.ephemeral and "Done works for 2 days" in refused.text() and "/log" in refused.text()
    assert len(await entries(running, bob.user_id)) == 0


async def test_a_team_whose_data_was_deleted_logs_nothing(
    coach: Actor,
    alice: Actor,
    channel: Channel,
    team: TeamFixture,
    emulator: DiscordEmulator,
    clock: time_machine.Traveller,
    running: Sandbox,
) -> None:
    warmup = await reminder(coach, channel, emulator, clock, Slot.WARMUP)
    # The bot was removed long enough ago, and the daily job deleted the team's data.
    engine = create_engine(running.settings.database_url)
    try:
        async with make_sessionmaker(engine).begin() as s:
            removed = datetime.now(UTC) - timedelta(days=40)
            await s.execute(update(Team).where(Team.id == team.guild.id).values(removed_at=removed))
    finally:
        await engine.dispose()
    assert running.bot is not None
    assert await running.bot.retention.purge() == 1

    refused = await alice.press(warmup, DONE_LABEL)
    assert refused.ephemeral and "data was deleted" in refused.text()
    engine = create_engine(running.settings.database_url)
    try:
        async with make_sessionmaker(engine)() as s:
            assert await s.get(Team, team.guild.id) is None  # the press made no team again
            assert await s.scalar(select(func.count()).select_from(RunSession)) == 0
    finally:
        await engine.dispose()


async def test_a_reminders_test_message_has_no_done_button(
    coach: Actor, channel: Channel, emulator: DiscordEmulator, running: Sandbox
) -> None:
    await coach.run("reminders set", channel=channel)
    await coach.run("reminders test", slot="warmup")
    message = await emulator.wait_for_message(channel.id, timeout=10)
    assert [b["label"] for b in Reply.of(message, emulator).buttons()] == ["My plan"]


async def test_fifty_presses_in_five_seconds_make_a_few_edits_and_the_right_count(
    coach: Actor,
    channel: Channel,
    team: TeamFixture,
    emulator: DiscordEmulator,
    clock: time_machine.Traveller,
    running: Sandbox,
) -> None:
    """The count edit waits out 10 s between edits of one message, whatever the number of presses:
    50 presses over 5 s make at most 2 edits (one at once, one when the 10 s are over), and the
    last shows all 50. The edit keeps the text, the buttons, and pings nobody."""
    clock.move_to(JUST_BEFORE_SEVEN - timedelta(minutes=1))
    # A heavy day yesterday: the warmup pings Carol (and her Done logs nothing).
    carol = running.actor(team.guild, "carol")
    await carol.run("log", kind="backward", amount="2 km", date="yesterday")
    warmup = await reminder(coach, channel, emulator, clock, Slot.WARMUP)
    assert warmup.mentions == [carol.user_id]
    edits: list[Message] = []
    stop = emulator.on_message(lambda m, created: None if created or m.id != warmup.id else edits.append(m))
    athletes = [running.actor(team.guild, f"runner{n}") for n in range(50)]

    async def press(n: int, athlete: Actor) -> Reply:
        await asyncio.sleep(n * 0.1)
        return await athlete.press(warmup, DONE_LABEL)

    try:
        replies = await asyncio.gather(*(press(n, a) for n, a in enumerate(athletes)))
        assert all(r.text().startswith("✅ Logged") for r in replies)
        await asyncio.sleep(12)  # the last edit comes 10 s after the first
    finally:
        stop()

    assert 1 <= len(edits) <= 2, [e.content[-30:] for e in edits]
    final = emulator.world.messages[warmup.id]
    assert final.content == f"{warmup.content}\n\n✅ 50 athletes done"
    assert [b["label"] for b in Reply.of(final, emulator).buttons()] == [b["label"] for b in warmup.buttons()]
    assert final.mentions == [carol.user_id] and not final.mention_everyone and final.mention_roles == []
    assert running.bot is not None
    async with running.bot.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(DonePress)) == 50
