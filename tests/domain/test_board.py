"""The leaderboard's ranking rule (domain/board.py): places, ties, the rows a board shows."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backrun_bot.domain.board import TOP, Standing, Total, board, rank


def total(athlete_id: int, meters: float, name: str | None = None) -> Total:
    return Total(athlete_id, 1000 + athlete_id, name or f"a{athlete_id:03d}", meters)


def places(standings: list[Standing] | tuple[Standing, ...]) -> list[tuple[int, int]]:
    return [(s.place, s.total.athlete_id) for s in standings]


def test_ties_share_a_place_and_the_next_place_is_skipped() -> None:
    totals = [total(1, 500), total(2, 800), total(3, 800), total(4, 300), total(5, 900)]
    assert places(rank(totals)) == [(1, 5), (2, 2), (2, 3), (4, 1), (5, 4)]


def test_everyone_tied_is_first() -> None:
    assert [s.place for s in rank([total(i, 400) for i in range(1, 5)])] == [1, 1, 1, 1]


def test_three_way_tie_then_the_fifth() -> None:
    totals = [total(1, 100), total(2, 200), total(3, 200), total(4, 200), total(5, 50)]
    assert places(rank(totals)) == [(1, 2), (1, 3), (1, 4), (4, 1), (5, 5)]


def test_a_tie_is_the_same_whole_metre_not_float_noise() -> None:
    # 0.1 + 0.2 != 0.3: the database sums floats in any order. And pace-derived fractions of a metre.
    totals = [total(1, 0.1 + 0.2 + 999.7), total(2, 1000.0), total(3, 1000.4), total(4, 1000.6)]
    assert places(rank(totals)) == [(1, 4), (2, 1), (2, 2), (2, 3)]


def test_within_a_place_by_name_ignoring_case_then_id() -> None:
    totals = [total(1, 400, "bob"), total(2, 400, "Alice"), total(3, 400, "alice"), total(4, 400, "Carl")]
    assert [s.total.athlete_id for s in rank(totals)] == [2, 3, 1, 4]


def test_nothing_or_nothing_counted_ranks_nobody() -> None:
    assert rank([]) == []
    assert rank([total(1, 0.0), total(2, 0.4), total(3, math.nan)]) == []


def test_board_shows_the_top_ten_and_the_caller_below_them() -> None:
    totals = [total(i, 10_000 - i * 100) for i in range(1, 16)]
    me = totals[12]  # 13th
    shown = board(totals, me.user_id)
    assert [s.place for s in shown.top] == list(range(1, TOP + 1))
    assert shown.caller == Standing(13, me)
    assert shown.tied_beyond == 0
    assert shown.athletes == 15


def test_a_caller_in_the_top_rows_is_not_repeated() -> None:
    totals = [total(i, 10_000 - i * 100) for i in range(1, 16)]
    assert board(totals, totals[3].user_id).caller is None


def test_a_caller_without_distance_has_no_row() -> None:
    totals = [total(i, 500) for i in range(1, 4)]
    shown = board([*totals, total(9, 0.0)], 1009)
    assert shown.caller is None
    assert shown.athletes == 3


def test_a_tie_cut_by_the_top_rows_is_counted_and_the_caller_keeps_the_shared_place() -> None:
    # Nine athletes ahead, then four tied for 10th: the board shows one of them and counts three.
    totals = [total(i, 5000 - i * 10) for i in range(1, 10)] + [total(i, 1000) for i in range(10, 14)]
    last = totals[-1]
    shown = board(totals, last.user_id)
    assert shown.top[-1].place == 10
    assert shown.tied_beyond == 3
    assert shown.caller == Standing(10, last)


def test_the_place_after_a_cut_tie() -> None:
    totals = [total(i, 5000 - i * 10) for i in range(1, 10)] + [total(i, 1000) for i in range(10, 13)]
    totals.append(total(20, 10))
    shown = board(totals, 1020)
    assert shown.caller == Standing(13, totals[-1])
    assert shown.tied_beyond == 2


@given(st.lists(st.integers(0, 50), max_size=40))
def test_a_place_is_one_more_than_those_strictly_ahead(metres: list[int]) -> None:
    standings = rank([total(i, m) for i, m in enumerate(metres, start=1)])
    assert len(standings) == sum(1 for m in metres if m > 0)
    for s in standings:
        ahead = sum(1 for other in standings if other.total.meters > s.total.meters)
        assert s.place == ahead + 1


@pytest.mark.parametrize("top", [1, 3, 10])
def test_the_top_is_never_more_rows_than_asked(top: int) -> None:
    shown = board([total(i, 100 * i) for i in range(1, 20)], 0, top=top)
    assert len(shown.top) == top
