"""Channel messages through the emulator: permissions, schema checks, mentions, nonces, attachments."""

from __future__ import annotations

import io

import discord
import pytest

from backrun_bot.sandbox.driver import actor
from backrun_bot.sandbox.emulator import DiscordEmulator
from backrun_bot.sandbox.emulator import permissions as P
from tests.sandbox.conftest import Team, TinyBot, api


async def test_the_bot_posts_where_it_may_and_is_refused_where_it_may_not(
    emulator: DiscordEmulator, team: Team, bot: TinyBot
) -> None:
    coach = actor(emulator, team.guild, "coach")
    posted = await coach.run("post", channel=team.reminders, text="warm up!")
    assert posted.content.startswith("posted")
    message = await emulator.wait_for_message(team.reminders.id, timeout=2)
    assert message.content == "warm up!" and message.author.id == emulator.bot_user_id
    assert (await coach.run("post", channel=team.closed, text="hi")).content == "refused 403 50013"
    emulator.deny_bot(team.reminders)
    assert (await coach.run("post", channel=team.reminders, text="hi")).content == "refused 403 50013"
    emulator.remove_channel(team.general)
    assert await api(emulator, "POST", f"/channels/{team.general.id}/messages", {"content": "x"}) == (
        404,
        {"message": "Unknown Channel", "code": 10003},
    )
    with pytest.raises(ValueError, match="not a channel"):
        await coach.in_channel(team.reminders).run("post", channel=team.general, text="x")
    assert len(emulator.messages(team.reminders.id)) == 1
    assert emulator.violations == []


async def test_what_breaks_discords_schema_is_refused_and_recorded(
    emulator: DiscordEmulator, team: Team, bot: TinyBot
) -> None:
    coach = actor(emulator, team.guild, "coach")
    reply = await coach.run_raw("post", channel=team.reminders, text="x" * 2001)
    assert reply.content == "refused 400 50035"
    assert len(emulator.violations) == 1 and "content: Must be 2000 or fewer" in emulator.violations[0]

    status, body = await api(
        emulator, "POST", f"/channels/{team.reminders.id}/messages", {"embeds": [{"title": 5}]}
    )
    assert status == 400 and body["code"] == 50035
    assert body["errors"]["embeds"]["0"]["title"]["_errors"][0]["code"] == "BASE_TYPE_BAD_TYPE"
    assert "embeds.0.title" in emulator.violations[1]

    long_embed = {"embeds": [{"description": "d" * 4000}, {"description": "d" * 2001}]}
    status, body = await api(emulator, "POST", f"/channels/{team.reminders.id}/messages", long_embed)
    assert status == 400 and "6000" in emulator.violations[2]
    status, _ = await api(
        emulator, "POST", f"/channels/{team.reminders.id}/messages", {"nonce": "n" * 26, "content": "x"}
    )
    assert status == 400 and "nonce" in emulator.violations[3]
    assert (await api(emulator, "GET", "/no/such/route"))[0] == 404
    assert "no such route" in emulator.violations[4]
    assert emulator.messages(team.reminders.id) == []


async def test_mentions_ping_only_what_allowed_mentions_allows(
    emulator: DiscordEmulator, team: Team, bot: TinyBot
) -> None:
    alice, bob = actor(emulator, team.guild, "alice"), actor(emulator, team.guild, "bob")
    role = team.guild.add_role("Sprinters", mentionable=True)
    reply = await alice.run("ping", who=bob, note=f"<@{alice.user_id}> <@&{role}> @here")
    assert reply.mentions == [bob.user_id]  # allowed_mentions(users=[bob]): only bob
    assert not reply.mention_everyone and reply.mention_roles == []
    assert reply.allowed_mentions == {"parse": [], "users": [bob.user_id]}
    # The bot-wide AllowedMentions.none(): nothing typed by a member can ping.
    echoed = await alice.run("echo", text=f"@everyone <@{bob.user_id}> <@&{role}>")
    assert echoed.mentions == [] and echoed.mention_roles == [] and not echoed.mention_everyone
    # Without allowed_mentions Discord pings everything it parses (@everyone may mention everyone).
    status, raw = await api(
        emulator,
        "POST",
        f"/channels/{team.reminders.id}/messages",
        {"content": f"@everyone <@!{bob.user_id}> <@&{role}>"},
    )
    assert status == 200 and raw["mention_everyone"] is True
    assert [u["id"] for u in raw["mentions"]] == [str(bob.user_id)] and raw["mention_roles"] == [str(role)]
    status, raw = await api(
        emulator,
        "POST",
        f"/channels/{team.reminders.id}/messages",
        {
            "content": f"@everyone <@{bob.user_id}>",
            "allowed_mentions": {"parse": ["users", "everyone"], "users": [1]},
        },
    )
    assert status == 400 and "mutually exclusive" in emulator.violations[-1]


async def test_a_repeated_nonce_returns_the_first_message(
    emulator: DiscordEmulator, team: Team, bot: TinyBot
) -> None:
    channel = bot.get_channel(team.reminders.id)
    assert isinstance(channel, discord.TextChannel)
    first = await channel.send("reminder", nonce="warmup-2026-03-09")  # discord.py sets enforce_nonce
    again = await channel.send("reminder", nonce="warmup-2026-03-09")
    other = await channel.send("reminder", nonce="cooldown-2026-03-09")
    assert first.id == again.id != other.id
    assert len(emulator.messages(team.reminders.id)) == 2
    assert emulator.violations == []


async def test_attachments_and_message_edits(emulator: DiscordEmulator, team: Team, bot: TinyBot) -> None:
    channel = bot.get_channel(team.reminders.id)
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("plan", file=discord.File(io.BytesIO(b"week 1"), "plan.txt"))  # multipart
    assert [a.filename for a in sent.attachments] == ["plan.txt"] and sent.attachments[0].size == 6
    edited = await sent.edit(content="plan v2", embed=discord.Embed(title="Week", description="backward"))
    assert edited.content == "plan v2" and edited.edited_at is not None
    fetched = await channel.fetch_message(sent.id)
    assert fetched.embeds[0].title == "Week" and [a.filename for a in fetched.attachments] == ["plan.txt"]
    await fetched.delete()
    assert emulator.messages(team.reminders.id) == []
    assert emulator.violations == []


async def test_wait_for_message_returns_each_message_once(
    emulator: DiscordEmulator, team: Team, bot: TinyBot
) -> None:
    channel = bot.get_channel(team.reminders.id)
    assert isinstance(channel, discord.TextChannel)
    await channel.send("one")
    await channel.send("two")
    assert (await emulator.wait_for_message(team.reminders.id, timeout=1)).content == "one"
    assert (
        await emulator.wait_for_message(team.reminders.id, lambda m: m.content == "two", timeout=1)
    ).content == "two"
    with pytest.raises(TimeoutError):
        await emulator.wait_for_message(team.reminders.id, timeout=0.1)


async def test_history_lists_newest_first_after_gives_the_next_ones_and_no_history_lists_nothing(
    emulator: DiscordEmulator, team: Team, bot: TinyBot
) -> None:
    path = f"/channels/{team.reminders.id}/messages"
    ids = []
    for i in range(5):
        status, body = await api(emulator, "POST", path, {"content": f"m{i}"})
        assert status == 200
        ids.append(int(body["id"]))

    def contents(listed: object) -> list[str]:
        assert isinstance(listed, list)
        return [m["content"] for m in listed]

    assert contents((await api(emulator, "GET", f"{path}?limit=2"))[1]) == ["m4", "m3"]
    # after=: the messages right after it (not the newest ones), still newest first, as Discord does
    # (discord.py's history(after=..., oldest_first=True) pages on that).
    assert contents((await api(emulator, "GET", f"{path}?after={ids[0]}&limit=2"))[1]) == ["m2", "m1"]
    assert contents((await api(emulator, "GET", f"{path}?before={ids[4]}&limit=2"))[1]) == ["m3", "m2"]

    # Discord's documentation: without Read Message History "no messages will be returned" (200).
    emulator.deny_bot(team.reminders, P.READ_MESSAGE_HISTORY)
    assert await api(emulator, "GET", path) == (200, [])
