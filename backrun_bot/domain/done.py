"""The Done button under a reminder (issue 11): which days it still takes, and the count line the
reminder shows.

The count line is the reminder's last paragraph, replaced at every update, so the message keeps its
own text above it. :data:`DONE_LINE_ROOM` characters are kept free for it when a warmup is composed
(:func:`backrun_bot.services.delivery.DeliveryService.compose`), so the edited message still fits in
Discord's 2,000 characters.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Final

# A press on a reminder of more than this many days before today (the team's) logs nothing: the
# reminder is old, and /log with date: says exactly what was done on a day further back.
DONE_DAYS_BACK: Final = 2
# The count line with the blank line before it, for up to a million athletes ("\n\n✅ 999999 athletes
# done" is 24 characters), and some to spare.
DONE_LINE_ROOM: Final = 32
_COUNT_LINE = re.compile(r"\n\n✅ \d+ athletes? done\Z")


def done_line(count: int) -> str:
    """``"✅ 1 athlete done"``, ``"✅ 12 athletes done"``."""
    return f"✅ {count} athlete{'' if count == 1 else 's'} done"


def with_done_count(content: str, count: int) -> str:
    """The reminder's ``content`` with its count line (replacing the one it has, if any); without
    one when nobody is done (any more: an Undo can take the last one back)."""
    bare = _COUNT_LINE.sub("", content)
    return bare if count == 0 else f"{bare}\n\n{done_line(count)}"


def too_old(day: date, today: date) -> bool:
    """Whether a reminder of ``day`` is too far back (or ahead, which no real reminder is) for Done."""
    return not today - timedelta(days=DONE_DAYS_BACK) <= day <= today
