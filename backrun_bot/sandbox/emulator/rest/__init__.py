"""Discord's HTTP API v10 (the part a bot uses), under ``/api/v10``: :func:`build_app` serves it.

``routing`` holds the pipeline every request goes through; each other module registers the
endpoints of one area with ``routing.route`` when it is imported, so this package imports them all.
"""

from backrun_bot.sandbox.emulator.rest import commands, identity, interactions, messages  # noqa: F401
from backrun_bot.sandbox.emulator.rest.routing import build_app

__all__ = ["build_app"]
