"""Heavy backward days (volume, single-session spikes), session-RPE load, and the acute:chronic
ratio, monotony and strain, which only advise.

The EWMA expectations below are worked out by hand from the recurrence
``EWMA(today) = λ*load(today) + (1 - λ)*EWMA(yesterday)`` with λ_a = 2/8 = 0.25 and λ_c = 2/29, both
seeded with the first day's load, so they do not just repeat the implementation. The ratio reads
only a day's load (``DayLog.load``), so those tests give loads directly.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backrun_bot.domain.load import (
    ACUTE_LAMBDA,
    BACKWARD_COST,
    CHRONIC_LAMBDA,
    DEFAULT_HEAVY_METERS,
    SCREEN_MARGIN,
    SPIKE_FACTOR,
    SPIKE_LOOKBACK_DAYS,
    DayLog,
    HeavyDay,
    LoadScreen,
    Rule,
    acwr,
    assess_day,
    load_picture,
    may_be_heavy,
    screen_of,
)

START = date(2026, 1, 1)


def d(n: int) -> date:
    """The n-th day from START (day 0)."""
    return START + timedelta(days=n)


def steady_backward(meters: float, days: int) -> list[DayLog]:
    return [DayLog(d(n), (meters,)) for n in range(days)]


def loaded(n: int, load: float, *backward: float) -> DayLog:
    """Day ``n`` with session-RPE ``load`` (and backward sessions of those metres, if any)."""
    return DayLog(d(n), backward, 0.0, load)


def steady_load(load: float, days: int) -> list[DayLog]:
    return [loaded(n, load) for n in range(days)]


# --- constants and DayLog -------------------------------------------------------------------------


def test_constants() -> None:
    assert BACKWARD_COST == 1.35  # Wright & Weyand 2001: 35 ± 6 % at 3.0 m/s
    assert DEFAULT_HEAVY_METERS == 1600.0
    assert SPIKE_FACTOR == 1.30
    assert SPIKE_LOOKBACK_DAYS == 30
    assert ACUTE_LAMBDA == 0.25
    assert pytest.approx(0.0689655) == CHRONIC_LAMBDA


def test_day_log_totals_and_load() -> None:
    log = DayLog(d(0), (400.0, 200.0), 300.0, 42.0)
    assert log.backward_meters == 600.0
    assert log.load == 42.0  # the load is the caller's (the sum of the entries' session loads)
    assert DayLog(d(0), ()).backward_meters == 0.0
    assert DayLog(d(0), ()).load == 0.0


@pytest.mark.parametrize(
    "log_args", [((-1.0,), 0.0), ((100.0,), -5.0), ((math.nan,), 0.0), ((100.0,), math.inf)]
)
def test_day_log_refuses_impossible_metres(log_args: tuple[tuple[float, ...], float]) -> None:
    with pytest.raises(ValueError, match=r"^metres must be finite and not negative$"):
        DayLog(d(0), *log_args)


@pytest.mark.parametrize("load", [-1.0, math.nan, math.inf])
def test_day_log_refuses_an_impossible_load(load: float) -> None:
    with pytest.raises(ValueError, match=r"^the load must be finite and not negative$"):
        DayLog(d(0), (100.0,), 0.0, load)


# --- acwr -----------------------------------------------------------------------------------------


def test_no_ratio_before_28_days() -> None:
    assert acwr([], d(40)) is None
    logs = steady_load(100.0, 40)
    assert acwr(logs, d(26)) is None  # days 0..26: 27 days
    assert acwr(logs, d(27)) == pytest.approx(1.0)  # days 0..27: 28 days covered
    # Coverage counts from the first logged day, even with quiet days in between.
    sparse = [loaded(0, 50.0), loaded(27, 50.0)]
    assert acwr(sparse, d(26)) is None
    assert acwr(sparse, d(27)) is not None


def test_a_steady_routine_has_a_ratio_of_one() -> None:
    # Seeded with the first day's load, a constant load keeps both averages at that load.
    assert acwr(steady_load(100.0, 60), d(59)) == pytest.approx(1.0)
    assert acwr(steady_load(300.0, 28), d(27)) == pytest.approx(1.0)


def test_the_ratio_reads_the_load_not_the_metres() -> None:
    # The same metres every day, but the last day felt much harder: the ratio sees the load.
    logs = [loaded(n, 100.0, 1000.0) for n in range(28)] + [loaded(28, 300.0, 1000.0)]
    assert acwr(logs, d(28)) == pytest.approx(29 / 22)  # the worked example below
    assert acwr([loaded(n, 100.0, 1000.0) for n in range(29)], d(28)) == pytest.approx(1.0)


def test_worked_example_28_days_of_100_then_300() -> None:
    logs = [*steady_load(100.0, 28), loaded(28, 300.0, 3000.0)]
    # Days 0..27: load 100 every day, so both EWMAs stay at 100. Day 28: load 300.
    #   acute   = 0.25 · 300 + 0.75 · 100      = 75 + 75        = 150
    #   chronic = 2/29 · 300 + 27/29 · 100     = 3300/29        ≈ 113.79
    #   ratio   = 150 · 29 / 3300              = 29/22          ≈ 1.318
    assert acwr(logs, d(28)) == pytest.approx(29 / 22)


def test_worked_example_a_ratio_above_the_limit_alone_is_not_a_day_off() -> None:
    # 28 days of load 300, then a day of load 2000 with one 1500 m backward session.
    logs = [*steady_load(300.0, 28), loaded(28, 2000.0, 1500.0)]
    #   acute   = 0.25 · 2000 + 0.75 · 300   = 500 + 225           = 725
    #   chronic = 2/29 · 2000 + 27/29 · 300  = (4000 + 8100) / 29  = 12100/29 ≈ 417.24
    #   ratio   = 725 · 29 / 12100           = 21025/12100          ≈ 1.738
    assert acwr(logs, d(28)) == pytest.approx(21025 / 12100)
    # 1500 m is under 1600 m, and there was no earlier backward session to spike from: the ratio
    # alone (Impellizzeri et al. 2020) does not make a day off.
    assert assess_day(logs, d(28)) is None
    # Volume and spike still do, whatever the ratio.
    volume = assess_day([*steady_load(300.0, 28), loaded(28, 2000.0, 1600.0)], d(28))
    assert volume is not None and volume.rules == (Rule.VOLUME,)
    spike = assess_day([*steady_load(300.0, 27), loaded(27, 300.0, 500.0), loaded(28, 2000.0, 700.0)], d(28))
    assert spike is not None and spike.rules == (Rule.SPIKE,)


def test_worked_example_two_changing_days() -> None:
    # Days 0..26: load 1000. Day 27: 2000. Day 28: 2000.
    logs = [*steady_load(1000.0, 27), loaded(27, 2000.0), loaded(28, 2000.0, 1500.0)]
    # Day 27: acute   = 0.25 · 2000 + 0.75 · 1000        = 1250
    #         chronic = 2/29 · 2000 + 27/29 · 1000       = 31000/29
    #         ratio   = 1250 · 29 / 31000                = 36250/31000 ≈ 1.169
    assert acwr(logs, d(27)) == pytest.approx(36250 / 31000)
    # Day 28: acute   = 0.25 · 2000 + 0.75 · 1250        = 1437.5
    #         chronic = 2/29 · 2000 + 27/29 · 31000/29   = (116000 + 837000)/841 = 953000/841
    #         ratio   = 1437.5 · 841 / 953000            ≈ 1.269
    assert acwr(logs, d(28)) == pytest.approx(1437.5 * 841 / 953000)


def test_worked_example_with_a_day_without_entries() -> None:
    # Days 0..25: load 1000; day 26: nothing (load 0); day 27: 1000; day 28: 3000.
    logs = [*steady_load(1000.0, 26), loaded(27, 1000.0, 750.0), loaded(28, 3000.0)]
    # Day 26: acute = 0.75 · 1000 = 750;                  chronic = 27/29 · 1000 = 27000/29
    # Day 27: acute = 250 + 0.75 · 750 = 812.5;           chronic = 2000/29 + 27/29 · 27000/29 = 787000/841
    assert acwr(logs, d(27)) == pytest.approx(812.5 * 841 / 787000)  # ≈ 0.868
    # Day 28: acute = 750 + 0.75 · 812.5 = 1359.375;      chronic = 6000/29 + 27/29 · 787000/841
    #                                                             = 26295000/24389
    assert acwr(logs, d(28)) == pytest.approx(1359.375 * 24389 / 26295000)  # ≈ 1.261
    # An explicit empty log for day 26 is the same as no log.
    assert acwr([*logs, DayLog(d(26), ())], d(28)) == acwr(logs, d(28))


def test_a_forward_only_day_is_never_heavy() -> None:
    logs = [*steady_load(300.0, 28), DayLog(d(28), (), 8000.0, 2000.0)]
    assert acwr(logs, d(28)) == pytest.approx(21025 / 12100)
    assert assess_day(logs, d(28)) is None
    assert assess_day([DayLog(d(0), (), 40_000.0)], d(0)) is None
    assert assess_day([DayLog(d(0), (), 40_000.0)], d(0), heavy_meters=1.0) is None


def test_no_log_that_day_is_not_heavy() -> None:
    assert assess_day(steady_backward(5000.0, 3), d(5)) is None
    assert assess_day([], d(0)) is None


def test_unsorted_duplicated_and_later_logs() -> None:
    logs = [*(loaded(n, 100.0, 1000.0) for n in range(28)), loaded(28, 300.0, 3000.0)]
    shuffled = list(logs)
    random.Random(7).shuffle(shuffled)
    # Day 28 split over two logs, and logs after day 28 that must be ignored.
    split = [log for log in shuffled if log.day != d(28)]
    split += [loaded(28, 100.0, 1000.0), loaded(28, 200.0, 2000.0)]
    split += [DayLog(d(29), (9000.0,), 0.0, 900.0), DayLog(d(40), (), 20_000.0, 2000.0)]
    heavy = assess_day(split, d(28))
    assert heavy == HeavyDay(
        day=d(28),
        rules=(Rule.VOLUME, Rule.SPIKE),
        backward_meters=3000.0,
        threshold=1600.0,
        longest_session=2000.0,
        previous_longest=1000.0,
    )
    whole = assess_day(logs, d(28))
    assert whole is not None and whole.rules == heavy.rules
    assert acwr(split, d(28)) == pytest.approx(29 / 22)


@given(st.lists(st.integers(0, 3000), min_size=1, max_size=40), st.randoms(use_true_random=False))
def test_order_does_not_matter(meters: list[int], rnd: random.Random) -> None:
    logs = [DayLog(d(n), (float(m),) if m else (), 0.0, m / 10) for n, m in enumerate(meters)]
    last = d(len(meters) - 1)
    shuffled = list(logs)
    rnd.shuffle(shuffled)
    assert assess_day(shuffled, last) == assess_day(logs, last)
    assert acwr(shuffled, last) == acwr(logs, last)
    ratio = acwr(logs, last)
    assert (ratio is None) == (len(meters) < 28 or not any(meters))


# --- volume ---------------------------------------------------------------------------------------


def test_volume_boundary() -> None:
    assert assess_day([DayLog(d(0), (1599.0,))], d(0)) is None
    heavy = assess_day([DayLog(d(0), (1600.0,))], d(0))
    assert heavy is not None
    assert heavy.rules == (Rule.VOLUME,)
    assert (heavy.backward_meters, heavy.threshold, heavy.longest_session) == (1600.0, 1600.0, 1600.0)
    assert heavy.previous_longest is None


def test_volume_adds_up_the_sessions_and_follows_the_team_mark() -> None:
    two = [DayLog(d(0), (800.0, 800.0))]
    heavy = assess_day(two, d(0))
    assert heavy is not None
    assert heavy.rules == (Rule.VOLUME,)
    assert assess_day(two, d(0), heavy_meters=2000.0) is None
    assert assess_day([DayLog(d(0), (1999.0, 1.0))], d(0), heavy_meters=2000.0) is not None


def test_volume_tolerates_float_rounding_at_the_mark() -> None:
    # Effective metres from durations can land a hair below the mark.
    assert assess_day([DayLog(d(0), (1600.0 * (1 - 1e-12),))], d(0)) is not None


@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan, math.inf])
def test_heavy_mark_must_be_positive(bad: float) -> None:
    with pytest.raises(ValueError, match=r"^the heavy-day mark must be a positive number of metres$"):
        assess_day([DayLog(d(0), (100.0,))], d(0), heavy_meters=bad)


# --- spike ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("previous", "today", "spike"),
    [
        (1000.0, 1300.0, False),  # exactly 30 % longer: not a spike
        (1000.0, 1310.0, True),  # 31 %
        (1000.0, 1301.0, True),  # 30.1 %
        (800.0, 1040.0, False),  # exactly 30 % again (800 · 1.3 is not exact in binary)
        (800.0, 1048.0, True),  # 31 %
        (1000.0, 900.0, False),
    ],
)
def test_spike_boundary(previous: float, today: float, spike: bool) -> None:
    logs = [DayLog(d(0), (previous,)), DayLog(d(5), (today,))]
    heavy = assess_day(logs, d(5))
    if spike:
        assert heavy is not None
        assert heavy.rules == (Rule.SPIKE,)
        assert (heavy.longest_session, heavy.previous_longest) == (today, previous)
    else:
        assert heavy is None


def test_spike_looks_back_30_days_only() -> None:
    day = d(40)
    at_edge = assess_day([DayLog(day - timedelta(days=30), (1000.0,)), DayLog(day, (1400.0,))], day)
    assert at_edge is not None
    assert Rule.SPIKE in at_edge.rules
    assert at_edge.previous_longest == 1000.0
    # Day - 31 is outside the window: no earlier session to spike from, so not heavy.
    assert assess_day([DayLog(day - timedelta(days=31), (1000.0,)), DayLog(day, (1400.0,))], day) is None


def test_spike_compares_with_the_longest_earlier_session() -> None:
    logs = [
        DayLog(d(0), (500.0, 1000.0)),
        DayLog(d(10), (800.0,)),
        DayLog(d(20), (1200.0,)),  # 20 % over 1000: not a spike
        DayLog(d(21), (1500.0,)),  # 25 % over 1200: not a spike
    ]
    assert assess_day(logs, d(20)) is None
    assert assess_day(logs, d(21)) is None
    heavy = assess_day([*logs, DayLog(d(22), (400.0, 1560.0))], d(22))  # 1560 = 30 % over 1200
    assert heavy is not None
    assert heavy.rules == (Rule.VOLUME,)  # 1960 m in total, but no spike


def test_sessions_of_the_same_day_are_not_the_previous_longest() -> None:
    heavy = assess_day([DayLog(d(0), (500.0,)), DayLog(d(1), (500.0, 1000.0))], d(1))
    assert heavy is not None
    assert heavy.rules == (Rule.SPIKE,)
    assert heavy.previous_longest == 500.0
    assert assess_day([DayLog(d(0), (500.0, 1000.0))], d(0)) is None  # a first day cannot spike


# --- explain --------------------------------------------------------------------------------------


def test_explain_names_every_rule_fired() -> None:
    heavy = HeavyDay(
        day=d(0),
        rules=(Rule.VOLUME, Rule.SPIKE),
        backward_meters=2400.0,
        threshold=1600.0,
        longest_session=1200.0,
        previous_longest=800.0,
    )
    assert heavy.explain() == (
        "2.4 km of backward running (your team's heavy-day mark is 1.6 km); "
        "a 1.2 km session, 50% longer than your longest in the previous 30 days (800 m)"
    )


def test_explain_for_a_real_assessment() -> None:
    logs = [*steady_backward(1000.0, 28), DayLog(d(28), (3000.0,))]
    heavy = assess_day(logs, d(28))
    assert heavy is not None
    text = heavy.explain()
    assert text == (
        "3 km of backward running (your team's heavy-day mark is 1.6 km); "
        "a 3 km session, 200% longer than your longest in the previous 30 days (1 km)"
    )
    assert "ratio" not in text  # the ratio never is a reason for a day off
    assert not any(ch in text for ch in "*_@<>`")
    assert not text.endswith(".")  # callers add their own full stop


def test_explain_only_the_spike() -> None:
    heavy = assess_day([DayLog(d(0), (400.0,)), DayLog(d(1), (600.0,))], d(1))
    assert heavy is not None
    assert heavy.explain() == (
        "a 600 m session, 50% longer than your longest in the previous 30 days (400 m)"
    )


def test_explain_never_rounds_down_to_the_limit() -> None:
    spike = HeavyDay(d(0), (Rule.SPIKE,), 1304.0, 1600.0, 1304.0, 1000.0)
    assert "30.4% longer" in spike.explain()


# --- edges found by mutation testing ---------------------------------------------------------------


def test_a_ratio_of_exactly_the_limit_is_not_above_it() -> None:
    # 28 days of load 1700, then a day of load 7500:
    #   acute   = 0.25 · 7500 + 0.75 · 1700   = 1875 + 1275        = 3150
    #   chronic = 2/29 · 7500 + 27/29 · 1700  = (15000 + 45900)/29 = 2100
    #   ratio   = 3150 / 2100                 = 1.5, exactly (and exactly so in binary too)
    logs = [*steady_load(1700.0, 28), loaded(28, 7500.0, 750.0)]
    assert acwr(logs, d(28)) == 1.5
    assert not load_picture(logs, d(28)).ratio_caution
    more = [*logs[:-1], loaded(28, 7510.0, 750.0)]
    assert load_picture(more, d(28)).ratio_caution
    assert assess_day(more, d(28)) is None  # a caution, never a day off


def test_no_ratio_when_there_has_been_no_load_at_all() -> None:
    empty_days = [DayLog(d(n), ()) for n in range(30)]
    assert acwr(empty_days, d(29)) is None  # chronic is 0: no ratio, and no division by zero


def test_a_small_chronic_load_still_gives_a_ratio() -> None:
    # One day of load 4/3 and then 27 quiet days: both averages decay from 4/3,
    # the chronic one to 4/3 · (27/29)^27 ≈ 0.195, below 1 but not zero.
    ratio = acwr([loaded(0, 4 / 3, 1.0)], d(27))
    assert ratio == pytest.approx((0.75 / (27 / 29)) ** 27)


def test_a_log_after_the_day_does_not_hide_the_logs_behind_it() -> None:
    logs = [DayLog(d(3), (5000.0,)), DayLog(d(0), (500.0,)), DayLog(d(1), (900.0,))]
    heavy = assess_day(logs, d(1))  # d(3) is ignored, d(0) still counts
    assert heavy is not None
    assert heavy.rules == (Rule.SPIKE,) and heavy.previous_longest == 500.0


def test_the_loads_of_one_day_in_several_logs_add_up() -> None:
    base = steady_load(300.0, 28)
    split = [*base, DayLog(d(28), (1500.0,), 300.0, 300.0), DayLog(d(28), (), 200.0, 200.0)]
    whole = [*base, DayLog(d(28), (1500.0,), 500.0, 500.0)]
    assert acwr(split, d(28)) == pytest.approx(acwr(whole, d(28)))
    assert acwr(split, d(28)) != pytest.approx(acwr([*base, DayLog(d(28), (1500.0,), 0.0, 100.0)], d(28)))
    assert load_picture(split, d(28)) == load_picture(whole, d(28))


def test_even_one_metre_backward_can_reach_a_mark_of_one_metre() -> None:
    heavy = assess_day([DayLog(d(0), (1.0,))], d(0), heavy_meters=1.0)
    assert heavy is not None and heavy.rules == (Rule.VOLUME,)


def test_an_empty_earlier_session_is_not_one_to_spike_from() -> None:
    assert assess_day([DayLog(d(0), (0.0,)), DayLog(d(1), (500.0,))], d(1)) is None
    # ...but a one-metre session is.
    heavy = assess_day([DayLog(d(0), (1.0,)), DayLog(d(1), (2.0,))], d(1))
    assert heavy is not None and heavy.rules == (Rule.SPIKE,) and heavy.previous_longest == 1.0


def test_explain_leaves_out_a_spike_that_did_not_fire() -> None:
    volume_only = HeavyDay(d(0), (Rule.VOLUME,), 1700.0, 1600.0, 1200.0, 1000.0)
    assert volume_only.explain() == ("1.7 km of backward running (your team's heavy-day mark is 1.6 km)")


# --- the screen (many athletes at once) ------------------------------------------------------------

SCREEN_DAY = d(70)
MARKS = (800.0, 1600.0, 2500.0)


def random_history(rnd: random.Random, day: date, mark: float) -> list[DayLog]:
    """One athlete's logs over the 60-day lookback up to ``day``, shaped so that each rule often
    fires alone, sometimes at its very edge, and often none does: a base level with rest days, then
    on the last days one of a steady day, a build-up of backward or forward load, a long session
    near 30 % over the longest, a day near the ``mark``, or no backward running at all."""
    base = rnd.uniform(150.0, 1400.0)
    first = rnd.choice([60, 60, 45, 31, 30, 27, 26, 12, 1])  # days of history before ``day``

    def amount(level: float) -> float:
        return round(level * rnd.uniform(0.7, 1.2), rnd.choice([0, 1, 3]))

    logs = []
    for k in range(first, 0, -1):
        if k != first and rnd.random() < 0.25:
            continue  # a rest day (the first logged day never is)
        sessions = tuple(amount(base) for _ in range(rnd.choice([1, 1, 1, 2])))
        forward = amount(2 * base) if rnd.random() < 0.4 else 0.0
        logs.append(DayLog(day - timedelta(days=k), sessions, forward))
    shape = rnd.choice(["steady", "build", "forward build", "long", "big", "edge", "no backward"])
    earlier = [
        m for log in logs if (day - log.day).days <= SPIKE_LOOKBACK_DAYS for m in log.backward_sessions
    ]
    longest = max(earlier, default=base)
    today = DayLog(day, (amount(base),))
    if shape in ("build", "forward build"):
        factor, days = rnd.uniform(1.2, 3.0), rnd.randint(2, 7)
        recent = {day - timedelta(days=k) for k in range(1, days)}
        logs = [log for log in logs if log.day not in recent]
        for when in sorted(recent):
            if shape == "build":
                logs.append(DayLog(when, (round(base * factor, 1),), 0.0))
            else:
                logs.append(DayLog(when, (round(base, 1),), round(2 * base * factor, 1)))
        today = logs[-1] if shape == "build" else DayLog(day, (round(base, 1),), round(2 * base * factor, 1))
        today = DayLog(day, today.backward_sessions, today.forward_meters)
    elif shape == "long":
        today = DayLog(day, (round(longest * rnd.uniform(1.2, 1.45), 1),))
    elif shape == "big":
        today = DayLog(day, (round(mark * rnd.uniform(0.5, 0.6), 1), round(mark * rnd.uniform(0.4, 0.5), 1)))
    elif shape == "edge":
        # Exactly at a limit, or a float hair off it.
        hair = rnd.choice([1 - 1e-12, 1.0, 1 + 1e-12])
        if rnd.random() < 0.5:
            today = DayLog(day, (mark * hair,))
        else:
            today = DayLog(day, (longest * SPIKE_FACTOR * hair,))
    elif shape == "no backward":
        today = DayLog(day, (), amount(4 * base))
    return [*logs, today]


def test_screen_of_a_history() -> None:
    day = SCREEN_DAY
    logs = [
        DayLog(day - timedelta(days=31), (5000.0,)),  # before the spike window
        DayLog(day - timedelta(days=30), (700.0, 800.0), 100.0),
        DayLog(day - timedelta(days=2), (), 300.0),
        DayLog(day, (400.0, 500.0), 1000.0),
        DayLog(day + timedelta(days=1), (8000.0,)),  # after the day: ignored
    ]
    assert screen_of(logs, day) == LoadScreen(900.0, 500.0, 800.0)
    assert screen_of(logs[2:], day) == LoadScreen(900.0, 500.0, None)  # no backward in the window
    nothing = screen_of([DayLog(day, (), 5000.0)], day)
    assert (nothing.backward_meters, nothing.longest_session, nothing.previous_longest) == (0.0, None, None)
    assert not may_be_heavy(nothing, 1.0)


def test_the_screen_lets_through_every_heavy_day_and_rules_out_most_others() -> None:
    """The screen's promise, over thousands of histories that fire each rule alone and at its edge."""
    rnd = random.Random(2026)
    fired: Counter[tuple[Rule, ...]] = Counter()
    not_heavy = let_through = 0
    for _ in range(4000):
        mark = rnd.choice(MARKS)
        logs = random_history(rnd, SCREEN_DAY, mark)
        heavy = assess_day(logs, SCREEN_DAY, mark)
        screened = may_be_heavy(screen_of(logs, SCREEN_DAY), mark)
        if heavy is not None:
            assert screened, (heavy, logs)
            fired[heavy.rules] += 1
        elif any(log.day == SCREEN_DAY and log.backward_sessions for log in logs):
            not_heavy += 1
            let_through += screened
    # Each rule fired alone often enough for a broken screen to show.
    assert min(fired[(Rule.VOLUME,)], fired[(Rule.SPIKE,)]) >= 50, fired
    # And the screen screens: it lets through few of the days that are not heavy.
    assert let_through <= 0.25 * not_heavy, (let_through, not_heavy)


@given(st.randoms(use_true_random=False), st.sampled_from(MARKS))
def test_a_heavy_day_is_never_screened_out(rnd: random.Random, mark: float) -> None:
    logs = random_history(rnd, SCREEN_DAY, mark)
    if assess_day(logs, SCREEN_DAY, mark) is not None:
        assert may_be_heavy(screen_of(logs, SCREEN_DAY), mark)


def test_the_screen_lets_through_days_at_every_limit() -> None:
    day = SCREEN_DAY
    # Volume: the mark a float hair below (assess_day counts it), and the margin below that.
    for meters in (1600.0, 1600.0 * (1 - 1e-12), 1600.0 * (1 - SCREEN_MARGIN / 2)):
        assert may_be_heavy(screen_of([DayLog(day, (meters,))], day), 1600.0)
    assert not may_be_heavy(screen_of([DayLog(day, (1600.0 * (1 - 2 * SCREEN_MARGIN),))], day), 1600.0)
    # Spike: exactly 30 % longer is not a spike, but the screen lets it through for assess_day.
    previous = [DayLog(day - timedelta(days=3), (1000.0,))]
    for longest in (1300.0, 1300.0 * (1 + 1e-12), 1300.0 * (1 - SCREEN_MARGIN / 2)):
        assert may_be_heavy(screen_of([*previous, DayLog(day, (longest,))], day))
    assert not may_be_heavy(screen_of([*previous, DayLog(day, (1300.0 * (1 - 2 * SCREEN_MARGIN),))], day))
    # The ratio decides nothing: a day far above 1.5 on load alone is screened out.
    steady = [DayLog(day - timedelta(days=k), (), 1700.0, 170.0) for k in range(28, 0, -1)]
    surge = [*steady, DayLog(day, (750.0,), 0.0, 2000.0)]
    assert load_picture(surge, day).ratio_caution
    assert not may_be_heavy(screen_of(surge, day))


def test_the_screen_rules_out_steady_training_and_new_athletes() -> None:
    day = SCREEN_DAY
    for meters in (200.0, 1000.0, 1500.0):
        steady = [DayLog(day - timedelta(days=k), (meters,), meters) for k in range(60, -1, -1)]
        assert assess_day(steady, day) is None
        assert not may_be_heavy(screen_of(steady, day))
    # A climbing load by less than 30 % a session is no reason to look closer.
    new = [DayLog(day - timedelta(days=k), (500.0 + 50 * (10 - k),)) for k in range(10, -1, -1)]
    assert not may_be_heavy(screen_of(new, day))
