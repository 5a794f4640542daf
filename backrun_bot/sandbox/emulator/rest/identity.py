"""Who the bot is and where it connects: its user, other users, its application, the gateway URL."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from backrun_bot.sandbox.emulator.model import JSON
from backrun_bot.sandbox.emulator.rest.routing import ApiError, Request, json_response, parse_snowflake, route

if TYPE_CHECKING:
    from backrun_bot.sandbox.emulator.core import DiscordEmulator


@route("GET", "/users/@me")
async def get_me(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    me: JSON = {
        **emu.world.bot_user.to_json(),
        "verified": True,
        "mfa_enabled": False,
        "email": None,
        "locale": "en-US",
    }
    return json_response(me)


@route("GET", "/users/{user_id}")
async def get_user(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    user = emu.world.users.get(parse_snowflake(req.params["user_id"]))
    if user is None:
        raise ApiError(404, 10013, "Unknown User")
    return json_response(user.to_json())


@route("GET", "/oauth2/applications/@me")
@route("GET", "/applications/@me")
async def get_application(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    owner = emu.world.user_named("backrun-developer")
    application: JSON = {
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
        "flags": emu.application_flags,
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
    return json_response(application)


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
    return json_response(
        {"url": emu.gateway_url, "shards": emu.recommended_shards, "session_start_limit": limit}
    )
