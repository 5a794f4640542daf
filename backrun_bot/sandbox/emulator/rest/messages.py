"""Guilds, channels and their messages as the bot reads and writes them, and what a message body
(content, embeds, components, attachments, allowed mentions) does to a stored message."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from backrun_bot.sandbox.emulator import permissions as P
from backrun_bot.sandbox.emulator.model import JSON, Channel, Guild, Message
from backrun_bot.sandbox.emulator.rest.routing import (
    ApiError,
    Request,
    check_limits,
    content_type_of,
    invalid_form,
    json_response,
    no_content,
    parse_snowflake,
    route,
)
from backrun_bot.sandbox.emulator.snowflake import now
from backrun_bot.sandbox.emulator.validation import Problem, message_limits

if TYPE_CHECKING:
    from backrun_bot.sandbox.emulator.core import DiscordEmulator

# Message flags a bot may set when sending (SUPPRESS_EMBEDS, SUPPRESS_NOTIFICATIONS,
# IS_COMPONENTS_V2); interaction responses and follow-ups may also set EPHEMERAL.
SEND_FLAGS = (1 << 2) | (1 << 12) | (1 << 15)


def check_flags(req: Request, flags: int, allowed: int, prefix: tuple[str | int, ...]) -> None:
    """Refuse ``flags`` outside ``allowed`` (at ``prefix`` + ``flags`` in the body)."""
    if flags & ~allowed:
        raise invalid_form(
            req.method, req.template, [Problem((*prefix, "flags"), "MESSAGE_FLAGS_INVALID", "Invalid flags")]
        )


def _guild(emu: DiscordEmulator, req: Request) -> Guild:
    guild = emu.world.guilds.get(parse_snowflake(req.params["guild_id"]))
    if guild is None:
        raise ApiError(404, 10004, "Unknown Guild")
    if not guild.bot_present:
        raise ApiError(403, 50001, "Missing Access")  # a server the bot is not in
    return guild


def _channel(emu: DiscordEmulator, req: Request, *, need: int = P.VIEW_CHANNEL) -> Channel:
    channel = emu.world.channels.get(parse_snowflake(req.params["channel_id"]))
    if channel is None or channel.deleted:
        raise ApiError(404, 10003, "Unknown Channel")
    if not channel.guild.bot_present:
        raise ApiError(403, 50001, "Missing Access")
    perms = channel.guild.permissions_in(channel.guild.me, channel)
    if not perms & P.VIEW_CHANNEL:
        raise ApiError(403, 50001, "Missing Access")
    if perms & need != need:
        raise ApiError(403, 50013, "Missing Permissions")
    return channel


def _message_in(emu: DiscordEmulator, channel: Channel, raw_id: str) -> Message:
    message = emu.world.messages.get(parse_snowflake(raw_id))
    if message is None or message.deleted or message.channel_id != channel.id or message.ephemeral:
        raise ApiError(404, 10008, "Unknown Message")
    return message


@route("GET", "/channels/{channel_id}")
async def get_channel(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    return json_response(_channel(emu, req).to_json())


@route("GET", "/guilds/{guild_id}")
async def get_guild(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    return json_response(_guild(emu, req).update_json())


@route("GET", "/guilds/{guild_id}/channels")
async def get_guild_channels(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    guild = _guild(emu, req)
    return json_response([c.to_json() for c in guild.channels.values()])


@route("GET", "/guilds/{guild_id}/roles")
async def get_guild_roles(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    guild = _guild(emu, req)
    return json_response([r.to_json() for r in guild.roles_by_id.values()])


@route("GET", "/guilds/{guild_id}/members/{user_id}")
async def get_guild_member(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    guild = _guild(emu, req)
    member = guild.members.get(parse_snowflake(req.params["user_id"]))
    if member is None:
        raise ApiError(404, 10007, "Unknown Member")
    return json_response(member.to_json())


@route("GET", "/channels/{channel_id}/messages")
async def list_messages(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    """Newest first, as Discord lists them. Without Read Message History Discord answers an empty
    list, not an error; ``after`` gives the ``limit`` messages right after it (still newest first)."""
    channel = _channel(emu, req, need=P.VIEW_CHANNEL)
    if not channel.guild.permissions_in(channel.guild.me, channel) & P.READ_MESSAGE_HISTORY:
        return json_response([])
    try:
        limit = min(100, max(1, int(req.query.get("limit", "50"))))
    except ValueError:
        limit = 50
    history = sorted(emu.messages(channel.id), key=lambda m: m.id, reverse=True)
    if "before" in req.query:
        history = [m for m in history if m.id < int(req.query["before"])][:limit]
    elif "after" in req.query:
        history = [m for m in history if m.id > int(req.query["after"])][-limit:]
    else:
        history = history[:limit]
    return json_response([m.to_json(emu.world) for m in history])


@route("GET", "/channels/{channel_id}/messages/{message_id}")
async def get_message(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    channel = _channel(emu, req, need=P.VIEW_CHANNEL | P.READ_MESSAGE_HISTORY)
    return json_response(_message_in(emu, channel, req.params["message_id"]).to_json(emu.world))


def apply_message_body(
    emu: DiscordEmulator,
    message: Message,
    body: JSON,
    channel: Channel | None,
    *,
    creating: bool,
    files: list[JSON] | None = None,
) -> None:
    """Set the fields present in ``body`` and recompute mentions.

    On an edit without ``allowed_mentions`` the message's own (from when it was sent) apply.
    """
    if "content" in body:
        message.content = body["content"] or ""
    if "embeds" in body:
        message.embeds = [_rich(e) for e in body["embeds"] or []]
    if "components" in body:
        message.components = body["components"] or []
    if "attachments" in body or files:
        message.attachments = _attachments(emu, message, body.get("attachments") or [], files)
    if "embeds" in body or "attachments" in body or files:
        _link_attachments(message)
    if "allowed_mentions" in body:
        message.allowed_mentions = body["allowed_mentions"]
    replied_user = None
    if creating and message.message_reference is not None:
        referenced = emu.world.messages.get(int(message.message_reference["message_id"]))
        replied_user = referenced.author.id if referenced is not None else None
    emu.compute_mentions(message, message.allowed_mentions, channel, replied_user=replied_user)


def _attachments(
    emu: DiscordEmulator, message: Message, wanted: list[Any], files: list[JSON] | None
) -> list[JSON]:
    """Attachment objects: uploaded ``files[n]`` parts (named by ``attachments[].id`` = n, or all of
    them when no metadata was sent) and, on an edit, the message's attachments it keeps by id."""
    uploads = {f["field"]: f for f in files or []}
    kept = {a["id"]: a for a in message.attachments}
    out: list[JSON] = []
    listed: set[str] = set()
    for item in wanted:
        if not isinstance(item, dict):
            continue
        key = str(item.get("id"))
        upload = uploads.get(f"files[{key}]")
        if upload is not None:
            listed.add(upload["field"])
            out.append(_attachment(emu, message, upload, item))
        elif key in kept:
            out.append(kept[key])
    out.extend(_attachment(emu, message, f, {}) for f in files or [] if f["field"] not in listed)
    return out


def _attachment(emu: DiscordEmulator, message: Message, upload: JSON, meta: JSON) -> JSON:
    attachment_id = emu.world.snowflakes.next()
    filename = meta.get("filename") or upload.get("filename") or "file"
    url = f"{emu.base_url}/attachments/{message.channel_id}/{attachment_id}/{filename}"
    data: bytes = upload.get("data", b"")
    emu.world.files[attachment_id] = data
    attachment: JSON = {
        "id": str(attachment_id),
        "filename": filename,
        "title": meta.get("title"),
        "description": meta.get("description"),
        "content_type": content_type_of(filename),
        "size": upload.get("size", 0),
        "url": url,
        "proxy_url": url,
        "ephemeral": message.ephemeral,
        "flags": 0,
    }
    size = png_size(data)
    if size is not None:  # Discord measures the images it is given
        attachment["width"], attachment["height"] = size
    return attachment


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG from its header (the IHDR chunk right after the signature)."""
    if len(data) < 24 or not data.startswith(_PNG_SIGNATURE) or data[12:16] != b"IHDR":
        return None
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _link_attachments(message: Message) -> None:
    """An embed's image or thumbnail ``attachment://<filename>`` shows that attachment of the
    message: Discord gives it the attachment's URL (and size). One naming no attachment of the
    message is left as sent, and Discord shows no picture there."""
    by_name = {a["filename"]: a for a in message.attachments}
    for embed in message.embeds:
        for key in ("image", "thumbnail"):
            media = embed.get(key)
            if not isinstance(media, dict) or not str(media.get("url", "")).startswith("attachment://"):
                continue
            attachment = by_name.get(str(media["url"]).removeprefix("attachment://"))
            if attachment is None:
                continue
            linked: JSON = {"url": attachment["url"], "proxy_url": attachment["proxy_url"], "flags": 0}
            for size in ("width", "height"):
                if size in attachment:
                    linked[size] = attachment[size]
            embed[key] = linked


def _rich(embed: JSON) -> JSON:
    out = {k: v for k, v in embed.items() if v is not None}
    out.setdefault("type", "rich")
    out.setdefault("content_scan_version", 0)
    return out


@route("POST", "/channels/{channel_id}/messages")
async def create_message(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    check_limits(req, message_limits(req.body, creating=not req.files))
    channel = _channel(emu, req, need=P.VIEW_CHANNEL | P.SEND_MESSAGES)
    body: JSON = req.body
    author = emu.world.bot_user
    nonce = body.get("nonce")
    if nonce is not None and body.get("enforce_nonce"):
        earlier = emu.check_nonce(author.id, nonce)
        if earlier is not None:
            return json_response(earlier.to_json(emu.world))
    flags = body.get("flags") or 0
    check_flags(req, flags, SEND_FLAGS, ())
    message = Message(
        id=emu.world.snowflakes.next(),
        channel_id=channel.id,
        guild_id=channel.guild.id,
        author=author,
        flags=flags,
        tts=bool(body.get("tts")),
        nonce=nonce,
    )
    reference = body.get("message_reference")
    if reference:
        if not _reference_ok(emu, channel, reference):
            raise invalid_form(
                req.method,
                req.template,
                [Problem(("message_reference",), "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message")],
            )
        if emu.world.messages.get(int(reference.get("message_id") or 0)) is not None:
            message.message_reference = {
                "type": 0,
                "message_id": str(reference["message_id"]),
                "channel_id": str(channel.id),
                "guild_id": str(channel.guild.id),
            }
    message.allowed_mentions = body.get("allowed_mentions")
    apply_message_body(emu, message, body, channel, creating=True, files=req.files)
    emu.message_stored(message, created=True)
    if nonce is not None and body.get("enforce_nonce"):
        emu.remember_nonce(author.id, nonce, message.id)
    return json_response(message.to_json(emu.world))


def _reference_ok(emu: DiscordEmulator, channel: Channel, reference: JSON) -> bool:
    referenced = emu.world.messages.get(int(reference.get("message_id") or 0))
    if referenced is not None and not referenced.deleted and referenced.channel_id == channel.id:
        return True
    return reference.get("fail_if_not_exists") is False


@route("PATCH", "/channels/{channel_id}/messages/{message_id}")
async def edit_message(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    check_limits(req, message_limits(req.body, creating=False))
    channel = _channel(emu, req)
    message = _message_in(emu, channel, req.params["message_id"])
    if message.author.id != emu.bot_user_id:
        raise ApiError(403, 50005, "Cannot edit a message authored by another user")
    apply_message_body(emu, message, req.body, channel, creating=False, files=req.files)
    if "flags" in req.body and req.body["flags"] is not None:
        message.flags = (message.flags & ~SEND_FLAGS) | (req.body["flags"] & SEND_FLAGS)
    message.edited_timestamp = now()
    emu.message_stored(message, created=False)
    return json_response(message.to_json(emu.world))


@route("DELETE", "/channels/{channel_id}/messages/{message_id}")
async def delete_message(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    channel = _channel(emu, req)
    message = _message_in(emu, channel, req.params["message_id"])
    if message.author.id != emu.bot_user_id:
        _channel(emu, req, need=P.VIEW_CHANNEL | P.MANAGE_MESSAGES)
    message.deleted = True
    emu.world.announce(
        "MESSAGE_DELETE",
        {"id": str(message.id), "channel_id": str(channel.id), "guild_id": str(channel.guild.id)},
        1 << 9,
    )
    return no_content()
