"""The delivery service's way out: post to a channel, with exactly the allowed pings, and find what
the bot posted there before."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

import aiohttp
import discord

from backrun_bot.discord_app.charts import draw_chart
from backrun_bot.discord_app.pacing import Pacer
from backrun_bot.discord_app.views import plan_custom_id, reminder_view
from backrun_bot.domain.schedule import Slot
from backrun_bot.errors import ChannelUnavailable, DeliveryError, MessageRefused
from backrun_bot.services.delivery import DoneTarget, Picture, reminder_key

# How many of a channel's messages since a reminder's time find() reads (one request per 100): a
# reminder channel is mostly the bot's own posts, so the reminder is among the first after its time.
FIND_LIMIT = 200
HISTORY_PAGE = 100  # messages per request of discord.py's channel.history


class DiscordSender:
    """Implements :class:`backrun_bot.services.delivery.Sender` with the bot's REST client.

    discord.py waits out 429s itself (honouring ``retry_after``), so only real failures get here.
    """

    def __init__(self, client: discord.Client, pacer: Pacer) -> None:
        self._client = client
        # Every request made here is the bot's own initiative: each waits its turn under Discord's
        # global rate limit (pacing.py).
        self._pacer = pacer

    async def send(
        self,
        channel_id: int,
        content: str,
        *,
        mention_user_ids: Sequence[int],
        nonce: str,
        key: str,
        picture: Picture | None = None,
        done: DoneTarget | None = None,
    ) -> int:
        channel = self._client.get_partial_messageable(channel_id)
        # Drawn before the pacer's turn is taken (a turn is a request slot, not CPU time); a chart
        # that cannot be drawn is left out and the text still goes (draw_chart logs why).
        file = None if picture is None else await draw_chart(picture.chart, picture.title, when=picture.when)
        files = [] if file is None else [file]
        await self._pacer.wait()
        try:
            message = await channel.send(
                content,
                allowed_mentions=_pinging(mention_user_ids),
                nonce=nonce,
                view=reminder_view(key, done),
                files=files,
            )
        except (discord.NotFound, discord.Forbidden) as exc:
            raise ChannelUnavailable(f"{exc.status} {exc.text}") from exc
        except discord.HTTPException as exc:
            # discord.py has already waited out 429s and retried 5xx; a 4xx left is about the message.
            if 400 <= exc.status < 500:
                raise MessageRefused(f"{exc.status} {exc.code} {exc.text}") from exc
            raise DeliveryError(f"{exc.status} {exc.text}") from exc
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            # The connection broke (discord.py retries a few times first): Discord may or may not
            # have the message, which the retry's find() settles.
            raise DeliveryError(f"connection: {type(exc).__name__}: {exc}") from exc
        return message.id

    async def edit_reminder(
        self,
        channel_id: int,
        message_id: int,
        content: str,
        *,
        team_id: int,
        day: date,
        slot: Slot,
        mention_user_ids: Sequence[int],
    ) -> None:
        """Edit a reminder to ``content`` (its Done count), keeping its buttons (a PATCH replaces
        the components it is given) and allowing only the pings it had: Discord notifies nobody of
        an edit, and a mention it did not have stays silent (services.done.CountEditor)."""
        message = self._client.get_partial_messageable(channel_id).get_partial_message(message_id)
        await self._pacer.wait()
        try:
            await message.edit(
                content=content,
                allowed_mentions=_pinging(mention_user_ids),
                view=reminder_view(reminder_key(day, slot), (team_id, day, slot)),
            )
        except discord.HTTPException as exc:
            raise DeliveryError(f"editing message {message_id}: {exc.status} {exc.text}") from exc
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise DeliveryError(f"editing message {message_id}: {type(exc).__name__}: {exc}") from exc

    async def post(self, channel_id: int, content: str) -> int:
        """Post a plain message of the bot's own (the welcome): paced like a reminder, pinging
        nobody. Raises :class:`ChannelUnavailable` when the channel is gone or forbidden (certainly
        not posted) and :class:`DeliveryError` for anything else (perhaps posted)."""
        channel = self._client.get_partial_messageable(channel_id)
        await self._pacer.wait()
        try:
            message = await channel.send(content, allowed_mentions=discord.AllowedMentions.none())
        except (discord.NotFound, discord.Forbidden) as exc:
            raise ChannelUnavailable(f"{exc.status} {exc.text}") from exc
        except discord.HTTPException as exc:
            if 400 <= exc.status < 500:
                raise MessageRefused(f"{exc.status} {exc.code} {exc.text}") from exc
            raise DeliveryError(f"{exc.status} {exc.text}") from exc
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise DeliveryError(f"connection: {type(exc).__name__}: {exc}") from exc
        return message.id

    async def find(self, channel_id: int, key: str, *, since: datetime) -> int | None:
        """The bot's own message in the channel whose button carries ``key``, posted since ``since``.

        Discord answers an empty list, not an error, where the bot lacks Read Message History, so
        "not found" can also mean "could not look" (the README says to grant it).
        """
        me = self._client.user
        assert me is not None  # logged in: the scheduler starts in setup_hook, after login
        wanted = plan_custom_id(key)
        channel = self._client.get_partial_messageable(channel_id)
        await self._pacer.wait()  # the first page
        seen = 0
        try:
            # The oldest first from a little before the reminder's time: that is where it would be.
            async for message in channel.history(
                limit=FIND_LIMIT, after=since - timedelta(seconds=5), oldest_first=True
            ):
                if message.author.id == me.id and any(
                    getattr(child, "custom_id", None) == wanted
                    for row in message.components
                    for child in getattr(row, "children", ())
                ):
                    return message.id
                seen += 1
                if seen % HISTORY_PAGE == 0 and seen < FIND_LIMIT:
                    await self._pacer.wait()  # a full page read: discord.py asks for the next one
        except discord.HTTPException as exc:
            raise DeliveryError(f"reading the channel: {exc.status} {exc.text}") from exc
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise DeliveryError(f"reading the channel: {type(exc).__name__}: {exc}") from exc
        return None


def _pinging(user_ids: Sequence[int]) -> discord.AllowedMentions:
    """Only these members may be pinged (the athletes named for a day off): never everyone, here or
    a role."""
    return discord.AllowedMentions(
        everyone=False, roles=False, users=[discord.Object(id=i) for i in user_ids], replied_user=False
    )
