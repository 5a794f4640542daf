"""The health and metrics endpoint: ``GET /healthz`` and ``GET /metrics`` on ``HEALTH_HOST:HEALTH_PORT``.

``/healthz`` runs three checks, concurrently, on every request:

* ``gateway``: the client is not closed, has been READY, and no shard's websocket is closed. A
  dropped connection that discord.py resumes within a second or so shows as a failure for that
  second: give a probe a few failures before it acts.
* ``database``: ``SELECT 1`` answers within :data:`CHECK_TIMEOUT` (a database that hangs fails
  as surely as one that refuses).
* ``scheduler``: the reminder scheduler is running.

It answers 200 ``{"status": "ok", "checks": {"gateway": "ok", "database": "ok", "scheduler": "ok"}}``,
or 503 with ``"status": "fail"``, each failed check ``"fail"`` and a short reason under ``"failed"``.
Reasons name no host, user or driver message (the endpoint has no authentication); the full error
is logged when a check starts failing, and its recovery when it passes again.

``/metrics`` serves the bot's own registry in the Prometheus text format (OpenMetrics if asked).

This module knows the bot only through the small protocols below, so it imports neither discord
nor the adapter (``tests/test_layers.py``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

from aiohttp import web
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from backrun_bot.errors import ConfigError

log = logging.getLogger(__name__)

# Seconds a check may take. A probe usually waits 1 to 10 s for the whole answer; this leaves it room.
CHECK_TIMEOUT = 2.0


class ShardState(Protocol):
    def is_closed(self) -> bool: ...


class SchedulerState(Protocol):
    @property
    def running(self) -> bool: ...


class Monitored(Protocol):
    """What the checks read from the bot (``BackrunBot`` has it all); read again on every request."""

    def is_closed(self) -> bool: ...

    def is_ready(self) -> bool: ...

    @property
    def shards(self) -> Mapping[int, ShardState]: ...

    @property
    def engine(self) -> AsyncEngine: ...

    @property
    def scheduler(self) -> SchedulerState: ...


# Each check returns None when it passes, else a short reason (and may raise: that fails it too).


async def gateway_problem(bot: Monitored) -> str | None:
    if bot.is_closed():
        return "the client is closed"
    if not bot.is_ready():
        return "not connected yet"
    down = sorted(shard_id for shard_id, shard in bot.shards.items() if shard.is_closed())
    if down:
        return f"disconnected (shard {', '.join(map(str, down))})"
    return None


async def database_problem(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
    return None


async def scheduler_problem(scheduler: SchedulerState) -> str | None:
    return None if scheduler.running else "not running"


def _innermost(error: BaseException) -> BaseException:
    # The driver's error says most (ConnectionRefusedError), not the wrapper the storage layer or
    # SQLAlchemy raised from it; its class name tells what happened without naming a host or user.
    while error.__cause__ is not None:
        error = error.__cause__
    return error


class HealthServer:
    """An aiohttp server for ``/healthz`` and ``/metrics``; :meth:`start` in ``setup_hook``,
    :meth:`stop` in ``close``."""

    def __init__(
        self,
        bot: Monitored,
        registry: CollectorRegistry,
        *,
        host: str,
        port: int,
        check_timeout: float = CHECK_TIMEOUT,
    ) -> None:
        self._bot = bot
        self._registry = registry
        self.host = host
        self.port = port
        self._check_timeout = check_timeout
        self._runner: web.AppRunner | None = None
        self._failing: set[str] = set()

    async def start(self) -> None:
        """Listen on ``host:port``; raises :class:`OSError` if that address cannot be had."""
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        log.info("health and metrics on http://%s:%d/healthz and /metrics", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def check(self) -> dict[str, str | None]:
        """Each check's failure reason, or ``None`` where it passed."""
        bot = self._bot
        probes: dict[str, Callable[[], Awaitable[str | None]]] = {
            "gateway": lambda: gateway_problem(bot),
            # Read when the check runs, not once: the bot's engine and scheduler are its attributes.
            "database": lambda: database_problem(bot.engine),
            "scheduler": lambda: scheduler_problem(bot.scheduler),
        }
        results = await asyncio.gather(*(self._run(name, probe) for name, probe in probes.items()))
        return dict(zip(probes, results, strict=True))

    async def _run(self, name: str, probe: Callable[[], Awaitable[str | None]]) -> str | None:
        error: BaseException | None = None
        try:
            async with asyncio.timeout(self._check_timeout):
                problem = await probe()
        except TimeoutError as exc:
            problem, error = f"no answer within {self._check_timeout:g} s", exc
        except Exception as exc:
            problem, error = f"failed ({_innermost(exc).__class__.__name__})", exc
        self._note(name, problem, error)
        return problem

    def _note(self, name: str, problem: str | None, error: BaseException | None) -> None:
        # Log changes only: a probe every few seconds must not fill the log with the same failure.
        if problem is not None and name not in self._failing:
            self._failing.add(name)
            log.warning("health check %s fails: %s", name, problem, exc_info=error)
        elif problem is None and name in self._failing:
            self._failing.discard(name)
            log.info("health check %s passes again", name)

    async def _healthz(self, _request: web.Request) -> web.Response:
        problems = await self.check()
        failed = {name: reason for name, reason in problems.items() if reason is not None}
        body: dict[str, object] = {
            "status": "fail" if failed else "ok",
            "checks": {name: "fail" if name in failed else "ok" for name in problems},
        }
        if failed:
            body["failed"] = failed
        return web.json_response(body, status=503 if failed else 200, headers={"Cache-Control": "no-store"})

    async def _metrics(self, request: web.Request) -> web.Response:
        encode, content_type = choose_encoder(request.headers.get("Accept", ""))
        return web.Response(body=encode(self._registry), headers={"Content-Type": content_type})


async def start_health_server(
    bot: Monitored, registry: CollectorRegistry, *, host: str, port: int | None
) -> HealthServer | None:
    """The endpoint for ``bot``, listening, or ``None`` when ``port`` is ``None`` (HEALTH_PORT unset:
    off, no port opened). An address that cannot be had is a :class:`ConfigError` saying what to do."""
    if port is None:
        return None
    server = HealthServer(bot, registry, host=host, port=port)
    try:
        await server.start()
    except OSError as exc:
        raise ConfigError(
            f"Cannot serve health and metrics on {host}:{port} ({exc.strerror or exc}). "
            "Pick a free HEALTH_PORT (or HEALTH_HOST), or leave HEALTH_PORT empty to turn it off."
        ) from exc
    return server
