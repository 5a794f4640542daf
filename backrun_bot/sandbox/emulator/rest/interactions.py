"""Answering interactions: the callback, then the original response and follow-ups through the
interaction's webhook (``/webhooks/{application_id}/{token}``), each within Discord's time limits."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from aiohttp import web

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
from backrun_bot.sandbox.emulator.model import EPHEMERAL, JSON, LOADING, Message
from backrun_bot.sandbox.emulator.rest.messages import SEND_FLAGS, apply_message_body, check_flags
from backrun_bot.sandbox.emulator.rest.routing import (
    ApiError,
    Request,
    check_limits,
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

INTERACTION_FLAGS = SEND_FLAGS | EPHEMERAL
CHAT_INPUT_COMMAND_MESSAGE = 20  # the message type of a slash command's response


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
    apply_message_body(emu, message, body, record.channel, creating=True, files=files)
    return message


@route("POST", "/interactions/{interaction_id}/{interaction_token}/callback", auth=False)
async def interaction_callback(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    where = f"POST /interactions/{req.params['interaction_id']}/…/callback"
    record = emu.interaction(parse_snowflake(req.params["interaction_id"]))
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
        check_flags(req, flags, INTERACTION_FLAGS, ("data",))
        message = _interaction_message(emu, record, data, flags=flags, followup=False, files=req.files)
        record.original_message_id = message.id
        emu.message_stored(message, created=True)
    elif kind == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE:
        check_flags(req, flags, INTERACTION_FLAGS, ("data",))
        message = _interaction_message(emu, record, {}, flags=LOADING | (flags & EPHEMERAL), followup=False)
        record.original_message_id = message.id
        emu.message_stored(message, created=True)
    elif kind == UPDATE_MESSAGE:
        message = emu.world.messages[record.source_message_id or 0]
        apply_message_body(emu, message, data, record.channel, creating=False, files=req.files)
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
    emu.notify_change()

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
    if parse_snowflake(req.params["webhook_id"]) != emu.application_id:
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
    message_id = record.target_message_id if raw is None else parse_snowflake(raw)
    allowed = {record.original_message_id, record.source_message_id, *record.followup_ids}
    message = emu.world.messages.get(message_id or 0)
    if message is None or message.deleted or message_id not in allowed:
        raise ApiError(
            404, 10008, "Unknown Message", violation=f"{req.method} {req.template}: no such message"
        )
    return message


@route("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/@original", auth=False)
@route("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", auth=False)
async def get_webhook_message(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    record = _webhook_record(emu, req)
    return json_response(_webhook_message(emu, req, record).to_json(emu.world))


@route("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/@original", auth=False)
@route("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", auth=False)
async def edit_webhook_message(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    check_limits(req, message_limits(req.body, creating=False))
    record = _webhook_record(emu, req)
    message = _webhook_message(emu, req, record)
    body: JSON = req.body
    was_loading = message.loading
    apply_message_body(emu, message, body, record.channel, creating=False, files=req.files)
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


@route("DELETE", "/webhooks/{webhook_id}/{webhook_token}/messages/@original", auth=False)
@route("DELETE", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", auth=False)
async def delete_webhook_message(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    record = _webhook_record(emu, req)
    message = _webhook_message(emu, req, record)
    message.deleted = True
    emu.notify_change()
    return no_content()


@route("POST", "/webhooks/{webhook_id}/{webhook_token}", auth=False)
async def followup(emu: DiscordEmulator, req: Request) -> web.StreamResponse:
    check_limits(req, message_limits(req.body, creating=not req.files))
    record = _webhook_record(emu, req)
    body: JSON = req.body
    flags = body.get("flags") or 0
    check_flags(req, flags, INTERACTION_FLAGS, ())
    original = emu.world.messages.get(record.original_message_id or 0)
    if (
        record.callback_type == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
        and original is not None
        and original.loading
        and not original.deleted
    ):
        # Discord: the first follow-up after a deferral replaces the "thinking" message.
        original.flags &= ~LOADING
        apply_message_body(emu, original, body, record.channel, creating=False, files=req.files)
        emu.message_stored(original, created=False)
        record.show(original.id)
        message = original
    else:
        message = _interaction_message(emu, record, body, flags=flags, followup=True, files=req.files)
        record.followup_ids.append(message.id)
        emu.message_stored(message, created=True)
        # The first visible response if there is none yet: after a deferred update, or after the
        # deferred "thinking" message was deleted (a no-op once something is shown).
        record.show(message.id)
    if req.query.get("wait", "").lower() in ("1", "true"):
        return json_response(message.to_json(emu.world))
    return no_content()
