"""The backward ladder as tables of weeks: the start rule, moving up after two weeks that count, down
for a soreness day off, the ends of the ladder, the mark, the dose table and the /plan texts."""

from __future__ import annotations

import itertools
import random
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backrun_bot.domain.kinds import Kind
from backrun_bot.domain.ladder import (
    DOSES,
    KIND_LEVEL,
    Ladder,
    LadderMark,
    Level,
    WeekFacts,
    dose_line,
    dose_metres,
    dose_text,
    ladder,
    ladder_title,
    to_move_up,
)

MONDAY = date(2026, 3, 2)  # week 0; the weeks below are counted from it
SUNDAY_BEFORE = MONDAY - timedelta(days=1)


def monday(n: int) -> date:
    return MONDAY + timedelta(weeks=n)


def week(
    n: int,
    days: int = 0,
    *,
    off: int = 0,
    sore_off: int = 0,
    soreness: int | None = None,
    tops: tuple[int, ...] | None = None,
) -> WeekFacts:
    """Week ``n``: ``days`` backward days (all walks unless ``tops`` says the hardest kind of each
    day: days at level 1 … 5), ``off`` suggested days off of which ``sore_off`` for soreness."""
    levels = tops if tops is not None else (days, 0, 0, 0, 0)
    return WeekFacts(monday(n), sum(levels), off + sore_off, soreness, sore_off, levels)


def counting(n: int) -> WeekFacts:
    return week(n, 3)


def at(level: Level, streak: int = 0) -> LadderMark:
    """Placed long ago: at ``level`` after the Sunday before week 0."""
    return LadderMark(SUNDAY_BEFORE, level, streak)


def state_on(weeks: list[WeekFacts], today: date, mark: LadderMark | None = None) -> tuple[int, int]:
    got = ladder(weeks, today, mark)
    return got.level.value, got.streak


# ---- the start rule --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("placement", "start"),
    [
        ([], 1),  # nothing yet
        ([week(0, 3)], 1),  # three walks
        ([week(0, tops=(0, 0, 0, 0, 3))], 5),  # three sprint days: start at the top
        ([week(0, tops=(0, 0, 0, 1, 2))], 4),  # 1 skip + 2 sprint days: three days at skip or harder
        ([week(0, tops=(0, 0, 2, 0, 0)), week(1, tops=(0, 0, 1, 0, 0))], 3),  # the two weeks together
        ([week(0, tops=(0, 2, 0, 0, 0)), week(1, tops=(5, 0, 0, 0, 0))], 1),  # two jog days are not three
        ([week(0, tops=(0, 0, 0, 0, 3)), week(1, 1, sore_off=1)], 4),  # a soreness day off in them: one less
        ([week(0, tops=(1, 0, 0, 0, 0)), week(2, tops=(0, 0, 0, 0, 3))], 1),  # week 2 is after the placement
        ([week(-3, off=1, soreness=8), week(0, tops=(0, 0, 3, 0, 0))], 3),  # nothing backward before week 0
    ],
)
def test_the_start_level_is_what_the_first_two_weeks_show(placement: list[WeekFacts], start: int) -> None:
    assert ladder(placement, monday(2)).level == start


def test_the_weeks_that_placed_an_athlete_do_not_also_move_them_up() -> None:
    # Three walks in each placement week and in week 2: week 2 is the first that counts.
    assert state_on([week(0, 3), week(1, 3), week(2, 3)], monday(3)) == (1, 1)
    assert state_on([week(0, 3), week(1, 3), week(2, 3), week(3, 3)], monday(4)) == (2, 0)


def test_while_being_placed_the_level_is_the_placement_so_far() -> None:
    first = ladder([week(0, tops=(0, 0, 2, 0, 0))], MONDAY + timedelta(days=3))
    assert (first.level, first.placing_until, first.started) == (
        Level.WALK,
        monday(2) - timedelta(days=1),
        True,
    )
    later = ladder([week(0, tops=(0, 0, 2, 0, 0)), week(1, tops=(0, 0, 1, 0, 0))], monday(1))
    assert later.level is Level.RUN and later.placing_until == date(2026, 3, 15)
    assert "placed until Sun 15 Mar" in to_move_up(later)
    assert ladder([week(0, tops=(0, 0, 3, 0, 0))], monday(2)).placing_until is None


def test_no_backward_work_yet_is_level_one_and_says_how_the_placement_works() -> None:
    state = ladder([week(0, 0, off=1, soreness=3)], MONDAY)
    assert (state.level, state.started) == (Level.WALK, False)
    assert to_move_up(state).startswith("Your first 2 weeks of backward work set your starting level")


# ---- moving up and down ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "weeks", "level", "streak"),
    [
        (3, [counting(0), counting(1)], 4, 0),  # two weeks that count: up one
        (3, [counting(0)], 3, 1),  # one: half way
        (3, [counting(0), counting(1), counting(2), counting(3)], 5, 0),  # four: up two
        (3, [counting(0), week(1, 2), counting(2)], 3, 1),  # two days are not three: starts again
        (3, [counting(0), counting(2)], 3, 1),  # a week without entries breaks the pair
        (3, [counting(0), week(1, 5, off=1)], 3, 0),  # a suggested day off (a heavy day)
        (3, [counting(0), week(1, 3, soreness=6)], 3, 0),  # soreness 6 anywhere, even without a day off
        (3, [counting(0), week(1, 3, soreness=5)], 4, 0),  # soreness 5 is fine
        (3, [week(0, 7), week(1, 7)], 4, 0),  # more days than needed: still one level
        (5, [counting(0), counting(1)], 5, 0),  # level 5 stays 5
        (5, [counting(0), counting(1), counting(2)], 5, 1),
        (3, [week(0, 3, sore_off=1)], 2, 0),  # a soreness day off: down one
        (3, [week(0, 6, sore_off=1, soreness=7)], 2, 0),  # whatever else the week had
        (3, [week(0, 1, sore_off=3)], 2, 0),  # three sore days in one week: one level
        (3, [week(0, 3, sore_off=1), week(1, 1, sore_off=1)], 1, 0),  # two weeks: two levels
        (1, [week(0, 3, sore_off=1)], 1, 0),  # level 1 stays 1
        (1, [week(0, 3, sore_off=1), week(1, 3, sore_off=1)], 1, 0),
        (3, [counting(0), week(1, 3, sore_off=1)], 2, 0),  # half way, then down: the pair starts again
        (3, [week(0, 3, sore_off=1), counting(1), counting(2)], 3, 0),  # down, then back up
        (1, [counting(0), counting(1), week(2, 3, sore_off=1)], 1, 0),  # up to 2, then down to 1
    ],
)
def test_moves(start: int, weeks: list[WeekFacts], level: int, streak: int) -> None:
    # Today is the Monday after the last week: every week given is over.
    today = max(w.monday for w in weeks) + timedelta(weeks=1)
    assert state_on(weeks, today, at(Level(start))) == (level, streak)


def test_a_soreness_day_off_moves_down_the_same_day_and_this_week_never_moves_up() -> None:
    tuesday = monday(1) + timedelta(days=1)
    state = ladder([counting(0), week(1, 3, sore_off=1)], tuesday, at(Level.RUN))
    assert (state.level, state.down_from, state.streak) == (Level.JOG, Level.RUN, 0)
    assert ladder_title(state) == (
        "Backward ladder — level 2 of 5: backward jog (down from 3: a day off for soreness this week)"
    )
    # Level 1 cannot go down: it does not say it did.
    bottom = ladder([week(1, 0, sore_off=1)], tuesday, at(Level.WALK))
    assert (bottom.level, bottom.down_from) == (Level.WALK, None)
    # A week in progress that already counts moves nobody up before it is over.
    sunday = monday(2) - timedelta(days=1)
    assert state_on([counting(0), week(1, 5)], sunday, at(Level.RUN)) == (3, 1)
    assert state_on([counting(0), week(1, 5)], monday(2), at(Level.RUN)) == (4, 0)


def test_a_mark_and_the_weeks_after_it_give_the_whole_history() -> None:
    assert ladder([counting(-1), counting(0)], monday(1), at(Level.RUN, 1)).level is Level.SKIP  # -1 ignored
    assert ladder([counting(0)], monday(1), at(Level.RUN, 1)).level is Level.SKIP  # the mark's half pair


@given(st.integers(0, 2**32 - 1), st.integers(60, 130))
def test_replaying_from_the_mark_it_leaves_is_the_same_as_replaying_everything(seed: int, count: int) -> None:
    """The mark /plan keeps is exact: from it and the weeks after it, the same ladder as from all
    the weeks (the property the store relies on). Weeks drawn from a seeded generator, mostly
    counting ones so that the level climbs as well as falls."""
    rng = random.Random(seed)
    weeks = []
    for n in range(count):
        days = rng.choice([0, 2, 3, 3, 4, 5, 7]) if n else 3  # placed from week 0
        tops = [0] * 5
        tops[rng.randrange(5)] = days
        off, sore = rng.random() < 0.15, rng.random() < 0.1
        soreness = rng.choice([None, None, 2, 5, 6, 9])
        weeks.append(WeekFacts(monday(n), days, int(off) + int(sore), soreness, int(sore), tuple(tops)))
    today = monday(count - 1) + timedelta(days=3)
    whole = ladder(weeks, today)
    mark = whole.new_mark
    assert mark is not None and mark.through.weekday() == 6  # a Sunday
    assert mark.through <= today - timedelta(days=367)  # no entry can reach it any more
    again = ladder([w for w in weeks if w.monday > mark.through], today, mark)
    assert (again.level, again.streak, again.down_from) == (whole.level, whole.streak, whole.down_from)
    # And a mark moves on only by four weeks or more (so /plan writes it about monthly).
    assert ladder(weeks, today + timedelta(weeks=3), mark).new_mark is None
    assert ladder(weeks, today + timedelta(weeks=4), mark).new_mark is not None


# ---- the doses and the texts -----------------------------------------------------------------


def test_the_dose_table_grows_in_small_steps_and_ends_with_the_levels_own_kind() -> None:
    totals = [dose_metres(level) for level in Level]
    assert totals == [400, 440, 480, 520, 560]
    for lower, higher in itertools.pairwise(totals):
        assert 0 < higher - lower <= lower * 0.10
    for level in Level:
        assert DOSES[level][-1].kind is level.kind
        assert all(KIND_LEVEL[p.kind] <= level for p in DOSES[level])  # nothing harder than the level
    assert dose_text(Level.WALK) == "400 m backward walk"
    assert dose_text(Level.RUN) == "200 m backward jog, then 4 × 70 m backward run (480 m in all)"


def test_every_backward_kind_has_a_level_and_backpedal_is_a_run() -> None:
    assert set(KIND_LEVEL) == {k for k in Kind if k.is_backward}
    assert KIND_LEVEL[Kind.BACKPEDAL] is Level.RUN


def state(level: Level, streak: int, this_week: WeekFacts, today: date) -> Ladder:
    return Ladder(today, level, streak, this_week, True, None, None, None)


WEDNESDAY = MONDAY + timedelta(days=2)


SATURDAY = MONDAY + timedelta(days=5)
TWO_MORE = "2 more backward days this week (to Sun 8 Mar), with no day off, then one more such week."
ONE_MORE = "1 more backward day this week (to Sun 8 Mar), with no day off, then you move up on Mon 9 Mar."
COUNTS = "This week counts if it stays free of a day off and of soreness 6+; then you move up on Mon 9 Mar."
NO_LONGER = "This week no longer counts toward moving up ({})."


@pytest.mark.parametrize(
    ("streak", "this_week", "today", "text"),
    [
        (0, week(0, 1), WEDNESDAY, TWO_MORE),
        (1, week(0, 2), WEDNESDAY, ONE_MORE),
        (1, week(0, 3), WEDNESDAY, COUNTS),
        (0, week(0, 1, off=1), WEDNESDAY, NO_LONGER.format("it has a suggested day off")),
        (0, week(0, 3, soreness=7), WEDNESDAY, NO_LONGER.format("you reported soreness of 7")),
        (0, week(0, 0), SATURDAY, NO_LONGER.format("too few days are left for 3 backward days")),
    ],
)
def test_what_is_left_to_move_up(streak: int, this_week: WeekFacts, today: date, text: str) -> None:
    assert text in to_move_up(state(Level.RUN, streak, this_week, today))


def test_saturday_with_one_day_can_still_count_and_the_top_says_so() -> None:
    assert to_move_up(state(Level.RUN, 0, week(0, 1), SATURDAY)).startswith("2 more backward days")
    assert to_move_up(state(Level.SPRINT, 1, week(0, 3), WEDNESDAY)).startswith("Top of the ladder.")


def test_on_a_day_off_the_level_stays_and_the_dose_waits() -> None:
    today = state(Level.SKIP, 0, week(0, 1), WEDNESDAY)
    assert dose_line(today) == "200 m backward run, then 4 × 80 m backward skip (520 m in all)."
    waits = dose_line(today, day_off=True)
    assert "your level stays at 4" in waits and "dose waits" in waits and "skip" not in waits
    # A day off for soreness has just moved the level down: it says so instead.
    sore = Ladder(WEDNESDAY, Level.RUN, 0, week(0, 1, sore_off=1), True, None, Level.SKIP, None)
    assert "your level is 3 now (down from 4) and today's dose waits" in dose_line(sore, day_off=True)


def test_the_texts_fit_discords_embed_limits_in_every_state() -> None:
    """A title holds 256 characters, a field value 1,024 (Discord's embed limits)."""
    for level in Level:
        for this_week in (week(0, 0), week(0, 2, off=1), week(0, 3, soreness=9), week(0, 7)):
            for down in (None, Level.SPRINT):
                s = Ladder(WEDNESDAY, level, 1, this_week, True, None, down, None)
                assert len(ladder_title(s)) <= 256
                assert len(to_move_up(s)) <= 1024
                assert max(len(dose_line(s)), len(dose_line(s, day_off=True))) <= 1024
