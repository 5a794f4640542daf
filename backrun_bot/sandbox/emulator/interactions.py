"""Interactions: the INTERACTION_CREATE payloads Discord sends, and what became of each one.

An :class:`InteractionRecord` follows one interaction from its dispatch to the bot through its
callback (which must come within the deadline, once) to its follow-ups and edits, and lets the
driver wait for the bot's first *visible* response.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from typing import Any

from backrun_bot.sandbox.emulator.model import JSON, Channel, Guild, Member, Message

PING, APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5

# Callback types
PONG = 1
CHANNEL_MESSAGE_WITH_SOURCE = 4
DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE = 5
DEFERRED_UPDATE_MESSAGE = 6
UPDATE_MESSAGE = 7
AUTOCOMPLETE_RESULT = 8
MODAL = 9

# Which callback types Discord accepts for which interaction type.
VALID_CALLBACKS: dict[int, frozenset[int]] = {
    APPLICATION_COMMAND: frozenset({4, 5, 9}),
    MESSAGE_COMPONENT: frozenset({4, 5, 6, 7, 9}),
    AUTOCOMPLETE: frozenset({8}),
    MODAL_SUBMIT: frozenset({4, 5, 6, 7}),
}

ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024


@dataclass(eq=False)
class InteractionRecord:
    id: int
    token: str
    type: int
    guild: Guild
    channel: Channel
    member: Member
    payload: JSON
    created: float  # event loop time (monotonic: time-machine does not move it)
    deadline: float
    command_name: str | None = None
    source_message_id: int | None = None
    delivered: bool = False
    callback_type: int | None = None
    original_message_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)
    choices: list[JSON] | None = None
    modal: JSON | None = None
    acknowledged: asyncio.Future[int] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    visible: asyncio.Future[int] = field(default_factory=lambda: asyncio.get_running_loop().create_future())

    def show(self, message_id: int) -> None:
        """The bot's first visible response is (now) ``message_id``."""
        if not self.visible.done():
            self.visible.set_result(message_id)

    @property
    def target_message_id(self) -> int | None:
        """What ``@original`` means: the response message, or for a deferred/updated component
        interaction the message the component is on."""
        if self.callback_type in (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE):
            return self.source_message_id
        return self.original_message_id


def new_token() -> str:
    return "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48)


def build_payload(
    *,
    interaction_id: int,
    token: str,
    kind: int,
    application_id: int,
    guild: Guild,
    channel: Channel,
    member: Member,
    data: JSON,
    app_permissions: int,
    message: Message | None = None,
    message_json: JSON | None = None,
) -> JSON:
    """A complete INTERACTION_CREATE ``d`` for a guild interaction."""
    member_permissions = guild.permissions_in(member, channel)
    payload: JSON = {
        "id": str(interaction_id),
        "application_id": str(application_id),
        "type": kind,
        "data": data,
        "guild_id": str(guild.id),
        "guild": guild.partial_json(),
        "channel_id": str(channel.id),
        "channel": channel.partial_json(member_permissions),
        "member": {**member.to_json(), "permissions": str(member_permissions)},
        "token": token,
        "version": 1,
        "app_permissions": str(app_permissions),
        "locale": "en-US",
        "guild_locale": "en-US",
        "entitlements": [],
        "entitlement_sku_ids": [],
        "authorizing_integration_owners": {"0": str(guild.id)},
        "context": 0,
        "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
    }
    if message is not None and message_json is not None:
        payload["message"] = message_json
    return payload


def resolved_for(guild: Guild, channel: Channel, values: list[tuple[int, Any]]) -> JSON:
    """The ``resolved`` object for option values of USER (6), CHANNEL (7), ROLE (8) and
    MENTIONABLE (9) types: ``values`` are (option type, object) pairs."""
    users: JSON = {}
    members: JSON = {}
    channels: JSON = {}
    roles: JSON = {}
    for option_type, value in values:
        if isinstance(value, Member):
            users[str(value.user_id)] = value.user.to_json()
            permissions = guild.permissions_in(value, channel)
            members[str(value.user_id)] = {**value.to_json(with_user=False), "permissions": str(permissions)}
        elif isinstance(value, Channel):
            channels[str(value.id)] = {
                "id": str(value.id),
                "name": value.name,
                "type": 0,
                "permissions": str(guild.permissions_in(guild.me, value)),
                "guild_id": str(value.guild.id),
                "parent_id": None,
                "position": value.position,
                "nsfw": False,
                "topic": None,
                "last_message_id": None,
                "rate_limit_per_user": 0,
                "flags": 0,
            }
        elif isinstance(value, int) and option_type in (8, 9) and value in guild.roles_by_id:
            roles[str(value)] = guild.roles_by_id[value].to_json()
    resolved: JSON = {}
    for key, entries in (("users", users), ("members", members), ("channels", channels), ("roles", roles)):
        if entries:
            resolved[key] = entries
    return resolved
