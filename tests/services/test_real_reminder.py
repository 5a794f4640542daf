"""What /reminders test says of today's real reminder: when it goes out, or why it does not."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time

import pytest

from backrun_bot.domain.schedule import ALL_DAYS, Slot
from backrun_bot.services.delivery import real_reminder
from backrun_bot.services.reminder_settings import ReminderSettings

MONDAY = date(2026, 3, 9)
SETTINGS = ReminderSettings(
    channel_id=7,
    timezone="Europe/Oslo",
    warmup=time(7),
    cooldown=time(19),
    days=ALL_DAYS,
    heavy_meters=1600,
    active=True,
    paused_until=None,
    pause_reason=None,
)
MORNING = datetime(2026, 3, 9, 5, 0, tzinfo=UTC)  # 06:00 in Oslo


@pytest.mark.parametrize(
    ("settings", "slot", "now", "expected"),
    [
        (SETTINGS, Slot.WARMUP, MORNING, (True, "the real one still goes out at 07:00 Europe/Oslo")),
        (SETTINGS, Slot.COOLDOWN, MORNING, (True, "the real one still goes out at 19:00 Europe/Oslo")),
        # 07:00 in Oslo is 06:00 UTC in March.
        (
            SETTINGS,
            Slot.WARMUP,
            datetime(2026, 3, 9, 6, 0, 1, tzinfo=UTC),
            (True, "the real one was due at 07:00 Europe/Oslo today"),
        ),
        (
            dataclasses.replace(SETTINGS, warmup=None),
            Slot.WARMUP,
            MORNING,
            (False, "the warmup is switched off, so no real one goes out"),
        ),
        (
            dataclasses.replace(SETTINGS, active=False),
            Slot.WARMUP,
            MORNING,
            (False, "reminders are off, so no real one goes out"),
        ),
        (
            dataclasses.replace(SETTINGS, paused_until=date(2026, 3, 12)),
            Slot.WARMUP,
            MORNING,
            (False, "reminders are paused until 2026-03-12"),
        ),
        (
            dataclasses.replace(SETTINGS, paused_until=MONDAY),
            Slot.WARMUP,
            MORNING,
            (True, "the real one still goes out at 07:00 Europe/Oslo"),
        ),
        (
            dataclasses.replace(SETTINGS, days=frozenset({1, 3})),
            Slot.WARMUP,
            MORNING,
            (False, "no real one goes out today (reminders go out Tue, Thu)"),
        ),
        (
            dataclasses.replace(SETTINGS, pause_reason="the bot cannot post in <#7>"),
            Slot.COOLDOWN,
            MORNING,
            (False, "reminders are paused (the bot cannot post in <#7>), so no real one goes out"),
        ),
    ],
)
def test_the_fate_of_todays_real_reminder(
    settings: ReminderSettings, slot: Slot, now: datetime, expected: tuple[bool, str]
) -> None:
    assert real_reminder(settings, slot, MONDAY, now) == expected
