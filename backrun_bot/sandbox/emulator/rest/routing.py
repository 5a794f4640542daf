"""The request pipeline of the emulated HTTP API: the route table, request parsing and checks, errors.

Every request under ``/api/v10`` goes through :func:`_dispatch`: route lookup (unknown -> 404 code 0,
a violation), bot authentication (401 -> discord.py's LoginFailure; not a violation: wrong tokens are
a user error), the global rate limit if switched on (``ratelimit.py``), injected faults, body
parsing (JSON or multipart with ``payload_json``), validation against Discord's OpenAPI schema
(400 50035 "Invalid Form Body", a violation), then the handler.
Uploads (the ``files[n]`` parts of a multipart body) are held to Discord's documented limits: at
most 10 files in one message and 10 MiB each (413, code 40005); their bytes are kept and served at
the attachment's ``url`` (``GET /attachments/{channel_id}/{attachment_id}/{filename}``, outside the
API, as Discord's CDN serves them).
Handlers (the sibling modules, registered with :func:`route`) check Discord's limits with
:func:`check_limits` and raise :class:`ApiError` for Discord's JSON errors.
"""

from __future__ import annotations

import functools
import json
import math
import mimetypes
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import BodyPartReader, web
from multidict import MultiMapping

from backrun_bot.sandbox.emulator.faults import Fault
from backrun_bot.sandbox.emulator.interactions import ATTACHMENT_SIZE_LIMIT
from backrun_bot.sandbox.emulator.model import JSON
from backrun_bot.sandbox.emulator.validation import Problem, errors_json

if TYPE_CHECKING:
    from backrun_bot.sandbox.emulator.core import DiscordEmulator


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


# Discord's upload limits ("Uploading Files"): 10 files a message, 10 MiB each for a bot.
MAX_FILES = 10
MAX_FILE_BYTES = 10 * 1024 * 1024

_ROUTES: list[Route] = []  # filled by the handler modules, all imported by the package's __init__


def route(method: str, template: str, *, auth: bool = True) -> Callable[[Handler], Handler]:
    """Register the decorated handler for ``method`` on ``template`` (``{name}`` matches one path
    segment, given to the handler in ``Request.params``); ``auth=False`` for routes Discord serves
    without the bot token (interaction callbacks and webhooks, ``/gateway``)."""
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
    """The aiohttp application: the API under ``/api/v10`` and the gateway websocket."""
    app = web.Application(client_max_size=64 * 1024 * 1024)

    async def api(request: web.Request) -> web.StreamResponse:
        try:
            return await _dispatch(emu, request)
        except ApiError as error:
            if error.violation:
                emu.report(error.violation)
            return error.response()

    async def attachment(request: web.Request) -> web.StreamResponse:
        try:
            attachment_id = int(request.match_info["attachment_id"])
        except ValueError:
            raise web.HTTPNotFound() from None
        data = emu.world.files.get(attachment_id)
        if data is None:
            raise web.HTTPNotFound()
        return web.Response(body=data, content_type=content_type_of(request.match_info["filename"]))

    app.router.add_route("*", "/api/v10{tail:/.*}", api)
    app.router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", attachment)
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
    # Discord's global limit per token (per address without one), before anything else answers.
    who = request.headers.get("Authorization") or request.remote or ""
    limited = emu.global_limit.check(method, path, found.template, who)
    if limited is not None:
        await request.read()
        return limited
    fault = emu.faults.take(method, path)
    if fault is not None and not fault.after_handling:
        await request.read()
        return _fault_response(fault)
    req = Request(method, path, found.template, params, request.query)
    if request.body_exists:
        req.body, req.files = await _read_body(request, method, path)
        uploaded = sum(f["size"] for f in req.files)
        if uploaded > ATTACHMENT_SIZE_LIMIT:
            # Discord's answer to files over the upload limit (10 MiB for a bot in a server without
            # boosts; the same limit an interaction's attachment_size_limit says).
            raise ApiError(
                413,
                40005,
                "Request entity too large",
                violation=f"{method} {found.template}: {uploaded} bytes of files, over the "
                f"{ATTACHMENT_SIZE_LIMIT}-byte upload limit",
            )
        _check_uploads(req)
    if method in ("POST", "PUT", "PATCH") and emu.validator.has_operation(method, found.template):
        if req.body is None:
            req.body = {}
        problems = emu.validator.validate(method, found.template, req.body)
        if problems:
            raise invalid_form(method, found.template, problems)
    response = await found.handler(emu, req)
    if fault is not None:  # after_handling: done (a message stored, say), but the answer is an error
        return _fault_response(fault)
    return response


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
                files.append(
                    {
                        "field": part.name,
                        "filename": part.filename,
                        "size": len(data),
                        "data": bytes(data),
                        "content_type": part.headers.get("Content-Type"),
                    }
                )
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


def _check_uploads(req: Request) -> None:
    if len(req.files) > MAX_FILES:
        raise invalid_form(
            req.method,
            req.template,
            [Problem(("attachments",), "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_FILES} or fewer in length.")],
        )
    for upload in req.files:
        if upload["size"] > MAX_FILE_BYTES:
            raise ApiError(
                413,
                40005,
                "Request entity too large",
                violation=f"{req.method} {req.template}: {upload['filename']!r} is {upload['size']} bytes, "
                f"over Discord's {MAX_FILE_BYTES} per file",
            )


def content_type_of(filename: str) -> str:
    """The content type Discord gives an attachment, from its name's extension."""
    guessed, _ = mimetypes.guess_type(filename, strict=False)
    return guessed or "application/octet-stream"


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
    """Refuse the request with Invalid Form Body if Discord's limits found ``problems``."""
    if problems:
        raise invalid_form(req.method, req.template, problems)


def parse_snowflake(raw: str) -> int:
    """An id from the path; not a number -> 400 Invalid Form Body, as Discord answers."""
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
