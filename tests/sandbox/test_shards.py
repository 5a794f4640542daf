"""Sharding in the emulator, as Discord does it: IDENTIFY's ``shard`` is ``[shard_id, shard_count]``;
a session gets READY and GUILD_CREATE only for the guilds of its shard (``(guild_id >> 22) %
shard_count``), and later events and interactions only for them; ``GET /gateway/bot`` says how many
shards to run. ``add_guild(shard=…)`` makes a guild on the shard a test needs."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from backrun_bot.sandbox.emulator import DiscordEmulator
from backrun_bot.sandbox.emulator.gateway import HELLO, IDENTIFY
from backrun_bot.sandbox.emulator.model import INTENT_GUILDS
from backrun_bot.sandbox.emulator.snowflake import StableIds, on_shard
from tests.sandbox.conftest import api


def shard_of(guild_id: int, count: int) -> int:
    return (guild_id >> 22) % count


class Client:
    """A bare gateway client: what a bot sends, with no library in between."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    async def receive(self, timeout: float = 5) -> dict[str, Any]:
        message = await self.ws.receive(timeout=timeout)
        assert message.type is aiohttp.WSMsgType.TEXT, message
        payload: dict[str, Any] = json.loads(message.data)
        return payload

    async def identify(self, token: str, shard: list[int] | None) -> None:
        data: dict[str, Any] = {
            "token": token,
            "intents": INTENT_GUILDS,
            "properties": {"os": "linux", "browser": "test", "device": "test"},
        }
        if shard is not None:
            data["shard"] = shard
        await self.ws.send_str(json.dumps({"op": IDENTIFY, "d": data}))

    async def dispatches(self, until: float = 0.3) -> list[dict[str, Any]]:
        """Every dispatch that arrives until none came for ``until`` seconds."""
        events: list[dict[str, Any]] = []
        while True:
            try:
                payload = await self.receive(timeout=until)
            except TimeoutError:
                return events
            events.append(payload)


@pytest.fixture
async def emulator() -> AsyncIterator[DiscordEmulator]:
    async with DiscordEmulator(recommended_shards=2) as emu:
        yield emu


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http


async def connect(emulator: DiscordEmulator, http: aiohttp.ClientSession) -> Client:
    ws = await http.ws_connect(emulator.gateway_url + "?v=10&encoding=json")
    client = Client(ws)
    assert (await client.receive())["op"] == HELLO
    return client


def test_add_guild_makes_a_guild_on_the_shard_asked_for() -> None:
    emulator = DiscordEmulator()
    for count in (2, 3, 16):
        for shard_id in range(count):
            guild = emulator.add_guild(f"G{shard_id}/{count}", shard=(shard_id, count))
            assert shard_of(guild.id, count) == shard_id
    # Ids stay unique and increasing: a guild made on a shard does not reuse a later id.
    ids = [emulator.add_guild(f"H{n}", shard=(n % 2, 2)).id for n in range(20)]
    assert ids == sorted(set(ids))


def test_stable_ids_on_a_shard_are_stable_and_unique() -> None:
    first, second = StableIds(), StableIds()
    a = first.id_for("guild", "Team A", shard=(1, 4))
    assert a == second.id_for("guild", "Team A", shard=(1, 4))
    assert shard_of(a, 4) == 1
    again = first.id_for("guild", "Team A", shard=(1, 4))  # the same key twice: the next free one
    assert again != a and shard_of(again, 4) == 1


def test_on_shard_moves_the_timestamp_the_least() -> None:
    snowflake = (1_000_000 << 22) | 12345
    assert on_shard(snowflake, (0, 2)) == snowflake
    assert on_shard(snowflake, (1, 2)) == snowflake + (1 << 22)
    assert on_shard(snowflake, (0, 3)) == snowflake + (2 << 22)  # 1_000_000 % 3 == 1


async def test_gateway_bot_recommends_the_shard_count(
    emulator: DiscordEmulator, session: aiohttp.ClientSession
) -> None:
    status, body = await api(emulator, "GET", "/gateway/bot")
    assert status == 200
    assert body["shards"] == 2
    assert body["url"] == emulator.gateway_url


async def test_a_session_gets_only_its_shards_guilds(
    emulator: DiscordEmulator, session: aiohttp.ClientSession
) -> None:
    zero = [emulator.add_guild(f"Zero {n}", shard=(0, 2)) for n in range(2)]
    one = [emulator.add_guild(f"One {n}", shard=(1, 2)) for n in range(3)]

    clients = {}
    for shard_id in (0, 1):
        client = await connect(emulator, session)
        await client.identify(emulator.token, [shard_id, 2])
        clients[shard_id] = client
    for shard_id, guilds in ((0, zero), (1, one)):
        ready, *creates = await clients[shard_id].dispatches()
        assert ready["t"] == "READY"
        assert ready["d"]["shard"] == [shard_id, 2]
        expected = sorted(str(g.id) for g in guilds)
        assert sorted(g["id"] for g in ready["d"]["guilds"]) == expected
        assert [c["t"] for c in creates] == ["GUILD_CREATE"] * len(guilds)
        assert sorted(c["d"]["id"] for c in creates) == expected

    # A guild made later, and a change in a guild, go to its shard's session only.
    late = emulator.add_guild("Late", shard=(1, 2))
    zero[0].add_channel("training")
    assert [(e["t"], e["d"].get("guild_id", e["d"]["id"])) for e in await clients[1].dispatches()] == [
        ("GUILD_CREATE", str(late.id))
    ]
    assert [(e["t"], e["d"]["guild_id"]) for e in await clients[0].dispatches()] == [
        ("CHANNEL_CREATE", str(zero[0].id))
    ]
    for client in clients.values():
        await client.ws.close()


async def test_without_a_shard_field_a_session_is_shard_0_of_1(
    emulator: DiscordEmulator, session: aiohttp.ClientSession
) -> None:
    guilds = [emulator.add_guild(f"G{n}", shard=(n % 2, 2)) for n in range(4)]
    client = await connect(emulator, session)
    await client.identify(emulator.token, None)
    ready, *creates = await client.dispatches()
    assert ready["d"]["shard"] == [0, 1]
    assert sorted(c["d"]["id"] for c in creates) == sorted(str(g.id) for g in guilds)
    await client.ws.close()


@pytest.mark.parametrize("shard", [[2, 2], [-1, 2], [0, 0]])
async def test_an_impossible_shard_is_refused(
    emulator: DiscordEmulator, session: aiohttp.ClientSession, shard: list[int]
) -> None:
    client = await connect(emulator, session)
    await client.identify(emulator.token, shard)
    message = await client.ws.receive(timeout=5)
    assert message.type is aiohttp.WSMsgType.CLOSE
    assert client.ws.close_code == 4010  # Discord's "Invalid shard"
    assert emulator.violations == [f"gateway: invalid shard {shard!r}"]
    emulator.violations.clear()


async def test_an_interaction_goes_to_its_guilds_shard(
    emulator: DiscordEmulator, session: aiohttp.ClientSession
) -> None:
    zero = emulator.add_guild("Zero", shard=(0, 2))
    one = emulator.add_guild("One", shard=(1, 2))
    clients = {}
    for shard_id in (0, 1):
        client = await connect(emulator, session)
        await client.identify(emulator.token, [shard_id, 2])
        await client.dispatches()
        clients[shard_id] = client
    for guild, shard_id in ((zero, 0), (one, 1)):
        routed = emulator.gateway.dispatch_to_one("INTERACTION_CREATE", {"guild_id": str(guild.id)}, guild.id)
        assert routed
        [event] = await clients[shard_id].dispatches()
        assert (event["t"], event["d"]["guild_id"]) == ("INTERACTION_CREATE", str(guild.id))
        assert await clients[1 - shard_id].dispatches() == []
    for client in clients.values():
        await client.ws.close()
