"""The emulator's global rate limit (``ratelimit.py``): N requests per second per bot token, Discord's
429 with its body and headers beyond that, interaction callbacks and webhooks exempt; on by default
at Discord's 50, and it can be switched off.

The limit's clock is replaced by one the test moves, so which request is refused is decided by the
test, not by how fast the machine is.
"""

from __future__ import annotations

import asyncio

import aiohttp
import discord

from backrun_bot.sandbox.driver import actor
from backrun_bot.sandbox.emulator import DiscordEmulator
from backrun_bot.sandbox.emulator.ratelimit import DISCORD_GLOBAL_LIMIT, is_exempt
from tests.sandbox.conftest import Team, TinyBot, eventually


class Clock:
    """The limit's clock: still until the test moves it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def raw(
    emulator: DiscordEmulator, path: str, *, token: bool = True
) -> tuple[int, dict[str, str], object]:
    """GET ``path`` as a bot that skipped discord.py would: status, headers, JSON body."""
    headers = {"Authorization": f"Bot {emulator.token}"} if token else {}
    async with (
        aiohttp.ClientSession() as session,
        session.get(emulator.api_url + path, headers=headers) as response,
    ):
        return response.status, dict(response.headers), await response.json()


async def test_50_per_second_by_default_and_none_once_off(emulator: DiscordEmulator, team: Team) -> None:
    assert emulator.global_limit.per_second == DISCORD_GLOBAL_LIMIT == 50
    emulator.global_limit.clock = Clock()  # every request at the same instant
    statuses = [(await raw(emulator, "/users/@me"))[0] for _ in range(DISCORD_GLOBAL_LIMIT + 2)]
    assert statuses == [200] * DISCORD_GLOBAL_LIMIT + [429, 429]
    assert emulator.global_limit.admitted == DISCORD_GLOBAL_LIMIT == emulator.global_limit.peak
    emulator.global_limit.disable()
    statuses = [(await raw(emulator, "/users/@me"))[0] for _ in range(DISCORD_GLOBAL_LIMIT + 5)]
    assert statuses == [200] * (DISCORD_GLOBAL_LIMIT + 5) and emulator.global_limit.given == 2
    assert not DiscordEmulator(global_rate_limit=None).global_limit.enabled


async def test_beyond_the_limit_discords_global_429_until_the_second_has_passed(
    emulator: DiscordEmulator, team: Team
) -> None:
    clock = Clock()
    emulator.global_limit.clock = clock
    emulator.global_limit.enable(3)
    for _ in range(3):
        assert (await raw(emulator, "/users/@me"))[0] == 200
        clock.now += 0.25  # at 1000.0, 1000.25 and 1000.5
    status, headers, body = await raw(emulator, f"/channels/{team.general.id}")  # any route counts
    assert status == 429
    assert body == {"message": "You are being rate limited.", "retry_after": 0.25, "global": True}
    assert headers["X-RateLimit-Global"] == "true" and headers["X-RateLimit-Scope"] == "global"
    assert headers["Retry-After"] == "1"  # whole seconds, rounded up
    assert headers["Via"] == "1.1 google"  # or discord.py takes it for a Cloudflare ban
    assert headers["Content-Type"] == "application/json"
    clock.now += 0.2  # 1000.95: the first request is still within the last second
    assert (await raw(emulator, "/users/@me"))[2] == {
        "message": "You are being rate limited.",
        "retry_after": 0.05,
        "global": True,
    }
    clock.now += 0.05  # 1001.0: the first one has left the window (refusals never entered it)
    assert (await raw(emulator, "/users/@me"))[0] == 200
    assert (await raw(emulator, "/users/@me"))[0] == 429
    refused = emulator.global_limit.refused
    assert [(r.method, r.path) for r in refused] == [
        ("GET", f"/channels/{team.general.id}"),
        ("GET", "/users/@me"),
        ("GET", "/users/@me"),
    ]
    assert emulator.global_limit.given == 3
    assert emulator.faults.injected == 0  # the limit is no fault: those stay the test's own


async def test_the_limit_is_per_token_and_per_address_without_one(
    emulator: DiscordEmulator, team: Team
) -> None:
    emulator.global_limit.clock = Clock()
    emulator.global_limit.enable(1)
    assert (await raw(emulator, "/users/@me"))[0] == 200
    assert (await raw(emulator, "/gateway", token=False))[0] == 200  # the address's own budget
    assert (await raw(emulator, "/gateway", token=False))[0] == 429
    assert (await raw(emulator, "/users/@me"))[0] == 429


def test_the_interaction_endpoints_are_exempt() -> None:
    assert is_exempt("/interactions/{interaction_id}/{interaction_token}/callback")
    assert is_exempt("/webhooks/{webhook_id}/{webhook_token}")
    assert is_exempt("/webhooks/{webhook_id}/{webhook_token}/messages/@original")
    assert not is_exempt("/channels/{channel_id}/messages")
    assert not is_exempt("/applications/{application_id}/commands")


async def test_replies_to_interactions_go_through_with_the_budget_spent(
    emulator: DiscordEmulator, team: Team, bot: TinyBot
) -> None:
    """Callbacks, deferred responses and follow-ups (the interaction webhook) are not counted, as at
    Discord: a bot busy at its limit still answers every command."""
    emulator.global_limit.clock = Clock()
    emulator.global_limit.enable(1)
    assert (await raw(emulator, "/users/@me"))[0] == 200  # the second's one request
    admitted = emulator.global_limit.admitted
    coach = actor(emulator, team.guild, "coach")
    for n in range(3):
        assert (await coach.run("echo", text=f"hi {n}")).content == f"hi {n}"  # the callback
    assert (await coach.run("slow")).content == "thought about it"  # deferred, then PATCH @original
    assert (await coach.run("slow", followup=True)).content == "thought (follow-up)"  # POST webhook
    buttons = await coach.run("buttons")
    assert (await coach.press(buttons, "Undo")).content == "undone by coach"  # UPDATE_MESSAGE
    assert emulator.global_limit.given == 0 and emulator.global_limit.admitted == admitted
    assert (await raw(emulator, "/users/@me"))[0] == 429  # while REST stays limited
    assert emulator.violations == []


async def test_discord_py_waits_out_the_global_429_and_sends_once(
    emulator: DiscordEmulator, team: Team, bot: TinyBot
) -> None:
    clock = Clock()
    emulator.global_limit.clock = clock
    emulator.global_limit.enable(2)
    channel = bot.get_channel(team.reminders.id)
    assert isinstance(channel, discord.TextChannel)
    sends = [asyncio.create_task(channel.send(f"reminder {n}")) for n in range(3)]
    await eventually(lambda: emulator.global_limit.given == 1)  # the third: retry after 1 s
    assert len(emulator.messages(team.reminders.id)) == 2
    clock.now += 1.0  # the second is over before discord.py (sleeping 1 s) tries again
    await asyncio.wait_for(asyncio.gather(*sends), 10)
    contents = sorted(m.content for m in emulator.messages(team.reminders.id))
    assert contents == ["reminder 0", "reminder 1", "reminder 2"]
    assert emulator.global_limit.given == 1
    assert emulator.violations == []
