"""An emulator of Discord's HTTP API v10 and gateway for tests and the sandbox console.

``DiscordEmulator`` serves both on loopback; the unmodified discord.py client connects to it when
``discord.http.Route.BASE`` is ``emulator.api_url``. Everything the bot sends is checked against
Discord's OpenAPI description and limits; what Discord would refuse ends up in
``emulator.violations``. See ``core.py`` for the API and ``backrun_bot/sandbox/driver.py`` for
acting as a member.
"""

from backrun_bot.sandbox.emulator.commands import CommandRegistry
from backrun_bot.sandbox.emulator.core import DiscordEmulator
from backrun_bot.sandbox.emulator.faults import Faults
from backrun_bot.sandbox.emulator.model import Channel, Guild, Member, Message, Role, User

__all__ = [
    "Channel",
    "CommandRegistry",
    "DiscordEmulator",
    "Faults",
    "Guild",
    "Member",
    "Message",
    "Role",
    "User",
]
