"""Reading and showing amounts."""

from __future__ import annotations

import dataclasses
import math
import re
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
    _quoted,
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
        ("400m yesterday", "write date:yesterday"),
        ("400m 2026-11-30", "write date:2026-11-30"),
        ("400m today", "leave the day out"),
        ("1/4 mile", "0.25mi"),
        ("5 km/h", "only digits"),
    ],
)
def test_refused(text: str, reason: str) -> None:
    with pytest.raises(AmountError) as caught:
        parse_amount(text)
    assert reason in caught.value.message
    assert caught.value.hint == ACCEPTED_FORMATS
    assert "400m" in caught.value.user_text()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x" * 41, "That amount is too long (at most 40 characters)."),
        ("", "Give an amount, such as 400m or 5 min."),
        ("@everyone", "Mentions and symbols are not amounts."),
        ("400m + 1:30", "An amount uses only digits, letters, spaces, '.' and ':'."),
        ("400m today", "Today is the default: leave the day out of the amount."),
        ("400m yesterday", "The day goes in the date option, not in the amount: write date:yesterday."),
        ("1,2 km", "Write numbers without commas, and use a point for decimals, as in 1.2 km."),
        ("1e3 m", "Write numbers out in full, without exponents: 1000 m, not 1e3 m."),
        ("nan", "That is not a number I can log."),
        ("-5m", "An amount must be more than zero."),
        ("0m", "An amount must be more than zero."),
        ("400m 400m", "Give one distance (and, if you like, one time), not two."),
        ("1:30 400m 5 min", "Give one time (and, if you like, one distance), not two."),
        ("5 min 1:30", "Give one time (and, if you like, one distance), not two."),
        ("5 min 1:30 400m 400m", "Give one time (and, if you like, one distance), not two."),  # first fault
        ("0.5m", "That is less than 1 m — too small to log."),
        ("0.5 s", "That is less than 1 second — too small to log."),
        ("51 km", "More than 50 km in one entry looks like more than one session — log them separately."),
        ("7h", "More than 6 hours in one entry looks like more than one session — log them separately."),
        ("5", "A number needs a unit, for example 400m, 2 laps or 5 min."),
        ("400m in 5 km", "After 'in' comes a time, as in 400m in 1:30."),
        ("400m in", "After 'in' comes a time, as in 400m in 1:30."),
        ("400 Xm", "I don't know the unit `xm`. Use m, km, yd, mi, laps, s, min or h."),
        ("30 s 5 min", "Write a time largest unit first, each unit once: 1 h 5 min, 5 min 30 s."),
        ("1h 75min", "Minutes and seconds after a larger unit must be whole numbers below 60."),
        ("1h 60min", "Minutes and seconds after a larger unit must be whole numbers below 60."),
        ("1:2:3:4", "I could not read that time. Use m:ss or h:mm:ss, like 1:30 or 1:02:03."),
        ("1:5", "Write minutes and seconds in a time with two digits, like 1:05."),
        ("1:75", "Minutes and seconds in a time must be below 60 (1:30, not 0:90)."),
        ("1/4 furlong", "Write a fraction as a decimal, as in 0.25mi for a quarter mile."),
        ("2/1 km", "Write a fraction as a decimal: 2km, not 2/1."),
        ("banana", "I could not read `banana` as an amount."),
    ],
)
def test_refusals_word_for_word(text: str, message: str) -> None:
    """What the athlete reads: the reason, then the accepted formats."""
    with pytest.raises(AmountError) as caught:
        parse_amount(text)
    assert caught.value.message == message
    assert caught.value.user_text() == f"{message}\n{ACCEPTED_FORMATS}"


def refusal(text: str) -> str:
    with pytest.raises(AmountError) as caught:
        parse_amount(text)
    return caught.value.user_text()


@pytest.mark.parametrize(
    "text", ["@everyone", "@here", "<@&1234>", "400m <#1>", "1,2 km", "400m + 1:30", "`400m`", "x" * 100]
)
def test_mentions_symbols_and_long_text_are_never_quoted(text: str) -> None:
    reply = refusal(text)
    assert text not in reply
    assert "@" not in reply and "`" not in reply


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("banana", "`banana`"),
        ("Banana  Bread", "`Banana Bread`"),  # as typed, spaces collapsed
        ("400m in in 1:30", "`400m in in 1:30`"),
        ("5-6 km", "`5-6 km`"),
        ("4..5 m", "`4..5 m`"),
        ("x" * MAX_INPUT_LENGTH, f"`{'x' * MAX_INPUT_LENGTH}`"),
    ],
)
def test_unreadable_text_is_quoted_back(text: str, quoted: str) -> None:
    reply = refusal(text)
    assert f"I could not read {quoted} as an amount." in reply
    assert reply.count("`") == 2  # one code span, nothing else that could open one


def test_an_unknown_unit_is_named() -> None:
    assert "I don't know the unit `furlongs`." in refusal("400 Furlongs")


def test_quoting_strips_backticks_and_stays_short() -> None:
    assert _quoted("a`b  c``") == "`ab c`"
    long = _quoted("y" * 500)
    assert long == "`" + "y" * (MAX_INPUT_LENGTH - 1) + "…`"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("400m yesterday", "write date:yesterday"),
        ("Yesterday 400m", "write date:yesterday"),
        ("400m, yesterday", "write date:yesterday"),  # the day is the mistake, not the comma
        ("400m 2026-11-30", "write date:2026-11-30"),
        ("2026-11-30 1:30", "write date:2026-11-30"),
        ("400m today", "Today is the default: leave the day out of the amount."),
    ],
)
def test_a_day_in_the_amount_points_to_the_date_option(text: str, says: str) -> None:
    reply = refusal(text)
    assert says in reply
    assert "date option" in reply or "default" in reply


@pytest.mark.parametrize(
    ("text", "suggestion", "meters", "seconds"),
    [
        ("1/4 mile", "0.25mi", MILE / 4, None),
        ("1/4mi", "0.25mi", MILE / 4, None),
        ("1 / 2 KM", "0.5km", 500.0, None),
        ("3/4 lap", "0.75 laps", 300.0, None),
        ("1/3 mile", "0.333mi", MILE / 3, None),
        ("1/2 hour", "0.5h", None, 1800.0),
        ("1/2 min", "0.5 min", None, 30.0),
        ("1/2 s", "0.25mi", None, None),  # half a second is too small: no decimal to offer
        ("0/4 mile", "0.25mi", None, None),
        ("1/0 mile", "0.25mi", None, None),
        ("200/1 km", "0.25mi", None, None),
        ("1/4 furlong", "0.25mi", None, None),
        ("1 1/2 miles", "0.25mi", None, None),
    ],
)
def test_a_fraction_is_answered_with_its_decimal(
    text: str, suggestion: str, meters: float | None, seconds: float | None
) -> None:
    reply = refusal(text)
    assert "Write a fraction as a decimal" in reply
    assert suggestion in reply
    if meters is None and seconds is None:
        assert "quarter mile" in reply  # the general advice, with an example that is valid
        return
    offered = parse_amount(suggestion)
    assert f"{suggestion}, not " in reply
    assert offered.meters == (None if meters is None else pytest.approx(meters, rel=2e-3))
    assert offered.seconds == seconds


def test_the_fraction_advice_in_full() -> None:
    assert refusal("1/4 mile").startswith("Write a fraction as a decimal: 0.25mi, not 1/4.\n")


# An amount a refusal mentions (not one it says "not" to write, not the text it quotes back).
_EXAMPLE = re.compile(
    r"(?<![\w.:/-])(?<!not )"
    r"(\d+(?::\d{2})+|\d*\.?\d+ ?(?:km|mi|yd|m|laps?|min|s|h|hours?|seconds?|miles?)\b)",
    re.ASCII,
)


def examples_in(reply: str) -> list[str]:
    return _EXAMPLE.findall(re.sub(r"`[^`]*`", "", reply))


def test_the_example_finder_finds_examples() -> None:
    assert examples_in("as in 400m in 1:30, not 0:90; `1 km` 1e3 m 5 min") == ["400m", "1:30", "5 min"]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "x" * 100,
        "1e3 m",
        "-5m",
        "0.5m",
        "0.5 s",
        "5",
        "1,2 km",
        "1,000 m",
        "400 in 1:30",
        "400m in 5 km",
        "1:75",
        "1:5",
        "1:2:3:4",
        "30 s 5 min",
        "1h 75min",
        "400m 400m",
        "5 min 1:30",
        "51 km",
        "7h",
        "nan",
        "400 furlongs",
        "400m + 1:30",
        "@everyone",
        "1/4 mile",
        "1/0 mile",
        "400m yesterday",
    ],
)
def test_every_example_in_a_refusal_is_accepted(text: str) -> None:
    for example_text in examples_in(refusal(text)):
        parse_amount(example_text)


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
        (-90.0, "-1:30"),
        (-3900.0, "-1 h 05 min"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_formatters_refuse_non_finite(value: float) -> None:
    with pytest.raises(ValueError, match=r"^distance must be finite$"):
        format_distance(value)
    with pytest.raises(ValueError, match=r"^duration must be finite$"):
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
    with pytest.raises(ValueError, match=r"^an Amount needs meters, seconds or both$"):
        Amount(meters=None, seconds=None, text="")


def test_amount_is_immutable() -> None:
    amount = parse_amount("400m")
    for field in dataclasses.fields(amount):  # setattr: the type checker refuses the assignment itself
        with pytest.raises(AttributeError):
            setattr(amount, field.name, 1.0)


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


# unit → (its size in metres or seconds, whether it is a distance)
_UNITS: dict[str, tuple[float, bool]] = {
    "m": (1.0, True),
    "meters": (1.0, True),
    "km": (1000.0, True),
    "k": (1000.0, True),
    "yd": (YARD, True),
    "mi": (MILE, True),
    "laps": (LAP_METERS, True),
    "s": (1.0, False),
    "sec": (1.0, False),
    "min": (60.0, False),
    "h": (3600.0, False),
    "hours": (3600.0, False),
}


@given(
    st.one_of(
        st.floats(min_value=0.0, max_value=60.0, allow_nan=False),  # mostly valid in every unit
        st.floats(min_value=0.0, max_value=100_000.0, allow_nan=False),
    ),
    st.sampled_from(sorted(_UNITS)),
    st.booleans(),
)
@example(1.0, "m", False)
@example(0.999, "m", True)
@example(50.0, "km", True)
@example(50.001, "km", False)
@example(6.0, "h", False)
@example(360.001, "min", True)
def test_generated_amounts_round_trip(number: float, unit: str, space: bool) -> None:
    number_text = f"{number:.3f}".rstrip("0").rstrip(".")
    text = number_text + (" " if space else "") + unit
    size, is_distance = _UNITS[unit]
    value = float(number_text) * size
    if not 1.0 <= value <= (MAX_METERS if is_distance else MAX_SECONDS):
        with pytest.raises(AmountError):  # only an amount outside the limits may be refused
            parse_amount(text)
        return
    amount = parse_amount(text)
    assert (amount.meters, amount.seconds) == ((value, None) if is_distance else (None, value))
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
