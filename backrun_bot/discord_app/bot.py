"""The bot: resources made in ``setup_hook`` and released in ``close`` (never in ``on_ready``, which
fires again after every reconnect)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import signal
from datetime import timedelta
from typing import Any

import aiohttp
import discord
import yarl
from discord.ext import commands
from discord.gateway import DiscordWebSocket
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from backrun_bot.config import Settings
from backrun_bot.discord_app.cogs import EXTENSIONS
from backrun_bot.discord_app.deadline import DeadlineGuard
from backrun_bot.discord_app.errors import on_app_command_error
from backrun_bot.discord_app.http_buckets import sweep_buckets_once_a_minute
from backrun_bot.discord_app.instrumentation import instrument_commands
from backrun_bot.discord_app.pacing import Pacer
from backrun_bot.discord_app.sender import DiscordSender
from backrun_bot.discord_app.views import DoneButton, PlanButton, UndoButton, UndoDoneButton
from backrun_bot.domain.schedule import Slot
from backrun_bot.errors import ConfigError
from backrun_bot.observability.health import HealthServer, start_health_server
from backrun_bot.observability.metrics import Metrics
from backrun_bot.observability.ratelimits import rate_limit_trace
from backrun_bot.scheduling.scheduler import ReminderScheduler
from backrun_bot.services.board import BoardService
from backrun_bot.services.common import Clock, utc_now
from backrun_bot.services.corrections import CorrectionService
from backrun_bot.services.data import DataService
from backrun_bot.services.delivery import DeliveryService
from backrun_bot.services.done import DoneService
from backrun_bot.services.plan import PlanService
from backrun_bot.services.reminder_settings import ReminderSettingsService
from backrun_bot.services.retention import RetentionService
from backrun_bot.services.teams import TeamService
from backrun_bot.services.training import TrainingService
from backrun_bot.services.volume import VolumeService
from backrun_bot.services.welcome import WelcomeService
from backrun_bot.services.wellness import CheckinService
from backrun_bot.storage import queries
from backrun_bot.storage.engine import (
    APPLICATION_NAME,
    DatabaseTimeouts,
    create_engine,
    make_sessionmaker,
    settle_sqlite_workers,
)
from backrun_bot.storage.migrate import COMMAND_SYNC_LOCK, startup_lock, upgrade_to_head
from backrun_bot.storage.reminder_queries import WEEKLY_SLOT

log = logging.getLogger(__name__)


def use_api_url(url: str) -> None:
    """Point discord.py's REST client (and through ``/gateway/bot`` its gateway) at ``url``.

    ``DISCORD_API_URL`` is the one switch between real Discord and the emulator; discord.py keeps
    its base URL on :class:`discord.http.Route`, so that is where it goes.
    """
    discord.http.Route.BASE = url.rstrip("/")


class BackrunBot(commands.AutoShardedBot):
    """Backrun's Discord client. Slash commands only; needs just the ``guilds`` intent."""

    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    training: TrainingService
    reminder_settings: ReminderSettingsService
    delivery: DeliveryService
    plans: PlanService
    checkins: CheckinService
    done: DoneService
    teams: TeamService
    board: BoardService
    corrections: CorrectionService
    data: DataService
    retention: RetentionService
    welcome: WelcomeService
    sender: DiscordSender
    volume: VolumeService
    scheduler: ReminderScheduler
    health: HealthServer | None = None

    def __init__(
        self, settings: Settings, *, clock: Clock = utc_now, guild_ready_timeout: float = 0.5
    ) -> None:
        settings.check_shards_backend()  # SHARD_IDS on SQLite: refused before anything starts
        intents = discord.Intents.none()
        intents.guilds = True
        # This bot's own metrics (a registry per bot: tests run many in one process).
        metrics = Metrics()
        # Reminders and other proactive requests wait their turn here: this process's share of the
        # token's global rate limit (pacing.py). Made now, since the HTTP trace below tells it of 429s.
        pacer = Pacer.for_share(settings.global_rate_limit, settings.shards, on_wait=metrics.pacer_waited)
        metrics.pacer_configured(pacer.rate)
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            help_command=None,
            # Nothing the bot says may ping because of what somebody typed: mentions are off for
            # every message unless a send names exactly whom it may ping.
            allowed_mentions=discord.AllowedMentions.none(),
            # discord.py holds on_ready back until no GUILD_CREATE came for this long (2 s by
            # default). Backrun answers interactions and posts by channel id, so it needs no warm
            # guild cache; a short wait makes starts and restarts quicker. The sandbox and the tests,
            # whose emulator sends every GUILD_CREATE at once over loopback, wait less still.
            guild_ready_timeout=guild_ready_timeout,
            # Sees every response of the bot's HTTP session, REST and interaction replies alike: 429s.
            http_trace=rate_limit_trace(metrics, on_rate_limited=pacer.rate_limited),
            # SHARD_COUNT (None: as many as Discord recommends, GET /gateway/bot).
            shard_count=settings.shard_count,
        )
        if settings.shard_ids is not None:
            # Only these shards connect here (what discord.py's shard_ids= sets; its stubs accept
            # no None, hence after __init__). Settings made sure SHARD_COUNT is set and covers them.
            self.shard_ids = list(settings.shard_ids)
        sweep_buckets_once_a_minute(self.http)  # not a scan of every bucket per new channel (the module)
        self.metrics = metrics
        self.pacer = pacer
        self.settings = settings
        self.clock = clock
        # Discord's 3 s: every command and button not answered after 2 s is deferred (see dispatch).
        self.deadline = DeadlineGuard()
        use_api_url(settings.discord_api_url)

    async def setup_hook(self) -> None:
        url = self.settings.database_url
        try:
            await upgrade_to_head(url)
        except Exception as exc:
            where = make_url(url).render_as_string(hide_password=True)
            # The driver's own message, on one line (SQLAlchemy's adds a "Background" link line).
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            await settle_sqlite_workers()
            raise ConfigError(f"Cannot open the database {where}: {reason}. Check DATABASE_URL.") from exc
        self.engine = create_engine(
            url,
            timeouts=DatabaseTimeouts(
                connect=self.settings.database_connect_timeout,
                statement=self.settings.database_statement_timeout,
                pool=self.settings.database_pool_timeout,
                recycle=self.settings.database_pool_recycle,
            ),
            application_name=APPLICATION_NAME,
        )
        self.sessionmaker = make_sessionmaker(self.engine)
        grace = timedelta(minutes=self.settings.reminder_grace_minutes)
        self.training = TrainingService(self.sessionmaker, clock=self.clock)
        # What the bot posts on its own initiative (reminders, the welcome), paced.
        self.sender = DiscordSender(self, self.pacer)
        self.delivery = DeliveryService(
            self.sessionmaker,
            self.sender,
            clock=self.clock,
            grace=grace,
            lease=timedelta(seconds=self.settings.reminder_claim_lease_seconds),
            ledger_days=self.settings.reminder_ledger_days,
            outcomes=self.metrics.reminder_outcome,
            shards=self.settings.shards,  # only this process's servers get their reminders from it
        )
        # The weekly summary (Monday, after the warmup) is counted under its own slot.
        self.metrics.prime_reminders([*(slot.value for slot in Slot), WEEKLY_SLOT])
        self.plans = PlanService(self.sessionmaker, clock=self.clock)
        self.checkins = CheckinService(self.sessionmaker, clock=self.clock)
        # The Done button decides a day off exactly as /plan does, and edits the count through the sender.
        self.done = DoneService(
            self.sessionmaker, clock=self.clock, day_off_on=self.plans.day_off_on, editor=self.sender
        )
        self.teams = TeamService(self.sessionmaker, clock=self.clock)
        # The overview names who had a heavy day exactly as the warmup does: the delivery's own rules.
        self.board = BoardService(self.sessionmaker, clock=self.clock, days_off=self.delivery.days_off)
        self.volume = VolumeService(self.sessionmaker, clock=self.clock)
        self.corrections = CorrectionService(self.sessionmaker, clock=self.clock)
        self.data = DataService(self.sessionmaker, clock=self.clock)
        self.retention = RetentionService(
            self.sessionmaker,
            clock=self.clock,
            days=self.settings.retention_days,
            shards=self.settings.shards,
        )
        self.welcome = WelcomeService(self.sessionmaker, clock=self.clock)
        self.scheduler = ReminderScheduler(
            self.delivery, grace=grace, clock=self.clock, daily=(self.retention.purge,)
        )
        # A settings change re-arms the reminder jobs; the service calls this once it has committed.
        self.reminder_settings = ReminderSettingsService(
            self.sessionmaker, clock=self.clock, on_change=self.scheduler.refresh
        )

        for extension in EXTENSIONS:
            await self.load_extension(extension)
        # Every button keeps its state in its custom id: they work after a restart and on every copy.
        self.add_dynamic_items(UndoButton, PlanButton, DoneButton, UndoDoneButton)
        self.tree.on_error = on_app_command_error  # type: ignore[method-assign]
        instrument_commands(self, self.metrics)
        await self.sync_commands_if_changed()
        # Before the scheduler: a HEALTH_PORT already taken stops the bot before it posts anything.
        self.health = await start_health_server(
            self, self.metrics.registry, host=self.settings.health_host, port=self.settings.health_port
        )
        # Last: the catch-up may post reminders, and REST is usable from here on.
        await self.scheduler.start()

    def command_payload(self) -> list[dict[str, Any]]:
        """The global command definitions exactly as a sync would send them."""
        return [cmd.to_dict(self.tree) for cmd in self.tree.get_commands()]

    async def sync_commands_if_changed(self) -> bool:
        """Sync global commands only when their definitions changed since the last sync.

        Discord allows 200 command creates a day, so syncing on every start is a bad habit; the
        hash of what was last synced (per application) is kept in the database. Processes starting
        together on one PostgreSQL database (SHARD_IDS) take turns (an advisory lock around the check,
        the sync and the new hash), so the first syncs and the others find the hash already stored.
        """
        payload = json.dumps(self.command_payload(), sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256(payload.encode()).hexdigest()
        key = f"commands_hash:{self.application_id}"
        waiting = "another process is syncing the slash commands; waiting"
        async with startup_lock(self.settings.database_url, COMMAND_SYNC_LOCK, waiting=waiting):
            async with self.sessionmaker() as s:
                if await queries.get_state(s, key) == digest:
                    log.info("slash commands unchanged; not syncing")
                    return False
            synced = await self.tree.sync()
            async with self.sessionmaker.begin() as s:
                await queries.set_state(s, key, digest)
        log.info("synced %d slash commands", len(synced))
        return True

    async def launch_shards(self) -> None:
        # Without a shard count discord.py asks GET /gateway/bot how many shards and where the gateway
        # is; given SHARD_COUNT it skips the question and connects to wss://gateway.discord.gg. Ask
        # anyway, so the gateway follows DISCORD_API_URL either way (and a reconnect after an invalid
        # session, which goes to DEFAULT_GATEWAY, too). On real Discord the answer is that same URL.
        if self.shard_count is not None and not self.is_closed():
            _, url, _ = await self.http.get_bot_gateway()
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
        await super().launch_shards()

    def dispatch(self, event_name: str, /, *args: Any, **kwargs: Any) -> None:
        # discord.py dispatches "interaction" right after it created the command's (or button's) task
        # and before that task first runs: the one moment the guard can own the response for sure.
        if event_name == "interaction":
            self.deadline.arm(args[0])
        elif event_name == "app_command_completion":
            self.deadline.finished(args[0])
        super().dispatch(event_name, *args, **kwargs)

    async def on_ready(self) -> None:
        log.info("connected as %s to %d servers", self.user, len(self.guilds))

    async def close(self) -> None:
        if self.health is not None:
            await self.health.stop()
            self.health = None
        if hasattr(self, "scheduler"):
            await self.scheduler.shutdown()
        if hasattr(self, "done"):
            await self.done.close()  # pending Done count edits: the presses themselves are stored
        await super().close()
        if hasattr(self, "engine"):
            await self.engine.dispose()


async def run_bot(settings: Settings) -> None:
    """Run until stopped. Startup problems surface as :class:`ConfigError` with what to fix.

    Ctrl-C (SIGINT) and SIGTERM (what systemd and ``docker stop`` send) stop the bot the same way:
    ``asyncio.run`` cancels this task on Ctrl-C, and SIGTERM does the same here, so the bot closes
    on the way out of ``async with`` (:meth:`BackrunBot.close`: a reminder being sent is let finish,
    then the gateway is closed cleanly and the database released). After SIGTERM this returns
    normally and the process exits 0: the stop was asked for and went as it should. systemd counts
    only 0 as a clean stop (143 would need ``SuccessExitStatus=143``), and Docker and Kubernetes
    report any other code as a failed container.
    """
    if settings.discord_token is None:
        raise ConfigError(
            "DISCORD_TOKEN is not set: put the bot token in .env or the environment (see .env.example). "
            "To try Backrun without Discord, run: backrun-bot sandbox"
        )
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    terminated = False

    def on_sigterm() -> None:
        nonlocal terminated
        if terminated:  # already stopping; systemd and Docker send SIGKILL if it takes too long
            return
        terminated = True
        log.info("stopping on SIGTERM, as on Ctrl-C (a reminder being sent is let finish)")
        task.cancel()

    with contextlib.suppress(NotImplementedError):  # Windows' event loops: Ctrl-C still stops the bot
        loop.add_signal_handler(signal.SIGTERM, on_sigterm)
    try:
        await _run_until_closed(settings, settings.discord_token.get_secret_value())
    except asyncio.CancelledError:
        # Our own cancel, the bot closed: a normal end. Any other cancel goes on up.
        if not terminated or task.uncancel() > 0:
            raise
    finally:
        with contextlib.suppress(NotImplementedError):
            loop.remove_signal_handler(signal.SIGTERM)


async def _run_until_closed(settings: Settings, token: str) -> None:
    async with BackrunBot(settings) as bot:
        try:
            await bot.start(token)
        except discord.LoginFailure:
            raise ConfigError(
                "Discord refused DISCORD_TOKEN: copy the token again from the Developer Portal "
                "(Bot → Reset Token)."
            ) from None
        except (aiohttp.ClientConnectionError, OSError) as exc:
            raise ConfigError(
                f"Cannot reach Discord at {settings.discord_api_url} ({exc.__class__.__name__}). "
                "Check the network, or DISCORD_API_URL."
            ) from None
