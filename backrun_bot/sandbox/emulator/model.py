"""The emulated Discord world: users, guilds, roles, channels, members and messages.

Objects serialise themselves into the JSON Discord sends (complete objects: discord.py reads many
fields without a default). Changes made by tests after the bot connected are announced over the
gateway through :attr:`World.announce`, as Discord would (CHANNEL_CREATE, GUILD_ROLE_CREATE...).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from backrun_bot.sandbox.emulator import permissions as P
from backrun_bot.sandbox.emulator.permissions import MEMBER_OVERWRITE, Overwrite
from backrun_bot.sandbox.emulator.snowflake import (
    Shard,
    SnowflakeFactory,
    StableIds,
    iso,
    now,
    snowflake_time,
)

JSON = dict[str, Any]
# (event name, payload, gateway intent bit that must be on to receive it)
Announce = Callable[[str, JSON, int], None]

INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_MESSAGES = 1 << 9

TEXT_CHANNEL = 0
EPHEMERAL = 1 << 6
LOADING = 1 << 7


@dataclass(eq=False)
class User:
    id: int
    name: str
    bot: bool = False

    def to_json(self) -> JSON:
        return {
            "id": str(self.id),
            "username": self.name,
            "discriminator": "0",
            "global_name": None if self.bot else self.name.capitalize(),
            "avatar": None,
            "avatar_decoration_data": None,
            "banner": None,
            "accent_color": None,
            "bot": self.bot,
            "system": False,
            "public_flags": 0,
            "flags": 0,
            "collectibles": None,
            "primary_guild": None,
            "clan": None,
        }


@dataclass(eq=False)
class Role:
    id: int
    guild_id: int
    name: str
    permissions: int
    position: int
    bot_id: int | None = None
    mentionable: bool = False

    def to_json(self) -> JSON:
        data: JSON = {
            "id": str(self.id),
            "name": self.name,
            "description": None,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "managed": self.bot_id is not None,
            "mentionable": self.mentionable,
            "flags": 0,
        }
        if self.bot_id is not None:
            data["tags"] = {"bot_id": str(self.bot_id)}
        return data


@dataclass(eq=False)
class Channel:
    """A text channel. ``deleted`` once :meth:`DiscordEmulator.remove_channel` took it away."""

    id: int
    name: str
    guild: Guild
    position: int
    overwrites: list[Overwrite] = field(default_factory=list)
    deleted: bool = False
    last_message_id: int | None = None

    def to_json(self) -> JSON:
        return {
            "id": str(self.id),
            "type": TEXT_CHANNEL,
            "guild_id": str(self.guild.id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [o.to_json() for o in self.overwrites],
            "parent_id": None,
            "topic": None,
            "nsfw": False,
            "last_message_id": None if self.last_message_id is None else str(self.last_message_id),
            "last_pin_timestamp": None,
            "rate_limit_per_user": 0,
            "default_auto_archive_duration": 4320,
            "default_thread_rate_limit_per_user": 0,
            "flags": 0,
            "icon_emoji": None,
            "theme_color": None,
        }

    def partial_json(self, permissions: int) -> JSON:
        """The channel as an interaction carries it (with the invoking member's permissions)."""
        return {**self.to_json(), "permissions": str(permissions)}

    def __repr__(self) -> str:
        return f"<Channel #{self.name} id={self.id}>"


@dataclass(eq=False)
class Member:
    user: User
    guild: Guild
    role_ids: list[int]
    joined_at: datetime

    @property
    def user_id(self) -> int:
        return self.user.id

    @property
    def name(self) -> str:
        return self.user.name

    def to_json(self, *, with_user: bool = True) -> JSON:
        data: JSON = {
            "roles": [str(r) for r in self.role_ids],
            "nick": None,
            "avatar": None,
            "banner": None,
            "joined_at": iso(self.joined_at),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
            "avatar_decoration_data": None,
            "collectibles": None,
        }
        if with_user:
            data["user"] = self.user.to_json()
        return data

    def __repr__(self) -> str:
        return f"<Member {self.name} of {self.guild.name}>"


class Guild:
    """A server. Tests build it with :meth:`add_role`, :meth:`add_channel` and :meth:`add_member`."""

    def __init__(self, world: World, name: str, *, owner: User, shard: Shard | None = None) -> None:
        self._world = world
        self.id: int = world.new_id("guild", name, shard=shard)
        self.name = name
        self.owner_id = owner.id
        self.created_at = snowflake_time(self.id)  # what discord.py reads from the id
        self.roles_by_id: dict[int, Role] = {}
        self.channels_by_id: dict[int, Channel] = {}
        self.members: dict[int, Member] = {}
        self._role_positions = itertools.count(1)
        # Changes are announced over the gateway only once GUILD_CREATE made the guild known.
        self.live = False
        # The bot's membership: False once it was removed (kicked, or the server deleted), until it
        # is added back (DiscordEmulator.remove_bot / add_bot). While it is out, the gateway tells it
        # nothing of the guild and REST answers Missing Access.
        self.bot_present = True
        # An outage of Discord's: the guild is unavailable (GUILD_DELETE with unavailable: true) but
        # the bot is still in it (DiscordEmulator.guild_outage / guild_outage_over).
        self.unavailable = False
        self._channel_positions = itertools.count(0)
        # @everyone's id is the guild's id, as on Discord.
        self.roles_by_id[self.id] = Role(self.id, self.id, "@everyone", P.DEFAULT_EVERYONE, 0)
        self._add_member_quietly(owner, ())
        bot = world.bot_user
        bot_role = Role(
            world.new_id("role", self.id, bot.name),
            self.id,
            bot.name,
            P.BOT_ROLE,
            next(self._role_positions),
            bot.id,
        )
        self.roles_by_id[bot_role.id] = bot_role
        self._add_member_quietly(bot, (bot_role.id,))
        # Where Discord posts its own notices (joins, boosts); a server may have none.
        self.system_channel_id: int | None = self.add_channel("general").id

    # -- what tests read -------------------------------------------------------------------------
    @property
    def roles(self) -> dict[str, int]:
        """Role ids by name (``@everyone`` is the guild's id)."""
        return {role.name: role.id for role in self.roles_by_id.values()}

    @property
    def channels(self) -> dict[str, Channel]:
        """The guild's (not removed) channels by name."""
        return {c.name: c for c in self.channels_by_id.values() if not c.deleted}

    @property
    def everyone(self) -> Role:
        return self.roles_by_id[self.id]

    @property
    def me(self) -> Member:
        """The bot's member."""
        return self.members[self._world.bot_user.id]

    @property
    def system_channel(self) -> Channel | None:
        if self.system_channel_id is None:
            return None
        channel = self.channels_by_id.get(self.system_channel_id)
        return None if channel is None or channel.deleted else channel

    def member_named(self, name: str) -> Member | None:
        for member in self.members.values():
            if member.name == name:
                return member
        return None

    # -- building ----------------------------------------------------------------------------------
    def add_role(self, name: str, permissions: int = 0, *, mentionable: bool = False) -> int:
        """Add a role; returns its id. Announced with GUILD_ROLE_CREATE."""
        role_id = self._world.new_id("role", self.id, name)
        role = Role(role_id, self.id, name, permissions, next(self._role_positions))
        role.mentionable = mentionable
        self.roles_by_id[role.id] = role
        self._emit("GUILD_ROLE_CREATE", {"guild_id": str(self.id), "role": role.to_json()}, INTENT_GUILDS)
        return role.id

    def add_channel(self, name: str, *, bot_can_send: bool = True, position: int | None = None) -> Channel:
        """Add a text channel; ``bot_can_send=False`` denies the bot SEND_MESSAGES there.
        ``position``: where it sorts in the channel list (default: after the others)."""
        channel_id = self._world.new_id("channel", self.id, name)
        at = next(self._channel_positions) if position is None else position
        channel = Channel(channel_id, name, self, at)
        if not bot_can_send:
            channel.overwrites.append(
                Overwrite(self._world.bot_user.id, MEMBER_OVERWRITE, deny=P.SEND_MESSAGES)
            )
        self.channels_by_id[channel.id] = channel
        self._world.channels[channel.id] = channel
        self._emit("CHANNEL_CREATE", channel.to_json(), INTENT_GUILDS)
        return channel

    def add_member(
        self, name: str, *, permissions: int = 0, roles: Iterable[int | str] = (), manage_guild: bool = False
    ) -> Member:
        """Add (or update) the member ``name``; the same name is the same user in every guild.

        ``permissions`` are given through a role of their own named ``"<name> permissions"`` (Discord
        has no per-member permissions); ``roles`` are role ids or names.
        """
        if manage_guild:
            permissions |= P.MANAGE_GUILD
        user = self._world.user_named(name)
        role_ids = [self._role_id(r) for r in roles]
        if permissions:
            own = f"{name} permissions"
            role_id = self.roles.get(own)
            if role_id is None:
                role_id = self.add_role(own, permissions)
            else:
                self.roles_by_id[role_id].permissions = permissions
                self._emit(
                    "GUILD_ROLE_UPDATE",
                    {"guild_id": str(self.id), "role": self.roles_by_id[role_id].to_json()},
                    INTENT_GUILDS,
                )
            role_ids.append(role_id)
        existing = self.members.get(user.id)
        if existing is not None:
            existing.role_ids = sorted(set(existing.role_ids) | set(role_ids))
            self._emit(
                "GUILD_MEMBER_UPDATE",
                {"guild_id": str(self.id), **existing.to_json()},
                INTENT_GUILD_MEMBERS,
            )
            return existing
        member = self._add_member_quietly(user, role_ids)
        self._emit("GUILD_MEMBER_ADD", {"guild_id": str(self.id), **member.to_json()}, INTENT_GUILD_MEMBERS)
        return member

    def remove_member(self, name: str) -> None:
        """The member ``name`` leaves the server (or is kicked): announced with GUILD_MEMBER_REMOVE,
        which only a bot with the server members intent receives. Their messages stay."""
        member = self.member_named(name)
        if member is None:
            raise ValueError(f"no member {name!r} in {self.name}")
        if member.user_id in (self.owner_id, self._world.bot_user.id):
            raise ValueError("the owner cannot leave, and the bot is removed with DiscordEmulator.remove_bot")
        del self.members[member.user_id]
        self._emit(
            "GUILD_MEMBER_REMOVE",
            {"guild_id": str(self.id), "user": member.user.to_json()},
            INTENT_GUILD_MEMBERS,
        )

    def set_system_channel(self, channel: Channel | None) -> None:
        """Make ``channel`` the server's system channel (None: no system channel); GUILD_UPDATE."""
        if channel is not None and channel.guild is not self:
            raise ValueError(f"#{channel.name} is not a channel of {self.name}")
        self.system_channel_id = None if channel is None else channel.id
        self._emit("GUILD_UPDATE", self.update_json(), INTENT_GUILDS)

    def _emit(self, event: str, data: JSON, intent: int) -> None:
        # Nothing of a guild reaches a bot that is not in it (or while the guild is unavailable).
        if self.live and self.bot_present and not self.unavailable:
            self._world.announce(event, data, intent)

    def _add_member_quietly(self, user: User, role_ids: Iterable[int]) -> Member:
        member = Member(user, self, list(role_ids), now())
        self.members[user.id] = member
        return member

    def _role_id(self, role: int | str) -> int:
        if isinstance(role, int):
            if role not in self.roles_by_id:
                raise ValueError(f"no role {role} in {self.name}")
            return role
        try:
            return self.roles[role]
        except KeyError:
            raise ValueError(f"no role {role!r} in {self.name}") from None

    # -- permissions -------------------------------------------------------------------------------
    def base_permissions(self, member: Member) -> int:
        return P.base_permissions(
            everyone=self.everyone.permissions,
            role_permissions=(
                self.roles_by_id[r].permissions for r in member.role_ids if r in self.roles_by_id
            ),
            is_owner=member.user_id == self.owner_id,
        )

    def permissions_in(self, member: Member, channel: Channel) -> int:
        return P.channel_permissions(
            self.base_permissions(member),
            guild_id=self.id,
            role_ids=member.role_ids,
            member_id=member.user_id,
            overwrites=channel.overwrites,
        )

    # -- wire ---------------------------------------------------------------------------------------
    def partial_json(self) -> JSON:
        """What an interaction carries as ``guild``."""
        return {"id": str(self.id), "locale": "en-US", "features": []}

    def update_json(self) -> JSON:
        """The guild object of GET /guilds/{id} and GUILD_UPDATE: GUILD_CREATE's without the fields
        only GUILD_CREATE carries."""
        data = self.to_json()
        for key in (
            "members",
            "channels",
            "threads",
            "presences",
            "voice_states",
            "joined_at",
            "member_count",
            "large",
            "unavailable",
            "lazy",
            "stage_instances",
            "guild_scheduled_events",
            "soundboard_sounds",
            "embedded_activities",
            "activity_instances",
            "application_command_counts",
        ):
            data.pop(key, None)
        return data

    def to_json(self, *, joined: bool = False) -> JSON:
        """The full GUILD_CREATE payload. ``joined``: the bot was just added to the server: Discord
        leaves ``unavailable`` out (the field says an outage is over, or marks the guilds that follow
        READY), which is how a client tells a join from a guild becoming available."""
        channels = [c.to_json() for c in self.channels_by_id.values() if not c.deleted]
        system = self.system_channel
        data: JSON = {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "icon_hash": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "widget_enabled": False,
            "widget_channel_id": None,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": [r.to_json() for r in self.roles_by_id.values()],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": None if system is None else str(system.id),
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "max_presences": None,
            "max_members": 500000,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50,
            "approximate_member_count": None,
            "approximate_presence_count": None,
            "nsfw_level": 0,
            "nsfw": False,
            "premium_progress_bar_enabled": False,
            "incidents_data": None,
            "inventory_settings": None,
            "hub_type": None,
            "latest_onboarding_question_id": None,
            "home_header": None,
            "lazy": True,
            "large": False,
            "unavailable": False,
            "member_count": len(self.members),
            "joined_at": iso(self.members[self._world.bot_user.id].joined_at),
            "members": [m.to_json() for m in self.members.values()],
            "channels": channels,
            "threads": [],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "embedded_activities": [],
            "activity_instances": [],
            "application_command_counts": {},
            "version": 0,
        }
        if joined:
            del data["unavailable"]
        return data

    def __repr__(self) -> str:
        return f"<Guild {self.name} id={self.id}>"


@dataclass(eq=False)
class Message:
    """A message as stored by the emulator. ``mentions`` are the user ids really pinged."""

    id: int
    channel_id: int
    guild_id: int | None
    author: User
    content: str = ""
    embeds: list[JSON] = field(default_factory=list)
    components: list[JSON] = field(default_factory=list)
    attachments: list[JSON] = field(default_factory=list)
    flags: int = 0
    tts: bool = False
    type: int = 0
    timestamp: datetime = field(default_factory=now)
    edited_timestamp: datetime | None = None
    mentions: list[int] = field(default_factory=list)
    mention_roles: list[int] = field(default_factory=list)
    mention_everyone: bool = False
    allowed_mentions: JSON | None = None
    nonce: str | int | None = None
    webhook_id: int | None = None
    application_id: int | None = None
    interaction: JSON | None = None  # interaction_metadata
    message_reference: JSON | None = None
    deleted: bool = False

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def loading(self) -> bool:
        return bool(self.flags & LOADING)

    def to_json(self, world: World) -> JSON:
        guild = world.guilds.get(self.guild_id) if self.guild_id is not None else None
        mentions: list[JSON] = []
        for user_id in self.mentions:
            user = world.users.get(user_id)
            if user is None:
                continue
            entry = user.to_json()
            member = guild.members.get(user_id) if guild is not None else None
            if member is not None:
                entry["member"] = member.to_json(with_user=False)
            mentions.append(entry)
        data: JSON = {
            "id": str(self.id),
            "channel_id": str(self.channel_id),
            "author": self.author.to_json(),
            "content": self.content,
            "timestamp": iso(self.timestamp),
            "edited_timestamp": iso(self.edited_timestamp),
            "tts": self.tts,
            "mention_everyone": self.mention_everyone,
            "mentions": mentions,
            "mention_roles": [str(r) for r in self.mention_roles],
            "mention_channels": [],
            "attachments": self.attachments,
            "embeds": self.embeds,
            "reactions": [],
            "pinned": False,
            "type": self.type,
            "flags": self.flags,
            "components": self.components,
            "sticker_items": [],
            "position": None,
        }
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
        if self.nonce is not None:
            data["nonce"] = self.nonce
        if self.webhook_id is not None:
            data["webhook_id"] = str(self.webhook_id)
        if self.application_id is not None:
            data["application_id"] = str(self.application_id)
        if self.interaction is not None:
            data["interaction_metadata"] = self.interaction
            data["interaction"] = {
                "id": self.interaction["id"],
                "type": self.interaction["type"],
                "name": self.interaction.get("name", ""),
                "user": self.interaction["user"],
            }
        if self.message_reference is not None:
            data["message_reference"] = self.message_reference
            ref = world.messages.get(int(self.message_reference.get("message_id") or 0))
            data["referenced_message"] = None if ref is None else ref.to_json(world)
        return data


class World:
    """Everything the emulator knows, by id, plus the hook that forwards changes to the gateway.

    ``stable_ids``: users, guilds, roles and channels get ids derived from their names (see
    :class:`StableIds`), the same in every run, so a database kept between runs still matches the
    world. Messages, interactions and the application keep time-based ids: a fresh emulator knows
    no commands, and only a new application id makes the bot sync them again (it skips a sync when
    the definitions it last synced for its application id are unchanged).
    """

    def __init__(self, bot_name: str = "Backrun", *, stable_ids: bool = False) -> None:
        self.snowflakes = SnowflakeFactory()
        self._stable = StableIds() if stable_ids else None
        self.users: dict[int, User] = {}
        self._users_by_name: dict[str, User] = {}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.messages: dict[int, Message] = {}
        self.channel_messages: dict[int, list[Message]] = {}
        # The bytes of every uploaded attachment, by attachment id (served at its ``url``).
        self.files: dict[int, bytes] = {}
        self.application_id = self.snowflakes.next()
        self.bot_user = User(self.application_id, bot_name, bot=True)  # as for apps made today
        self.users[self.bot_user.id] = self.bot_user
        self.announce: Announce = lambda event, data, intent: None

    def new_id(self, *key: str | int, shard: Shard | None = None) -> int:
        """The id for a new user, guild, role or channel: from ``key`` in a stable world, else the
        next time-based snowflake; ``shard`` (a guild's): an id on that shard."""
        if self._stable is not None:
            return self._stable.id_for(*key, shard=shard)
        return self.snowflakes.next(shard)

    def user_named(self, name: str) -> User:
        """The user called ``name`` (made on first use; the same one in every guild)."""
        user = self._users_by_name.get(name)
        if user is None:
            user = User(self.new_id("user", name), name)
            self._users_by_name[name] = user
            self.users[user.id] = user
        return user

    def add_guild(
        self, name: str, *, owner_name: str | None = None, shard: Shard | None = None, with_bot: bool = True
    ) -> Guild:
        owner = self.user_named(owner_name or "owner")
        guild = Guild(self, name, owner=owner, shard=shard)
        self.guilds[guild.id] = guild
        guild.live = True
        guild.bot_present = with_bot
        if with_bot:
            # The bot is in it from the start: to its sessions, a server that just added it.
            self.announce("GUILD_CREATE", guild.to_json(joined=True), INTENT_GUILDS)
        return guild

    def store_message(self, message: Message) -> None:
        self.messages[message.id] = message
        if not message.ephemeral:
            self.channel_messages.setdefault(message.channel_id, []).append(message)
        channel = self.channels.get(message.channel_id)
        if channel is not None and not message.ephemeral:
            channel.last_message_id = message.id
