"""The weekly summary's rules: which week, places with ties, and a text that shows names literally."""

from __future__ import annotations

from datetime import date, timedelta

from backrun_bot.domain.weekly import MAX_NAMED, Placed, WeeklySummary, WeekTotals, last_week, placed


def test_last_week_is_monday_to_sunday_before_the_week_of_the_day() -> None:
    monday = date(2026, 3, 9)
    for day in (monday + timedelta(days=n) for n in range(7)):
        assert last_week(day) == (date(2026, 3, 2), date(2026, 3, 8))
    assert last_week(date(2026, 1, 5)) == (date(2025, 12, 29), date(2026, 1, 4))  # across a year


def test_ties_share_a_place_and_the_next_place_is_skipped() -> None:
    rows = [("d", 1.0), ("a", 3.0), ("c", 2.0), ("b", 3.0), ("e", 0.5)]
    assert placed(rows, lambda r: r[1], lambda r: r[0]) == [
        Placed(1, "a", 3.0),
        Placed(1, "b", 3.0),
        Placed(3, "c", 2.0),
    ]
    # Everyone tied on the third place is in; a fourth place is not.
    rows = [("a", 5.0), ("b", 4.0), ("c", 3.0), ("d", 3.0), ("e", 3.0), ("f", 1.0)]
    assert [p.place for p in placed(rows, lambda r: r[1], lambda r: r[0])] == [1, 2, 3, 3, 3]
    assert placed([], lambda r: 0.0, lambda r: "") == []


def summary(names: list[str]) -> WeeklySummary:
    top = [Placed(1, name, 1000.0) for name in names]
    return WeeklySummary(date(2026, 3, 2), date(2026, 3, 8), WeekTotals(1000.0, 0.0, len(names)), top, [])


def test_names_are_shown_literally_and_never_as_mentions_or_markdown() -> None:
    text = summary(["@everyone", "**Bob**", "<@&123>", "# big"]).text()
    assert "1. \\*\\*Bob\\*\\* — 1 km" in text
    assert "1. \\# big — 1 km" in text
    assert "**Bob**" not in text
    # The summary is sent with no pings allowed; the text itself keeps what Discord would not ping.
    assert "No streak of 2 days or more right now." in text


def test_a_squad_tied_on_one_place_is_counted_not_listed_and_fits_a_message() -> None:
    text = summary([f"athlete {'x' * 60} {n}" for n in range(200)]).text()
    assert text.count("\n1. ") == MAX_NAMED
    assert f"… and {200 - MAX_NAMED} more" in text
    assert len(text) < 2000
    assert WeeklySummary(date(2026, 3, 2), date(2026, 3, 8), WeekTotals(), [], []).empty
