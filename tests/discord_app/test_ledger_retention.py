"""REMINDER_LEDGER_DAYS: how long the running bot keeps the reminder delivery ledger."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from pydantic import ValidationError
from sqlalchemy import select

from backrun_bot.config import Settings
from backrun_bot.sandbox.harness import Sandbox
from backrun_bot.storage import reminder_queries as rq
from backrun_bot.storage.engine import create_engine, make_sessionmaker
from backrun_bot.storage.models import ReminderDelivery
from tests.discord_app.conftest import START, TeamFixture


async def test_the_bot_prunes_the_ledger_past_the_days_it_was_told_to_keep(
    sandbox: Sandbox, team: TeamFixture, clock: time_machine.Traveller
) -> None:
    sandbox.settings = sandbox.settings.model_copy(update={"reminder_ledger_days": 10})
    bot = await sandbox.start_bot()
    await sandbox.actor(team.guild, "alice").run("log", kind="backward", amount="400m")  # the team's row
    engine = create_engine(sandbox.settings.database_url)
    try:
        sessionmaker = make_sessionmaker(engine)
        today = START.date()
        for days_ago in (0, 9, 10, 11, 60):
            async with sessionmaker.begin() as s:
                claim = await rq.claim(
                    s, team.guild.id, today - timedelta(days=days_ago), "warmup", START, stale_before=START
                )
                assert claim.won

        assert await bot.delivery.prune() == 2  # 11 and 60 days ago; the default 90 would keep all

        async with sessionmaker() as s:
            days = await s.scalars(select(ReminderDelivery.local_day).order_by(ReminderDelivery.local_day))
            assert [(today - day).days for day in days] == [10, 9, 0]
    finally:
        await engine.dispose()


@pytest.mark.parametrize("days", [6, 0, -1, 3651])
def test_a_retention_too_short_for_exactly_once_or_absurdly_long_is_refused(days: int) -> None:
    with pytest.raises(ValidationError, match="reminder_ledger_days"):
        Settings(reminder_ledger_days=days)
