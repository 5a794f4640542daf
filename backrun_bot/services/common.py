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
from backrun_bot.domain.text import clean_name
from backrun_bot.storage.models import Team

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The real clock; tests pass their own."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Who:
    """The person using a command, in the server (team) where they use it.

    ``display_name`` is Discord's, cleaned on the way in (never refused): it is stored, and a
    control character in it would fail on PostgreSQL or garble the lines it is shown on.
    """

    guild_id: int
    user_id: int
    display_name: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "display_name", clean_name(self.display_name))


def team_today(team: Team, clock: Clock) -> date:
    """The calendar day it is now where the team trains (its timezone), by ``clock``."""
    return local_date(clock(), ZoneInfo(team.timezone))
