"""Which pings a message really makes, computed as Discord does from content and allowed_mentions.

* ``allowed_mentions`` absent: everything parsed from the content may ping.
* ``parse``: the kinds (``users``, ``roles``, ``everyone``) parsed from the content that may ping;
  ``users``/``roles``: explicit ids that may ping (only if they are also in the content).
* ``@everyone``/``@here`` ping only if allowed *and* the author may MENTION_EVERYONE in the channel;
  a role pings only if allowed and the role is mentionable or the author may MENTION_EVERYONE.
* ``replied_user`` (default: true without allowed_mentions, false with) pings the replied-to author.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

_USER = re.compile(r"<@!?(\d{1,20})>")
_ROLE = re.compile(r"<@&(\d{1,20})>")
_EVERYONE = re.compile(r"@(everyone|here)\b")


@dataclass(frozen=True)
class Pings:
    users: list[int]
    roles: list[int]
    everyone: bool


def _ids(values: Any) -> set[int]:
    out: set[int] = set()
    for value in values or ():
        try:
            out.add(int(value))
        except (TypeError, ValueError):
            continue
    return out


def compute_pings(
    content: str,
    allowed_mentions: dict[str, Any] | None,
    *,
    known_users: Collection[int],
    mentionable_roles: dict[int, bool],
    can_mention_everyone: bool,
    replied_user_id: int | None = None,
) -> Pings:
    """The users, roles and @everyone that ``content`` pings.

    ``mentionable_roles`` maps the guild's role ids to whether the role is mentionable by anyone.
    """
    parsed_users = [int(m) for m in _USER.findall(content)]
    parsed_roles = [int(m) for m in _ROLE.findall(content)]
    parsed_everyone = _EVERYONE.search(content) is not None

    if allowed_mentions is None:
        parse = {"users", "roles", "everyone"}
        allowed_users: set[int] = set()
        allowed_roles: set[int] = set()
        replied = True
    else:
        parse = {p for p in allowed_mentions.get("parse") or () if isinstance(p, str)}
        allowed_users = _ids(allowed_mentions.get("users"))
        allowed_roles = _ids(allowed_mentions.get("roles"))
        replied = bool(allowed_mentions.get("replied_user") or False)

    users: list[int] = []
    for user_id in parsed_users:
        if user_id in known_users and ("users" in parse or user_id in allowed_users) and user_id not in users:
            users.append(user_id)
    if replied and replied_user_id is not None and replied_user_id not in users:
        users.append(replied_user_id)

    roles: list[int] = []
    for role_id in parsed_roles:
        if role_id not in mentionable_roles or role_id in roles:
            continue
        if not ("roles" in parse or role_id in allowed_roles):
            continue
        if mentionable_roles[role_id] or can_mention_everyone:
            roles.append(role_id)

    everyone = parsed_everyone and "everyone" in parse and can_mention_everyone
    return Pings(users, roles, everyone)
