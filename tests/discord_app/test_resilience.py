"""Discord misbehaving as it does in production: the bot resumes, re-identifies and retries."""

from __future__ import annotations

import asyncio

from backrun_bot.sandbox.driver import Actor
from backrun_bot.sandbox.emulator import DiscordEmulator


async def wait_for(condition: object, timeout: float = 15) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.05)


async def test_a_dropped_connection_is_resumed(alice: Actor, emulator: DiscordEmulator) -> None:
    resumes = emulator.resume_count
    await emulator.drop_gateway()
    await wait_for(lambda: emulator.resume_count > resumes)
    reply = await alice.run("log", kind="backward", amount="400m")
    assert "**400 m**" in reply.text()
    assert emulator.identify_count == 1  # resumed, not a new session


async def test_an_invalidated_session_identifies_again(alice: Actor, emulator: DiscordEmulator) -> None:
    await emulator.invalidate_session()
    await wait_for(lambda: emulator.identify_count == 2)
    reply = await alice.run("history")
    assert "No entries yet" in reply.text()


async def test_rate_limits_and_server_errors_on_replies_are_retried(
    alice: Actor, emulator: DiscordEmulator
) -> None:
    # A 429 on a follow-up edit and a 502 on a channel read are waited out / retried by discord.py;
    # the interaction callback itself must arrive within 3 s, so it gets a short retry_after.
    emulator.faults.rate_limit("POST", r"/interactions/.*/callback", retry_after=0.3)
    reply = await alice.run("log", kind="backward", amount="400m")
    assert "**400 m**" in reply.text()
    emulator.faults.server_error("POST", r"/interactions/.*/callback", status=502)
    reply = await alice.run("history")
    assert "400 m" in reply.text()
