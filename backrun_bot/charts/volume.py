"""The volume chart of ``/stats`` and ``/team report``: backward and forward distance as stacked
bars, one a day, week or month (:mod:`backrun_bot.domain.volume` decides), with the trailing
average of the backward part as a line, on Discord's dark theme.

About 800 × 400 px (:data:`WIDTH_PX`, :data:`HEIGHT_PX`), drawn with matplotlib's object API on the
Agg backend: a :class:`~matplotlib.figure.Figure` of our own, never ``pyplot`` (no global figure
manager, no GUI backend chosen at import). The layout is fixed (no ``tight_layout``, which measures
every text and costs more than the rest of the drawing). matplotlib does not promise thread safety
(its font and text caches are shared), so charts are drawn one at a time, under :data:`_LOCK`; one
takes a few tens of milliseconds (``benchmarks/bench_charts.py``).

Colours: the background is Discord's dark-theme message background (#313338), so the picture sits
in the message like part of it (on the light theme it shows as a dark card). The two bar colours are
the sky blue and orange of Okabe & Ito's colour-blind-safe palette (Okabe & Ito 2008, "Color
Universal Design"), both above 3:1 contrast with the background (WCAG 2.1 for graphics), the line
is white, and the text Discord's own light grey (above 4.5:1, WCAG for text;
``tests/charts/test_volume_chart.py`` computes the ratios).
"""

from __future__ import annotations

import functools
import io
import math
import threading
import warnings
from collections.abc import Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from backrun_bot.domain.amounts import Units
from backrun_bot.domain.volume import Step, VolumeSeries

WIDTH_PX = 800
HEIGHT_PX = 400
DPI = 100

BACKGROUND = "#313338"  # Discord's dark theme, behind messages
TEXT = "#DBDEE1"  # Discord's dark-theme text
MUTED = "#B5BAC1"  # Discord's dark-theme secondary text: axis labels, ticks, "nothing logged"
GRID = "#4E5058"
BACKWARD = "#56B4E9"  # Okabe-Ito sky blue
FORWARD = "#E69F00"  # Okabe-Ito orange
AVERAGE = "#FFFFFF"

METERS_PER_YARD = 0.9144
METERS_PER_MILE = 1609.344
# Below this many of the small unit (m, yd) on the axis, the axis counts in it; above, in km or mi.
SMALL_UNIT_MAX = 2000
TITLE_CHARS = 60
MAX_TICKS = 12
BAR_WIDTH = 0.8

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

_LOCK = threading.Lock()


def render_volume_chart(series: VolumeSeries, *, title: str, units: Units = Units.METRIC) -> bytes:
    """The chart of ``series`` as PNG bytes, ``title`` on top (shown as written: no math, no
    markup). ``units``: the axis in metres/kilometres or yards/miles. Blocking: call it off the
    event loop."""
    if units not in (Units.METRIC, Units.IMPERIAL):
        raise ValueError(f"units must be metric or imperial, not {units!r}")
    with _LOCK, warnings.catch_warnings():
        # A name with an emoji or a script DejaVu Sans lacks draws a box; matplotlib warns for each.
        warnings.filterwarnings("ignore", message="Glyph .* missing from", category=UserWarning)
        return _render(series, _fit(title, TITLE_CHARS), units)


def axis_unit(largest_m: float, units: Units) -> tuple[str, float]:
    """The unit the y axis counts in and its size in metres: m or km (yd or mi), by the largest
    value to show, so that the tick labels stay short numbers."""
    if units is Units.IMPERIAL:
        small = largest_m < SMALL_UNIT_MAX * METERS_PER_YARD
        return ("yd", METERS_PER_YARD) if small else ("mi", METERS_PER_MILE)
    return ("m", 1.0) if largest_m < SMALL_UNIT_MAX else ("km", 1000.0)


def ticks(series: VolumeSeries) -> list[tuple[int, str]]:
    """(bar index, label) of the x axis' labelled ticks, at most :data:`MAX_TICKS`."""
    starts = series.slot_starts()
    marks: list[tuple[int, str]] = []
    if series.step is Step.DAY:
        if len(starts) <= 7:
            marks = [(i, f"{_WEEKDAYS[d.weekday()]} {d.day}") for i, d in enumerate(starts)]
        else:
            marks = [(i, f"{_MONTHS[d.month - 1]} {d.day}") for i, d in enumerate(starts) if d.weekday() == 0]
    elif series.step is Step.WEEK:
        seen_year: int | None = None
        for i, d in enumerate(starts):
            # The week holding the 1st of a month (the first week too); the year at each new year.
            if i and starts[i - 1].month == d.month:
                continue
            label = _MONTHS[d.month - 1]
            if seen_year != d.year:
                label += f" {d.year}"
                seen_year = d.year
            marks.append((i, label))
    else:
        # Months only past MAX_WEEKLY_BARS weeks (over two years): each January by its year, and
        # the first month, with its year.
        for i, d in enumerate(starts):
            if d.month == 1:
                marks.append((i, str(d.year)))
            elif i == 0:
                marks.append((i, f"{_MONTHS[d.month - 1]} {d.year}"))
    if len(marks) > MAX_TICKS:
        marks = marks[:: math.ceil(len(marks) / MAX_TICKS)]
    return marks


def _fit(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class _Chart:
    """The one figure every chart is drawn on, built and styled once: each chart sets its data,
    limits, ticks and texts and prints it. Made ready once rather than per chart because building
    the axes and their tick objects took more than half of each drawing; only used under
    :data:`_LOCK`, so no two charts share it at once."""

    def __init__(self) -> None:
        self.figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, facecolor=BACKGROUND)
        self.canvas = FigureCanvasAgg(self.figure)
        ax = self.ax = self.figure.add_axes((0.085, 0.13, 0.895, 0.68))
        ax.set_facecolor(BACKGROUND)
        ax.tick_params(colors=MUTED, labelsize=11, length=0, pad=6)
        ax.grid(axis="y", color=GRID, linewidth=0.8)
        ax.set_axisbelow(True)
        for name, spine in ax.spines.items():
            spine.set_visible(name == "bottom")
            spine.set_color(GRID)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=5, min_n_ticks=2))
        # Each series' bars as one collection of rectangles: ax.bar makes a patch per bar, and with
        # 61 to 92 bars those patches were most of the drawing time.
        self.backward = PolyCollection([], facecolors=BACKWARD, linewidths=0)
        self.forward = PolyCollection([], facecolors=FORWARD, linewidths=0)
        ax.add_collection(self.backward)
        ax.add_collection(self.forward)
        (self.average,) = ax.plot([], [], color=AVERAGE, linewidth=2, markersize=3.5)
        self.nothing = ax.text(
            0.5,
            0.5,
            "Nothing logged in this period",
            transform=ax.transAxes,
            ha="center",
            va="center",
            color=MUTED,
            fontsize=14,
        )
        self.title = self.figure.text(
            0.02, 0.955, "", color=TEXT, fontsize=15, fontweight="bold", va="top", parse_math=False
        )
        self.legend = ax.legend(
            [Patch(color=BACKWARD), Patch(color=FORWARD), self.average],
            ["Backward", "Forward", "Backward, average"],
            loc="lower left",
            bbox_to_anchor=(0.0, 1.0),
            ncols=3,
            frameon=False,
            fontsize=11,
            labelcolor=TEXT,
            handlelength=1.4,
            borderaxespad=0.3,
        )

    def draw(self, series: VolumeSeries, title: str, units: Units) -> bytes:
        ax, bars = self.ax, series.bars
        largest = max([b.total_m for b in bars] + [b.average_backward_m for b in bars] + [0.0])
        unit, size = axis_unit(largest, units)
        backward = [b.backward_m / size for b in bars]
        forward = [b.forward_m / size for b in bars]
        self.backward.set_verts(_rectangles([0.0] * len(bars), backward))
        self.forward.set_verts(_rectangles(backward, forward))
        self.average.set_data(range(len(bars)), [b.average_backward_m / size for b in bars])
        # Dots while the bars are wide enough to tell them apart (one bar alone is just a dot).
        self.average.set_marker("o" if len(bars) <= 31 else "None")
        ax.set_xlim(-0.6, max(series.slots, 1) - 0.4)
        top = largest / size
        # Nothing logged: an axis of 0 to 1,000 m (or yd), not 0 to 1 with decimals.
        ax.set_ylim(0, top * 1.12 if top > 0 else 1000.0)
        marks = ticks(series)
        ax.set_xticks([i for i, _ in marks], [label for _, label in marks])
        ax.set_ylabel(f"{unit} per {series.step.value}", color=MUTED, fontsize=11)
        self.nothing.set_visible(series.empty)
        self.title.set_text(title)
        self.legend.get_texts()[2].set_text(f"Backward, {series.step.average_label}")
        out = io.BytesIO()
        # Flat colours compress well at the fastest level (a third of the encoding time of the default).
        self.figure.savefig(out, format="png", metadata={"Software": None}, pil_kwargs={"compress_level": 1})
        return out.getvalue()


@functools.cache
def _the_chart() -> _Chart:
    """The one figure, made on first use (under :data:`_LOCK`)."""
    return _Chart()


def _render(series: VolumeSeries, title: str, units: Units) -> bytes:
    return _the_chart().draw(series, title, units)


def _rectangles(bottoms: Sequence[float], heights: Sequence[float]) -> list[list[tuple[float, float]]]:
    """Bar ``i`` as a rectangle from ``bottoms[i]`` up by ``heights[i]``, 0.8 wide around ``i``;
    none where the height is 0."""
    half = BAR_WIDTH / 2
    return [
        [(i - half, low), (i + half, low), (i + half, low + height), (i - half, low + height)]
        for i, (low, height) in enumerate(zip(bottoms, heights, strict=True))
        if height > 0
    ]


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2.1's contrast ratio of two ``#RRGGBB`` colours (1 to 21)."""
    lighter, darker = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _luminance(colour: str) -> float:
    channels: Sequence[float] = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
