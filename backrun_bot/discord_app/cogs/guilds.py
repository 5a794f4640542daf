"""The bot joining and leaving servers: the welcome, and the retention of a server's data
(services/welcome.py, services/retention.py).

discord.py tells the events apart as Discord does: ``on_guild_join`` is a GUILD_CREATE of a server
the bot was just added to (Discord leaves out its ``unavailable`` field); ``on_guild_remove`` a
GUILD_DELETE without ``unavailable`` (kicked, or the server deleted). A GUILD_DELETE with
``unavailable: true`` is an outage (``on_guild_unavailable``) and is left alone: the bot is still
there. The servers of READY arrive as ``on_guild_available``, never as joins, so a restart welcomes
nobody.
"""

from __future__ import annotations

import logging

import discord
from discord.ext import commands

from backrun_bot.discord_app.bot import BackrunBot
from backrun_bot.errors import ChannelUnavailable, DeliveryError, MessageRefused

log = logging.getLogger(__name__)

# Short, and with nothing that can ping (no mention syntax; sent with allowed_mentions none as well).
WELCOME = (
    "👋 **Backrun** is here. It makes backward running a daily team habit: athletes log what they "
    "ran with `/log` (for example `/log backward 400m`) and follow it with `/history` and `/stats`, "
    "and every morning and evening the team gets a warmup and a cooldown with a backward drill, "
    "with a day off suggested after a heavy backward day.\n"
    "To start the reminders, an admin runs `/reminders set channel:` with the channel to post in. "
    "`/help` lists every command."
)


def may_post(channel: discord.TextChannel) -> bool:
    perms = channel.permissions_for(channel.guild.me)
    return perms.view_channel and perms.send_messages


def welcome_channel(guild: discord.Guild) -> discord.TextChannel | None:
    """The server's system channel if the bot may post there, else the first text channel (by
    position) it may post in; None if there is none."""
    system = guild.system_channel
    if system is not None and may_post(system):
        return system
    return next((c for c in guild.text_channels if may_post(c)), None)


class GuildsCog(commands.Cog):
    def __init__(self, bot: BackrunBot) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        try:
            await self.bot.retention.back([guild.id])
        except Exception:
            log.exception("could not record that the bot is back in guild %s", guild.id)
        await self.welcome(guild)

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        try:
            await self.bot.retention.removed(guild.id)
        except Exception:
            # The next READY does not list the server, but nothing is deleted for it either: logged
            # loudly, since its data then stays until an operator deletes it.
            log.exception("could not record that the bot was removed from guild %s", guild.id)

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        # A server that added the bot back while it was offline sent no join: every READY lists the
        # servers the bot is in (those of this process's shards), and none of them is "removed".
        try:
            await self.bot.retention.back(g.id for g in self.bot.guilds)
        except Exception:
            log.exception("could not check the servers of READY against the removed ones")

    async def welcome(self, guild: discord.Guild) -> None:
        """Post the welcome once per server, ever, where the bot may post (nowhere: no welcome)."""
        channel = welcome_channel(guild)
        if channel is None:
            log.info("joined guild %s: no channel I may post in, so no welcome", guild.id)
            return
        try:
            if not await self.bot.welcome.claim(guild.id):
                return  # welcomed before (or by another process of this shard just now)
        except Exception:
            log.exception("could not claim the welcome of guild %s; not sending it", guild.id)
            return
        try:
            await self.bot.sender.post(channel.id, WELCOME)
        except (ChannelUnavailable, MessageRefused) as exc:
            # Certainly not posted: a later join may try again.
            log.warning("the welcome of guild %s was refused in channel %s: %s", guild.id, channel.id, exc)
            try:
                await self.bot.welcome.release(guild.id)
            except Exception:
                log.exception("could not release the welcome of guild %s", guild.id)
        except DeliveryError as exc:
            # Perhaps posted: kept as sent (two welcomes would be worse than none).
            log.warning("the welcome of guild %s may not have been posted: %s", guild.id, exc)
        else:
            log.info("welcomed guild %s in channel %s", guild.id, channel.id)


async def setup(bot: BackrunBot) -> None:
    await bot.add_cog(GuildsCog(bot))
