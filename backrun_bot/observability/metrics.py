"""Backrun's Prometheus metrics: their names, labels and buckets, and nothing else.

This module imports only ``prometheus_client``: the adapter, the services and the HTTP endpoint are
handed a :class:`Metrics` and call its methods with plain strings, so none of them defines a metric
and the rules in ``domain/`` never see one.

Each bot has its own :class:`~prometheus_client.CollectorRegistry`, never the process-wide default
one: the tests start many bots in one process, and a metric registered twice in one registry is an
error. ``/metrics`` serves exactly this registry.

The pacer (``discord_app/pacing.py``) keeps the bot's proactive requests under Discord's global
rate limit: ``backrun_pacer_wait_seconds`` is how long each of them waited for its turn, and
``backrun_pacer_requests_per_second`` the rate it paces to (this process's share of the limit).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# How a slash command ended: answered, refused (the user's mistake, a missing permission: the
# reply says what to do) or an unexpected error (the user got an apology; there is a traceback).
COMMAND_OUTCOMES = ("ok", "refused", "error")
# What became of one team's reminder: posted; failed for good (channel gone, message refused);
# not taken by Discord this time (the claim goes stale and a later run sends it); skipped (found
# past the grace window); or an unexpected error (logged with its traceback).
REMINDER_OUTCOMES = ("sent", "failed", "retry", "skipped", "error")
# X-RateLimit-Scope of a 429, or "cloudflare" for one without Discord's Via header (an IP-wide ban
# for too many invalid requests), or "unknown".
RATE_LIMIT_SCOPES = ("user", "global", "shared", "cloudflare", "unknown")

# Discord gives an interaction 3 s for its first response; the buckets are dense around that.
COMMAND_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 15.0, 30.0)
# On time is within a second or so; a catch-up after a restart is minutes to hours late (up to the
# grace window, REMINDER_GRACE_MINUTES).
LATENESS_BUCKETS = (1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0, 86400.0)
# A paced request waits nothing (0: the bucket "le=0.0" counts those), about one interval (20 ms at
# 48/s) while a fan-out runs one send after another, its place in the queue times the interval when
# sends run side by side, and a 429's Retry-After (a second or more) after a global one.
PACER_BUCKETS = (0.0, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


class Metrics:
    """One bot's metrics, in their own registry (see the module docstring)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.commands = Counter(
            "backrun_commands",
            "Slash commands handled, by command and outcome (ok, refused, error).",
            ["command", "outcome"],
            registry=self.registry,
        )
        self.command_seconds = Histogram(
            "backrun_command_seconds",
            "Seconds from the interaction's creation (Discord's timestamp) until the bot had answered it.",
            ["command"],
            buckets=COMMAND_BUCKETS,
            registry=self.registry,
        )
        self.reminders = Counter(
            "backrun_reminders",
            "Team reminders, by slot and outcome (sent, failed, retry, skipped, error).",
            ["slot", "outcome"],
            registry=self.registry,
        )
        self.reminder_lateness = Histogram(
            "backrun_reminder_lateness_seconds",
            "Seconds after its time that a reminder was posted (large after a restart: the catch-up).",
            ["slot"],
            buckets=LATENESS_BUCKETS,
            registry=self.registry,
        )
        self.discord_429 = Counter(
            "backrun_discord_429",
            "HTTP 429 (rate limited) responses from Discord, by X-RateLimit-Scope.",
            ["scope"],
            registry=self.registry,
        )
        for scope in RATE_LIMIT_SCOPES:
            self.discord_429.labels(scope)
        self.pacer_wait = Histogram(
            "backrun_pacer_wait_seconds",
            "Seconds each proactive request (a reminder, a look for one already posted) waited for the "
            "pacer before going to Discord, back-offs after a global 429 included.",
            buckets=PACER_BUCKETS,
            registry=self.registry,
        )
        self.pacer_rate = Gauge(
            "backrun_pacer_requests_per_second",
            "Proactive requests per second this process allows itself: its shards' share of "
            "GLOBAL_RATE_LIMIT, less the headroom.",
            registry=self.registry,
        )

    # A series that does not exist yet is no zero to Prometheus: a rate or an alert over it has
    # nothing to work on until the first event. So every series is created at 0 up front.

    def prime_commands(self, commands: Iterable[str]) -> None:
        for command in commands:
            self.command_seconds.labels(command)
            for outcome in COMMAND_OUTCOMES:
                self.commands.labels(command, outcome)

    def prime_reminders(self, slots: Iterable[str]) -> None:
        for slot in slots:
            self.reminder_lateness.labels(slot)
            for outcome in REMINDER_OUTCOMES:
                self.reminders.labels(slot, outcome)

    def command_handled(self, command: str, outcome: str, seconds: float) -> None:
        self.commands.labels(command, outcome).inc()
        # A clock behind Discord's would make it negative; that is "no time" rather than an error.
        self.command_seconds.labels(command).observe(max(0.0, seconds))

    def reminder_outcome(self, slot: str, outcome: str, *, late: timedelta | None = None) -> None:
        """One team's reminder ended with ``outcome``; ``late`` (for a sent one) is how long after its
        time it went out. Matches the delivery service's ``outcomes`` callback."""
        self.reminders.labels(slot, outcome).inc()
        if late is not None:
            self.reminder_lateness.labels(slot).observe(max(0.0, late.total_seconds()))

    def rate_limited(self, scope: str) -> None:
        self.discord_429.labels(scope if scope in RATE_LIMIT_SCOPES else "unknown").inc()

    def pacer_waited(self, seconds: float) -> None:
        """One paced request went out after ``seconds`` (matches the pacer's ``on_wait``)."""
        self.pacer_wait.observe(max(0.0, seconds))

    def pacer_configured(self, rate: float) -> None:
        self.pacer_rate.set(rate)
