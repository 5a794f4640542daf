"""One pacer for the bot's proactive requests, so that a fan-out of reminders stays under Discord's
global rate limit instead of running into it.

Discord lets a bot token make ``GLOBAL_RATE_LIMIT`` (50) requests per second, across every route and
every process that uses the token; beyond it each request is answered 429 and counts as an invalid
request (10,000 of those in 10 minutes and Discord bans the IP address for a while). Interaction
responses (the callback and the interaction's webhook) do not count. discord.py knows the per-route
limits (their ``X-RateLimit-*`` headers) but not this one until a 429 tells it, so the bot paces
what it sends on its own initiative:

* **What is paced**: every request :class:`~backrun_bot.discord_app.sender.DiscordSender` makes:
  posting a reminder (and a ``/reminders test`` post) and looking for one already posted. Replies
  to commands and buttons are not (they are exempt at Discord, and an athlete should not wait
  behind a fan-out).
* **The rate**: this process's share of the limit, less a headroom: ``GLOBAL_RATE_LIMIT × (1 −
  HEADROOM) × own shards / shard count`` (:func:`pacer_rate`). The headroom leaves room for the
  requests nobody paces (a command sync at start, ``GET /gateway/bot``, the few REST calls of
  commands) and for scheduling jitter: a send woken a few milliseconds late must not make two land
  in the same second as the one before. Shards are how the processes of one token split the
  budget without talking to each other: Discord spreads servers evenly over shards, so each
  process's share of the reminders matches its share of the shards.
* **How**: a leaky bucket of depth one (GCRA): one request every ``1 / rate`` seconds, first come
  first served, no burst after an idle spell. A request's slot is an interval after the previous
  slot, not after the moment the previous one woke up, so the event loop's usual latency (well under
  a millisecond) does not slow a long fan-out down. Up to :data:`CATCH_UP` of an interval is made
  up that way: after a longer stall (the loop busy, a slow database) the slots start again from the
  moment the request went less that much, rather than letting the next ones go early to catch up
  with all of the old slots, which would bunch them into one second and over Discord's limit.
  Why the bound holds: every request goes at or after its slot, slots are at least an interval
  apart, and the first request of any one-second window went at most ``CATCH_UP`` intervals after
  its own slot; so a window holds at most ``rate + 1 + CATCH_UP`` requests, which at 48/s with
  ``CATCH_UP`` under one is 49, under Discord's 50. 0.9 rather than a smaller share, because on a
  busy machine wake-ups 5–19 ms late are common at 48/s (an interval is 20.8 ms), and each one that
  is not made up is lost for good: at 0.25 a 10,000-team fan-out reached 93.8 % of the ceiling.
* **A 429 that still comes** (another process of the token overspending, a rolling deploy running
  two copies of a shard, Discord lowering the limit): the HTTP trace counts and logs it
  (``observability/ratelimits.py``) and tells :meth:`Pacer.rate_limited`. A global one (and a
  Cloudflare ban) blocks every request of the token, so nothing paced goes out until its
  ``Retry-After`` has passed; a per-route one (scope ``user`` or ``shared``) concerns that route's
  bucket only, which discord.py waits out itself, so the other channels' reminders carry on.

The pacer is plain asyncio: its clock and its sleep can be replaced (the tests control both).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from backrun_bot.domain.shards import ShardSet

# Discord's global limit for a bot token, requests per second (the GLOBAL_RATE_LIMIT default).
DISCORD_GLOBAL_LIMIT = 50
# The share of the limit the pacer leaves unused: 50 -> 48 requests per second.
HEADROOM = 0.04
# How much of an interval a request that went late may pass on to the next one (see the docstring:
# under 1 keeps any one-second window at ``rate + 1`` requests at most).
CATCH_UP = 0.9
# The scopes of a 429 that stop every request of the token, not one route.
PAUSING_SCOPES = frozenset({"global", "cloudflare"})


def pacer_rate(global_limit: float, shards: ShardSet) -> float:
    """Requests per second this process may send: its shards' share of ``global_limit``, less the
    headroom (all shards, or no sharding: the whole of it)."""
    return global_limit * (1 - HEADROOM) * len(shards.ids) / shards.count


def _nobody(seconds: float) -> None:
    pass


class Pacer:
    """At most ``rate`` requests per second, one every ``1 / rate`` s, in the order they asked.

    ``on_wait`` is told the seconds each request waited (0 when it went at once), back-offs
    included: the bot's metrics observe it. ``clock`` (monotonic seconds) and ``sleep`` default to
    :func:`time.monotonic` and :func:`asyncio.sleep`.
    """

    def __init__(
        self,
        rate: float,
        *,
        on_wait: Callable[[float], None] = _nobody,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not rate > 0:
            raise ValueError(f"a pacer's rate is a positive number of requests per second, not {rate}")
        self.rate = rate
        self.interval = 1 / rate
        self._catch_up = CATCH_UP * self.interval
        self._on_wait = on_wait
        self._clock = clock
        self._sleep = sleep
        self._lock = asyncio.Lock()  # fair: waiters take their turns in the order they came
        self._next = -float("inf")  # the earliest slot for the next request
        self._resume = -float("inf")  # nothing goes out before this (a 429's Retry-After)

    @classmethod
    def for_share(
        cls, global_limit: float, shards: ShardSet, *, on_wait: Callable[[float], None] = _nobody
    ) -> Pacer:
        """The pacer for this process: :func:`pacer_rate` of the limit for its shards."""
        return cls(pacer_rate(global_limit, shards), on_wait=on_wait)

    async def wait(self) -> float:
        """Wait for this request's turn; returns the seconds waited. Cancelled while waiting, it
        gives up its place (the slot goes to the next one)."""
        asked = self._clock()
        async with self._lock:
            now = self._clock()
            slot = max(now, self._next, self._resume)
            while slot > now:
                await self._sleep(slot - now)
                now = self._clock()
                slot = max(slot, self._resume)  # a 429 may have come meanwhile
            self._next = max(slot, now - self._catch_up) + self.interval
        waited = now - asked
        self._on_wait(waited)
        return waited

    def back_off(self, seconds: float) -> None:
        """Let nothing through for ``seconds`` from now (a longer pause already set stands)."""
        self._resume = max(self._resume, self._clock() + seconds)

    def rate_limited(self, scope: str, retry_after: float) -> None:
        """A 429 came (any request of the bot) with this scope and ``Retry-After``: a global one
        (or a Cloudflare ban) pauses the paced requests for that long; a per-route one does not."""
        if scope in PAUSING_SCOPES:
            self.back_off(retry_after)
