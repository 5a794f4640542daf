"""Slash commands, deferrals, buttons, autocomplete and the interaction protocol's rules, driven
through the emulator against a tiny discord.py bot."""

from __future__ import annotations

import pytest

from backrun_bot.sandbox.driver import NoResponse, actor
from backrun_bot.sandbox.emulator import DiscordEmulator
from tests.sandbox.conftest import DEADLINE, Seen, Team, TinyBot, eventually


async def test_the_bot_connects_and_syncs_its_commands(
    emulator: DiscordEmulator, team: Team, bot: TinyBot
) -> None:
    assert emulator.identify_count == 1 and emulator.resume_count == 0
    assert emulator.command_sync_count == 1
    names = {c["name"] for c in emulator.commands}
    assert names == {
        "echo",
        "slow",
        "sleepy",
        "twice",
        "buttons",
        "ping",
        "post",
        "admin",
        "fruit",
        "picture",
    }
    admin = next(c for c in emulator.commands if c["name"] == "admin")
    assert admin["default_member_permissions"] == str(1 << 5)
    assert [g.name for g in bot.guilds] == ["Team A"]
    guild = bot.get_guild(team.guild.id)
    assert guild is not None and guild.me is not None
    assert guild.get_channel(team.reminders.id) is not None
    closed = guild.get_channel(team.closed.id)
    assert closed is not None and not closed.permissions_for(guild.me).send_messages
    assert emulator.violations == []


async def test_a_command_round_trip(emulator: DiscordEmulator, team: Team, bot: TinyBot) -> None:
    alice = actor(emulator, team.guild, "alice")
    public = await alice.run("echo", text="hello there")
    assert public.content == "hello there" and not public.ephemeral
    hidden = await alice.run("echo", text="psst", hidden=True)
    assert hidden.ephemeral and hidden.text() == "psst"
    # Ephemeral replies are not in the channel; public ones are.
    assert [m.content for m in emulator.messages(team.general.id)] == ["hello there"]
    assert emulator.violations == []


async def test_the_client_refuses_what_discord_would_not_send(
    emulator: DiscordEmulator, team: Team, bot: TinyBot
) -> None:
    alice = actor(emulator, team.guild, "alice")
    with pytest.raises(ValueError, match="no command"):
        await alice.run("nope")
    with pytest.raises(ValueError, match="no option"):
        await alice.run("echo", text="x", loud=True)
    with pytest.raises(ValueError, match="required"):
        await alice.run("echo")
    with pytest.raises(TypeError):
        await alice.run("echo", text=5)
    with pytest.raises(ValueError, match="at most 100"):
        await alice.run("echo", text="x" * 101)
    with pytest.raises(ValueError, match="subcommand"):
        await alice.run("fruit")
    with pytest.raises(ValueError, match="choices"):
        await alice.run("fruit pick", name="apple", size=3)
    with pytest.raises(ValueError, match="at most 5"):
        await alice.run("fruit pick", name="apple", count=6)
    # A choice may be given by its name, numbers as typed text.
    reply = await alice.run("fruit pick", name="apple", size="Big", count="2")
    assert reply.content == "2x apple size 2"
    # run_raw sends it anyway (discord.py trusts Discord's client here and takes it).
    assert (await alice.run_raw("fruit pick", name="apple", count=6)).content == "6x apple size 1"
    assert emulator.violations == []


async def test_a_deferral_then_an_edit_or_a_follow_up(
    emulator: DiscordEmulator, team: Team, bot: TinyBot
) -> None:
    alice = actor(emulator, team.guild, "alice")
    edited = await alice.run("slow")
    assert edited.content == "thought about it" and edited.ephemeral
    followed = await alice.run("slow", followup=True)
    # The first follow-up after a deferral replaces the "thinking" message, as on Discord.
    assert followed.content == "thought (follow-up)" and followed.ephemeral
    assert followed.followups == []
    assert emulator.violations == []


async def test_buttons_update_the_message(emulator: DiscordEmulator, team: Team, bot: TinyBot) -> None:
    alice, bob = actor(emulator, team.guild, "alice"), actor(emulator, team.guild, "bob")
    logged = await alice.run("buttons")
    assert [b["label"] for b in logged.buttons()] == ["Undo", "Later"]
    undone = await bob.press(logged, "Undo")  # type 7: the message itself is updated
    assert undone.id == logged.id
    assert undone.content == "undone by bob" and undone.buttons() == []
    with pytest.raises(ValueError, match="no button"):
        await alice.press(undone, "Undo")
    later = await alice.press(await alice.run("buttons"), "Later")  # type 6, then an edit of @original
    assert later.content == "later it is"
    assert emulator.violations == []


async def test_autocomplete_returns_the_choices(emulator: DiscordEmulator, team: Team, bot: TinyBot) -> None:
    alice = actor(emulator, team.guild, "alice")
    choices = await alice.autocomplete("fruit pick", "name", "ap")
    assert [c["value"] for c in choices] == ["apple", "apricot"]
    assert emulator.violations == []


async def test_too_slow_is_no_response_and_the_late_callback_is_refused(
    emulator: DiscordEmulator, team: Team, bot: TinyBot
) -> None:
    alice = actor(emulator, team.guild, "alice")
    with pytest.raises(NoResponse, match="did not respond"):
        await alice.run("sleepy")
    await eventually(lambda: emulator.violations)
    assert len(emulator.violations) == 1
    assert f"past the {DEADLINE:g}s deadline" in emulator.violations[0]


async def test_a_second_callback_is_refused_and_recorded(
    emulator: DiscordEmulator, team: Team, bot: TinyBot, seen: Seen
) -> None:
    reply = await actor(emulator, team.guild, "alice").run("twice")
    assert reply.content == "once"
    await eventually(lambda: seen.second_callback_status is not None)
    assert seen.second_callback_status == 400
    assert len(emulator.violations) == 1 and "second callback" in emulator.violations[0]


async def test_commands_need_default_member_permissions_unless_overridden(
    emulator: DiscordEmulator, team: Team, bot: TinyBot
) -> None:
    bob, coach = actor(emulator, team.guild, "bob"), actor(emulator, team.guild, "coach")
    with pytest.raises(PermissionError):
        await bob.run("admin")
    assert (await coach.run("admin")).content == "admin ok"
    emulator.set_command_permission(team.guild, "admin", True)
    assert (await bob.run("admin")).content == "admin ok"
    emulator.set_command_permission(team.guild, "admin", False)
    with pytest.raises(PermissionError):
        await coach.run("admin")
