"""The gateway: a websocket speaking Discord's gateway protocol v10 (JSON encoding).

* op 10 HELLO on connect; op 1 HEARTBEAT is answered with op 11 HEARTBEAT_ACK.
* op 2 IDENTIFY -> READY (guilds unavailable) then one complete GUILD_CREATE per guild of the shard.
* op 6 RESUME -> the events after ``seq`` again, then RESUMED; an unknown or ended session gets
  op 9 INVALID_SESSION (d=false).
* :meth:`Gateway.drop` closes the TCP connection without a close frame (the client sees 1006 and
  resumes; with ``forget_sessions``, the sessions end too, so that RESUME is refused with op 9);
  :meth:`Gateway.invalidate` sends op 9 (d=false); :meth:`Gateway.reconnect` sends op 7.
* Transport compression: ``zlib-stream`` (what discord.py 2.7 asks for unless ``zstandard`` is
  installed) as one zlib stream flushed with Z_SYNC_FLUSH per message; ``zstd-stream`` when the
  ``zstandard`` package is present; otherwise plain text frames (discord.py reads those too).

A session outlives its connection until the client closes with 1000/1001 or it is invalidated:
events for it are numbered and kept, so a RESUME replays what was missed — as Discord does.
Every outgoing message goes through a per-connection queue, so events keep their order even when
they are produced by synchronous code (a test adding a channel).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import secrets
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from backrun_bot.sandbox.emulator.model import INTENT_GUILDS, JSON, World

DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE, VOICE_STATE, RESUME, RECONNECT = 0, 1, 2, 3, 4, 6, 7
REQUEST_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 8, 9, 10, 11

MAX_REPLAY = 2000  # events kept per session for RESUME


class _Compressor:
    def __init__(self, kind: str | None) -> None:
        self.kind: str | None = None
        self._zlib: Any = None
        self._zstd: Any = None
        if kind == "zlib-stream":
            self.kind, self._zlib = kind, zlib.compressobj()
        elif kind == "zstd-stream":
            try:
                zstandard = importlib.import_module("zstandard")
            except ImportError:  # discord.py then has no zstd either; plain text frames it is
                return
            self.kind, self._zstd = kind, zstandard.ZstdCompressor().compressobj()
            self._flush_block = zstandard.COMPRESSOBJ_FLUSH_BLOCK

    def frame(self, text: str) -> bytes | None:
        data = text.encode()
        if self._zlib is not None:
            return bytes(self._zlib.compress(data) + self._zlib.flush(zlib.Z_SYNC_FLUSH))
        if self._zstd is not None:
            return bytes(self._zstd.compress(data) + self._zstd.flush(self._flush_block))
        return None


# Something the writer does once everything queued before it was sent.
Marker = Callable[[], None]


class Connection:
    """One websocket connection; sends in order through a queue drained by a writer task."""

    def __init__(self, ws: web.WebSocketResponse, request: web.Request, compression: str | None) -> None:
        self.ws = ws
        self.request = request
        self.compressor = _Compressor(compression)
        self.session: Session | None = None
        self.dropped = False
        self._queue: asyncio.Queue[JSON | Marker | None] = asyncio.Queue()
        self._writer = asyncio.create_task(self._write(), name="emulator-gateway-writer")

    def send(self, payload: JSON) -> None:
        self._queue.put_nowait(payload)

    def after_sent(self, marker: Marker) -> None:
        self._queue.put_nowait(marker)

    async def _write(self) -> None:
        while (item := await self._queue.get()) is not None:
            if callable(item):
                item()
                continue
            if self.ws.closed or self.dropped:
                continue
            text = json.dumps(item, separators=(",", ":"))
            frame = self.compressor.frame(text)
            try:
                if frame is None:
                    await self.ws.send_str(text)
                else:
                    await self.ws.send_bytes(frame)
            except (ConnectionError, RuntimeError):
                continue  # the client went away; the session keeps the event for a RESUME

    def drop(self) -> None:
        """Cut the TCP connection: no close frame, as when a network path dies."""
        self.dropped = True
        transport = self.request.transport
        if transport is not None:
            transport.abort()

    async def close(self, code: int, message: str = "") -> None:
        with contextlib.suppress(Exception):
            await self.ws.close(code=code, message=message.encode())

    async def finish(self) -> None:
        self._queue.put_nowait(None)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._writer, 2)


@dataclass(eq=False)
class Session:
    id: str
    intents: int
    shard: tuple[int, int]
    seq: int = 0
    events: list[JSON] = field(default_factory=list)
    connection: Connection | None = None
    alive: bool = True  # resumable
    ready: bool = False  # READY (or RESUMED) and its GUILD_CREATEs were sent on the current connection
    identified_order: int = 0

    def number(self, event: str, data: JSON) -> JSON:
        self.seq += 1
        payload: JSON = {"op": DISPATCH, "t": event, "s": self.seq, "d": data}
        self.events.append(payload)
        if len(self.events) > MAX_REPLAY:
            del self.events[: len(self.events) - MAX_REPLAY]
        return payload

    def handles(self, guild_id: int | None) -> bool:
        if guild_id is None:
            return True
        shard_id, count = self.shard
        return (guild_id >> 22) % count == shard_id


class Gateway:
    """The gateway endpoint and its sessions (see the module docstring)."""

    def __init__(
        self,
        world: World,
        *,
        token: Callable[[], str],
        url: Callable[[], str],
        application_flags: int,
        heartbeat_interval_ms: int,
        report: Callable[[str], None],
        on_ready: Callable[[], None],
    ) -> None:
        self.world = world
        self._token = token
        self._url = url
        self._application_flags = application_flags
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self._report = report
        self._on_ready = on_ready
        self.sessions: dict[str, Session] = {}
        self.connections: set[Connection] = set()
        self.identify_count = 0
        self.resume_count = 0  # RESUMEs taken
        self.refused_resume_count = 0  # RESUMEs answered with op 9 (an unknown or ended session)
        self._order = 0
        # An outage (DiscordEmulator.drop_gateway(stay_down=True)): connections are refused.
        self.refusing = False

    # -- state for others ---------------------------------------------------------------------------
    def ready_sessions(self) -> list[Session]:
        return [
            s
            for s in self.sessions.values()
            if s.alive and s.ready and s.connection is not None and not s.connection.ws.closed
        ]

    # -- events -------------------------------------------------------------------------------------
    def dispatch(self, event: str, data: JSON, intent: int = 0) -> None:
        """Send ``event`` to every live session that asked for ``intent`` (0: always sent)."""
        guild_id = _guild_of(event, data)
        for session in list(self.sessions.values()):
            if (
                not session.alive
                or (intent and not session.intents & intent)
                or not session.handles(guild_id)
            ):
                continue
            payload = session.number(event, data)
            if session.connection is not None:
                session.connection.send(payload)

    def dispatch_to_one(self, event: str, data: JSON, guild_id: int | None) -> bool:
        """Send ``event`` to one session (interactions go to one client): the newest connected one,
        else the newest resumable one (it gets it on RESUME). False if there is none."""
        candidates = [s for s in self.sessions.values() if s.alive and s.handles(guild_id)]
        if not candidates:
            return False
        connected = [s for s in candidates if s.connection is not None]
        target = max(connected or candidates, key=lambda s: s.identified_order)
        payload = target.number(event, data)
        if target.connection is not None:
            target.connection.send(payload)
        return True

    # -- faults -------------------------------------------------------------------------------------
    async def drop(self, *, forget_sessions: bool = False) -> int:
        """Cut every connection abruptly; returns how many were cut. ``forget_sessions``: their
        sessions end as well (Discord lost them while the connection was down), so the clients'
        RESUME is answered with op 9 and they identify again."""
        cut = 0
        for connection in list(self.connections):
            if connection.session is not None:
                connection.session.ready = False
                if forget_sessions:
                    connection.session.alive = False
            connection.drop()
            cut += 1
        await asyncio.sleep(0)
        return cut

    async def invalidate(self) -> None:
        """op 9 (d=false) on every connection: the sessions end, clients must IDENTIFY again."""
        for connection in list(self.connections):
            session = connection.session
            if session is not None:
                session.alive = False
                session.ready = False
            connection.send({"op": INVALID_SESSION, "d": False, "s": None, "t": None})

    async def reconnect(self) -> None:
        """op 7 RECONNECT on every connection: clients reconnect and RESUME."""
        for connection in list(self.connections):
            if connection.session is not None:
                connection.session.ready = False
            connection.send({"op": RECONNECT, "d": None, "s": None, "t": None})

    async def close_all(self) -> None:
        for connection in list(self.connections):
            await connection.close(1001, "emulator stopping")
            await connection.finish()

    # -- the websocket --------------------------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        if self.refusing:
            raise web.HTTPServiceUnavailable(text="gateway unavailable (emulated outage)")
        # timeout: how long a close handshake may take before the emulator gives up on the client.
        ws = web.WebSocketResponse(compress=False, max_msg_size=0, autoping=True, timeout=2.0)
        await ws.prepare(request)
        query = request.query
        connection = Connection(ws, request, query.get("compress"))
        self.connections.add(connection)
        try:
            if query.get("encoding", "json") != "json":
                self._report(f"gateway: encoding={query.get('encoding')} is not supported by the emulator")
                await connection.close(4002, "Error while decoding payload.")
                return ws
            if query.get("v") not in (None, "10"):
                self._report(f"gateway: API version v={query.get('v')} (the bot should use v10)")
                await connection.close(4012, "Invalid API version.")
                return ws
            connection.send(
                {
                    "op": HELLO,
                    "d": {
                        "heartbeat_interval": self.heartbeat_interval_ms,
                        "_trace": ['["gateway-emulator"]'],
                    },
                    "s": None,
                    "t": None,
                }
            )
            async for message in ws:
                if message.type is WSMsgType.TEXT:
                    await self._receive(connection, message.data)
                elif message.type is WSMsgType.BINARY:
                    self._report("gateway: the client sent a binary frame (expected JSON text)")
                    await connection.close(4002, "Error while decoding payload.")
                elif message.type is WSMsgType.ERROR:
                    break
                if ws.closed:
                    break
        finally:
            self.connections.discard(connection)
            session = connection.session
            if session is not None and session.connection is connection:
                session.connection = None
                session.ready = False
                # A clean close by the client ends the session; anything else may be resumed.
                if not connection.dropped and ws.close_code in (1000, 1001):
                    session.alive = False
            await connection.finish()
        return ws

    async def _receive(self, connection: Connection, text: str) -> None:
        try:
            payload = json.loads(text)
            op = payload["op"]
        except (ValueError, KeyError, TypeError):
            self._report(f"gateway: undecodable payload {text[:200]!r}")
            await connection.close(4002, "Error while decoding payload.")
            return
        data = payload.get("d")
        if op == HEARTBEAT:
            connection.send({"op": HEARTBEAT_ACK, "d": None, "s": None, "t": None})
        elif op == IDENTIFY:
            await self._identify(connection, data)
        elif op == RESUME:
            await self._resume(connection, data)
        elif op in (PRESENCE, VOICE_STATE):
            if connection.session is None:
                await connection.close(4003, "Not authenticated.")
        elif op == REQUEST_MEMBERS:
            self._request_members(connection, data)
        else:
            self._report(f"gateway: unknown opcode {op}")
            await connection.close(4001, "Unknown opcode.")

    async def _identify(self, connection: Connection, data: Any) -> None:
        if not isinstance(data, dict) or data.get("token") != self._token():
            await connection.close(4004, "Authentication failed.")
            return
        if connection.session is not None:
            self._report("gateway: IDENTIFY sent twice on one connection")
            await connection.close(4005, "Already authenticated.")
            return
        shard = data.get("shard") or [0, 1]
        if not (isinstance(shard, list) and len(shard) == 2 and 0 <= shard[0] < shard[1]):
            self._report(f"gateway: invalid shard {shard!r}")
            await connection.close(4010, "Invalid shard.")
            return
        intents = data.get("intents")
        if not isinstance(intents, int):
            self._report("gateway: IDENTIFY without intents")
            await connection.close(4013, "Invalid intent(s).")
            return
        self._order += 1
        session = Session(
            id=secrets.token_hex(16),
            intents=intents,
            shard=(shard[0], shard[1]),
            identified_order=self._order,
        )
        self.sessions[session.id] = session
        session.connection = connection
        connection.session = session
        self.identify_count += 1
        guilds = [g for g in self.world.guilds.values() if g.bot_present and session.handles(g.id)]
        ready: JSON = {
            "v": 10,
            "user_settings": {},
            "user": {
                **self.world.bot_user.to_json(),
                "verified": True,
                "mfa_enabled": False,
                "email": None,
                "locale": "en-US",
            },
            "session_type": "normal",
            "session_id": session.id,
            "resume_gateway_url": self._url(),
            "relationships": [],
            "private_channels": [],
            "presences": [],
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["rotterdam", "frankfurt"],
            "auth": {},
            "application": {"id": str(self.world.application_id), "flags": self._application_flags},
            "shard": [session.shard[0], session.shard[1]],
            "_trace": ['["gateway-emulator"]'],
        }
        connection.send(session.number("READY", ready))
        if intents & INTENT_GUILDS:
            for guild in guilds:
                # "Guilds that are unavailable due to an outage will send a Guild Delete event."
                if guild.unavailable:
                    unavailable = {"id": str(guild.id), "unavailable": True}
                    connection.send(session.number("GUILD_DELETE", unavailable))
                else:
                    connection.send(session.number("GUILD_CREATE", guild.to_json()))
        connection.after_sent(lambda: self._mark_ready(session, connection))

    async def _resume(self, connection: Connection, data: Any) -> None:
        if not isinstance(data, dict) or data.get("token") != self._token():
            await connection.close(4004, "Authentication failed.")
            return
        session = self.sessions.get(str(data.get("session_id")))
        seq = data.get("seq")
        if session is None or not session.alive or not isinstance(seq, int) or seq > session.seq:
            self.refused_resume_count += 1
            connection.send({"op": INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        old = session.connection
        if old is not None and old is not connection:
            old.session = None
            await old.close(4009, "Session timed out.")
        session.connection = connection
        connection.session = session
        self.resume_count += 1
        for payload in session.events:
            if payload["s"] > seq:
                connection.send(payload)
        connection.send(session.number("RESUMED", {"_trace": ['["gateway-emulator"]']}))
        connection.after_sent(lambda: self._mark_ready(session, connection))

    def _mark_ready(self, session: Session, connection: Connection) -> None:
        if session.connection is connection and session.alive:
            session.ready = True
            self._on_ready()

    def _request_members(self, connection: Connection, data: Any) -> None:
        session = connection.session
        if session is None or not isinstance(data, dict):
            return
        guild = self.world.guilds.get(int(data.get("guild_id") or 0))
        if guild is None:
            return
        members = list(guild.members.values())
        query = data.get("query")
        if isinstance(query, str) and query:
            members = [m for m in members if m.name.lower().startswith(query.lower())]
        user_ids = data.get("user_ids")
        if user_ids:
            wanted = {int(u) for u in (user_ids if isinstance(user_ids, list) else [user_ids])}
            members = [m for m in members if m.user_id in wanted]
        chunk: JSON = {
            "guild_id": str(guild.id),
            "members": [m.to_json() for m in members],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        connection.send(session.number("GUILD_MEMBERS_CHUNK", chunk))


def _guild_of(event: str, data: JSON) -> int | None:
    raw = data.get("guild_id")
    if raw is None and event in ("GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE"):
        raw = data.get("id")
    return None if raw is None else int(raw)
