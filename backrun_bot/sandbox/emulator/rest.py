"""Discord's HTTP API v10 (the part a bot uses), under ``/api/v10``.

Every request goes through :func:`_dispatch`: route lookup (unknown -> 404 code 0, a violation),
bot authentication (401 -> discord.py's LoginFailure; not a violation: wrong tokens are a user
error), injected faults, body parsing (JSON or multipart with ``payload_json``), validation against
Discord's OpenAPI schema and limits (400 50035 "Invalid Form Body", a violation), then the handler.
Handlers raise :class:`ApiError` for Discord's JSON errors.
"""

from __future__ import annotations

import asyncio
import functools
import json
import math
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import BodyPartReader, web
from multidict import MultiMapping

from backrun_bot.sandbox.emulator import permissions as P
from backrun_bot.sandbox.emulator.faults import Fault
from backrun_bot.sandbox.emulator.interactions import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE_RESULT,
    CHANNEL_MESSAGE_WITH_SOURCE,
    DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
    DEFERRED_UPDATE_MESSAGE,
    MODAL,
    UPDATE_MESSAGE,
    VALID_CALLBACKS,
    InteractionRecord,
)
from backrun_bot.sandbox.emulator.model import EPHEMERAL, JSON, LOADING, Channel, Guild, Message
from backrun_bot.sandbox.emulator.snowflake import now
from backrun_bot.sandbox.emulator.validation import Problem, errors_json, message_limits

if TYPE_CHECKING:
    from backrun_bot.sandbox.emulator.core import DiscordEmulator

# Message flags a bot may set when sending (SUPPRESS_EMBEDS, EPHEMERAL, SUPPRESS_NOTIFICATIONS,
# IS_COMPONENTS_V2); EPHEMERAL only on interaction responses and follow-ups.
SEND_FLAGS = (1 << 2) | (1 << 12) | (1 << 15)
INTERACTION_FLAGS = SEND_FLAGS | EPHEMERAL
CHAT_INPUT_COMMAND_MESSAGE = 20


class ApiError(Exception):
    """A Discord JSON error response; ``violation`` (if given) is also recorded."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        errors: JSON | None = None,
        violation: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.errors, self.violation = (
            status,
            code,
            message,
            errors,
            violation,
        )

    def response(self) -> web.Response:
        body: JSON = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return json_response(body, status=self.status)


@dataclass
class Request:
    method: str
    path: str
    template: str
    params: dict[str, str]
    query: MultiMapping[str]
    body: Any = None
    files: list[JSON] = field(default_factory=list)


Handler = Callable[["DiscordEmulator", Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    handler: Handler
    auth: bool
    pattern: re.Pattern[str]


_ROUTES: list[Route] = []


def route(method: str, template: str, *, auth: bool = True) -> Callable[[Handler], Handler]:
    regex = re.escape(template)
    regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", regex)

    def register(handler: Handler) -> Handler:
        _ROUTES.append(Route(method, template, handler, auth, re.compile(regex)))
        return handler

    return register


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """JSON with ``Content-Type: application/json`` exactly (no charset): discord.py's
    ``json_or_text`` compares the header for equality and would hand a str to the caller."""
    body = json.dumps(data, separators=(",", ":")).encode()
    return web.Response(
        body=body, status=status, headers={**(headers or {}), "Content-Type": "application/json"}
    )


def no_content() -> web.Response:
    return web.Response(status=204)


# -- the pipeline -------------------------------------------------------------------------------------


def build_app(emu: DiscordEmulator) -> web.Application:
    app = web.Application(client_max_size=64 * 1024 * 1024)

    async def api(request: web.Request) -> web.StreamResponse:
        try:
            return await _dispatch(emu, request)
        except ApiError as error:
            if error.violation:
                emu.report(error.violation)
            return error.response()

    app.router.add_route("*", "/api/v10{tail:/.*}", api)
    app.router.add_get("/gateway", emu.gateway.handle)
    app.router.add_get("/gateway/", emu.gateway.handle)
    return app


@functools.cache
def _routes_by_specificity() -> tuple[Route, ...]:
    return tuple(sorted(_ROUTES, key=lambda r: r.template.count("{")))


def _find(method: str, path: str) -> tuple[Route, dict[str, str]]:
    matched_path = False
    # Literal routes first (".../messages/@original" before ".../messages/{message_id}").
    for candidate in _routes_by_specificity():
        found = candidate.pattern.fullmatch(path)
        if found is None:
            continue
        matched_path = True
        if candidate.method == method:
            return candidate, found.groupdict()
    if matched_path:
        raise ApiError(405, 0, "405: Method Not Allowed", violation=f"{method} {path}: method not allowed")
    raise ApiError(
        404, 0, "404: Not Found", violation=f"{method} {path}: no such route in the API (or not emulated)"
    )


async def _dispatch(emu: DiscordEmulator, request: web.Request) -> web.StreamResponse:
    method = request.method
    path = request.match_info["tail"]
    found, params = _find(method, path)
    if found.auth and request.headers.get("Authorization") != f"Bot {emu.token}":
        raise ApiError(401, 0, "401: Unauthorized")
    fault = emu.faults.take(method, path)
    if fault is not None:
        await request.read()
        return _fault_response(fault)
    req = Request(method, path, found.template, params, request.query)
    if request.body_exists:
        req.body, req.files = await _read_body(request, method, path)
    if method in ("POST", "PUT", "PATCH") and emu.validator.has_operation(method, found.template):
        if req.body is None:
            req.body = {}
        problems = emu.validator.validate(method, found.template, req.body)
        if problems:
            raise invalid_form(method, found.template, problems)
    return await found.handler(emu, req)


def invalid_form(method: str, template: str, problems: list[Problem]) -> ApiError:
    described = "; ".join(p.describe() for p in problems[:5])
    return ApiError(
        400,
        50035,
        "Invalid Form Body",
        errors=errors_json(problems),
        violation=f"{method} {template}: Invalid Form Body: {described}",
    )


def _fault_response(fault: Fault) -> web.Response:
    status, retry_after, global_ = fault.status, fault.retry_after, fault.global_
    if 400 <= status < 500 and status != 429:
        return json_response({"message": fault.message, "code": fault.code}, status=status)
    if status != 429:
        return json_response({"message": f"{status}: Server Error", "code": 0}, status=status)
    headers = {
        "Retry-After": str(max(1, math.ceil(retry_after))),
        "X-RateLimit-Limit": "5",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
        "X-RateLimit-Reset-After": f"{retry_after:.3f}",
        "X-RateLimit-Bucket": "emulated0bucket0hash",
        "X-RateLimit-Scope": "global" if global_ else "user",
        "Via": "1.1 google",
    }
    if global_:
        headers["X-RateLimit-Global"] = "true"
    body = {
        "message": "You are being rate limited.",
        "retry_after": retry_after,
        "global": global_,
        "code": 0,
    }
    return json_response(body, status=429, headers=headers)


async def _read_body(request: web.Request, method: str, path: str) -> tuple[Any, list[JSON]]:
    content_type = request.content_type
    if content_type.startswith("multipart/"):
        body: Any = None
        files: list[JSON] = []
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "payload_json":
                text = await part.text()
                body = _parse_json(text, method, path)
            else:
                data = await part.read()
                files.append({"field": part.name, "filename": part.filename, "size": len(data)})
        return body, files
    raw = await request.read()
    if not raw:
        return None, []
    if content_type != "application/json":
        raise ApiError(
            400,
            50109,
            "The request body contains invalid JSON.",
            violation=f"{method} {path}: body sent as {content_type}",
        )
    return _parse_json(raw.decode("utf-8", "replace"), method, path), []


def _parse_json(text: str, method: str, path: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise ApiError(
            400,
            50109,
            "The request body contains invalid JSON.",
            violation=f"{method} {path}: invalid JSON body",
        ) from None


def check_limits(req: Request, problems: list[Problem]) -> None:
    if problems:
        raise invalid_form(req.method, req.template, problems)


# -- users, application, gateway ------------------------------------------------------------------------


def _bot_user_json(emu: DiscordEmulator) -> JSON:
    return {
        **emu.world.bot_user.to_json(),
        "verified": True,
        "mfa_enabled": False,
        "email": None,
        "locale": "en-US",
    }


@route("GET", "/users/@me")
async def get_me(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    return json_response(_bot_user_json(emu))


@route("GET", "/users/{user_id}")
async def get_user(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    user = emu.world.users.get(_snowflake(req.params["user_id"]))
    if user is None:
        raise ApiError(404, 10013, "Unknown User")
    return json_response(user.to_json())


def _application_json(emu: DiscordEmulator) -> JSON:
    owner = emu.world.user_named("backrun-developer")
    return {
        "id": str(emu.application_id),
        "name": emu.world.bot_user.name,
        "icon": None,
        "description": "",
        "summary": "",
        "type": None,
        "is_monetized": False,
        "is_verified": False,
        "is_discoverable": False,
        "hook": True,
        "storefront_available": False,
        "bot_public": True,
        "bot_require_code_grant": False,
        "verify_key": emu.verify_key,
        "flags": 1 << 13 | 1 << 15 | 1 << 19 | 1 << 23,
        "owner": owner.to_json(),
        "team": None,
        "bot": emu.world.bot_user.to_json(),
        "rpc_origins": [],
        "redirect_uris": [],
        "terms_of_service_url": None,
        "privacy_policy_url": None,
        "interactions_endpoint_url": None,
        "role_connections_verification_url": None,
        "event_webhooks_url": None,
        "event_webhooks_status": 1,
        "event_webhooks_types": [],
        "custom_install_url": None,
        "install_params": None,
        "integration_types_config": {"0": {}},
        "tags": [],
        "approximate_guild_count": len(emu.world.guilds),
        "approximate_user_install_count": 0,
        "cover_image": None,
        "primary_sku_id": None,
        "slug": None,
        "guild_id": None,
    }


@route("GET", "/oauth2/applications/@me")
async def get_oauth_application(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    return json_response(_application_json(emu))


@route("GET", "/applications/@me")
async def get_application(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    return json_response(_application_json(emu))


@route("GET", "/gateway", auth=False)
async def get_gateway(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    return json_response({"url": emu.gateway_url})


@route("GET", "/gateway/bot")
async def get_gateway_bot(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    limit = {
        "total": 1000,
        "remaining": max(0, 1000 - emu.identify_count),
        "reset_after": 86_400_000,
        "max_concurrency": 1,
    }
    return json_response({"url": emu.gateway_url, "shards": 1, "session_start_limit": limit})


# -- application commands -----------------------------------------------------------------------------------


def _check_application(emu: DiscordEmulator, req: Request) -> None:
    if _snowflake(req.params["application_id"]) != emu.application_id:
        raise ApiError(
            403, 50001, "Missing Access", violation=f"{req.method} {req.path}: not this bot's application"
        )


def _full_command(emu: DiscordEmulator, body: JSON, existing: JSON | None) -> JSON:
    kind = body.get("type") or 1
    permissions = body.get("default_member_permissions")
    command: JSON = {
        "id": existing["id"] if existing else str(emu.world.snowflakes.next()),
        "application_id": str(emu.application_id),
        "version": str(emu.world.snowflakes.next()),
        "default_member_permissions": None if permissions is None else str(permissions),
        "type": kind,
        "name": body["name"],
        "name_localizations": body.get("name_localizations"),
        "description": body.get("description") or "",
        "description_localizations": body.get("description_localizations"),
        "dm_permission": body.get("dm_permission", True),
        "contexts": body.get("contexts"),
        "integration_types": body.get("integration_types") or [0],
        "nsfw": bool(body.get("nsfw", False)),
    }
    if body.get("options"):
        command["options"] = body["options"]
    return command


@route("GET", "/applications/{application_id}/commands")
async def get_commands(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    _check_application(emu, req)
    return json_response(emu._commands)


@route("PUT", "/applications/{application_id}/commands")
async def put_commands(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    from backrun_bot.sandbox.emulator.validation import command_limits  # noqa: PLC0415

    _check_application(emu, req)
    body = req.body or []
    check_limits(req, command_limits(body))
    by_key = {(c["type"], c["name"]): c for c in emu._commands}
    emu._commands = [_full_command(emu, c, by_key.get((c.get("type") or 1, c["name"]))) for c in body]
    emu.command_sync_count += 1
    return json_response(emu._commands)


@route("POST", "/applications/{application_id}/commands")
async def post_command(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    from backrun_bot.sandbox.emulator.validation import command_limits  # noqa: PLC0415

    _check_application(emu, req)
    check_limits(req, command_limits([req.body]))
    key = (req.body.get("type") or 1, req.body["name"])
    existing = next((c for c in emu._commands if (c["type"], c["name"]) == key), None)
    command = _full_command(emu, req.body, existing)
    emu._commands = [c for c in emu._commands if c is not existing] + [command]
    emu.command_sync_count += 1
    return json_response(command, 200 if existing else 201)


def _command(emu: DiscordEmulator, req: Request) -> JSON:
    for command in emu._commands:
        if command["id"] == req.params["command_id"]:
            return command
    raise ApiError(404, 10063, "Unknown application command")


@route("GET", "/applications/{application_id}/commands/{command_id}")
async def get_command(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    _check_application(emu, req)
    return json_response(_command(emu, req))


@route("PATCH", "/applications/{application_id}/commands/{command_id}")
async def patch_command(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    _check_application(emu, req)
    command = _command(emu, req)
    updated = _full_command(emu, {**command, **req.body}, command)
    emu._commands = [updated if c is command else c for c in emu._commands]
    emu.command_sync_count += 1
    return json_response(updated)


@route("DELETE", "/applications/{application_id}/commands/{command_id}")
async def delete_command(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    _check_application(emu, req)
    command = _command(emu, req)
    emu._commands = [c for c in emu._commands if c is not command]
    return no_content()


@route("GET", "/applications/{application_id}/guilds/{guild_id}/commands")
async def get_guild_commands(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    _check_application(emu, req)
    return json_response([])


@route("PUT", "/applications/{application_id}/guilds/{guild_id}/commands")
async def put_guild_commands(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    _check_application(emu, req)
    if req.body:
        emu.report("PUT guild commands: the emulator does not keep guild commands (global ones only)")
    return json_response([])


# -- channels and messages --------------------------------------------------------------------------------


def _snowflake(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ApiError(
            400,
            50035,
            "Invalid Form Body",
            errors={
                "_errors": [{"code": "NUMBER_TYPE_COERCE", "message": f'Value "{raw}" is not snowflake.'}]
            },
        ) from None


def _guild(emu: DiscordEmulator, req: Request) -> Guild:
    guild = emu.world.guilds.get(_snowflake(req.params["guild_id"]))
    if guild is None:
        raise ApiError(404, 10004, "Unknown Guild")
    return guild


def _channel(emu: DiscordEmulator, req: Request, *, need: int = P.VIEW_CHANNEL) -> Channel:
    channel = emu.world.channels.get(_snowflake(req.params["channel_id"]))
    if channel is None or channel.deleted:
        raise ApiError(404, 10003, "Unknown Channel")
    perms = channel.guild.permissions_in(channel.guild.me, channel)
    if not perms & P.VIEW_CHANNEL:
        raise ApiError(403, 50001, "Missing Access")
    if perms & need != need:
        raise ApiError(403, 50013, "Missing Permissions")
    return channel


def _message_in(emu: DiscordEmulator, channel: Channel, raw_id: str) -> Message:
    message = emu.world.messages.get(_snowflake(raw_id))
    if message is None or message.deleted or message.channel_id != channel.id or message.ephemeral:
        raise ApiError(404, 10008, "Unknown Message")
    return message


@route("GET", "/channels/{channel_id}")
async def get_channel(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    return json_response(_channel(emu, req).to_json())


@route("GET", "/guilds/{guild_id}")
async def get_guild(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    guild = _guild(emu, req)
    data = guild.to_json()
    for key in (
        "members",
        "channels",
        "threads",
        "presences",
        "voice_states",
        "joined_at",
        "member_count",
        "large",
    ):
        data.pop(key, None)
    return json_response(data)


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
    member = guild.members.get(_snowflake(req.params["user_id"]))
    if member is None:
        raise ApiError(404, 10007, "Unknown Member")
    return json_response(member.to_json())


@route("GET", "/channels/{channel_id}/messages")
async def list_messages(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    channel = _channel(emu, req, need=P.VIEW_CHANNEL | P.READ_MESSAGE_HISTORY)
    try:
        limit = min(100, max(1, int(req.query.get("limit", "50"))))
    except ValueError:
        limit = 50
    history = list(reversed(emu.messages(channel.id)))
    if "before" in req.query:
        history = [m for m in history if m.id < int(req.query["before"])]
    if "after" in req.query:
        history = [m for m in history if m.id > int(req.query["after"])]
    return json_response([m.to_json(emu.world) for m in history[:limit]])


@route("GET", "/channels/{channel_id}/messages/{message_id}")
async def get_message(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    channel = _channel(emu, req, need=P.VIEW_CHANNEL | P.READ_MESSAGE_HISTORY)
    return json_response(_message_in(emu, channel, req.params["message_id"]).to_json(emu.world))


def _apply_message_body(
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
    return {
        "id": str(attachment_id),
        "filename": filename,
        "title": meta.get("title"),
        "description": meta.get("description"),
        "content_type": "application/octet-stream",
        "size": upload.get("size", 0),
        "url": url,
        "proxy_url": url,
        "ephemeral": message.ephemeral,
        "flags": 0,
    }


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
    if flags & ~SEND_FLAGS:
        raise invalid_form(
            req.method, req.template, [Problem(("flags",), "MESSAGE_FLAGS_INVALID", "Invalid flags")]
        )
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
    _apply_message_body(emu, message, body, channel, creating=True, files=req.files)
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
    _apply_message_body(emu, message, req.body, channel, creating=False, files=req.files)
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


# -- interactions ------------------------------------------------------------------------------------------


def _interaction_message(
    emu: DiscordEmulator,
    record: InteractionRecord,
    body: JSON,
    *,
    flags: int,
    followup: bool,
    files: list[JSON] | None = None,
) -> Message:
    metadata: JSON = {
        "id": str(record.id),
        "type": record.type,
        "user": record.member.user.to_json(),
        "authorizing_integration_owners": {"0": str(record.guild.id)},
    }
    if record.type == APPLICATION_COMMAND:
        metadata["name"] = record.command_name or ""
        metadata["command_type"] = 1
    if record.source_message_id is not None:
        metadata["interacted_message_id"] = str(record.source_message_id)
    if followup and record.original_message_id is not None:
        metadata["original_response_message_id"] = str(record.original_message_id)
    message = Message(
        id=emu.world.snowflakes.next(),
        channel_id=record.channel.id,
        guild_id=record.guild.id,
        author=emu.world.bot_user,
        flags=flags,
        tts=bool(body.get("tts")),
        type=CHAT_INPUT_COMMAND_MESSAGE if record.type == APPLICATION_COMMAND and not followup else 0,
        webhook_id=emu.application_id,
        application_id=emu.application_id,
        interaction=metadata,
        allowed_mentions=body.get("allowed_mentions"),
    )
    _apply_message_body(emu, message, body, record.channel, creating=True, files=files)
    return message


def _bad_flags(req: Request, flags: int, allowed: int, prefix: tuple[str | int, ...]) -> None:
    if flags & ~allowed:
        raise invalid_form(
            req.method, req.template, [Problem((*prefix, "flags"), "MESSAGE_FLAGS_INVALID", "Invalid flags")]
        )


@route("POST", "/interactions/{interaction_id}/{interaction_token}/callback", auth=False)
async def interaction_callback(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    where = f"POST /interactions/{req.params['interaction_id']}/…/callback"
    record = emu.interaction(_snowflake(req.params["interaction_id"]))
    if record is None:
        raise ApiError(404, 10062, "Unknown interaction", violation=f"{where}: unknown interaction")
    if record.token != req.params["interaction_token"]:
        raise ApiError(401, 50027, "Invalid Webhook Token", violation=f"{where}: wrong interaction token")
    if record.callback_type is not None:
        raise ApiError(
            400,
            40060,
            "Interaction has already been acknowledged.",
            violation=f"{where}: second callback (type {req.body.get('type')}) for an acknowledged "
            "interaction",
        )
    elapsed = asyncio.get_running_loop().time() - record.created
    if elapsed > record.deadline:
        raise ApiError(
            404,
            10062,
            "Unknown interaction",
            violation=f"{where}: callback {elapsed:.2f}s after the interaction, "
            f"past the {record.deadline:g}s deadline",
        )
    body: JSON = req.body
    kind = body.get("type")
    if kind not in VALID_CALLBACKS.get(record.type, frozenset()):
        raise invalid_form(
            req.method,
            req.template,
            [
                Problem(
                    ("type",),
                    "INTERACTION_RESPONSE_TYPE_INVALID",
                    f"Callback type {kind} is not valid for interaction type {record.type}",
                )
            ],
        )
    data: JSON = body.get("data") or {}
    if kind in (CHANNEL_MESSAGE_WITH_SOURCE, UPDATE_MESSAGE):
        check_limits(
            req,
            message_limits(
                data, creating=kind == CHANNEL_MESSAGE_WITH_SOURCE and not req.files, prefix=("data",)
            ),
        )
    if kind == UPDATE_MESSAGE and record.source_message_id is None:
        raise invalid_form(
            req.method,
            req.template,
            [Problem(("type",), "INTERACTION_RESPONSE_TYPE_INVALID", "No message to update")],
        )

    message: Message | None = None
    flags = data.get("flags") or 0
    if kind == CHANNEL_MESSAGE_WITH_SOURCE:
        _bad_flags(req, flags, INTERACTION_FLAGS, ("data",))
        message = _interaction_message(emu, record, data, flags=flags, followup=False, files=req.files)
        record.original_message_id = message.id
        emu.message_stored(message, created=True)
    elif kind == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE:
        _bad_flags(req, flags, INTERACTION_FLAGS, ("data",))
        message = _interaction_message(emu, record, {}, flags=LOADING | (flags & EPHEMERAL), followup=False)
        record.original_message_id = message.id
        emu.message_stored(message, created=True)
    elif kind == UPDATE_MESSAGE:
        message = emu.world.messages[record.source_message_id or 0]
        _apply_message_body(emu, message, data, record.channel, creating=False, files=req.files)
        message.edited_timestamp = now()
        emu.message_stored(message, created=False)
    elif kind == AUTOCOMPLETE_RESULT:
        record.choices = list(data.get("choices") or [])
    elif kind == MODAL:
        record.modal = data

    record.callback_type = kind
    if message is not None and not message.loading:
        record.show(message.id)
    if not record.acknowledged.done():
        record.acknowledged.set_result(kind)
    emu._changed()

    if req.query.get("with_response", "").lower() not in ("1", "true"):
        return no_content()
    shown = message if kind != DEFERRED_UPDATE_MESSAGE else None
    interaction: JSON = {
        "id": str(record.id),
        "type": record.type,
        "response_message_loading": kind == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
        "response_message_ephemeral": bool(shown is not None and shown.ephemeral),
    }
    if shown is not None:
        interaction["response_message_id"] = str(shown.id)
    resource: JSON = {"type": kind}
    if shown is not None:
        resource["message"] = shown.to_json(emu.world)
    return json_response({"interaction": interaction, "resource": resource})


def _webhook_record(emu: DiscordEmulator, req: Request) -> InteractionRecord:
    where = f"{req.method} {req.template}"
    if _snowflake(req.params["webhook_id"]) != emu.application_id:
        raise ApiError(
            404, 10015, "Unknown Webhook", violation=f"{where}: webhook id is not the application id"
        )
    record = emu.interaction_by_token(req.params["webhook_token"])
    if record is None:
        raise ApiError(401, 50027, "Invalid Webhook Token", violation=f"{where}: unknown interaction token")
    if asyncio.get_running_loop().time() - record.created > emu.interaction_token_lifetime:
        raise ApiError(
            401, 50027, "Invalid Webhook Token", violation=f"{where}: interaction token expired (15 min)"
        )
    if record.callback_type is None:
        raise ApiError(
            404, 10015, "Unknown Webhook", violation=f"{where}: used before the interaction was acknowledged"
        )
    return record


def _webhook_message(emu: DiscordEmulator, req: Request, record: InteractionRecord) -> Message:
    raw = req.params.get("message_id")
    message_id = record.target_message_id if raw is None else _snowflake(raw)
    allowed = {record.original_message_id, record.source_message_id, *record.followup_ids}
    message = emu.world.messages.get(message_id or 0)
    if message is None or message.deleted or message_id not in allowed:
        raise ApiError(
            404, 10008, "Unknown Message", violation=f"{req.method} {req.template}: no such message"
        )
    return message


@route("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/@original", auth=False)
async def get_original(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    record = _webhook_record(emu, req)
    return json_response(_webhook_message(emu, req, record).to_json(emu.world))


@route("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", auth=False)
async def get_webhook_message(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    record = _webhook_record(emu, req)
    return json_response(_webhook_message(emu, req, record).to_json(emu.world))


async def _edit_webhook_message(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    check_limits(req, message_limits(req.body, creating=False))
    record = _webhook_record(emu, req)
    message = _webhook_message(emu, req, record)
    body: JSON = req.body
    was_loading = message.loading
    _apply_message_body(emu, message, body, record.channel, creating=False, files=req.files)
    if was_loading:
        # The deferred "thinking" message becomes the response; ephemeral-ness stays as deferred.
        message.flags &= ~LOADING
        if not any((message.content, message.embeds, message.components, message.attachments)):
            raise ApiError(
                400,
                50006,
                "Cannot send an empty message",
                violation=f"{req.method} {req.template}: empty message",
            )
    else:
        message.edited_timestamp = now()
    emu.message_stored(message, created=False)
    if message.id == record.target_message_id:
        record.show(message.id)
    return json_response(message.to_json(emu.world))


@route("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/@original", auth=False)
async def edit_original(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    return await _edit_webhook_message(emu, req)


@route("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", auth=False)
async def edit_webhook_message(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    return await _edit_webhook_message(emu, req)


async def _delete_webhook_message(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    record = _webhook_record(emu, req)
    message = _webhook_message(emu, req, record)
    message.deleted = True
    emu._changed()
    return no_content()


@route("DELETE", "/webhooks/{webhook_id}/{webhook_token}/messages/@original", auth=False)
async def delete_original(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    return await _delete_webhook_message(emu, req)


@route("DELETE", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", auth=False)
async def delete_webhook_message(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    return await _delete_webhook_message(emu, req)


@route("POST", "/webhooks/{webhook_id}/{webhook_token}", auth=False)
async def followup(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    check_limits(req, message_limits(req.body, creating=not req.files))
    record = _webhook_record(emu, req)
    body: JSON = req.body
    flags = body.get("flags") or 0
    _bad_flags(req, flags, INTERACTION_FLAGS, ())
    original = emu.world.messages.get(record.original_message_id or 0)
    if (
        record.callback_type == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
        and original is not None
        and original.loading
        and not original.deleted
    ):
        # Discord: the first follow-up after a deferral replaces the "thinking" message.
        original.flags &= ~LOADING
        _apply_message_body(emu, original, body, record.channel, creating=False, files=req.files)
        emu.message_stored(original, created=False)
        record.show(original.id)
        message = original
    else:
        message = _interaction_message(emu, record, body, flags=flags, followup=True, files=req.files)
        record.followup_ids.append(message.id)
        emu.message_stored(message, created=True)
        if record.callback_type == DEFERRED_UPDATE_MESSAGE:
            record.show(message.id)
    if req.query.get("wait", "").lower() in ("1", "true"):
        return json_response(message.to_json(emu.world))
    return no_content()
