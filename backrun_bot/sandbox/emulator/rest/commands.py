"""The application-command endpoints: the bot's global commands, kept in the emulator's
:class:`~backrun_bot.sandbox.emulator.commands.CommandRegistry`; guild commands are not kept."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from backrun_bot.sandbox.emulator.model import JSON
from backrun_bot.sandbox.emulator.rest.routing import (
    ApiError,
    Request,
    check_limits,
    json_response,
    no_content,
    parse_snowflake,
    route,
)
from backrun_bot.sandbox.emulator.validation import command_limits

if TYPE_CHECKING:
    from backrun_bot.sandbox.emulator.core import DiscordEmulator


def _check_application(emu: DiscordEmulator, req: Request) -> None:
    if parse_snowflake(req.params["application_id"]) != emu.application_id:
        raise ApiError(
            403, 50001, "Missing Access", violation=f"{req.method} {req.path}: not this bot's application"
        )


def _known(command: JSON | None) -> JSON:
    """The command the registry found; none -> 404 Unknown application command."""
    if command is None:
        raise ApiError(404, 10063, "Unknown application command")
    return command


@route("GET", "/applications/{application_id}/commands")
async def get_commands(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    _check_application(emu, req)
    return json_response(emu.command_registry.all())


@route("PUT", "/applications/{application_id}/commands")
async def put_commands(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    _check_application(emu, req)
    body = req.body or []
    check_limits(req, command_limits(body))
    return json_response(emu.command_registry.replace_all(body))


@route("POST", "/applications/{application_id}/commands")
async def post_command(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    _check_application(emu, req)
    check_limits(req, command_limits([req.body]))
    command, created = emu.command_registry.upsert(req.body)
    return json_response(command, 201 if created else 200)


@route("GET", "/applications/{application_id}/commands/{command_id}")
async def get_command(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    _check_application(emu, req)
    return json_response(_known(emu.command_registry.get(req.params["command_id"])))


@route("PATCH", "/applications/{application_id}/commands/{command_id}")
async def patch_command(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    _check_application(emu, req)
    return json_response(_known(emu.command_registry.update(req.params["command_id"], req.body)))


@route("DELETE", "/applications/{application_id}/commands/{command_id}")
async def delete_command(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    _check_application(emu, req)
    _known(emu.command_registry.delete(req.params["command_id"]))
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
