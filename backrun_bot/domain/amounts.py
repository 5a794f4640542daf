"""Reading and showing amounts: a distance (``400m``), a duration (``5 min``) or both (``400m in 1:30``).

Grammar (case-insensitive; spaces between a number and its unit are optional)::

    amount    = distance | duration | distance ["in"] duration | duration distance
    distance  = number dist-unit               400m, 1.2 km, 5k, 440yd, 0.25mi, 2 laps
    duration  = clock | unit-time
    clock     = M:SS | H:MM:SS                 1:30, 1:02:03   (SS and MM two digits, below 60)
    unit-time = [number h] [number min] [number s], largest unit first, at least one part
                "1h05" / "1h 05" (a bare number after hours) and "1h05m" mean minutes
    number    = plain decimal with a point     12, 1.25, .5, 3.  (no sign, no exponent, no comma)

Rules decided here, because a log entry should be one plausible session:

* At most :data:`MAX_INPUT_LENGTH` characters, checked before any regular expression runs.
* Only ASCII letters, digits, spaces and ``. : , -`` can appear (the last two only to explain a
  decimal comma or a minus sign); anything else, notably ``@ < >`` of mentions, is refused.
* Each part must be at least 1 m / 1 s (smaller is a typo, and would display as "0 m"), and at most
  :data:`MAX_METERS` / :data:`MAX_SECONDS`.
* After the first part of a duration, later parts must be whole numbers below 60 (``1 h 75 min`` is
  refused; write ``2 h 15 min``).
* A day in the amount (``400m yesterday``, ``400m 2026-11-30``) is refused with a pointer to the date
  option; a fraction (``1/4 mile``) with its decimal (``0.25mi``).

Refusals say what would be accepted, and every example they give is itself accepted. Text that could
not be read is quoted back in a code span so the athlete sees what was read: it has passed the length
and character checks by then (no ``@ < > #``, no backtick), and :func:`_quoted` strips backticks and
shortens it anyway. Mentions, symbols and over-long text are never quoted.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from backrun_bot.domain.kinds import Kind
from backrun_bot.errors import AmountError

LAP_METERS: Final = 400.0
MAX_METERS: Final = 50_000.0  # a single entry over 50 km is refused as implausible
MAX_SECONDS: Final = 6 * 3600.0  # over 6 hours refused
MIN_METERS: Final = 1.0  # less is a typo, and would display as "0 m"
MIN_SECONDS: Final = 1.0
MAX_INPUT_LENGTH: Final = 40  # longer text is refused before any parsing
ACCEPTED_FORMATS: Final = "Amounts: 400m, 1.2 km, 440yd, 0.25mi, 2 laps, 90s, 5 min, 1:30, 1h05"

YARD_METERS: Final = 0.9144
MILE_METERS: Final = 1609.344

_DISTANCE_UNITS: Final[dict[str, float]] = {
    **dict.fromkeys(("m", "meter", "meters", "metre", "metres"), 1.0),
    **dict.fromkeys(("k", "km", "kms", "kilometer", "kilometers", "kilometre", "kilometres"), 1000.0),
    **dict.fromkeys(("yd", "yds", "yard", "yards"), YARD_METERS),
    **dict.fromkeys(("mi", "mile", "miles"), MILE_METERS),
    **dict.fromkeys(("lap", "laps"), LAP_METERS),
}
_HOURS, _MINUTES, _SECONDS = 3600, 60, 1
_TIME_UNITS: Final[dict[str, int]] = {
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), _HOURS),
    **dict.fromkeys(("min", "mins", "minute", "minutes"), _MINUTES),
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), _SECONDS),
}

_ALLOWED_CHARS: Final = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ .:,-")
# One token at a time from the current position: a clock, a number with an optional unit, or a word.
_TOKEN: Final = re.compile(
    r" ?(?:(?P<clock>\d+(?::\d+)+)|(?P<num>\d+(?:\.\d*)?|\.\d+)(?: ?(?P<unit>[a-z]+))?|(?P<word>[a-z]+))",
    re.ASCII,
)
_EXPONENT: Final = re.compile(r"\de[+-]?\d", re.ASCII)
# A day typed into the amount: it belongs in the date option.
_DATE_WORD: Final = re.compile(r"\b(?:today|yesterday|\d{4}-\d{2}-\d{2})\b", re.ASCII)
_FRACTION: Final = re.compile(r"\d ?/ ?\d", re.ASCII)
_FRACTION_AMOUNT: Final = re.compile(r"(\d{1,4}) ?/ ?(\d{1,4}) ?([a-z]+)", re.ASCII)
# How a suggestion writes each unit (the short forms of ACCEPTED_FORMATS).
_SHORT_UNITS: Final[dict[str, str]] = {
    **dict.fromkeys(("m", "meter", "meters", "metre", "metres"), "m"),
    **dict.fromkeys(("k", "km", "kms", "kilometer", "kilometers", "kilometre", "kilometres"), "km"),
    **dict.fromkeys(("yd", "yds", "yard", "yards"), "yd"),
    **dict.fromkeys(("mi", "mile", "miles"), "mi"),
    **dict.fromkeys(("lap", "laps"), " laps"),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), "h"),
    **dict.fromkeys(("min", "mins", "minute", "minutes"), " min"),
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), "s"),
}
_NOT_A_NUMBER: Final = re.compile(r"\b(?:nan|inf|infinity)\b", re.ASCII)
# A minus sign not glued to a word or number ("-5m", "400m -1"); "5-6 km" is merely unreadable.
_NEGATIVE: Final = re.compile(r"(?<![0-9a-z.])- ?\.?\d", re.ASCII)


def _refuse(message: str) -> AmountError:
    return AmountError(message, hint=ACCEPTED_FORMATS)


def _quoted(typed: str) -> str:
    """What was typed, as a short inline code span that cannot break the reply's formatting."""
    clean = " ".join(typed.replace("`", "").split())
    if len(clean) > MAX_INPUT_LENGTH:
        clean = clean[: MAX_INPUT_LENGTH - 1] + "…"
    return f"`{clean}`"


def _unreadable(typed: str) -> AmountError:
    return _refuse(f"I could not read {_quoted(typed)} as an amount.")


class Units(StrEnum):
    """How a team's distances are shown (``/team units``); the value is what ``teams.units`` stores.
    Input takes both whatever the choice (:func:`parse_amount`)."""

    METRIC = "metric"
    IMPERIAL = "imperial"


YARDS_PER_MILE: Final = 1760


@dataclass(frozen=True, slots=True)
class Amount:
    """What was logged: a distance, a duration, or both. At least one of them is set."""

    meters: float | None  # distance as given, converted to meters (None if only a duration)
    seconds: float | None  # duration as given (None if only a distance)
    text: str  # the original text as typed (stripped)

    def __post_init__(self) -> None:
        if self.meters is None and self.seconds is None:
            raise ValueError("an Amount needs meters, seconds or both")

    def effective_meters(self, kind: Kind) -> float:
        """The distance this amount counts for: the distance if given, else the duration at kind's pace."""
        if self.meters is not None:
            return self.meters
        assert self.seconds is not None  # guaranteed by __post_init__
        return self.seconds / kind.pace_s_per_km * 1000.0

    def display(self, units: Units = Units.METRIC) -> str:
        """Normalised text in the team's ``units``: ``"400 m"``, ``"5 min"``, ``"400 m in 1:30"``.

        Whatever was typed is shown in those units (``440yd`` → ``"402 m"`` in metric, ``400m`` →
        ``"437 yd"`` in imperial; laps as metres or yards); :attr:`text` keeps what was typed. The
        result is itself accepted by :func:`parse_amount` (in imperial, but for the very edges, where
        rounding crosses a limit: 1 m shows as 1 yd, 50 km as 31.07 mi).
        """
        if self.meters is not None and self.seconds is not None:
            return f"{format_distance(self.meters, units)} in {format_duration(self.seconds)}"
        if self.meters is not None:
            return format_distance(self.meters, units)
        assert self.seconds is not None
        return format_duration(self.seconds)


def format_distance(meters: float, units: Units = Units.METRIC) -> str:
    """A distance in the team's ``units`` (metric unless told otherwise), rounded first so that the
    unit is chosen on what is shown.

    * metric: ``"400 m"`` below 1 km (whole metres); from 1 km on ``"1.2 km"``, ``"12.5 km"`` (at
      most 2 decimals). 999.7 m shows as ``"1 km"``, not ``"1000 m"``.
    * imperial: ``"440 yd"`` below a mile (whole yards: a track's and a field's unit); from a mile
      on ``"1 mi"``, ``"1.25 mi"`` (at most 2 decimals, about 16 m). 1759.6 yd shows as ``"1 mi"``.
    """
    if not math.isfinite(meters):
        raise ValueError("distance must be finite")
    if meters < 0:
        return "-" + format_distance(-meters, units)
    if units == Units.IMPERIAL:
        yards = math.floor(meters / YARD_METERS + 0.5)
        if yards < YARDS_PER_MILE:
            return f"{yards} yd"
        return f"{_trim(f'{meters / MILE_METERS:.2f}')} mi"
    whole = math.floor(meters + 0.5)
    if whole < 1000:
        return f"{whole} m"
    return f"{_trim(f'{meters / 1000:.2f}')} km"


def format_duration(seconds: float) -> str:
    """A duration, rounded to the whole second, in the shortest exact form.

    * under a minute: ``"45 s"``
    * under an hour: ``"5 min"`` when whole minutes, else ``"1:30"`` (m:ss)
    * an hour or more: ``"1 h"`` / ``"1 h 05 min"`` when whole minutes, else ``"1:02:03"`` (h:mm:ss)
    """
    if not math.isfinite(seconds):
        raise ValueError("duration must be finite")
    if seconds < 0:
        return "-" + format_duration(-seconds)
    total = math.floor(seconds + 0.5)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if total < 60:
        return f"{secs} s"
    if hours == 0:
        return f"{minutes} min" if secs == 0 else f"{minutes}:{secs:02d}"
    if secs:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{hours} h" if minutes == 0 else f"{hours} h {minutes:02d} min"


def _trim(number: str) -> str:
    """``"1.20"`` → ``"1.2"``, ``"1.00"`` → ``"1"``."""
    return number.rstrip("0").rstrip(".") if "." in number else number


@dataclass(slots=True)
class _Part:
    """One distance or one duration being assembled from tokens."""

    is_distance: bool
    value: float
    last_unit: int = 0  # for durations: the seconds-per-unit of the latest component (h=3600, ...)


def parse_amount(text: str) -> Amount:
    """Read what an athlete typed; raise :class:`AmountError` (with :data:`ACCEPTED_FORMATS`) if unusable."""
    stripped = text.strip()
    # Length first: everything below is then bounded by 40 characters, so it cannot be made slow.
    if len(stripped) > MAX_INPUT_LENGTH:
        raise _refuse(f"That amount is too long (at most {MAX_INPUT_LENGTH} characters).")
    if not stripped:
        raise _refuse("Give an amount, such as 400m or 5 min.")
    typed = " ".join(stripped.split())
    if any(ch in "@<>#" for ch in typed):
        raise _refuse("Mentions and symbols are not amounts.")
    if _FRACTION.search(typed):
        raise _refuse(_fraction_advice(typed.lower()))
    if not set(typed) <= _ALLOWED_CHARS:
        raise _refuse("An amount uses only digits, letters, spaces, '.' and ':'.")
    normal = typed.lower()
    if day := _DATE_WORD.search(normal):
        if day[0] == "today":
            raise _refuse("Today is the default: leave the day out of the amount.")
        raise _refuse(f"The day goes in the date option, not in the amount: write date:{day[0]}.")
    if "," in normal:
        raise _refuse("Write numbers without commas, and use a point for decimals, as in 1.2 km.")
    if _EXPONENT.search(normal):
        raise _refuse("Write numbers out in full, without exponents: 1000 m, not 1e3 m.")
    if _NOT_A_NUMBER.search(normal):
        raise _refuse("That is not a number I can log.")
    if _NEGATIVE.search(normal):
        raise _refuse("An amount must be more than zero.")

    parts = _parts(normal, typed)
    distances = [p.value for p in parts if p.is_distance]
    durations = [p.value for p in parts if not p.is_distance]
    if len(distances) > 1:
        raise _refuse("Give one distance (and, if you like, one time), not two.")
    if len(durations) > 1:
        raise _refuse("Give one time (and, if you like, one distance), not two.")
    meters = distances[0] if distances else None
    seconds = durations[0] if durations else None
    if meters is not None:
        _check_size(meters, MIN_METERS, MAX_METERS, "1 m", "50 km")
    if seconds is not None:
        _check_size(seconds, MIN_SECONDS, MAX_SECONDS, "1 second", "6 hours")
    return Amount(meters=meters, seconds=seconds, text=stripped)


def _check_size(value: float, low: float, high: float, low_text: str, high_text: str) -> None:
    if value <= 0:
        raise _refuse("An amount must be more than zero.")
    if value < low:
        raise _refuse(f"That is less than {low_text} — too small to log.")
    if value > high:
        raise _refuse(
            f"More than {high_text} in one entry looks like more than one session — log them separately."
        )


def _fraction_advice(lowered: str) -> str:
    """What to write instead of a fraction: ``1/4 mile`` → ``0.25mi``, when that is a valid amount."""
    match = _FRACTION_AMOUNT.fullmatch(lowered)
    if match is not None and int(match[2]) > 0 and match[3] in _SHORT_UNITS:
        decimal = _trim(f"{int(match[1]) / int(match[2]):.3f}")
        suggestion = f"{decimal}{_SHORT_UNITS[match[3]]}"
        try:
            parse_amount(suggestion)
        except AmountError:
            pass  # 0/4 mile, 200/1 km: no valid decimal to offer
        else:
            return f"Write a fraction as a decimal: {suggestion}, not {match[1]}/{match[2]}."
    return "Write a fraction as a decimal, as in 0.25mi for a quarter mile."


def _parts(normal: str, typed: str) -> list[_Part]:
    """Split normalised text into distance and duration parts; refuse anything outside the grammar.

    ``typed`` is the same text before lower-casing, quoted back when it cannot be read.
    """
    parts: list[_Part] = []
    pos = 0
    after_in = False  # the previous token was "in": a duration must follow
    while pos < len(normal):
        match = _TOKEN.match(normal, pos)
        if match is None:
            raise _unreadable(typed)
        pos = match.end()
        previous = parts[-1] if parts else None
        if word := match["word"]:
            if word == "in" and previous is not None and previous.is_distance and not after_in:
                after_in = True
                continue
            raise _unreadable(typed)
        if clock := match["clock"]:
            if previous is not None and not previous.is_distance and not after_in:
                raise _refuse("Give one time (and, if you like, one distance), not two.")
            parts.append(_Part(is_distance=False, value=_clock_seconds(clock)))
            after_in = False
            continue
        number, unit = float(match["num"]), match["unit"]
        if unit is None and pos < len(normal) and normal[pos] != " ":
            raise _unreadable(typed)  # "4..5 m", "5-6 km": not a missing unit
        continues_hours = previous is not None and previous.last_unit == _HOURS and not after_in
        if unit is None or (unit == "m" and continues_hours):
            # "1h05" / "1h 05" / "1h05m": minutes after hours. Anywhere else a number needs a unit.
            if not continues_hours:
                raise _refuse("A number needs a unit, for example 400m, 2 laps or 5 min.")
            unit = "min"
        if unit in _DISTANCE_UNITS:
            if after_in:
                raise _refuse("After 'in' comes a time, as in 400m in 1:30.")
            parts.append(_Part(is_distance=True, value=number * _DISTANCE_UNITS[unit]))
            continue
        if unit not in _TIME_UNITS:
            raise _refuse(f"I don't know the unit {_quoted(unit)}. Use m, km, yd, mi, laps, s, min or h.")
        size = _TIME_UNITS[unit]
        if previous is not None and not previous.is_distance and not after_in:
            # A further component of the same duration: largest unit first, whole numbers below 60.
            if not size < previous.last_unit:
                raise _refuse("Write a time largest unit first, each unit once: 1 h 5 min, 5 min 30 s.")
            if not (number.is_integer() and number < 60):
                raise _refuse("Minutes and seconds after a larger unit must be whole numbers below 60.")
            previous.value += number * size
            previous.last_unit = size
            continue
        parts.append(_Part(is_distance=False, value=number * size, last_unit=size))
        after_in = False
    if after_in:
        raise _refuse("After 'in' comes a time, as in 400m in 1:30.")
    return parts


def _clock_seconds(clock: str) -> float:
    """``"1:30"`` (m:ss) or ``"1:02:03"`` (h:mm:ss) in seconds."""
    fields = clock.split(":")
    if len(fields) > 3:
        raise _refuse("I could not read that time. Use m:ss or h:mm:ss, like 1:30 or 1:02:03.")
    rest = fields[1:]
    if any(len(field) != 2 for field in rest):
        raise _refuse("Write minutes and seconds in a time with two digits, like 1:05.")
    if any(int(field) >= 60 for field in rest):
        raise _refuse("Minutes and seconds in a time must be below 60 (1:30, not 0:90).")
    total = 0
    for field in fields:
        total = total * 60 + int(field)
    return float(total)
