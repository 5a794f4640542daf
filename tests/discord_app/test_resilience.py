"""Discord misbehaving as it does in production: the bot resumes, re-identifies and retries."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from backrun_bot.sandbox.driver import Actor
from backrun_bot.sandbox.emulator import DiscordEmulator


async def wait_for(condition: Callable[[], bool], timeout: float = 15) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
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
    # A command's reply is its interaction callback. discord.py waits out a 429 on it (a short
    # retry_after, so the reply still arrives within Discord's 3 s) and retries a 502 after 1 s.
    # Only the HTTP call is repeated: each entry is stored once.
    callback = r"/interactions/\d+/[^/]+/callback"
    emulator.faults.rate_limit("POST", callback, retry_after=0.3)
    reply = await alice.run("log", kind="backward", amount="400m")
    assert "**400 m** backward run" in reply.text()
    emulator.faults.server_error("POST", callback, status=502)
    reply = await alice.run("log", kind="backpedal", amount="200m")
    assert "**200 m** backpedal" in reply.text()

    assert [(f.method, f.status) for f in emulator.faults.fired] == [("POST", 429), ("POST", 502)]
    assert all(f.path.endswith("/callback") for f in emulator.faults.fired)
    assert emulator.faults.pending == 0
    history = (await alice.run("history")).text()
    assert history.count("**400 m**") == 1 and history.count("**200 m**") == 1
