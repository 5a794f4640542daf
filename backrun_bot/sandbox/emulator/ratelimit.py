"""Discord's global rate limit, enforced: at most N requests per second per bot token (50 by default).

Discord lets a bot make 50 requests per second to its API across all routes, counted per bot token
(per IP address for a request without one), on top of any per-route limit; interaction endpoints
are not bound by it. This emulates that:

* **What counts**: every request under ``/api/v10`` that reached a known route and passed the token
  check, answered or not, except the interaction endpoints Discord exempts: the callback
  (``POST /interactions/{id}/{token}/callback``) and the interaction webhook
  (``/webhooks/{application_id}/{token}…``: the original response and follow-ups). A request this
  limit refuses is not counted (it did not use the budget).
* **The window**: at most N requests in *any* one-second interval (a sliding log of the last
  second's requests). That is stricter than a token bucket or a per-second counter (both let a
  burst of N through at once, and a counter lets 2N through across its reset), so a client that
  stays under this stays under whichever Discord really uses.
* **The answer** beyond it is what Discord sends for its global limit: 429 with
  ``{"message": "You are being rate limited.", "retry_after": <float s>, "global": true}`` and the
  headers ``Retry-After`` (whole seconds, rounded up), ``X-RateLimit-Global: true``,
  ``X-RateLimit-Scope: global`` and ``Via: 1.1 google`` (the proxy header real answers carry:
  discord.py reads a 429 without it as a Cloudflare ban and gives up instead of waiting).
  ``retry_after`` is when the oldest request of the window leaves it.

On by default at Discord's 50 (``DiscordEmulator(global_rate_limit=None)`` or
:meth:`GlobalRateLimit.disable` switch it off, :meth:`GlobalRateLimit.enable` sets another rate):
with it on, the whole test suite met no 429 it did not ask for, since the bot paces its own sends.
Every refusal is recorded in :attr:`GlobalRateLimit.refused`, so a test or a benchmark can say how
many 429s the bot met; :attr:`GlobalRateLimit.peak` is the most requests one token made within a
second while the limit was on.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from backrun_bot.sandbox.emulator.rest.routing import json_response

# Discord's global limit for a bot: requests per second.
DISCORD_GLOBAL_LIMIT = 50
WINDOW = 1.0  # seconds


@dataclass(frozen=True)
class Refused:
    """One request answered 429 by the global limit: method, path below ``/api/v10``, the
    ``retry_after`` it was told (seconds), and the instant (the limit's clock) it came."""

    method: str
    path: str
    retry_after: float
    at: float


def is_exempt(template: str) -> bool:
    """Whether requests to the route ``template`` are free of the global limit (Discord: the
    interaction endpoints, i.e. the callback and the interaction's webhook)."""
    if template.startswith("/webhooks/"):
        return True
    return template.startswith("/interactions/") and template.endswith("/callback")


class GlobalRateLimit:
    """What :attr:`DiscordEmulator.global_limit` holds; see the module docstring.

    ``clock`` (seconds, monotonic; :func:`time.monotonic` by default) may be replaced by a test to
    place requests at chosen instants.
    """

    def __init__(self, per_second: int | None = None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_second: int | None = None
        self.clock = clock
        self.refused: list[Refused] = []
        self.admitted = 0  # requests counted against the limit while it was on
        self.peak = 0  # the most requests one token made within one window while it was on
        self._windows: dict[str, deque[float]] = {}
        if per_second is not None:
            self.enable(per_second)

    def enable(self, per_second: int = DISCORD_GLOBAL_LIMIT) -> None:
        """Enforce ``per_second`` requests per second per token from now on (a fresh window)."""
        if per_second < 1:
            raise ValueError(f"a global rate limit is at least 1 request per second, not {per_second}")
        self.per_second = per_second
        self._windows.clear()

    def disable(self) -> None:
        self.per_second = None
        self._windows.clear()

    @property
    def enabled(self) -> bool:
        return self.per_second is not None

    @property
    def given(self) -> int:
        """How many 429s the global limit gave."""
        return len(self.refused)

    def check(self, method: str, path: str, template: str, who: str) -> web.Response | None:
        """Count the request of ``who`` (its ``Authorization`` header, or its address without one)
        to ``path`` (route ``template``): None if it may go on, else the 429 to answer instead."""
        limit = self.per_second
        if limit is None or is_exempt(template):
            return None
        now = self.clock()
        window = self._windows.setdefault(who, deque())
        while window and window[0] <= now - WINDOW:
            window.popleft()
        if len(window) >= limit:
            retry_after = window[0] + WINDOW - now
            self.refused.append(Refused(method, path, retry_after, now))
            return _too_many(retry_after)
        window.append(now)
        self.admitted += 1
        self.peak = max(self.peak, len(window))
        return None


def _too_many(retry_after: float) -> web.Response:
    headers = {
        "Retry-After": str(max(1, math.ceil(retry_after))),
        "X-RateLimit-Global": "true",
        "X-RateLimit-Scope": "global",
        "Via": "1.1 google",
    }
    # Whole milliseconds, rounded up: a client that waits exactly this long finds the window moved on.
    seconds = math.ceil(retry_after * 1000) / 1000
    body = {"message": "You are being rate limited.", "retry_after": seconds, "global": True}
    return json_response(body, status=429, headers=headers)
