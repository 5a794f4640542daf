"""The coach's overview as text (domain/overview.py): each athlete's line, the quiet rule, the two
lists in their budget, pages."""

from __future__ import annotations

from datetime import date, timedelta

from backrun_bot.domain.amounts import Units
from backrun_bot.domain.load import HeavyDay, Rule
from backrun_bot.domain.overview import (
    CHECKIN_DAYS,
    LIST_CHARS,
    MAX_LINE,
    PAGE_ROWS,
    QUIET_DAYS,
    AthleteWeek,
    LatestCheckin,
    athlete_line,
    checkin_part,
    listed,
    overview_page,
    page_count,
)
from backrun_bot.domain.wellness import Area

TODAY = date(2026, 3, 8)
MONDAY = date(2026, 3, 2)
HEAVY = HeavyDay(TODAY - timedelta(days=1), (Rule.SPIKE,), 900.0, 1600.0, 900.0, 500.0)


def athlete(
    name: str = "Alice",
    week: float = 1200.0,
    backward: int | None = 1,
    entry: int | None = 0,
    heavy: HeavyDay | None = None,
    user_id: int = 1,
    checkin: LatestCheckin | None = None,
) -> AthleteWeek:
    def ago(days: int | None) -> date | None:
        return None if days is None else TODAY - timedelta(days=days)

    return AthleteWeek(user_id, name, week, ago(backward), ago(entry), heavy, checkin)


def test_a_line_says_the_week_the_last_backward_day_and_the_flags() -> None:
    assert athlete_line(athlete(), TODAY) == "**Alice** · 1.2 km this week · last backward yesterday"
    assert athlete_line(athlete(backward=0), TODAY).endswith("last backward today")
    assert athlete_line(athlete(backward=5, entry=2), TODAY).endswith("last backward 5 days ago")
    heavy = athlete_line(athlete(heavy=HEAVY), TODAY)
    assert heavy.endswith(" · ⚠️ heavy yesterday: spike")
    never = athlete_line(athlete(week=0.0, backward=None, entry=None), TODAY)
    assert never == "**Alice** · 0 m this week · no backward yet · 💤 nothing logged yet"
    assert athlete_line(athlete(), TODAY, Units.IMPERIAL) == (
        "**Alice** · 1312 yd this week · last backward yesterday"
    )


def test_quiet_is_nothing_today_nor_the_six_days_before() -> None:
    six = athlete(backward=6, entry=QUIET_DAYS - 1)
    seven = athlete(backward=7, entry=QUIET_DAYS)
    assert not six.is_quiet(TODAY) and "💤" not in athlete_line(six, TODAY)
    assert seven.is_quiet(TODAY)
    assert athlete_line(seven, TODAY).endswith(" · 💤 nothing logged for 7 days")
    assert athlete(entry=None).is_quiet(TODAY)
    assert athlete(entry=None).quiet_for(TODAY) is None
    # A forward entry counts as logging: quiet is about any entry, last backward about backward.
    forward_only = athlete(backward=20, entry=0)
    assert not forward_only.is_quiet(TODAY)


def test_a_name_is_literal_and_short() -> None:
    line = athlete_line(athlete(name="**x** @everyone " + "y" * 200), TODAY)
    assert line.startswith("**\\*\\*x\\*\\* @everyone yyy")
    assert "…** · " in line
    assert len(line) <= MAX_LINE


def test_the_longest_line_fits_its_limit() -> None:
    worst = athlete(name="\\" * 100, week=123_456_789.0, backward=99_999, entry=1, heavy=HEAVY, user_id=9)
    assert len(athlete_line(worst, TODAY, Units.IMPERIAL)) <= MAX_LINE
    quiet = athlete(name="\\" * 100, week=0.0, backward=99_999, entry=99_999)
    assert len(athlete_line(quiet, TODAY)) <= MAX_LINE


def test_a_list_names_as_many_as_fit_and_counts_the_rest() -> None:
    assert listed([]).text == "nobody"
    assert listed(["A", "B", "C"]).text == "A, B, C"
    names = [f"name{i:02d}" for i in range(10)]
    cut = listed(names, budget=30)
    assert cut.count == 10
    assert cut.text == "name00, name01 and 8 more"
    assert len(cut.text) <= 30
    # One more name fits when the last one ends the list (no "and 1 more" after it).
    assert listed(["abcdef", "ab"], budget=10).text == "abcdef, ab"
    big = listed([f"athlete number {i}" for i in range(300)])
    assert len(big.text) <= LIST_CHARS and big.text.endswith("more")
    assert listed(["x" * 50], budget=10).text == "1 athlete"
    assert listed(["x" * 50, "y"], budget=10).text == "2 athletes"


def test_pages_are_by_name_and_clamped() -> None:
    squad = [athlete(name=f"n{i:03d}", user_id=i) for i in range(45, 0, -1)]
    assert page_count(45) == 3 and page_count(0) == 1 and page_count(PAGE_ROWS) == 1
    first = overview_page(squad, TODAY, MONDAY)
    assert first.number == 0 and first.pages == 3
    assert first.lines[0].startswith("**n001**")
    assert len(first.lines) == PAGE_ROWS
    last = overview_page(squad, TODAY, MONDAY, page=7)  # the team shrank since the button was drawn
    assert last.number == 2 and len(last.lines) == 5
    assert last.lines[-1].startswith("**n045**")
    assert last.footer == "Page 3 of 3 · today is Sun 8 Mar in UTC"
    assert overview_page(squad, TODAY, MONDAY, page=-3).number == 0


def test_the_summary_and_the_lists_are_of_the_whole_team_on_every_page() -> None:
    squad = [athlete(name=f"n{i:02d}", user_id=i, week=100.0) for i in range(30)]
    squad.append(athlete(name="zed", user_id=99, heavy=HEAVY, week=900.0))
    squad.append(athlete(name="yan", user_id=98, entry=None, backward=None, week=0.0))
    page = overview_page(squad, TODAY, MONDAY, page=0, timezone="Europe/Oslo")
    assert page.title == "Team overview — week of Mon 2 Mar"
    assert page.summary == "**32 athletes** · backward this week: **3.9 km**"
    assert (page.heavy.count, page.heavy.text) == (1, "zed (spike)")
    assert (page.quiet.count, page.quiet.text) == (1, "yan")
    assert page.footer.endswith("in Europe/Oslo")
    assert overview_page(squad, TODAY, MONDAY, page=1).heavy == page.heavy


def test_an_empty_team() -> None:
    page = overview_page([], TODAY, MONDAY)
    assert page.lines == ()
    assert page.summary.startswith("Nobody on the team has logged anything yet")
    assert page.pages == 1
    assert overview_page([athlete()], TODAY, MONDAY).summary.startswith("**1 athlete** ·")


# --- check-ins (issue 11) --------------------------------------------------------------------------


def checked(days: int, soreness: int = 2, area: Area = Area.NONE) -> LatestCheckin:
    return LatestCheckin(TODAY - timedelta(days=days), soreness, area)


def test_the_checkin_part_shows_the_latest_and_marks_a_sore_day_off_today() -> None:
    assert checkin_part(None, TODAY) == "no check-in yet"
    assert checkin_part(checked(0, 7, Area.HAMSTRING), TODAY) == "🩹 check-in today: 7/10 hamstring"
    assert checkin_part(checked(0, 9, Area.CALF), TODAY) == "check-in today: 9/10 calf"
    assert checkin_part(checked(1, 7, Area.KNEE), TODAY) == "check-in yesterday: 7/10 knee"  # not today's
    assert checkin_part(checked(4, 0), TODAY) == "check-in 4 days ago: 0/10"


def test_three_days_without_a_checkin_is_the_line_and_never_counts() -> None:
    assert not athlete(checkin=checked(CHECKIN_DAYS - 1)).checkin_missing(TODAY)
    assert athlete(checkin=checked(CHECKIN_DAYS)).checkin_missing(TODAY)
    assert athlete(checkin=None).checkin_missing(TODAY)


def test_the_checkin_list_is_of_the_whole_team_or_says_nobody_uses_them() -> None:
    squad = [
        athlete(name="ann", user_id=1, checkin=checked(0)),
        athlete(name="ben", user_id=2, checkin=checked(3)),
        athlete(name="cat", user_id=3),
        athlete(name="dan", user_id=4, checkin=checked(2, 6, Area.KNEE)),
    ]
    page = overview_page(squad, TODAY, MONDAY)
    assert (page.unchecked.count, page.unchecked.text) == (2, "ben, cat")
    assert page.lines[2].endswith(" · no check-in yet")
    assert page.lines[3].endswith(" · check-in 2 days ago: 6/10 knee")
    nobody = overview_page([athlete(name="ann"), athlete(name="ben", user_id=2)], TODAY, MONDAY)
    assert nobody.unchecked.text == "nobody on the team uses `/checkin` yet"
    assert nobody.lines[0] == "**ann** · 1.2 km this week · last backward yesterday"


def test_the_longest_line_with_a_checkin_fits_its_limit() -> None:
    every_rule = HeavyDay(TODAY, (Rule.VOLUME, Rule.SPIKE), 1.0, 1.0, 1.0, 1.0)
    worst = athlete(
        name="\\" * 100,
        week=123_456_789.0,
        backward=99_999,
        entry=1,
        heavy=every_rule,
        checkin=checked(99_999, 10, Area.LOWER_BACK),
    )
    assert len(athlete_line(worst, TODAY, Units.IMPERIAL, checkins=True)) <= MAX_LINE
    quiet = athlete(
        name="\\" * 100, week=0.0, backward=99_999, entry=99_999, checkin=checked(99_999, 10, Area.LOWER_BACK)
    )
    assert len(athlete_line(quiet, TODAY, checkins=True)) <= MAX_LINE
