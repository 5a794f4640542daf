"""Validation where input enters: app-command transformers that hand the cogs domain values.

A transformer that raises one of our typed errors makes discord.py stop before the command runs, so
bad input can never reach the store; the error handler answers with the error's own words.
"""

from __future__ import annotations

from datetime import time

import discord
from discord import app_commands

from backrun_bot.domain.amounts import Amount, Units, parse_amount
from backrun_bot.domain.board import board_kind, board_kind_choices
from backrun_bot.domain.dates import Period, find_timezones, require_timezone
from backrun_bot.domain.kinds import KIND_CHOICES, Kind
from backrun_bot.domain.schedule import parse_days, parse_local_time
from backrun_bot.domain.wellness import Area
from backrun_bot.errors import InvalidInput

# Transformer.choices is typed for any choice value; these lists hold strings.
Choice = app_commands.Choice[int | float | str]


class AmountTransformer(app_commands.Transformer):
    """``400m``, ``1.2 km``, ``5 min``… → :class:`Amount` (or an AmountError with accepted formats)."""

    async def transform(self, interaction: discord.Interaction, value: str, /) -> Amount:
        return parse_amount(value)


class KindTransformer(app_commands.Transformer):
    """The ``kind`` option: a fixed choice list, turned into :class:`Kind`."""

    @property
    def choices(self) -> list[Choice]:
        return [Choice(name=name, value=value) for name, value in KIND_CHOICES]

    async def transform(self, interaction: discord.Interaction, value: str, /) -> Kind:
        try:
            return Kind(value)
        except ValueError:
            raise InvalidInput("Pick the kind of run from the list.") from None


class PeriodTransformer(app_commands.Transformer):
    @property
    def choices(self) -> list[Choice]:
        return [Choice(name=p.value, value=p.value) for p in Period]

    async def transform(self, interaction: discord.Interaction, value: str, /) -> Period:
        try:
            return Period(value)
        except ValueError:
            raise InvalidInput("The period is one of: week, month, year, all.") from None


class BoardPeriodTransformer(app_commands.Transformer):
    """The leaderboard's period: a calendar week, month or year (not "all": a board is of now)."""

    PERIODS = (Period.WEEK, Period.MONTH, Period.YEAR)

    @property
    def choices(self) -> list[Choice]:
        return [Choice(name=p.value, value=p.value) for p in self.PERIODS]

    async def transform(self, interaction: discord.Interaction, value: str, /) -> Period:
        if value not in self.PERIODS:
            raise InvalidInput("The period is one of: week, month, year.")
        return Period(value)


class BoardKindTransformer(app_commands.Transformer):
    """The leaderboard's kind: ``backward`` (every backward kind together) or one kind of /log."""

    @property
    def choices(self) -> list[Choice]:
        return [Choice(name=name, value=value) for name, value in board_kind_choices()]

    async def transform(self, interaction: discord.Interaction, value: str, /) -> Kind | None:
        try:
            return board_kind(value)
        except ValueError:
            raise InvalidInput("Pick the kind from the list: backward, or one kind of /log.") from None


class UnitsTransformer(app_commands.Transformer):
    @property
    def choices(self) -> list[Choice]:
        return [Choice(name=u.value, value=u.value) for u in Units]

    async def transform(self, interaction: discord.Interaction, value: str, /) -> Units:
        try:
            return Units(value)
        except ValueError:
            raise InvalidInput("The system is metric or imperial.") from None


class AreaTransformer(app_commands.Transformer):
    """``/checkin area``: where it is sore, a fixed choice list, turned into :class:`Area`."""

    @property
    def choices(self) -> list[Choice]:
        return [Choice(name=a.value, value=a.value) for a in Area]

    async def transform(self, interaction: discord.Interaction, value: str, /) -> Area:
        try:
            return Area(value)
        except ValueError:
            raise InvalidInput(f"Pick the area from the list: {', '.join(a.value for a in Area)}.") from None


class LocalTimeTransformer(app_commands.Transformer):
    """``07:00``, ``18:30`` → :class:`datetime.time` (24-hour; ``7pm`` is refused with the format)."""

    @property
    def max_value(self) -> int:  # for a string option: its max_length
        return 16

    async def transform(self, interaction: discord.Interaction, value: str, /) -> time:
        return parse_local_time(value)


class DaysTransformer(app_commands.Transformer):
    """``every day``, ``weekdays``, ``mon,wed,fri``, ``tue-thu`` → weekday numbers (Monday = 0)."""

    @property
    def max_value(self) -> int:
        return 64

    async def transform(self, interaction: discord.Interaction, value: str, /) -> frozenset[int]:
        return parse_days(value)


class TimezoneTransformer(app_commands.Transformer):
    """An IANA timezone name, offered as the admin types; anything else is refused."""

    @property
    def max_value(self) -> int:
        return 64

    async def autocomplete(self, interaction: discord.Interaction, value: str, /) -> list[Choice]:  # type: ignore[override]
        return [Choice(name=name, value=name) for name in find_timezones(value)]

    async def transform(self, interaction: discord.Interaction, value: str, /) -> str:
        return require_timezone(value)


AmountArg = app_commands.Transform[Amount, AmountTransformer]
KindArg = app_commands.Transform[Kind, KindTransformer]
PeriodArg = app_commands.Transform[Period, PeriodTransformer]
BoardPeriodArg = app_commands.Transform[Period, BoardPeriodTransformer]
BoardKindArg = app_commands.Transform[Kind | None, BoardKindTransformer]
UnitsArg = app_commands.Transform[Units, UnitsTransformer]
AreaArg = app_commands.Transform[Area, AreaTransformer]
LocalTimeArg = app_commands.Transform[time, LocalTimeTransformer]
DaysArg = app_commands.Transform[frozenset[int], DaysTransformer]
TimezoneArg = app_commands.Transform[str, TimezoneTransformer]
