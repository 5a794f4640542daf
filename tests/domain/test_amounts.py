"""Reading and showing amounts."""

from __future__ import annotations

import math
import time

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from backrun_bot.domain.amounts import (
    ACCEPTED_FORMATS,
    LAP_METERS,
    MAX_INPUT_LENGTH,
    MAX_METERS,
    MAX_SECONDS,
    Amount,
    format_distance,
    format_duration,
    parse_amount,
)
from backrun_bot.domain.kinds import Kind
from backrun_bot.errors import AmountError, InvalidInput

YARD = 0.9144
MILE = 1609.344


@pytest.mark.parametrize(
    ("text", "meters"),
    [
        ("400m", 400.0),
        ("400 m", 400.0),
        ("400M", 400.0),
        ("0.4km", 400.0),
        ("1.2 km", 1200.0),
        ("1.2KM", 1200.0),
        (".5 km", 500.0),
        ("5k", 5000.0),
        ("440yd", 402.336),
        ("440 yards", 402.336),
        ("0.25mi", 402.336),
        ("0.25 Miles", 402.336),
        ("1 mile", MILE),
        ("2 laps", 800.0),
        ("1 lap", LAP_METERS),
        ("2laps", 800.0),
        ("400 meters", 400.0),
        ("400 metres", 400.0),
        ("1 meter", 1.0),
        ("3 kilometers", 3000.0),
        ("3 kilometres", 3000.0),
        ("100 yd", 100 * YARD),
        ("  400m  ", 400.0),
        ("400.m", 400.0),
        ("400\tm", 400.0),
        ("50 km", MAX_METERS),
    ],
)
def test_distances(text: str, meters: float) -> None:
    amount = parse_amount(text)
    assert amount.meters == pytest.approx(meters, abs=1e-9)
    assert amount.seconds is None
    assert amount.text == text.strip()


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90.0),
        ("90 sec", 90.0),
        ("90 seconds", 90.0),
        ("5min", 300.0),
        ("5 min", 300.0),
        ("5 minutes", 300.0),
        ("45min", 2700.0),
        ("1:30", 90.0),
        ("0:45", 45.0),
        ("12:05", 725.0),
        ("90:00", 5400.0),  # m:ss allows any number of minutes
        ("1:02:03", 3723.0),
        ("1h05", 3900.0),
        ("1h 05", 3900.0),
        ("1h05m", 3900.0),
        ("1h", 3600.0),
        ("1 hour", 3600.0),
        ("1.5h", 5400.0),
        ("1h 5min", 3900.0),
        ("1 h 05 min", 3900.0),
        ("1h5min30s", 3930.0),
        ("5 min 30 s", 330.0),
        ("2.5 min", 150.0),
        ("6h", MAX_SECONDS),
        ("6:00:00", MAX_SECONDS),
    ],
)
def test_durations(text: str, seconds: float) -> None:
    amount = parse_amount(text)
    assert amount.seconds == seconds
    assert amount.meters is None


@pytest.mark.parametrize(
    ("text", "meters", "seconds"),
    [
        ("400m in 1:30", 400.0, 90.0),
        ("400m 1:30", 400.0, 90.0),
        ("400m1:30", 400.0, 90.0),
        ("1.2 km in 5 min", 1200.0, 300.0),
        ("2 laps in 3 min 10 s", 800.0, 190.0),
        ("5 min 1 km", 1000.0, 300.0),
        ("5k in 1h05", 5000.0, 3900.0),
    ],
)
def test_distance_with_time(text: str, meters: float, seconds: float) -> None:
    amount = parse_amount(text)
    assert (amount.meters, amount.seconds) == (meters, seconds)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "Give an amount"),
        ("   ", "Give an amount"),
        ("banana", "could not read"),
        ("400m banana", "could not read"),
        ("in 1:30", "could not read"),
        ("-5m", "more than zero"),
        ("400m -1:30", "more than zero"),
        ("0m", "more than zero"),
        ("0:00", "more than zero"),
        ("0 min", "more than zero"),
        ("0.5m", "less than 1 m"),
        ("0.5 s", "less than 1 second"),
        ("5", "needs a unit"),
        ("5 400m", "needs a unit"),
        ("1e9km", "without exponents"),
        ("1E3 m", "without exponents"),
        ("@everyone", "Mentions"),
        ("<@123456789>", "Mentions"),
        ("400m <#1>", "Mentions"),
        ("x" * 10_000, "too long"),
        ("4" * (MAX_INPUT_LENGTH + 1), "too long"),
        ("nan", "not a number"),
        ("nan m", "not a number"),
        ("inf", "not a number"),
        ("infinity km", "not a number"),
        ("1:75", "below 60"),
        ("1:60", "below 60"),
        ("1:75:00", "below 60"),
        ("1:5", "two digits"),
        ("1:2:3:4", "could not read"),
        ("400m 400m", "one distance"),
        ("1 km 2 laps", "one distance"),
        ("5 min 1:30", "one time"),
        ("1:30 1:30", "one time"),
        ("30 s 5 min", "largest unit first"),
        ("5 min 5 min", "largest unit first"),
        ("1h 75min", "below 60"),
        ("1h 400m", "below 60"),
        ("1,2 km", "point for decimals"),
        ("1,000 m", "without commas"),
        ("51 km", "more than one session"),
        ("50.001 km", "more than one session"),
        ("32 miles", "more than one session"),
        ("7h", "more than one session"),
        ("6:00:01", "more than one session"),
        ("361 min", "more than one session"),
        ("99999999999999999999999999999999 m", "more than one session"),
        ("400 furlongs", "unit"),
        ("400 in 1:30", "unit"),
        ("400m in 5 km", "After 'in'"),
        ("400m in", "After 'in'"),
        ("400m in in 1:30", "could not read"),
        ("400m + 1:30", "only digits"),
        ("４００m", "only digits"),
        ("400\u200bm", "only digits"),
        ("400.", "needs a unit"),
        ("4..5 m", "could not read"),
        ("5-6 km", "could not read"),
    ],
)
def test_refused(text: str, reason: str) -> None:
    with pytest.raises(AmountError) as caught:
        parse_amount(text)
    assert reason in caught.value.message
    assert caught.value.hint == ACCEPTED_FORMATS
    assert "400m" in caught.value.user_text()


@pytest.mark.parametrize("text", ["@everyone", "@here", "<@&1234>", "banana", "1,2 km", "400 furlongs"])
def test_messages_never_echo_what_was_typed(text: str) -> None:
    with pytest.raises(AmountError) as caught:
        parse_amount(text)
    assert text not in caught.value.user_text()
    assert "@" not in caught.value.user_text()


def test_amount_error_is_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        parse_amount("banana")


def test_huge_input_is_refused_quickly() -> None:
    started = time.perf_counter()
    for _ in range(100):
        with pytest.raises(AmountError, match="too long"):
            parse_amount("1" * 1_000_000)
    assert time.perf_counter() - started < 2.0


def test_accepted_formats_lists_examples() -> None:
    for example_text in ["400m", "1.2 km", "440yd", "0.25mi", "2 laps", "90s", "5 min", "1:30", "1h05"]:
        assert example_text in ACCEPTED_FORMATS
        parse_amount(example_text)  # every advertised example is accepted


@pytest.mark.parametrize(
    ("meters", "text"),
    [
        (0.0, "0 m"),
        (1.0, "1 m"),
        (400.0, "400 m"),
        (402.336, "402 m"),
        (999.4, "999 m"),
        (999.7, "1 km"),  # rounded before choosing the unit
        (1000.0, "1 km"),
        (1200.0, "1.2 km"),
        (1234.0, "1.23 km"),
        (1236.0, "1.24 km"),
        (12500.0, "12.5 km"),
        (50000.0, "50 km"),
        (123456.0, "123.46 km"),
        (-400.0, "-400 m"),
    ],
)
def test_format_distance(meters: float, text: str) -> None:
    assert format_distance(meters) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.0, "0 s"),
        (1.0, "1 s"),
        (45.0, "45 s"),
        (59.4, "59 s"),
        (59.6, "1 min"),
        (60.0, "1 min"),
        (90.0, "1:30"),
        (300.0, "5 min"),
        (605.0, "10:05"),
        (3599.0, "59:59"),
        (3600.0, "1 h"),
        (3900.0, "1 h 05 min"),
        (3723.0, "1:02:03"),
        (21600.0, "6 h"),
        (36000.0, "10 h"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_formatters_refuse_non_finite(value: float) -> None:
    with pytest.raises(ValueError, match="finite"):
        format_distance(value)
    with pytest.raises(ValueError, match="finite"):
        format_duration(value)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("400m", "400 m"),
        ("0.8 km", "800 m"),
        ("1.2 km", "1.2 km"),
        ("440yd", "402 m"),
        ("2 laps", "800 m"),
        ("90s", "1:30"),
        ("5min", "5 min"),
        ("1h05", "1 h 05 min"),
        ("1:02:03", "1:02:03"),
        ("400m 1:30", "400 m in 1:30"),
        ("5 min 1 km", "1 km in 5 min"),
    ],
)
def test_display(text: str, shown: str) -> None:
    assert parse_amount(text).display() == shown


def test_amount_needs_a_distance_or_a_duration() -> None:
    with pytest.raises(ValueError, match="meters, seconds or both"):
        Amount(meters=None, seconds=None, text="")


def test_amount_is_immutable() -> None:
    amount = parse_amount("400m")
    with pytest.raises(AttributeError):
        amount.meters = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "kind", "effective"),
    [
        ("400m", Kind.BACKWARD, 400.0),
        ("400m", Kind.FORWARD, 400.0),
        ("400m in 10 min", Kind.BACKWARD_WALK, 400.0),  # a given distance always wins
        ("9 min", Kind.BACKWARD_JOG, 1000.0),
        ("7 min", Kind.BACKWARD, 1000.0),
        ("15 min", Kind.BACKWARD_WALK, 1000.0),
        ("250 s", Kind.BACKWARD_SPRINT, 1000.0),
        ("5:30", Kind.FORWARD, 1000.0),
        ("20 min", Kind.BACKPEDAL, 3000.0),
        ("4 min", Kind.BACKWARD_SKIP, 500.0),
    ],
)
def test_effective_meters(text: str, kind: Kind, effective: float) -> None:
    assert parse_amount(text).effective_meters(kind) == pytest.approx(effective)


# --- properties ------------------------------------------------------------------------------------

_AMOUNT_ALPHABET = st.sampled_from([*"0123456789.:, -mkhsinlapydrtesu@<>#", "\u00a0", "é", "\u200b", "٣"])


@given(st.one_of(st.text(max_size=60), st.text(_AMOUNT_ALPHABET, max_size=45)))
@example("1:99")
@example("1h99")
@example("00000000000000000000000000000000000000 km")
@example("999999999999999999999999999999999.9 m")
@example(".0000000000000000001 km")
def test_any_text_gives_a_plausible_amount_or_an_amount_error(text: str) -> None:
    try:
        amount = parse_amount(text)
    except AmountError as error:
        assert error.hint == ACCEPTED_FORMATS
        assert error.message
        return
    assert amount.meters is not None or amount.seconds is not None
    if amount.meters is not None:
        assert 0 < amount.meters <= MAX_METERS
    if amount.seconds is not None:
        assert 0 < amount.seconds <= MAX_SECONDS
    assert amount.text == text.strip()
    assert_round_trips(amount)


def assert_round_trips(amount: Amount) -> None:
    again = parse_amount(amount.display())
    if amount.meters is None:
        assert again.meters is None
    else:
        assert again.meters is not None
        # Whole metres below 1 km, 10 m steps (two decimals of a km) above.
        assert again.meters == pytest.approx(amount.meters, abs=0.5 if amount.meters < 999 else 5.0)
    if amount.seconds is None:
        assert again.seconds is None
    else:
        assert again.seconds is not None
        assert again.seconds == pytest.approx(amount.seconds, abs=0.5)
    assert again.display() == amount.display()  # display is a fixed point


_UNITS = ["m", "km", "yd", "mi", "laps", "s", "min", "h", "meters", "k", "sec", "hours"]


@given(
    st.floats(min_value=0.0, max_value=100_000.0, allow_nan=False),
    st.sampled_from(_UNITS),
    st.booleans(),
)
def test_generated_amounts_round_trip(number: float, unit: str, space: bool) -> None:
    text = f"{number:.3f}".rstrip("0").rstrip(".") + (" " if space else "") + unit
    try:
        amount = parse_amount(text)
    except AmountError:
        return
    assert_round_trips(amount)


@given(st.integers(0, 6), st.integers(0, 59), st.integers(0, 59))
def test_clock_times(h: int, m: int, s: int) -> None:
    total = h * 3600 + m * 60 + s
    text = f"{h}:{m:02d}:{s:02d}"
    if 0 < total <= MAX_SECONDS:
        assert parse_amount(text).seconds == total
        assert parse_amount(f"400m in {text}").seconds == total
    else:
        with pytest.raises(AmountError):
            parse_amount(text)
