"""The bot's HTTP trace for 429s (``observability/ratelimits.py``) on a plain aiohttp session against
the emulator: each 429 is counted by scope, logged once with its scope, the request and the wait
(an interaction's token left out), and handed to the pacer with its Retry-After."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from backrun_bot.observability.metrics import Metrics
from backrun_bot.observability.ratelimits import DEFAULT_RETRY_AFTER, rate_limit_trace, redacted, retry_after
from backrun_bot.sandbox.emulator import DiscordEmulator

LOGGER = "backrun_bot.observability.ratelimits"


class Still:
    """The emulator's rate-limit clock, not moving: which request is refused is the test's choice."""

    def __call__(self) -> float:
        return 1000.0


@pytest.fixture
async def emulator() -> AsyncIterator[DiscordEmulator]:
    async with DiscordEmulator(patch_discord_default_gateway=False) as emu:
        emu.global_limit.clock = Still()
        yield emu


def headers(**values: str) -> CIMultiDictProxy[str]:
    return CIMultiDictProxy(CIMultiDict({name.replace("_", "-"): v for name, v in values.items()}))


async def traced(emulator: DiscordEmulator, method: str, path: str, seen: list[tuple[str, float]]) -> Metrics:
    metrics = Metrics()
    trace = rate_limit_trace(metrics, on_rate_limited=lambda scope, s: seen.append((scope, s)))
    async with (
        aiohttp.ClientSession(trace_configs=[trace]) as session,
        session.request(
            method, emulator.api_url + path, headers={"Authorization": f"Bot {emulator.token}"}, json={}
        ) as response,
    ):
        await response.read()
    return metrics


def count(metrics: Metrics, scope: str) -> float | None:
    return metrics.registry.get_sample_value("backrun_discord_429_total", {"scope": scope})


async def test_a_global_429_is_counted_logged_once_and_handed_on(
    emulator: DiscordEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    emulator.global_limit.enable(1)
    seen: list[tuple[str, float]] = []
    first = await traced(emulator, "GET", "/users/@me", seen)
    assert seen == [] and count(first, "global") == 0  # a 200 is nobody's business
    metrics = await traced(emulator, "GET", "/users/@me", seen)
    assert seen == [("global", 1.0)]  # Retry-After: 1
    assert count(metrics, "global") == 1 and count(metrics, "user") == 0
    [line] = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert (
        line == "Discord answered 429 (rate limited, scope global) to GET /api/v10/users/@me: retry after 1 s"
    )


async def test_a_429_on_an_interaction_is_logged_without_its_token(
    emulator: DiscordEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    emulator.faults.rate_limit("POST", r"/interactions/\d+/[^/]+/callback", retry_after=2.5)
    seen: list[tuple[str, float]] = []
    metrics = await traced(emulator, "POST", "/interactions/123/s3cr3t-t0ken/callback", seen)
    assert seen == [("user", 3.0)]  # the route's limit, Retry-After rounded up to whole seconds
    assert count(metrics, "user") == 1
    [line] = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert "scope user" in line and "POST /api/v10/interactions/123/…/callback" in line
    assert "s3cr3t" not in line


def test_the_wait_is_retry_after_else_the_buckets_reset_else_a_second() -> None:
    assert retry_after(headers(Retry_After="65", X_RateLimit_Reset_After="64.57")) == 65
    assert retry_after(headers(X_RateLimit_Reset_After="0.25")) == 0.25
    assert retry_after(headers(Retry_After="soon", X_RateLimit_Reset_After="2.5")) == 2.5
    assert retry_after(headers(Retry_After="-3")) == DEFAULT_RETRY_AFTER == 1.0
    assert retry_after(headers()) == DEFAULT_RETRY_AFTER


def test_interaction_and_webhook_tokens_are_left_out_of_logged_paths() -> None:
    assert redacted("/api/v10/interactions/1/abc.def/callback") == "/api/v10/interactions/1/…/callback"
    assert (
        redacted("/api/v10/webhooks/2/tok/messages/@original") == "/api/v10/webhooks/2/…/messages/@original"
    )
    assert redacted("/api/v10/webhooks/2/tok") == "/api/v10/webhooks/2/…"
    assert redacted("/api/v10/channels/3/messages") == "/api/v10/channels/3/messages"
