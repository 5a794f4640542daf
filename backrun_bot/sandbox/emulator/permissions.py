"""Discord permission bits and the way Discord computes a member's permissions in a channel.

The algorithm is the documented one: @everyone's permissions, OR the member's roles; the owner and
administrators get everything; then the channel's overwrites for @everyone, for the member's roles
(denies, then allows) and for the member. No VIEW_CHANNEL means no permission at all in the channel,
and no SEND_MESSAGES takes the send-dependent permissions away with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

CREATE_INSTANT_INVITE = 1 << 0
KICK_MEMBERS = 1 << 1
BAN_MEMBERS = 1 << 2
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
MANAGE_GUILD = 1 << 5
ADD_REACTIONS = 1 << 6
VIEW_AUDIT_LOG = 1 << 7
PRIORITY_SPEAKER = 1 << 8
STREAM = 1 << 9
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
SEND_TTS_MESSAGES = 1 << 12
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
USE_EXTERNAL_EMOJIS = 1 << 18
CONNECT = 1 << 20
SPEAK = 1 << 21
USE_VAD = 1 << 25
CHANGE_NICKNAME = 1 << 26
MANAGE_ROLES = 1 << 28
USE_APPLICATION_COMMANDS = 1 << 31
SEND_MESSAGES_IN_THREADS = 1 << 38
SEND_VOICE_MESSAGES = 1 << 46
SEND_POLLS = 1 << 49
USE_EXTERNAL_APPS = 1 << 50

ALL = (1 << 51) - 1

# What a new server's @everyone role has (Discord's defaults, MENTION_EVERYONE included: so the
# only thing keeping a bot from pinging @everyone is its allowed_mentions, as in most servers).
DEFAULT_EVERYONE = (
    CREATE_INSTANT_INVITE
    | ADD_REACTIONS
    | STREAM
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | MENTION_EVERYONE
    | USE_EXTERNAL_EMOJIS
    | CONNECT
    | SPEAK
    | USE_VAD
    | CHANGE_NICKNAME
    | USE_APPLICATION_COMMANDS
    | SEND_MESSAGES_IN_THREADS
    | SEND_VOICE_MESSAGES
    | SEND_POLLS
    | USE_EXTERNAL_APPS
)

# The bot's managed role: what the brief's invite link asks for.
BOT_ROLE = VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | READ_MESSAGE_HISTORY

# Lost together with SEND_MESSAGES (Discord's implicit permissions).
_NEEDS_SEND = MENTION_EVERYONE | SEND_TTS_MESSAGES | ATTACH_FILES | EMBED_LINKS

ROLE_OVERWRITE, MEMBER_OVERWRITE = 0, 1


@dataclass
class Overwrite:
    """A channel permission overwrite for a role (type 0) or a member (type 1)."""

    id: int
    type: int
    allow: int = 0
    deny: int = 0

    def to_json(self) -> dict[str, object]:
        return {"id": str(self.id), "type": self.type, "allow": str(self.allow), "deny": str(self.deny)}


def base_permissions(*, everyone: int, role_permissions: Iterable[int], is_owner: bool) -> int:
    """Guild-level permissions of a member."""
    if is_owner:
        return ALL
    perms = everyone
    for value in role_permissions:
        perms |= value
    if perms & ADMINISTRATOR:
        return ALL
    return perms


def channel_permissions(
    base: int, *, guild_id: int, role_ids: Iterable[int], member_id: int, overwrites: Iterable[Overwrite]
) -> int:
    """Permissions in a channel, from the guild-level ``base`` and the channel's overwrites."""
    if base & ADMINISTRATOR:
        return ALL
    by_id = {(o.type, o.id): o for o in overwrites}
    perms = base
    everyone = by_id.get((ROLE_OVERWRITE, guild_id))
    if everyone is not None:
        perms = (perms & ~everyone.deny) | everyone.allow
    allow = deny = 0
    for role_id in role_ids:
        role_overwrite = by_id.get((ROLE_OVERWRITE, role_id))
        if role_overwrite is not None:
            allow |= role_overwrite.allow
            deny |= role_overwrite.deny
    perms = (perms & ~deny) | allow
    member = by_id.get((MEMBER_OVERWRITE, member_id))
    if member is not None:
        perms = (perms & ~member.deny) | member.allow
    if not perms & VIEW_CHANNEL:
        return 0
    if not perms & SEND_MESSAGES:
        perms &= ~_NEEDS_SEND
    return perms


def has_all(perms: int, required: int) -> bool:
    return perms & ADMINISTRATOR != 0 or perms & required == required
