"""What every use case shares: the clock, the caller, and "today" in a team's timezone.

These live apart from any one service so that the training, reminder-settings, delivery and plan
services (and the scheduler and the sandbox, which pass a clock in) can all import them without one
service importing another.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from backrun_bot.domain.dates import local_date
from backrun_bot.storage.models import Team

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The real clock; tests pass their own."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Who:
    """The person using a command, in the server (team) where they use it."""

    guild_id: int
    user_id: int
    display_name: str


def team_today(team: Team, clock: Clock) -> date:
    """The calendar day it is now where the team trains (its timezone), by ``clock``."""
    return local_date(clock(), ZoneInfo(team.timezone))
