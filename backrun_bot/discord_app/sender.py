"""The delivery service's way out: post to a channel, with exactly the allowed pings."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from backrun_bot.errors import ChannelUnavailable, DeliveryError, MessageRefused


class DiscordSender:
    """Implements :class:`backrun_bot.services.delivery.Sender` with the bot's REST client.

    discord.py waits out 429s itself (honouring ``retry_after``), so only real failures get here.
    """

    def __init__(self, client: discord.Client) -> None:
        self._client = client

    async def send(
        self, channel_id: int, content: str, *, mention_user_ids: Sequence[int], nonce: str
    ) -> int:
        channel = self._client.get_partial_messageable(channel_id)
        # Only the athletes named for a day off may be pinged: never everyone, here or a role.
        mentions = discord.AllowedMentions(
            everyone=False,
            roles=False,
            users=[discord.Object(id=i) for i in mention_user_ids],
            replied_user=False,
        )
        try:
            message = await channel.send(content, allowed_mentions=mentions, nonce=nonce)
        except (discord.NotFound, discord.Forbidden) as exc:
            raise ChannelUnavailable(f"{exc.status} {exc.text}") from exc
        except discord.HTTPException as exc:
            # discord.py has already waited out 429s and retried 5xx; a 4xx left is about the message.
            if 400 <= exc.status < 500:
                raise MessageRefused(f"{exc.status} {exc.code} {exc.text}") from exc
            raise DeliveryError(f"{exc.status} {exc.text}") from exc
        return message.id
