"""Counting the 429s Discord sends, whichever part of discord.py made the request.

discord.py waits out a 429 itself (and logs it, in words that differ between its REST client and
its webhook/interaction adapter, and not at all for a Cloudflare ban). Every request of both goes
through the bot's one aiohttp session, and discord.py takes an :class:`aiohttp.TraceConfig` for that
session (``Client(http_trace=...)``): the trace sees every response, so it is where 429s are counted.
"""

from __future__ import annotations

from types import SimpleNamespace

import aiohttp
from multidict import CIMultiDictProxy

from backrun_bot.observability.metrics import Metrics


def rate_limit_scope(headers: CIMultiDictProxy[str]) -> str:
    """The scope of a 429 from its headers: Discord's ``X-RateLimit-Scope`` (user, global, shared);
    "cloudflare" when the ``Via`` header is missing (Discord's proxy did not answer: an IP-wide ban
    for too many invalid requests, as discord.py also reads it)."""
    if "Via" not in headers:
        return "cloudflare"
    scope = headers.get("X-RateLimit-Scope")
    if scope is None and headers.get("X-RateLimit-Global", "").lower() == "true":
        return "global"
    return scope.lower() if scope else "unknown"


def rate_limit_trace(metrics: Metrics) -> aiohttp.TraceConfig:
    """A trace for the bot's HTTP session that counts each 429 response in ``metrics``."""

    async def on_request_end(
        _session: aiohttp.ClientSession, _context: SimpleNamespace, params: aiohttp.TraceRequestEndParams
    ) -> None:
        if params.response.status == 429:
            metrics.rate_limited(rate_limit_scope(params.response.headers))

    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(on_request_end)
    return trace
