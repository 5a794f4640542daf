"""Discord's 3-second deadline, kept in one place for every slash command and button.

Discord drops an interaction that has had no response 3 s after it was sent: the member reads "The
application did not respond", while what the command did (a /log stored once a lock lifted) is done
unseen, and a retry does it twice. Backrun's commands answer in milliseconds; a database waiting on a
lock or a stalled network takes longer (up to the ``DATABASE_*`` time limits).

:class:`DeadlineGuard` arms a timer when an interaction arrives (``BackrunBot.dispatch`` calls
:meth:`DeadlineGuard.arm` for every INTERACTION_CREATE, before discord.py's command or button task
first runs). If the command has not answered :data:`DEFER_AFTER` seconds later, the guard defers it:
"Backrun is thinking…" with the visibility the answer will have (public for a command whose
``extras`` mark :data:`PUBLIC_REPLY`, like /log; ephemeral for the rest), or for a button a deferred
update (nothing shows; the button's message is edited afterwards). The command's own
``interaction.response.send_message`` (or ``edit_message``) then goes out as the deferred response,
so commands are written as if there were no guard. On the fast path the guard costs a timer and an
uncontended lock, and no request.

The interaction's response is a :class:`GuardedResponse`: discord.py's ``InteractionResponse``, with
the guard's deferral and the command's answer serialised (both must never reach Discord: it refuses
the second as "already acknowledged") and an answer after a deferral routed to the deferred
response. An ephemeral answer after a public deferral (an error reply to /log) must not replace the
public "thinking…" message, which keeps its visibility: the placeholder is deleted and the answer
sent as an ephemeral follow-up.

Autocomplete is not guarded: Discord allows it no deferral. The one that reads the database (the
entry ids of ``/entry``) gives up after 2 s on its own and suggests nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import discord
from discord import InteractionResponseType, InteractionType

log = logging.getLogger(__name__)

# Seconds after its arrival that an unanswered interaction is deferred. Discord allows 3 s from when
# it sent the interaction; the rest covers gateway delivery and the deferral's own round trip.
DEFER_AFTER = 2.0
# ``extras`` key of a command whose answer is public (``extras={PUBLIC_REPLY: True}``).
PUBLIC_REPLY = "backrun_public_reply"
# discord.py caches ``Interaction.response`` in this slot; it fills its own slots the same way
# (``_cs_command``) before running a command.
_RESPONSE_SLOT = "_cs_response"
_DEFERRED = (
    InteractionResponseType.deferred_channel_message,
    InteractionResponseType.deferred_message_update,
)

# Deferrals in flight (a task nobody awaits needs a reference, or it may be collected).
_background: set[asyncio.Task[None]] = set()


class GuardedResponse(discord.InteractionResponse[Any]):
    """An interaction's response that the guard may defer while the command is still working."""

    __slots__ = ("_deferral", "_ephemeral_deferral", "_late", "_lock", "_placeholder", "_public", "_timer")

    def __init__(self, parent: discord.Interaction[Any], *, public: bool) -> None:
        super().__init__(parent)
        self._lock = asyncio.Lock()
        self._public = public
        self._timer: asyncio.TimerHandle | None = None
        self._late = False
        self._deferral: discord.InteractionCallbackResponse[Any] | None = None
        self._ephemeral_deferral = False
        # The "thinking…" message that stands in for the answer until the answer replaces it.
        self._placeholder = False

    @property
    def late(self) -> bool:
        """Whether the guard's timer ran out before the answer was sent (so the guard deferred)."""
        return self._late

    def start_timer(self, after: float) -> None:
        self._timer = asyncio.get_running_loop().call_later(after, self._timer_ran_out)

    def settle(self) -> None:
        """The command answered or ended: no deferral any more."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _timer_ran_out(self) -> None:
        self._timer = None
        if self.is_done():
            return
        self._late = True
        task = asyncio.get_running_loop().create_task(self._defer_for_the_command(), name="deadline-defer")
        _background.add(task)
        task.add_done_callback(_background.discard)

    async def _defer_for_the_command(self) -> None:
        async with self._lock:
            if self.is_done():
                return  # the answer went out while this task waited for the lock
            ephemeral = not self._public
            thinking = self._parent.type is not InteractionType.component
            try:
                deferral = await super().defer(ephemeral=ephemeral, thinking=thinking)
            except discord.HTTPException:
                # Too late already (Discord dropped it) or Discord is failing: the command carries on
                # and its own answer will fail the same way, which the error handler logs.
                log.warning("could not defer a slow interaction %s", self._parent.id, exc_info=True)
                return
            self._deferred(deferral, ephemeral=ephemeral, placeholder=thinking)
            log.info("deferred interaction %s: no answer after %.1f s", self._parent.id, DEFER_AFTER)

    def _deferred(
        self, deferral: discord.InteractionCallbackResponse[Any] | None, *, ephemeral: bool, placeholder: bool
    ) -> None:
        self._deferral = deferral
        self._ephemeral_deferral = ephemeral
        self._placeholder = placeholder

    @property
    def deferred(self) -> bool:
        """Whether the interaction was deferred (by the guard or by the command itself), so that an
        answer now goes out through :meth:`send_message` as the deferred response."""
        return self.type in _DEFERRED

    def _callback(self) -> discord.InteractionCallbackResponse[Any]:
        assert self._deferral is not None  # a deferral of a command or button returns its callback
        return self._deferral

    # -- what the command calls -------------------------------------------------------------------------
    # Signatures as ``*args, **kwargs``: they pass discord.py's own straight through (its overloads
    # stay what callers are checked against, through ``Interaction.response``).

    async def send_message(self, *args: Any, **kwargs: Any) -> discord.InteractionCallbackResponse[Any]:
        async with self._lock:
            if not self.deferred:
                response = await super().send_message(*args, **kwargs)
                self.settle()
                return response
            await self._send_deferred_answer(*args, **kwargs)
            return self._callback()

    async def edit_message(
        self, *args: Any, **kwargs: Any
    ) -> discord.InteractionCallbackResponse[Any] | None:
        async with self._lock:
            if self.type is not InteractionResponseType.deferred_message_update:
                edited = await super().edit_message(*args, **kwargs)
                self.settle()
                return edited
            # After a deferred update, the "original response" is the message the button is on.
            for unsupported in ("delete_after", "suppress_embeds"):
                kwargs.pop(unsupported, None)
            await self._parent.edit_original_response(**kwargs)
            return self._deferral

    async def defer(self, *args: Any, **kwargs: Any) -> discord.InteractionCallbackResponse[Any] | None:
        async with self._lock:
            if self.deferred:
                return self._deferral  # the guard deferred it already; one deferral is all there is
            deferral = await super().defer(*args, **kwargs)
            # A command that defers itself sends its own follow-ups: no placeholder to look after.
            self._deferred(deferral, ephemeral=bool(kwargs.get("ephemeral", False)), placeholder=False)
            self.settle()
            return deferral

    async def _send_deferred_answer(self, content: Any = None, **kwargs: Any) -> None:
        kwargs.pop("delete_after", None)  # a follow-up has none (and Backrun uses none)
        if content is not None:
            kwargs["content"] = content
        ephemeral = bool(kwargs.get("ephemeral", False))
        if self._placeholder and ephemeral != self._ephemeral_deferral:
            # The placeholder would turn into the answer with the placeholder's visibility. Remove
            # it; the follow-up is then a message of its own, as visible as asked.
            with contextlib.suppress(discord.NotFound):
                await self._parent.delete_original_response()
        # Otherwise Discord makes the first follow-up the deferred response itself.
        self._placeholder = False
        await self._parent.followup.send(**kwargs)


class DeadlineGuard:
    """Defers every slash command and button not answered :data:`DEFER_AFTER` s after it arrived."""

    def __init__(self, *, defer_after: float = DEFER_AFTER) -> None:
        self.defer_after = defer_after

    def arm(self, interaction: discord.Interaction[Any]) -> None:
        """Call when the interaction arrives, before anything uses ``interaction.response``."""
        if interaction.type is InteractionType.application_command:
            command = interaction.command
            public = command is not None and bool(command.extras.get(PUBLIC_REPLY))
        elif interaction.type is InteractionType.component:
            public = False  # a button's answer edits its message; its refusals are ephemeral
        else:
            return
        response = GuardedResponse(interaction, public=public)
        setattr(interaction, _RESPONSE_SLOT, response)
        response.start_timer(self.defer_after)

    def finished(self, interaction: discord.Interaction[Any]) -> None:
        """The command's callback returned (``app_command_completion``): nothing left to defer for."""
        response = interaction.response
        if isinstance(response, GuardedResponse):
            response.settle()


def answered_late(interaction: discord.Interaction[Any]) -> bool:
    """Whether the guard had to defer ``interaction``: its answer comes more than
    :data:`DEFER_AFTER` s after the member sent it (a slow database, say)."""
    response = interaction.response
    return isinstance(response, GuardedResponse) and response.late
