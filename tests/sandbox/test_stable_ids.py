"""``DiscordEmulator(stable_ids=True)``: the same world, with the same ids, in every run."""

from __future__ import annotations

from datetime import UTC, datetime

import discord

from backrun_bot.sandbox.emulator import DiscordEmulator
from backrun_bot.sandbox.emulator.snowflake import STABLE_EPOCH, snowflake_time


def world_ids(
    emulator: DiscordEmulator, *, channels: tuple[str, ...] = ("reminders", "closed")
) -> dict[str, int]:
    guild = emulator.add_guild("Backrun Sandbox", owner_name="coach")
    for name in ("alice", "bob"):
        guild.add_member(name)
    role = guild.add_role("Sprinters")
    added = {name: guild.add_channel(name).id for name in channels}
    members = {m.name: m.user_id for m in guild.members.values() if not m.user.bot}
    return {
        "guild": guild.id,
        "general": guild.channels["general"].id,
        "role": role,
        "bot role": guild.roles["Backrun"],
        **{f"#{name}": channel_id for name, channel_id in added.items()},
        **members,
    }


def test_two_stable_emulators_give_everything_the_same_id() -> None:
    first = world_ids(DiscordEmulator(stable_ids=True))
    second = world_ids(DiscordEmulator(stable_ids=True), channels=("closed", "reminders"))  # other order
    assert first == second
    assert len(set(first.values())) == len(first)  # and no two things share one


def test_stable_ids_are_snowflakes_of_a_fixed_past_day() -> None:
    ids = world_ids(DiscordEmulator(stable_ids=True))
    for value in ids.values():
        made = snowflake_time(value)
        assert made.date() == STABLE_EPOCH.date()
        assert discord.utils.snowflake_time(value) == made  # what discord.py's created_at says
    assert max(ids.values()) < discord.utils.time_snowflake(datetime.now(UTC))  # before any message


def test_ids_are_time_based_unless_asked() -> None:
    for value in world_ids(DiscordEmulator()).values():
        assert abs((snowflake_time(value) - datetime.now(UTC)).total_seconds()) < 5


def test_messages_and_interactions_keep_time_based_ids() -> None:
    emulator = DiscordEmulator(stable_ids=True)
    world_ids(emulator)
    made = snowflake_time(emulator.world.snowflakes.next())
    assert abs((made - datetime.now(UTC)).total_seconds()) < 5


def test_the_same_name_twice_gets_a_second_id() -> None:
    emulator = DiscordEmulator(stable_ids=True)
    assert emulator.add_guild("Team").id != emulator.add_guild("Team").id
