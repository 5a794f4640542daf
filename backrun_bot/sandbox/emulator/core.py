"""The :class:`DiscordEmulator`: Discord's HTTP API v10 and gateway on loopback, for tests.

One process-local server (aiohttp, 127.0.0.1, a free port) serves the REST API under ``/api/v10``
and the gateway websocket at ``/gateway``. The unmodified discord.py client connects to it once
``discord.http.Route.BASE`` is :attr:`DiscordEmulator.api_url`.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any

import yarl
from aiohttp import web

from backrun_bot.sandbox.emulator import permissions as P
from backrun_bot.sandbox.emulator.commands import CommandRegistry
from backrun_bot.sandbox.emulator.faults import Faults
from backrun_bot.sandbox.emulator.gateway import Gateway
from backrun_bot.sandbox.emulator.interactions import (
    AUTOCOMPLETE,
    InteractionRecord,
    build_payload,
    new_token,
)
from backrun_bot.sandbox.emulator.mentions import compute_pings
from backrun_bot.sandbox.emulator.model import INTENT_GUILDS, JSON, Channel, Guild, Member, Message, World
from backrun_bot.sandbox.emulator.ratelimit import DISCORD_GLOBAL_LIMIT, GlobalRateLimit
from backrun_bot.sandbox.emulator.rest import build_app
from backrun_bot.sandbox.emulator.snowflake import now
from backrun_bot.sandbox.emulator.validation import OpenApiValidator

log = logging.getLogger(__name__)

# GATEWAY_PRESENCE_LIMITED | GATEWAY_GUILD_MEMBERS_LIMITED | GATEWAY_MESSAGE_CONTENT_LIMITED |
# APPLICATION_COMMAND_BADGE: privileged intents may be asked for, as for a small unverified bot.
APPLICATION_FLAGS = (1 << 13) | (1 << 15) | (1 << 19) | (1 << 23)


class DiscordEmulator:
    """Discord for tests: one application and bot user, guilds built by the test, a REST API and a
    gateway the real discord.py client can use, and a record of everything the bot did wrong.

    ``interaction_deadline``: seconds the bot has for its first interaction callback (Discord: 3).
    ``followup_timeout``: how long the driver waits after a deferral for the deferred response.
    ``heartbeat_interval``: milliseconds told in HELLO. ``nonce_window``: seconds within which an
    ``enforce_nonce`` repeat returns the first message. ``stable_ids``: users, guilds, roles and
    channels get the same ids in every run (derived from their names; the sandbox uses this).
    ``recommended_shards``: the shard count ``GET /gateway/bot`` recommends. The gateway honours the
    ``shard`` of IDENTIFY: a session gets the GUILD_CREATEs, events and interactions of its shard's
    guilds only; two sessions on one shard (a rolling deploy) both get its events, and an
    interaction goes to the newer one. ``global_rate_limit``: requests per second per bot token
    beyond which REST answers Discord's global 429 (``ratelimit.py``; Discord's 50 by default, None
    for no limit; ``global_limit.enable(n)`` / ``disable()`` change it while running).
    """

    def __init__(
        self,
        *,
        interaction_deadline: float = 3.0,
        followup_timeout: float = 10.0,
        heartbeat_interval: int = 41250,
        nonce_window: float = 300.0,
        interaction_token_lifetime: float = 900.0,
        bot_name: str = "Backrun",
        patch_discord_default_gateway: bool = True,
        stable_ids: bool = False,
        recommended_shards: int = 1,
        global_rate_limit: int | None = DISCORD_GLOBAL_LIMIT,
    ) -> None:
        self.world = World(bot_name, stable_ids=stable_ids)
        # What GET /gateway/bot recommends; a bot without a shard count of its own opens this many.
        self.recommended_shards = recommended_shards
        self._message_listeners: list[Callable[[Message, bool], None]] = []
        self.token: str = ".".join(
            (secrets.token_urlsafe(18), secrets.token_urlsafe(5), secrets.token_urlsafe(27))
        )
        self.interaction_deadline = interaction_deadline
        self.followup_timeout = followup_timeout
        self.nonce_window = nonce_window
        self.interaction_token_lifetime = interaction_token_lifetime
        self.faults = Faults()
        self.global_limit = GlobalRateLimit(global_rate_limit)
        self.violations: list[str] = []
        self.verify_key = secrets.token_hex(32)
        self.command_registry = CommandRegistry(self.world)
        self._interactions: dict[int, InteractionRecord] = {}
        self._interactions_by_token: dict[str, InteractionRecord] = {}
        self._nonces: dict[tuple[int, str], tuple[int, float]] = {}
        self._waiters: set[asyncio.Future[None]] = set()
        self._wait_cursor: dict[int, int] = {}
        self._patch_gateway = patch_discord_default_gateway
        self._saved_default_gateway: Any = None
        self._runner: web.AppRunner | None = None
        self._port = 0
        self.validator = OpenApiValidator()
        self.gateway = Gateway(
            self.world,
            token=lambda: self.token,
            url=lambda: self.gateway_url,
            application_flags=APPLICATION_FLAGS,
            heartbeat_interval_ms=heartbeat_interval,
            report=self.report,
            on_ready=self.notify_change,
        )
        self.world.announce = self.gateway.dispatch

    # -- lifecycle ----------------------------------------------------------------------------------
    async def start(self) -> None:
        """Serve on 127.0.0.1 (a free port)."""
        app = build_app(self)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and isinstance(server, asyncio.base_events.Server)
        self._port = server.sockets[0].getsockname()[1]
        if self._patch_gateway:
            # After op 9 (invalid session) discord.py identifies again at its hard-coded
            # DiscordWebSocket.DEFAULT_GATEWAY (wss://gateway.discord.gg), forgetting the url from
            # /gateway/bot; in this process that must be the emulator. Restored by stop().
            from discord.gateway import DiscordWebSocket  # noqa: PLC0415

            self._saved_default_gateway = DiscordWebSocket.DEFAULT_GATEWAY
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)

    async def stop(self) -> None:
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._saved_default_gateway is not None:
            from discord.gateway import DiscordWebSocket  # noqa: PLC0415

            if str(DiscordWebSocket.DEFAULT_GATEWAY) == self.gateway_url:
                DiscordWebSocket.DEFAULT_GATEWAY = self._saved_default_gateway
            self._saved_default_gateway = None
        for record in self._interactions.values():
            for future in (record.acknowledged, record.visible):
                if not future.done():
                    future.cancel()

    async def __aenter__(self) -> DiscordEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        if not self._port:
            raise RuntimeError("the emulator is not started")
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_url(self) -> str:
        """What ``discord.http.Route.BASE`` must be: ``http://127.0.0.1:<port>/api/v10``."""
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self._port}/gateway"

    @property
    def application_id(self) -> int:
        return self.world.application_id

    @property
    def application_flags(self) -> int:
        return APPLICATION_FLAGS

    @property
    def bot_user_id(self) -> int:
        return self.world.bot_user.id

    # -- what tests read -----------------------------------------------------------------------------
    @property
    def commands(self) -> list[JSON]:
        """The global commands as last synced (full objects with ids; a copy)."""
        return self.command_registry.all()

    @property
    def command_sync_count(self) -> int:
        """How many times the bot wrote command definitions (bulk overwrite, create or edit)."""
        return self.command_registry.sync_count

    @property
    def identify_count(self) -> int:
        return self.gateway.identify_count

    @property
    def resume_count(self) -> int:
        return self.gateway.resume_count

    def report(self, violation: str) -> None:
        """Record something Discord would refuse or a protocol error (tests assert none)."""
        log.warning("Discord emulator: %s", violation)
        self.violations.append(violation)

    def messages(self, channel_id: int) -> list[Message]:
        """The messages in a channel (not ephemeral, not deleted), oldest first."""
        return [m for m in self.world.channel_messages.get(channel_id, []) if not m.deleted]

    async def wait_for_message(
        self,
        channel_id: int,
        predicate: Callable[[Message], bool] | None = None,
        timeout: float = 10,  # noqa: ASYNC109 (the public API)
    ) -> Message:
        """The next message in the channel that satisfies ``predicate``.

        "Next" is per channel: the first one after the last message an earlier call returned (so
        a message posted before this call but after the previous wait still counts). Messages still
        "thinking" (a deferral not yet edited) are skipped. Raises TimeoutError after ``timeout``.
        """
        async with asyncio.timeout(timeout):
            while True:
                found = self._next_message(channel_id, predicate)
                if found is not None:
                    return found
                await self._wait_change()

    def _next_message(self, channel_id: int, predicate: Callable[[Message], bool] | None) -> Message | None:
        history = self.world.channel_messages.get(channel_id, [])
        start = self._wait_cursor.get(channel_id, 0)
        for index in range(start, len(history)):
            message = history[index]
            if message.deleted or message.loading:
                continue
            if predicate is None or predicate(message):
                self._wait_cursor[channel_id] = index + 1
                return message
        return None

    async def wait_until_ready(self, timeout: float = 15) -> None:  # noqa: ASYNC109
        """Return once a bot session is ready: it IDENTIFIED (or RESUMED) and READY and all its
        GUILD_CREATEs were sent on a connection that is still open.

        Returns at once if such a session exists already (a live one counts); otherwise waits for
        the next one. A session ends when its client closes the websocket, so after a bot was
        stopped, this waits for the next bot. Raises TimeoutError after ``timeout`` seconds.
        """
        async with asyncio.timeout(timeout):
            while not self.gateway.ready_sessions():
                await self._wait_change()

    def notify_change(self) -> None:
        """Wake everything waiting on the world (a message stored, an interaction answered, a
        session ready): the REST handlers and the gateway call this after each change."""
        waiters, self._waiters = self._waiters, set()
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def _wait_change(self) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            await waiter
        finally:
            self._waiters.discard(waiter)

    # -- building the world -------------------------------------------------------------------------
    def add_guild(
        self,
        name: str,
        *,
        owner_name: str | None = None,
        shard: tuple[int, int] | None = None,
        with_bot: bool = True,
    ) -> Guild:
        """A guild with a #general channel (its system channel), @everyone, the bot (with its
        managed role) and an owner (``owner_name``, else a user called "owner"); announced with
        GUILD_CREATE to the sessions of its shard, as a server that has just added the bot.
        ``shard``: ``(shard_id, shard_count)`` to make its id fall on that shard
        (``(id >> 22) % shard_count == shard_id``); otherwise the id is the next one, on whatever
        shard that is. ``with_bot=False``: a server the bot is not in yet (build its channels, then
        :meth:`add_bot`)."""
        return self.world.add_guild(name, owner_name=owner_name, shard=shard, with_bot=with_bot)

    def remove_bot(self, guild: Guild) -> None:
        """The bot is removed from the guild (kicked, or the server deleted): GUILD_DELETE without
        ``unavailable`` ("if the field is not set, the user was removed from the guild"), then
        nothing more of it reaches the bot: no events, no GUILD_CREATE on the next IDENTIFY, REST
        answers 403 Missing Access, and no member can use its commands there."""
        if not guild.bot_present:
            raise ValueError(f"the bot is not in {guild.name}")
        self.world.announce("GUILD_DELETE", {"id": str(guild.id)}, INTENT_GUILDS)
        guild.bot_present = False
        guild.unavailable = False
        self.notify_change()

    def add_bot(self, guild: Guild) -> None:
        """The bot is added to a guild (``add_guild(..., with_bot=False)``) or added back to one it was
        removed from: its member joins (a new ``joined_at``) and its sessions get the guild's
        GUILD_CREATE as a join (no ``unavailable``)."""
        if guild.bot_present:
            raise ValueError(f"the bot is already in {guild.name}")
        guild.me.joined_at = now()
        guild.bot_present = True
        self.world.announce("GUILD_CREATE", guild.to_json(joined=True), INTENT_GUILDS)
        self.notify_change()

    def guild_outage(self, guild: Guild) -> None:
        """Discord loses the guild for a while (an outage): GUILD_DELETE with ``unavailable: true``.
        The bot is still in it; a session that connects meanwhile gets it in READY and then the
        same GUILD_DELETE instead of its GUILD_CREATE."""
        if not guild.bot_present or guild.unavailable:
            raise ValueError(f"{guild.name} is not available to the bot")
        self.world.announce("GUILD_DELETE", {"id": str(guild.id), "unavailable": True}, INTENT_GUILDS)
        guild.unavailable = True

    def guild_outage_over(self, guild: Guild) -> None:
        """The outage is over: GUILD_CREATE with ``unavailable: false`` (available again, not a join)."""
        if not guild.unavailable:
            raise ValueError(f"{guild.name} is not unavailable")
        guild.unavailable = False
        self.world.announce("GUILD_CREATE", guild.to_json(), INTENT_GUILDS)

    def attachment(self, attachment: JSON) -> bytes:
        """The bytes of an attachment object (as a message carries it) that the bot uploaded."""
        return self.world.files[int(attachment["id"])]

    def remove_channel(self, channel: Channel) -> None:
        """Delete the channel: sends to it get 404 Unknown Channel (10003)."""
        channel.deleted = True
        self.world.announce("CHANNEL_DELETE", channel.to_json(), 1)

    def deny_bot(self, channel: Channel, permissions: int = P.SEND_MESSAGES) -> None:
        """Deny the bot ``permissions`` (default SEND_MESSAGES) in the channel with a member
        overwrite: its sends get 403 Missing Permissions (50013). Announced with CHANNEL_UPDATE."""
        bot_id = self.world.bot_user.id
        for overwrite in channel.overwrites:
            if overwrite.type == P.MEMBER_OVERWRITE and overwrite.id == bot_id:
                overwrite.deny |= permissions
                overwrite.allow &= ~permissions
                break
        else:
            channel.overwrites.append(P.Overwrite(bot_id, P.MEMBER_OVERWRITE, deny=permissions))
        self.world.announce("CHANNEL_UPDATE", channel.to_json(), 1)

    def set_command_permission(self, guild: Guild, command_name: str, allowed: bool) -> None:
        """An admin's per-server override for a command: ``True`` lets every member use it whatever
        its ``default_member_permissions``; ``False`` hides it from everyone but administrators."""
        self.command_registry.set_override(guild.id, command_name, allowed)

    def command_override(self, guild: Guild, command_name: str) -> bool | None:
        return self.command_registry.override(guild.id, command_name)

    # -- faults --------------------------------------------------------------------------------------
    async def drop_gateway(self, *, stay_down: bool = False) -> None:
        """Cut the gateway connection(s) without a close frame; discord.py resumes.

        ``stay_down``: an outage. New gateway connections are refused (HTTP 503 on the upgrade) until
        :meth:`restore_gateway`, so the bot stays disconnected, retrying with backoff; REST still works.
        """
        self.gateway.refusing = stay_down
        await self.gateway.drop()

    def restore_gateway(self) -> None:
        """End the outage of ``drop_gateway(stay_down=True)``: the bot's next retry connects."""
        self.gateway.refusing = False

    async def invalidate_session(self) -> None:
        """Send op 9 (d=false): the session ends and discord.py identifies again."""
        await self.gateway.invalidate()

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT: discord.py reconnects and resumes."""
        await self.gateway.reconnect()

    # -- messages (used by the REST handlers) --------------------------------------------------------
    def bot_member(self, guild: Guild) -> Member:
        return guild.me

    def compute_mentions(
        self,
        message: Message,
        allowed_mentions: JSON | None,
        channel: Channel | None,
        *,
        replied_user: int | None,
    ) -> None:
        """Set ``message``'s mentions from its content, as Discord would."""
        guild = channel.guild if channel is not None else None
        can_everyone = False
        roles: dict[int, bool] = {}
        if guild is not None and channel is not None:
            can_everyone = bool(guild.permissions_in(guild.me, channel) & P.MENTION_EVERYONE)
            roles = {r.id: r.mentionable for r in guild.roles_by_id.values() if r.id != guild.id}
        pings = compute_pings(
            message.content,
            allowed_mentions,
            known_users=self.world.users.keys(),
            mentionable_roles=roles,
            can_mention_everyone=can_everyone,
            replied_user_id=replied_user,
        )
        message.mentions, message.mention_roles, message.mention_everyone = (
            pings.users,
            pings.roles,
            pings.everyone,
        )

    def message_stored(self, message: Message, *, created: bool) -> None:
        """Announce a new or edited message to the gateway and to waiting tests."""
        if created:
            self.world.store_message(message)
        event = "MESSAGE_CREATE" if created else "MESSAGE_UPDATE"
        if not message.ephemeral:
            data = message.to_json(self.world)
            guild = self.world.guilds.get(message.guild_id or 0)
            if guild is not None and message.author.id in guild.members:
                data["member"] = guild.members[message.author.id].to_json(with_user=False)
            self.gateway.dispatch(event, data, 1 << 9)
        self.notify_change()
        for listener in list(self._message_listeners):
            listener(message, created)

    def on_message(self, listener: Callable[[Message, bool], None]) -> Callable[[], None]:
        """Call ``listener(message, created)`` for every message stored or edited (ephemeral ones
        too; it must not block); returns the function that stops it."""
        self._message_listeners.append(listener)
        return lambda: self._message_listeners.remove(listener)

    def check_nonce(self, author_id: int, nonce: str | int) -> Message | None:
        """The message already sent with this nonce within the window, if any."""
        seen = self._nonces.get((author_id, str(nonce)))
        if seen is None:
            return None
        message_id, at = seen
        if time.time() - at > self.nonce_window:
            return None
        message = self.world.messages.get(message_id)
        return None if message is None or message.deleted else message

    def remember_nonce(self, author_id: int, nonce: str | int, message_id: int) -> None:
        self._nonces[(author_id, str(nonce))] = (message_id, time.time())

    # -- interactions (used by the driver) ------------------------------------------------------------
    def interaction(self, interaction_id: int) -> InteractionRecord | None:
        return self._interactions.get(interaction_id)

    def interaction_by_token(self, token: str) -> InteractionRecord | None:
        return self._interactions_by_token.get(token)

    def send_interaction(
        self,
        *,
        kind: int,
        member: Member,
        channel: Channel,
        data: JSON,
        command_name: str | None = None,
        message: Message | None = None,
    ) -> InteractionRecord:
        """Dispatch an INTERACTION_CREATE for ``member`` in ``channel`` and start its clock."""
        guild = channel.guild
        # Removing a bot removes its integration with the server: its commands and buttons are gone.
        if not guild.bot_present:
            raise ValueError(f"the bot is not in {guild.name}: its commands are gone from there")
        if guild.members.get(member.user_id) is not member:
            raise ValueError(f"{member.name} is not a member of {guild.name}")
        interaction_id = self.world.snowflakes.next()
        token = new_token()
        app_permissions = guild.permissions_in(guild.me, channel)
        payload = build_payload(
            interaction_id=interaction_id,
            token=token,
            kind=kind,
            application_id=self.application_id,
            guild=guild,
            channel=channel,
            member=member,
            data=data,
            app_permissions=app_permissions,
            message=message,
            message_json=None if message is None else message.to_json(self.world),
        )
        record = InteractionRecord(
            id=interaction_id,
            token=token,
            type=kind,
            guild=guild,
            channel=channel,
            member=member,
            payload=payload,
            created=asyncio.get_running_loop().time(),
            deadline=self.interaction_deadline,
            command_name=command_name,
            source_message_id=None if message is None else message.id,
        )
        self._interactions[interaction_id] = record
        self._interactions_by_token[token] = record
        record.delivered = self.gateway.dispatch_to_one("INTERACTION_CREATE", payload, guild.id)
        if not record.delivered and kind != AUTOCOMPLETE:
            log.warning("Discord emulator: no gateway session to deliver interaction %s to", interaction_id)
        return record
