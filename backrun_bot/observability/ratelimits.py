"""Counting and logging the 429s Discord sends, whichever part of discord.py made the request.

discord.py waits out a 429 itself (and logs it, in words that differ between its REST client and
its webhook/interaction adapter, and not at all for a Cloudflare ban). Every request of both goes
through the bot's one aiohttp session, and discord.py takes an :class:`aiohttp.TraceConfig` for that
session (``Client(http_trace=...)``): the trace sees every response, so it is where 429s are counted,
logged (one line each, with the scope) and passed on to whoever paces the bot's requests.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from types import SimpleNamespace

import aiohttp
from multidict import CIMultiDictProxy

from backrun_bot.observability.metrics import Metrics

log = logging.getLogger(__name__)

# When a 429 says nothing about how long to wait (it always should), this long.
DEFAULT_RETRY_AFTER = 1.0
# The token in an interaction's callback and webhook paths: as good as a password for 15 minutes.
_TOKEN_IN_PATH = re.compile(r"(/(?:interactions|webhooks)/\d+/)[^/]+")


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


def retry_after(headers: CIMultiDictProxy[str]) -> float:
    """Seconds a 429 asks the client to wait: ``Retry-After`` (whole seconds on a global 429, rounded
    up), else the route bucket's ``X-RateLimit-Reset-After``, else :data:`DEFAULT_RETRY_AFTER`."""
    for name in ("Retry-After", "X-RateLimit-Reset-After"):
        try:
            seconds = float(headers.get(name, ""))
        except ValueError:
            continue
        if seconds >= 0:
            return seconds
    return DEFAULT_RETRY_AFTER


def redacted(path: str) -> str:
    """``path`` with any interaction token replaced by "…", fit for a log."""
    return _TOKEN_IN_PATH.sub(r"\1…", path)


def rate_limit_trace(
    metrics: Metrics, on_rate_limited: Callable[[str, float], None] | None = None
) -> aiohttp.TraceConfig:
    """A trace for the bot's HTTP session: each 429 response is counted in ``metrics`` by scope,
    logged once (a warning naming the scope, the request and the wait) and told to
    ``on_rate_limited(scope, retry_after_seconds)`` (the pacer, which backs off)."""

    async def on_request_end(
        _session: aiohttp.ClientSession, _context: SimpleNamespace, params: aiohttp.TraceRequestEndParams
    ) -> None:
        if params.response.status != 429:
            return
        headers = params.response.headers
        scope, seconds = rate_limit_scope(headers), retry_after(headers)
        metrics.rate_limited(scope)
        log.warning(
            "Discord answered 429 (rate limited, scope %s) to %s %s: retry after %g s",
            scope,
            params.method,
            redacted(params.url.path),
            seconds,
        )
        if on_rate_limited is not None:
            on_rate_limited(scope, seconds)

    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(on_request_end)
    return trace
