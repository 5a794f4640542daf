"""Acting as a member of a guild: slash commands, buttons and autocomplete, the way Discord's client
sends them, with the bot's answer read back as a :class:`Reply`.

Like Discord's client, :meth:`Actor.run` only sends what the synced command definition allows:
an unknown command, subcommand or option raises ValueError, a value of the wrong type TypeError,
and a value outside the option's choices, min/max value or min/max length ValueError (the client
would not let you send it). :meth:`Actor.run_raw` skips those range/choice/required checks (and lets
unknown options through) to send what a modified client might. A command the member may not use (its
``default_member_permissions``, unless :meth:`DiscordEmulator.set_command_permission` overrides)
raises PermissionError: the client hides it.

Values may also be given as text, as a person types them: ``"2"`` for an integer, ``"true"`` for a
boolean, a member's name for a user option, a channel's name for a channel option, a choice's
name for an option with choices.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from backrun_bot.sandbox.emulator import permissions as P
from backrun_bot.sandbox.emulator.interactions import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    CHANNEL_MESSAGE_WITH_SOURCE,
    DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
    DEFERRED_UPDATE_MESSAGE,
    MESSAGE_COMPONENT,
    MODAL,
    UPDATE_MESSAGE,
    InteractionRecord,
    resolved_for,
)
from backrun_bot.sandbox.emulator.model import JSON, Channel, Guild, Member, Message

if TYPE_CHECKING:
    from backrun_bot.sandbox.emulator.core import DiscordEmulator

SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = 3, 4, 5, 6, 7, 8, 9, 10, 11
MAX_SAFE_INTEGER = 2**53 - 1
BUTTON = 2
DEADLINE_GRACE = 0.25  # the server decides on the deadline; the driver just waits a bit longer


class NoResponse(Exception):
    """The bot did not answer in time: Discord shows "The application did not respond"."""


@dataclass(frozen=True)
class RoleOption:
    """A role as an option value (a plain role id ``int`` works as well)."""

    id: int


@dataclass
class Reply:
    """The bot's first visible response to an interaction, as it stood when it became visible."""

    id: int
    channel_id: int
    content: str
    embeds: list[dict[str, Any]]
    components: list[dict[str, Any]]
    ephemeral: bool
    mention_everyone: bool
    mentions: list[int]
    mention_roles: list[int]
    allowed_mentions: dict[str, Any] | None
    modal: dict[str, Any] | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)
    _emu: DiscordEmulator | None = field(default=None, repr=False, compare=False)
    _record: InteractionRecord | None = field(default=None, repr=False, compare=False)

    @classmethod
    def of(
        cls, message: Message, emu: DiscordEmulator | None = None, record: InteractionRecord | None = None
    ) -> Reply:
        return cls(
            id=message.id,
            channel_id=message.channel_id,
            content=message.content,
            embeds=[dict(e) for e in message.embeds],
            components=list(message.components),
            ephemeral=message.ephemeral,
            mention_everyone=message.mention_everyone,
            mentions=list(message.mentions),
            mention_roles=list(message.mention_roles),
            allowed_mentions=message.allowed_mentions,
            attachments=[dict(a) for a in message.attachments],
            _emu=emu,
            _record=record,
        )

    def file(self, index: int = 0) -> tuple[str, bytes]:
        """The ``index``-th attached file: its name and its bytes, as Discord's CDN serves them."""
        if self._emu is None:
            raise ValueError("this reply was not read from an emulator")
        attachment = self.attachments[index]
        return attachment["filename"], self._emu.attachment(attachment)

    def file_named(self, filename: str) -> bytes:
        """The bytes of this message's attachment called ``filename`` (as Discord's CDN serves them)."""
        found = [a for a in self.attachments if a.get("filename") == filename]
        if not found:
            names = ", ".join(repr(a.get("filename")) for a in self.attachments) or "none"
            raise ValueError(f"no attachment {filename!r} (attachments: {names})")
        return self._bytes(found[0])

    def embed_image(self, index: int = 0) -> bytes:
        """The picture embed ``index`` shows: the attachment of this message its image names
        (``attachment://…``, which Discord resolved to the attachment's URL); ValueError if the
        embed has no image, or one that is not an attachment of this message."""
        url = ((self.embeds[index] if index < len(self.embeds) else {}).get("image") or {}).get("url")
        if url is None:
            raise ValueError(f"embed {index} shows no image")
        found = [a for a in self.attachments if a.get("url") == url]
        if not found:
            raise ValueError(f"embed {index}'s image {url!r} is not an attachment of this message")
        return self._bytes(found[0])

    def _bytes(self, attachment: dict[str, Any]) -> bytes:
        if self._emu is None:
            raise ValueError("this reply is not connected to its emulator")
        return self._emu.attachment(attachment)

    @property
    def followups(self) -> list[Reply]:
        """Follow-up messages the bot sent for the same interaction so far (live)."""
        if self._emu is None or self._record is None:
            return []
        out = []
        for message_id in self._record.followup_ids:
            message = self._emu.world.messages.get(message_id)
            if message is not None and not message.deleted and message_id != self.id:
                out.append(Reply.of(message, self._emu, self._record))
        return out

    def text(self) -> str:
        """Content, then each embed's title, description, field names and values, and footer."""
        parts = [self.content] if self.content else []
        for embed in self.embeds:
            for key in ("title", "description"):
                if embed.get(key):
                    parts.append(str(embed[key]))
            for item in embed.get("fields") or []:
                parts.extend(str(item.get(k)) for k in ("name", "value") if item.get(k))
            footer = (embed.get("footer") or {}).get("text")
            if footer:
                parts.append(str(footer))
        return "\n".join(parts)

    def buttons(self) -> list[dict[str, Any]]:
        """The buttons, flattened out of action rows (and sections/containers)."""
        return [c for c in _walk(self.components) if c.get("type") == BUTTON]


def _walk(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for component in components:
        out.append(component)
        out.extend(_walk(component.get("components") or []))
        accessory = component.get("accessory")
        if isinstance(accessory, dict):
            out.append(accessory)
    return out


class Actor:
    """A member of a guild acting in a channel (by default #general)."""

    def __init__(self, emu: DiscordEmulator, member: Member, channel: Channel | None = None) -> None:
        self._emu = emu
        self.member = member
        self.guild: Guild = member.guild
        self.channel: Channel = channel or member.guild.channels["general"]

    @property
    def user_id(self) -> int:
        return self.member.user_id

    @property
    def name(self) -> str:
        return self.member.name

    def __repr__(self) -> str:
        return f"<Actor {self.name} in #{self.channel.name} of {self.guild.name}>"

    def in_channel(self, channel: Channel) -> Actor:
        """The same member acting in ``channel``."""
        if channel.guild is not self.guild:
            raise ValueError(f"#{channel.name} is not in {self.guild.name}")
        return Actor(self._emu, self.member, channel)

    # -- slash commands -----------------------------------------------------------------------------
    # Every option is a keyword, any name a command may define: so no other keyword parameters here
    # (one typed ``bool`` would make ``run(command, **options)`` with ``options: dict[str, str]`` a
    # type error, and would shadow an option of that name). The unchecked variant is its own method.
    async def run(self, command: str, /, **options: Any) -> Reply:
        """Invoke ``/command`` (``"reminders set"`` for a subcommand) with options by name, checked
        the way Discord's client checks them."""
        return await self._run(command, options, raw=False)

    async def run_raw(self, command: str, /, **options: Any) -> Reply:
        """Like :meth:`run`, without the client's range, choice and required checks, and with
        unknown options sent as well: what a modified client might send."""
        return await self._run(command, options, raw=True)

    async def _run(self, command: str, options: dict[str, Any], *, raw: bool) -> Reply:
        definition, data = self._command_data(command, options, raw=raw)
        record = self._emu.send_interaction(
            kind=APPLICATION_COMMAND,
            member=self.member,
            channel=self.channel,
            data=data,
            command_name=definition["name"],
        )
        return await self._reply(record, f"/{command}")

    async def autocomplete(
        self, command: str, option: str, value: str, /, **other_options: Any
    ) -> list[dict[str, Any]]:
        """What the bot suggests for ``option`` while ``value`` is typed (its choices)."""
        definition, data = self._command_data(command, other_options, raw=True, focused=(option, value))
        record = self._emu.send_interaction(
            kind=AUTOCOMPLETE,
            member=self.member,
            channel=self.channel,
            data=data,
            command_name=definition["name"],
        )
        await self._acknowledged(record, f"autocomplete of /{command} {option}")
        if record.callback_type != 8 or record.choices is None:
            raise NoResponse(f"autocomplete of /{command} {option} got callback type {record.callback_type}")
        return list(record.choices)

    def _command_data(
        self, command: str, options: dict[str, Any], *, raw: bool, focused: tuple[str, str] | None = None
    ) -> tuple[JSON, JSON]:
        words = command.strip().removeprefix("/").split()
        if not words:
            raise ValueError("no command given")
        definition = self._emu.command_registry.named(words[0])
        if definition is None:
            known = ", ".join(sorted("/" + c["name"] for c in self._emu.commands))
            raise ValueError(f"no command /{words[0]} (synced: {known or 'none'})")
        contexts = definition.get("contexts")
        if contexts is not None and 0 not in contexts:
            raise ValueError(f"/{words[0]} cannot be used in servers")
        if not self._may_use(definition):
            raise PermissionError(f"{self.name} may not use /{words[0]} in {self.guild.name}")

        path: list[JSON] = []  # the subcommand group / subcommand definitions walked through
        level: list[JSON] = definition.get("options") or []
        for word in words[1:]:
            subs = {o["name"]: o for o in level if o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)}
            if word not in subs:
                raise ValueError(
                    f"/{command}: no subcommand {word!r} (there are: {', '.join(subs) or 'none'})"
                )
            path.append(subs[word])
            level = subs[word].get("options") or []
        if any(o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP) for o in level):
            names = ", ".join(o["name"] for o in level)
            raise ValueError(f"/{command} needs a subcommand: {names}")

        remaining = dict(options)
        values: list[JSON] = []
        resolved: list[tuple[int, Any]] = []
        for spec in level:
            name = spec["name"]
            if focused is not None and name == focused[0]:
                values.append({"name": name, "type": spec["type"], "value": focused[1], "focused": True})
                continue
            key = name if name in remaining else name.replace("-", "_")
            if key not in remaining:
                if spec.get("required") and not raw:
                    raise ValueError(f"/{command}: option {name!r} is required")
                continue
            value, obj = self._option_value(command, spec, remaining.pop(key), check=not raw)
            values.append({"name": name, "type": spec["type"], "value": value})
            if obj is not None:
                resolved.append((spec["type"], obj))
        if focused is not None and not any(v.get("focused") for v in values):
            raise ValueError(f"/{command}: no option {focused[0]!r}")
        if remaining:
            if not raw:
                names = ", ".join(o["name"] for o in level) or "none"
                raise ValueError(f"/{command}: no option {', '.join(remaining)} (options: {names})")
            for name, value in remaining.items():
                kind, sent, obj = _infer(value)
                values.append({"name": name, "type": kind, "value": sent})
                if obj is not None:
                    resolved.append((kind, obj))

        nested: list[JSON] = values
        for sub in reversed(path):
            nested = [{"name": sub["name"], "type": sub["type"], "options": nested}]
        data: JSON = {
            "id": definition["id"],
            "name": definition["name"],
            "type": 1,
            "guild_id": str(self.guild.id),
        }
        if nested:
            data["options"] = nested
        extra = resolved_for(self.guild, self.channel, resolved)
        if extra:
            data["resolved"] = extra
        return definition, data

    def _may_use(self, definition: JSON) -> bool:
        guild, member = self.guild, self.member
        perms = guild.permissions_in(member, self.channel)
        if member.user_id == guild.owner_id or perms & P.ADMINISTRATOR:
            return True
        if not perms & P.USE_APPLICATION_COMMANDS:
            return False
        override = self._emu.command_override(guild, definition["name"])
        if override is not None:
            return override
        required = definition.get("default_member_permissions")
        if required is None:
            return True
        return perms & int(required) == int(required) and int(required) != 0

    def _option_value(self, command: str, spec: JSON, value: Any, *, check: bool) -> tuple[Any, Any]:
        """(the value as sent, the resolved object or None) for one option."""
        kind, name = spec["type"], spec["name"]
        where = f"/{command} {name}"
        choices = spec.get("choices") or []
        if choices and isinstance(value, str) and check:
            for choice in choices:
                if choice["value"] != value and choice["name"].lower() == value.lower():
                    value = choice["value"]
        sent: Any
        obj: Any = None
        if kind == STRING:
            if not isinstance(value, str):
                raise TypeError(f"{where} takes text, not {type(value).__name__}")
            sent = value
            if check:
                if "min_length" in spec and len(value) < spec["min_length"]:
                    raise ValueError(f"{where}: at least {spec['min_length']} characters")
                if len(value) > spec.get("max_length", 6000):
                    raise ValueError(f"{where}: at most {spec.get('max_length', 6000)} characters")
        elif kind in (INTEGER, NUMBER):
            sent = _number(where, value, integer=kind == INTEGER)
            if check:
                if spec.get("min_value") is not None and sent < spec["min_value"]:
                    raise ValueError(f"{where}: must be at least {spec['min_value']}")
                if spec.get("max_value") is not None and sent > spec["max_value"]:
                    raise ValueError(f"{where}: must be at most {spec['max_value']}")
        elif kind == BOOLEAN:
            if isinstance(value, str) and value.lower() in ("true", "yes", "false", "no"):
                value = value.lower() in ("true", "yes")
            if not isinstance(value, bool):
                raise TypeError(f"{where} takes True or False, not {type(value).__name__}")
            sent = value
        elif kind == USER or (kind == MENTIONABLE and not isinstance(value, int | RoleOption)):
            obj = self._member(where, value)
            sent = str(obj.user_id)
        elif kind in (ROLE, MENTIONABLE):
            role_id = self._role(where, value)
            sent, obj = str(role_id), role_id
        elif kind == CHANNEL:
            obj = self._channel(where, value)
            types = spec.get("channel_types")
            if check and types and 0 not in types:
                raise ValueError(f"{where}: a text channel is not allowed here")
            sent = str(obj.id)
        else:
            raise TypeError(f"{where}: option type {kind} is not supported by the driver")
        if check and choices and sent not in [c["value"] for c in choices]:
            names = ", ".join(repr(c["value"]) for c in choices)
            raise ValueError(f"{where}: {value!r} is not one of the choices ({names})")
        return sent, obj

    def _member(self, where: str, value: Any) -> Member:
        if isinstance(value, Actor):
            value = value.member
        if isinstance(value, str):
            named = self.guild.member_named(value.lstrip("@"))
            if named is None:
                raise ValueError(f"{where}: no member {value!r} in {self.guild.name}")
            return named
        if not isinstance(value, Member):
            raise TypeError(f"{where} takes a member (an Actor), not {type(value).__name__}")
        member: Member | None = value if value.guild is self.guild else self.guild.members.get(value.user_id)
        if member is None:
            raise ValueError(f"{where}: {value.name} is not a member of {self.guild.name}")
        return member

    def _role(self, where: str, value: Any) -> int:
        if isinstance(value, RoleOption):
            value = value.id
        if isinstance(value, str):
            role_id = self.guild.roles.get(value.lstrip("@"))
            if role_id is None:
                raise ValueError(f"{where}: no role {value!r} in {self.guild.name}")
            return role_id
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{where} takes a role id, not {type(value).__name__}")
        if value not in self.guild.roles_by_id:
            raise ValueError(f"{where}: no role {value} in {self.guild.name}")
        return value

    def _channel(self, where: str, value: Any) -> Channel:
        if isinstance(value, str):
            found = self.guild.channels.get(value.lstrip("#"))
            if found is None:
                raise ValueError(f"{where}: no channel {value!r} in {self.guild.name}")
            value = found
        if not isinstance(value, Channel):
            raise TypeError(f"{where} takes a Channel, not {type(value).__name__}")
        if value.guild is not self.guild or value.deleted:
            raise ValueError(f"{where}: #{value.name} is not a channel of {self.guild.name}")
        return value

    # -- buttons --------------------------------------------------------------------------------------
    async def press(self, reply: Reply, label: str) -> Reply:
        """Press the button labelled ``label`` on the message ``reply`` (as it is now)."""
        return await self._press(reply, label, raw=False)

    async def press_raw(self, reply: Reply, label: str) -> Reply:
        """Like :meth:`press`, also on an ephemeral message shown to somebody else: what a modified
        client that learnt the button's custom id might send."""
        return await self._press(reply, label, raw=True)

    async def _press(self, reply: Reply, label: str, *, raw: bool) -> Reply:
        message = self._emu.world.messages.get(reply.id)
        if message is None or message.deleted:
            raise ValueError("that message is gone")
        if message.ephemeral and not raw:
            viewer = (message.interaction or {}).get("user", {}).get("id")
            if viewer != str(self.user_id):
                raise ValueError(f"{self.name} cannot see that ephemeral message")
        buttons = [c for c in _walk(message.components) if c.get("type") == BUTTON]
        button = next((b for b in buttons if b.get("label") == label), None)
        if button is None:
            labels = ", ".join(repr(b.get("label")) for b in buttons) or "none"
            raise ValueError(f"no button {label!r} on that message (buttons: {labels})")
        if button.get("disabled"):
            raise ValueError(f"the button {label!r} is disabled")
        if not button.get("custom_id"):
            raise ValueError(f"the button {label!r} is a link, not something to press")
        channel = self._emu.world.channels[message.channel_id]
        data: JSON = {"custom_id": button["custom_id"], "component_type": BUTTON}
        if button.get("id") is not None:
            data["id"] = button["id"]
        record = self._emu.send_interaction(
            kind=MESSAGE_COMPONENT,
            member=self._member_in(channel),
            channel=channel,
            data=data,
            message=message,
        )
        return await self._reply(record, f"the {label!r} button")

    def _member_in(self, channel: Channel) -> Member:
        member = channel.guild.members.get(self.user_id)
        if member is None:
            raise ValueError(f"{self.name} is not a member of {channel.guild.name}")
        return member

    # -- waiting --------------------------------------------------------------------------------------
    async def _acknowledged(self, record: InteractionRecord, what: str) -> int:
        loop = asyncio.get_running_loop()
        remaining = record.created + record.deadline + DEADLINE_GRACE - loop.time()
        try:
            return await asyncio.wait_for(asyncio.shield(record.acknowledged), max(0.0, remaining))
        except TimeoutError:
            raise NoResponse(
                f"{what}: the application did not respond within {record.deadline:g}s"
                + ("" if record.delivered else " (no gateway session was connected)")
            ) from None

    async def _reply(self, record: InteractionRecord, what: str) -> Reply:
        kind = await self._acknowledged(record, what)
        emu = self._emu
        if kind == MODAL:
            return Reply(
                0,
                record.channel.id,
                "",
                [],
                [],
                True,
                False,
                [],
                [],
                None,
                modal=record.modal,
                _emu=emu,
                _record=record,
            )
        if kind in (CHANNEL_MESSAGE_WITH_SOURCE, UPDATE_MESSAGE):
            return Reply.of(emu.world.messages[record.visible.result()], emu, record)
        try:
            message_id = await asyncio.wait_for(asyncio.shield(record.visible), emu.followup_timeout)
        except TimeoutError:
            if kind == DEFERRED_UPDATE_MESSAGE and record.source_message_id is not None:
                return Reply.of(emu.world.messages[record.source_message_id], emu, record)
            raise NoResponse(
                f"{what}: deferred, but no response followed within {emu.followup_timeout:g}s"
            ) from None
        assert kind in (DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE, DEFERRED_UPDATE_MESSAGE)
        return Reply.of(emu.world.messages[message_id], emu, record)


def actor(emu: DiscordEmulator, guild: Guild, name: str) -> Actor:
    """The driver for member ``name`` of ``guild`` (added with default permissions if absent)."""
    member = guild.member_named(name) or guild.add_member(name)
    return Actor(emu, member)


def _number(where: str, value: Any, *, integer: bool) -> int | float:
    if isinstance(value, str):
        try:
            value = int(value) if integer else float(value)
        except ValueError:
            raise ValueError(f"{where}: {value!r} is not a {'whole ' if integer else ''}number") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{where} takes a number, not {type(value).__name__}")
    if integer and not isinstance(value, int):
        raise TypeError(f"{where} takes a whole number, not {value!r}")
    if abs(value) > MAX_SAFE_INTEGER:
        raise ValueError(f"{where}: {value} is out of range")
    return value


def _infer(value: Any) -> tuple[int, Any, Any]:
    """(option type, value as sent, resolved object) for an option the definition does not know."""
    if isinstance(value, bool):
        return BOOLEAN, value, None
    if isinstance(value, int):
        return INTEGER, value, None
    if isinstance(value, float):
        return NUMBER, value, None
    if isinstance(value, Actor):
        return USER, str(value.user_id), value.member
    if isinstance(value, Member):
        return USER, str(value.user_id), value
    if isinstance(value, Channel):
        return CHANNEL, str(value.id), value
    if isinstance(value, RoleOption):
        return ROLE, str(value.id), value.id
    return STRING, str(value), None
