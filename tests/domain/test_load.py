"""Heavy backward days: volume, single-session spikes and the acute:chronic workload ratio.

The EWMA expectations below are worked out by hand from the recurrence
``EWMA(today) = λ*load(today) + (1 - λ)*EWMA(yesterday)`` with λ_a = 2/8 = 0.25 and λ_c = 2/29, both
seeded with the first day's load, so they do not just repeat the implementation.
"""

from __future__ import annotations

import math
import random
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backrun_bot.domain.load import (
    ACUTE_LAMBDA,
    BACKWARD_COST,
    CHRONIC_LAMBDA,
    DEFAULT_HEAVY_METERS,
    SPIKE_FACTOR,
    SPIKE_LOOKBACK_DAYS,
    DayLog,
    HeavyDay,
    Rule,
    acwr,
    assess_day,
)

START = date(2026, 1, 1)


def d(n: int) -> date:
    """The n-th day from START (day 0)."""
    return START + timedelta(days=n)


def steady_backward(meters: float, days: int) -> list[DayLog]:
    return [DayLog(d(n), (meters,)) for n in range(days)]


def steady_forward(meters: float, days: int) -> list[DayLog]:
    return [DayLog(d(n), (), meters) for n in range(days)]


# --- constants and DayLog -------------------------------------------------------------------------


def test_constants() -> None:
    assert pytest.approx(1.3333333) == BACKWARD_COST
    assert DEFAULT_HEAVY_METERS == 1600.0
    assert SPIKE_FACTOR == 1.30
    assert SPIKE_LOOKBACK_DAYS == 30
    assert ACUTE_LAMBDA == 0.25
    assert pytest.approx(0.0689655) == CHRONIC_LAMBDA


def test_day_log_totals_and_load() -> None:
    log = DayLog(d(0), (400.0, 200.0), 300.0)
    assert log.backward_meters == 600.0
    assert log.load == pytest.approx(600 * 4 / 3 + 300)  # 1100
    assert DayLog(d(0), ()).backward_meters == 0.0
    assert DayLog(d(0), ()).load == 0.0


@pytest.mark.parametrize(
    "log_args", [((-1.0,), 0.0), ((100.0,), -5.0), ((math.nan,), 0.0), ((100.0,), math.inf)]
)
def test_day_log_refuses_impossible_metres(log_args: tuple[tuple[float, ...], float]) -> None:
    with pytest.raises(ValueError, match=r"^metres must be finite and not negative$"):
        DayLog(d(0), *log_args)


# --- acwr -----------------------------------------------------------------------------------------


def test_no_ratio_before_28_days() -> None:
    assert acwr([], d(40)) is None
    logs = steady_backward(1000.0, 40)
    assert acwr(logs, d(26)) is None  # days 0..26: 27 days
    assert acwr(logs, d(27)) == pytest.approx(1.0)  # days 0..27: 28 days covered
    # Coverage counts from the first logged day, even with quiet days in between.
    sparse = [DayLog(d(0), (500.0,)), DayLog(d(27), (500.0,))]
    assert acwr(sparse, d(26)) is None
    assert acwr(sparse, d(27)) is not None


def test_a_steady_routine_has_a_ratio_of_one() -> None:
    # Seeded with the first day's load, a constant load keeps both averages at that load.
    assert acwr(steady_backward(1000.0, 60), d(59)) == pytest.approx(1.0)
    assert acwr(steady_forward(3000.0, 28), d(27)) == pytest.approx(1.0)


def test_worked_example_28_days_of_1000_m_then_3000_m() -> None:
    logs = [*steady_backward(1000.0, 28), DayLog(d(28), (3000.0,))]
    # Days 0..27: load 1000 · 4/3 = 4000/3 every day, so both EWMAs stay at 4000/3.
    # Day 28: load 3000 · 4/3 = 4000.
    #   acute   = 0.25 · 4000 + 0.75 · 4000/3      = 1000 + 1000          = 2000
    #   chronic = 2/29 · 4000 + 27/29 · 4000/3     = 8000/29 + 36000/29   = 44000/29 ≈ 1517.24
    #   ratio   = 2000 / (44000/29) = 58000/44000  = 29/22                ≈ 1.318
    assert acwr(logs, d(28)) == pytest.approx(29 / 22)
    heavy = assess_day(logs, d(28))
    assert heavy is not None
    # 3 km is over the mark and 200 % above 1 km, but 1.318 is not above 1.5.
    assert heavy.rules == (Rule.VOLUME, Rule.SPIKE)
    assert heavy.ratio == pytest.approx(29 / 22)


def test_worked_example_ratio_alone() -> None:
    # 28 days of 300 m forward (load 300), then one 1500 m backward session (load 2000).
    logs = [*steady_forward(300.0, 28), DayLog(d(28), (1500.0,))]
    #   acute   = 0.25 · 2000 + 0.75 · 300   = 500 + 225           = 725
    #   chronic = 2/29 · 2000 + 27/29 · 300  = (4000 + 8100) / 29  = 12100/29 ≈ 417.24
    #   ratio   = 725 · 29 / 12100           = 21025/12100          ≈ 1.738
    assert acwr(logs, d(28)) == pytest.approx(21025 / 12100)
    heavy = assess_day(logs, d(28))
    assert heavy is not None
    # 1500 m is under 1600 m, and there was no earlier backward session to spike from.
    assert heavy.rules == (Rule.RATIO,)
    assert heavy.previous_longest is None
    assert heavy.explain() == "acute:chronic load ratio 1.7 (above 1.5)"


def test_worked_example_two_changing_days() -> None:
    # Days 0..26: 1000 m forward. Day 27: 2000 m forward. Day 28: 1500 m backward (load 2000).
    logs = [*steady_forward(1000.0, 27), DayLog(d(27), (), 2000.0), DayLog(d(28), (1500.0,))]
    # Day 27: acute   = 0.25 · 2000 + 0.75 · 1000        = 1250
    #         chronic = 2/29 · 2000 + 27/29 · 1000       = 31000/29
    #         ratio   = 1250 · 29 / 31000                = 36250/31000 ≈ 1.169
    assert acwr(logs, d(27)) == pytest.approx(36250 / 31000)
    # Day 28: acute   = 0.25 · 2000 + 0.75 · 1250        = 1437.5
    #         chronic = 2/29 · 2000 + 27/29 · 31000/29   = (116000 + 837000)/841 = 953000/841
    #         ratio   = 1437.5 · 841 / 953000            ≈ 1.269
    assert acwr(logs, d(28)) == pytest.approx(1437.5 * 841 / 953000)


def test_worked_example_with_a_day_without_entries() -> None:
    # Days 0..25: 1000 m forward; day 26: nothing (load 0); day 27: 750 m backward (load 1000);
    # day 28: 3000 m forward.
    logs = [*steady_forward(1000.0, 26), DayLog(d(27), (750.0,)), DayLog(d(28), (), 3000.0)]
    # Day 26: acute = 0.75 · 1000 = 750;                  chronic = 27/29 · 1000 = 27000/29
    # Day 27: acute = 250 + 0.75 · 750 = 812.5;           chronic = 2000/29 + 27/29 · 27000/29 = 787000/841
    assert acwr(logs, d(27)) == pytest.approx(812.5 * 841 / 787000)  # ≈ 0.868
    # Day 28: acute = 750 + 0.75 · 812.5 = 1359.375;      chronic = 6000/29 + 27/29 · 787000/841
    #                                                             = 26295000/24389
    assert acwr(logs, d(28)) == pytest.approx(1359.375 * 24389 / 26295000)  # ≈ 1.261
    # An explicit empty log for day 26 is the same as no log.
    assert acwr([*logs, DayLog(d(26), ())], d(28)) == acwr(logs, d(28))


def test_a_forward_only_day_is_never_heavy() -> None:
    # The same jump as the ratio-alone example, but forward: ratio ≈ 1.738 and still not heavy.
    logs = [*steady_forward(300.0, 28), DayLog(d(28), (), 2000.0)]
    assert acwr(logs, d(28)) == pytest.approx(21025 / 12100)
    assert assess_day(logs, d(28)) is None
    assert assess_day([DayLog(d(0), (), 40_000.0)], d(0)) is None
    assert assess_day([DayLog(d(0), (), 40_000.0)], d(0), heavy_meters=1.0) is None


def test_no_log_that_day_is_not_heavy() -> None:
    assert assess_day(steady_backward(5000.0, 3), d(5)) is None
    assert assess_day([], d(0)) is None


def test_unsorted_duplicated_and_later_logs() -> None:
    logs = [*steady_backward(1000.0, 28), DayLog(d(28), (3000.0,))]
    expected = assess_day(logs, d(28))
    shuffled = list(logs)
    random.Random(7).shuffle(shuffled)
    # Day 28 split over two logs, and logs after day 28 that must be ignored.
    split = [log for log in shuffled if log.day != d(28)]
    split += [DayLog(d(28), (1000.0,)), DayLog(d(28), (2000.0,))]
    split += [DayLog(d(29), (9000.0,)), DayLog(d(40), (), 20_000.0)]
    heavy = assess_day(split, d(28))
    assert heavy == HeavyDay(
        day=d(28),
        rules=(Rule.VOLUME, Rule.SPIKE),
        backward_meters=3000.0,
        threshold=1600.0,
        longest_session=2000.0,
        previous_longest=1000.0,
        ratio=expected.ratio if expected else None,
    )
    assert acwr(split, d(28)) == pytest.approx(29 / 22)


@given(st.lists(st.integers(0, 3000), min_size=1, max_size=40), st.randoms(use_true_random=False))
def test_order_does_not_matter(meters: list[int], rnd: random.Random) -> None:
    logs = [DayLog(d(n), (float(m),) if m else ()) for n, m in enumerate(meters)]
    last = d(len(meters) - 1)
    shuffled = list(logs)
    rnd.shuffle(shuffled)
    assert assess_day(shuffled, last) == assess_day(logs, last)
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
    assert heavy.ratio is None  # a single day is far from 28


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
    # Day - 31 is outside the window: no earlier session to spike from. (The month of rest in between
    # makes the ratio fire, which is why the day is still heavy.)
    too_old = assess_day([DayLog(day - timedelta(days=31), (1000.0,)), DayLog(day, (1400.0,))], day)
    assert too_old is not None
    assert too_old.rules == (Rule.RATIO,)
    assert too_old.previous_longest is None


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
        rules=(Rule.VOLUME, Rule.SPIKE, Rule.RATIO),
        backward_meters=2400.0,
        threshold=1600.0,
        longest_session=1200.0,
        previous_longest=800.0,
        ratio=1.7,
    )
    assert heavy.explain() == (
        "2.4 km of backward running (your team's heavy-day mark is 1.6 km); "
        "a 1.2 km session, 50% longer than your longest in the previous 30 days (800 m); "
        "acute:chronic load ratio 1.7 (above 1.5)"
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
    assert "ratio" not in text  # the ratio was computed but did not fire
    assert not any(ch in text for ch in "*_@<>`")
    assert not text.endswith(".")  # callers add their own full stop


def test_explain_only_the_spike() -> None:
    heavy = assess_day([DayLog(d(0), (400.0,)), DayLog(d(1), (600.0,))], d(1))
    assert heavy is not None
    assert heavy.explain() == (
        "a 600 m session, 50% longer than your longest in the previous 30 days (400 m)"
    )


def test_explain_never_rounds_down_to_the_limit() -> None:
    spike = HeavyDay(d(0), (Rule.SPIKE,), 1304.0, 1600.0, 1304.0, 1000.0, None)
    assert "30.4% longer" in spike.explain()
    ratio = HeavyDay(d(0), (Rule.RATIO,), 500.0, 1600.0, 500.0, None, 1.5004)
    assert ratio.explain() == "acute:chronic load ratio 1.5004 (above 1.5)"
    assert "1.51 (above" in HeavyDay(d(0), (Rule.RATIO,), 500.0, 1600.0, 500.0, None, 1.512).explain()


# --- edges found by mutation testing ---------------------------------------------------------------


def test_a_ratio_of_exactly_the_limit_is_not_above_it() -> None:
    # 28 days of 1700 m forward (load 1700), then 750 m backward + 6500 m forward (load 7500):
    #   acute   = 0.25 · 7500 + 0.75 · 1700   = 1875 + 1275        = 3150
    #   chronic = 2/29 · 7500 + 27/29 · 1700  = (15000 + 45900)/29 = 2100
    #   ratio   = 3150 / 2100                 = 1.5, exactly (and exactly so in binary too)
    logs = [*steady_forward(1700.0, 28), DayLog(d(28), (750.0,), 6500.0)]
    assert acwr(logs, d(28)) == 1.5
    assert assess_day(logs, d(28)) is None
    more = [*logs[:-1], DayLog(d(28), (750.0,), 6510.0)]
    heavy = assess_day(more, d(28))
    assert heavy is not None and heavy.rules == (Rule.RATIO,)


def test_no_ratio_when_there_has_been_no_load_at_all() -> None:
    empty_days = [DayLog(d(n), ()) for n in range(30)]
    assert acwr(empty_days, d(29)) is None  # chronic is 0: no ratio, and no division by zero


def test_a_small_chronic_load_still_gives_a_ratio() -> None:
    # One 1 m backward session (load 4/3) and then 27 quiet days: both averages decay from 4/3,
    # the chronic one to 4/3 · (27/29)^27 ≈ 0.195, below 1 but not zero.
    ratio = acwr([DayLog(d(0), (1.0,))], d(27))
    assert ratio == pytest.approx((0.75 / (27 / 29)) ** 27)


def test_a_log_after_the_day_does_not_hide_the_logs_behind_it() -> None:
    logs = [DayLog(d(3), (5000.0,)), DayLog(d(0), (500.0,)), DayLog(d(1), (900.0,))]
    heavy = assess_day(logs, d(1))  # d(3) is ignored, d(0) still counts
    assert heavy is not None
    assert heavy.rules == (Rule.SPIKE,) and heavy.previous_longest == 500.0


def test_forward_metres_of_one_day_in_several_logs_add_up() -> None:
    base = steady_forward(300.0, 28)
    split = [*base, DayLog(d(28), (1500.0,), 300.0), DayLog(d(28), (), 200.0)]
    whole = [*base, DayLog(d(28), (1500.0,), 500.0)]
    assert acwr(split, d(28)) == pytest.approx(acwr(whole, d(28)))
    assert acwr(split, d(28)) != pytest.approx(acwr([*base, DayLog(d(28), (1500.0,), 100.0)], d(28)))


def test_even_one_metre_backward_can_reach_a_mark_of_one_metre() -> None:
    heavy = assess_day([DayLog(d(0), (1.0,))], d(0), heavy_meters=1.0)
    assert heavy is not None and heavy.rules == (Rule.VOLUME,)


def test_an_empty_earlier_session_is_not_one_to_spike_from() -> None:
    assert assess_day([DayLog(d(0), (0.0,)), DayLog(d(1), (500.0,))], d(1)) is None
    # ...but a one-metre session is.
    heavy = assess_day([DayLog(d(0), (1.0,)), DayLog(d(1), (2.0,))], d(1))
    assert heavy is not None and heavy.rules == (Rule.SPIKE,) and heavy.previous_longest == 1.0


def test_explain_leaves_out_a_spike_that_did_not_fire() -> None:
    volume_only = HeavyDay(d(0), (Rule.VOLUME,), 1700.0, 1600.0, 1200.0, 1000.0, 1.2)
    assert volume_only.explain() == ("1.7 km of backward running (your team's heavy-day mark is 1.6 km)")


def test_explain_shows_at_most_three_more_decimals() -> None:
    ratio = HeavyDay(d(0), (Rule.RATIO,), 500.0, 1600.0, 500.0, None, 1.50000001)
    assert ratio.explain() == "acute:chronic load ratio 1.5000 (above 1.5)"
