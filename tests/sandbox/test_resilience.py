"""Discord misbehaving: rate limits and server errors waited out, connections resumed, sessions
invalidated, a wrong token refused, and a second bot start after the first one stopped."""

from __future__ import annotations

import asyncio

import discord
import pytest

from backrun_bot.sandbox.driver import actor
from backrun_bot.sandbox.emulator import DiscordEmulator
from tests.sandbox.conftest import Seen, Team, TinyBot, eventually, running_bot


async def test_a_429_is_waited_out_by_discord_py(emulator: DiscordEmulator, team: Team, bot: TinyBot) -> None:
    coach = actor(emulator, team.guild, "coach")
    emulator.faults.rate_limit("POST", r"/channels/\d+/messages", retry_after=0.3)
    emulator.faults.rate_limit("POST", r"/interactions/.*/callback", retry_after=0.1)  # within the deadline
    loop = asyncio.get_running_loop()
    started = loop.time()
    reply = await coach.run("post", channel=team.reminders, text="after the limit")
    assert reply.content.startswith("posted")
    assert loop.time() - started >= 0.4
    assert emulator.faults.pending == 0 and emulator.faults.injected == 2
    assert [m.content for m in emulator.messages(team.reminders.id)] == ["after the limit"]
    assert emulator.violations == []


async def test_a_global_429_and_its_headers(emulator: DiscordEmulator, team: Team, bot: TinyBot) -> None:
    import aiohttp  # noqa: PLC0415

    emulator.faults.rate_limit("GET", "/users/@me", retry_after=0.25, global_=True)
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            emulator.api_url + "/users/@me", headers={"Authorization": f"Bot {emulator.token}"}
        ) as response,
    ):
        assert response.status == 429
        assert response.headers["Via"] == "1.1 google" and response.headers["X-RateLimit-Global"] == "true"
        assert response.headers["Retry-After"] == "1" and response.headers["X-RateLimit-Remaining"] == "0"
        assert await response.json() == {
            "message": "You are being rate limited.",
            "retry_after": 0.25,
            "global": True,
            "code": 0,
        }


async def test_a_502_is_retried(emulator: DiscordEmulator, team: Team, bot: TinyBot) -> None:
    emulator.faults.server_error("POST", r"/channels/\d+/messages", status=502)
    channel = bot.get_channel(team.reminders.id)
    assert isinstance(channel, discord.TextChannel)
    await channel.send("eventually")  # discord.py sleeps 1 s and retries
    # The first POST really got the 502 (and nothing else did), and the retry delivered it, once.
    fired = [(f.method, f.path, f.status) for f in emulator.faults.fired]
    assert fired == [("POST", f"/channels/{team.reminders.id}/messages", 502)]
    assert emulator.faults.pending == 0
    assert [m.content for m in emulator.messages(team.reminders.id)] == ["eventually"]


async def test_a_dropped_connection_resumes_and_replays_what_was_missed(
    emulator: DiscordEmulator, team: Team, bot: TinyBot
) -> None:
    await emulator.drop_gateway()
    late = team.guild.add_channel("late")  # announced while the bot is away
    await eventually(lambda: emulator.resume_count == 1)
    await emulator.wait_until_ready(timeout=2)
    await eventually(lambda: bot.get_channel(late.id) is not None)
    assert emulator.identify_count == 1
    assert (await actor(emulator, team.guild, "alice").run("echo", text="still here")).content == "still here"
    assert emulator.violations == []


async def test_an_invalidated_session_identifies_again(
    emulator: DiscordEmulator, team: Team, bot: TinyBot
) -> None:
    await emulator.invalidate_session()
    await eventually(lambda: emulator.identify_count == 2)
    await emulator.wait_until_ready(timeout=2)
    assert (await actor(emulator, team.guild, "alice").run("echo", text="again")).content == "again"
    await emulator.request_reconnect()  # op 7: reconnect and resume
    await eventually(lambda: emulator.resume_count == 1)
    assert emulator.identify_count == 2
    assert emulator.violations == []


async def test_a_wrong_token_is_a_login_failure(emulator: DiscordEmulator, team: Team) -> None:
    bot = TinyBot(Seen())
    with pytest.raises(discord.LoginFailure):
        await bot.login("not-the-token")
    await bot.close()
    assert emulator.violations == []


async def test_a_second_bot_after_the_first_stopped(emulator: DiscordEmulator, team: Team) -> None:
    async with running_bot(emulator, Seen()):
        pass
    async with running_bot(emulator, Seen()) as second:
        assert emulator.identify_count == 2
        assert emulator.command_sync_count == 2  # the tiny bot syncs on every start
        assert second.get_guild(team.guild.id) is not None
        assert (await actor(emulator, team.guild, "bob").run("echo", text="hi")).content == "hi"
    with pytest.raises(TimeoutError):  # no bot now
        await emulator.wait_until_ready(timeout=0.2)
    assert emulator.violations == []
