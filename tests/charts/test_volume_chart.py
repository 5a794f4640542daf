"""The volume chart as a picture: decoded with Pillow, at its size, in its colours, for an empty
period, one day and five years; its axis, ticks and text; and the one shared figure left clean."""

from __future__ import annotations

import io
import threading
import warnings
from datetime import date, timedelta

import pytest
from PIL import Image

from backrun_bot.charts import volume as chart
from backrun_bot.charts.volume import (
    AVERAGE,
    BACKGROUND,
    BACKWARD,
    FORWARD,
    GRID,
    HEIGHT_PX,
    MUTED,
    TEXT,
    WIDTH_PX,
    axis_unit,
    contrast_ratio,
    render_volume_chart,
    ticks,
)
from backrun_bot.domain.amounts import Units
from backrun_bot.domain.volume import DayVolume, VolumeSeries, volume_series

TODAY = date(2026, 3, 11)  # a Wednesday
MONDAY = date(2026, 3, 9)


def rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def decode(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    return image.convert("RGB")


def colours(image: Image.Image) -> dict[tuple[int, int, int], int]:
    counted = image.getcolors(maxcolors=WIDTH_PX * HEIGHT_PX)
    assert counted is not None
    return {(c[0], c[1], c[2]): n for n, c in counted if isinstance(c, tuple)}


def week(days: dict[date, DayVolume]) -> VolumeSeries:
    return volume_series(days, first=MONDAY, last=MONDAY + timedelta(days=6), today=TODAY)


def five_years() -> VolumeSeries:
    first = TODAY - timedelta(days=5 * 365 - 1)
    days = {first + timedelta(days=n): DayVolume(600 + n % 400, 2000 * (n % 3 == 0)) for n in range(5 * 365)}
    return volume_series(days, first=first, last=TODAY, today=TODAY, history_start=first)


def test_one_day_is_a_picture_of_the_right_size_with_both_bars_and_the_line() -> None:
    image = decode(render_volume_chart(week({TODAY: DayVolume(800, 3000)}), title="Alice · this week"))
    assert image.size == (WIDTH_PX, HEIGHT_PX)
    seen = colours(image)
    assert len(seen) > 20  # not one colour: text, bars, grid, antialiasing
    assert image.getpixel((2, 2)) == rgb(BACKGROUND) and max(seen, key=seen.__getitem__) == rgb(BACKGROUND)
    for colour in (BACKWARD, FORWARD, AVERAGE):
        assert seen.get(rgb(colour), 0) > 50, colour
    # The bars are inside the plot, not over the title: the top rows are background and text only.
    top = colours(image.crop((0, 0, WIDTH_PX, 20)))
    assert rgb(BACKWARD) not in top and rgb(FORWARD) not in top


def test_forward_only_where_there_is_forward_running() -> None:
    seen = colours(decode(render_volume_chart(week({TODAY: DayVolume(800, 0)}), title="x")))
    legend_swatch = 400  # the legend shows each colour in a swatch of some 17 x 8 pixels
    assert seen.get(rgb(BACKWARD), 0) > 5 * legend_swatch
    assert seen.get(rgb(FORWARD), 0) < legend_swatch


def test_an_empty_period_still_draws_its_axes_and_says_so() -> None:
    image = decode(render_volume_chart(week({}), title="Nobody · this week"))
    assert image.size == (WIDTH_PX, HEIGHT_PX)
    seen = colours(image)
    assert len(seen) > 20
    legend_swatch = 400
    assert seen.get(rgb(BACKWARD), 0) < legend_swatch
    # "Nothing logged in this period" is written in the middle of the plot.
    middle = colours(image.crop((250, 170, 550, 240)))
    assert len(middle) > 5


def test_five_years_of_daily_entries_is_a_readable_picture() -> None:
    series = five_years()
    assert len(series.bars) == 61
    image = decode(render_volume_chart(series, title="Alice · all time"))
    assert image.size == (WIDTH_PX, HEIGHT_PX)
    seen = colours(image)
    assert seen.get(rgb(BACKWARD), 0) > 20_000 and seen.get(rgb(FORWARD), 0) > 20_000


def test_titles_are_shown_as_written_and_never_fail() -> None:
    for title in ("$x^2$ \\frac{1}{2} $$", "Ålice 🏃‍♀️ 加油", "", "x" * 500, "@everyone <@&1>"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no glyph warnings leak out either
            image = decode(render_volume_chart(week({TODAY: DayVolume(100, 0)}), title=title))
        assert image.size == (WIDTH_PX, HEIGHT_PX)
    assert chart._fit("x" * 500, chart.TITLE_CHARS) == "x" * (chart.TITLE_CHARS - 1) + "…"
    assert chart._fit("  two\nlines ", chart.TITLE_CHARS) == "two lines"


def test_the_shared_figure_keeps_nothing_of_the_chart_before() -> None:
    one = week({TODAY: DayVolume(800, 3000)})
    first = render_volume_chart(one, title="one", units=Units.METRIC)
    render_volume_chart(five_years(), title="another", units=Units.IMPERIAL)
    render_volume_chart(week({}), title="empty")
    assert render_volume_chart(one, title="one", units=Units.METRIC) == first


def test_charts_drawn_from_several_threads_at_once_come_out_whole() -> None:
    series = [week({TODAY: DayVolume(100 * n, 50 * n)}) for n in range(1, 5)]
    alone = [render_volume_chart(s, title=f"t{n}") for n, s in enumerate(series)]
    together: list[bytes] = [b""] * len(series)

    def draw(n: int) -> None:
        together[n] = render_volume_chart(series[n], title=f"t{n}")

    threads = [threading.Thread(target=draw, args=(n,)) for n in range(len(series))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert together == alone


def test_units_are_checked() -> None:
    with pytest.raises(ValueError, match="units"):
        render_volume_chart(week({}), title="x", units="furlongs")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("largest", "units", "unit", "size"),
    [
        (0, Units.METRIC, "m", 1.0),
        (1999, Units.METRIC, "m", 1.0),
        (2000, Units.METRIC, "km", 1000.0),
        (1828, Units.IMPERIAL, "yd", 0.9144),  # 1,999 yd
        (1829, Units.IMPERIAL, "mi", 1609.344),
    ],
)
def test_the_axis_counts_in_short_numbers(largest: float, units: Units, unit: str, size: float) -> None:
    assert axis_unit(largest, units) == (unit, size)


def test_tick_labels_by_bar_length() -> None:
    assert ticks(week({})) == [
        (0, "Mon 9"),
        (1, "Tue 10"),
        (2, "Wed 11"),
        (3, "Thu 12"),
        (4, "Fri 13"),
        (5, "Sat 14"),
        (6, "Sun 15"),
    ]
    month = volume_series({}, first=date(2026, 3, 1), last=date(2026, 3, 31), today=TODAY)
    assert ticks(month) == [(1, "Mar 2"), (8, "Mar 9"), (15, "Mar 16"), (22, "Mar 23"), (29, "Mar 30")]
    year = volume_series({}, first=date(2026, 1, 1), last=date(2026, 12, 31), today=TODAY)
    labels = ticks(year)
    assert labels[:3] == [(0, "Jan 2026"), (5, "Feb"), (9, "Mar")] and len(labels) == 12
    assert [label for _, label in ticks(five_years())] == [
        "Mar 2021",
        "2022",
        "2023",
        "2024",
        "2025",
        "2026",
    ]
    two_years = volume_series({}, first=date(2024, 6, 3), last=date(2026, 3, 11), today=TODAY)
    assert two_years.step.value == "week"
    labels = ticks(two_years)
    assert len(labels) <= chart.MAX_TICKS and labels[0] == (0, "Jun 2024")
    nearly_three = volume_series({}, first=date(2023, 1, 1), last=date(2026, 3, 11), today=TODAY)
    assert nearly_three.step.value == "month"
    assert [label for _, label in ticks(nearly_three)] == ["2023", "2024", "2025", "2026"]


def test_the_colours_are_readable_on_discords_dark_theme() -> None:
    """WCAG 2.1: 4.5:1 for text, 3:1 for the parts of a graphic one must see to understand it."""
    for text in (TEXT, MUTED):
        assert contrast_ratio(text, BACKGROUND) >= 4.5, text
    for mark in (BACKWARD, FORWARD, AVERAGE):
        assert contrast_ratio(mark, BACKGROUND) >= 3, mark
    assert contrast_ratio(GRID, BACKGROUND) < 2  # the grid stays in the background
    assert contrast_ratio("#FFFFFF", "#000000") == pytest.approx(21)
    assert contrast_ratio("#777777", "#777777") == 1
