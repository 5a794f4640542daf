"""Charts as attachments (issue 10): drawn in a worker thread, sent as a PNG the embed shows.

Drawing takes a few tens of milliseconds of CPU (``benchmarks/bench_charts.py``): on the event loop
that would hold back every other command and the gateway's heartbeat, so :func:`draw_chart` runs it
with :func:`asyncio.to_thread`. A command that attaches a chart defers first (the deferral is its
first response, well inside Discord's 3 s), then sends the answer as the deferred response.

A chart that cannot be drawn (a bug, a broken font cache) is logged and left out: the text of the
answer still goes, without its picture.
"""

from __future__ import annotations

import asyncio
import io
import logging
from typing import Any

import discord

from backrun_bot.charts import volume as drawing
from backrun_bot.domain.dates import Period
from backrun_bot.domain.volume import Step
from backrun_bot.services.volume import VolumeChart

log = logging.getLogger(__name__)

CHART_FILE = "chart.png"  # letters, digits, dots: what an attachment:// reference may name
PERIOD_WORDS = {
    Period.WEEK: "this week",
    Period.MONTH: "this month",
    Period.YEAR: "this year",
    Period.ALL: "all time",
}


def chart_title(name: str, period: Period) -> str:
    """``Alice · this month``: whose chart and of when (drawn into the picture, not a message:
    nothing in it can ping)."""
    return f"{name} · {PERIOD_WORDS[period]}"


def alt_text(chart: VolumeChart, when: str | None = None) -> str:
    """What the picture shows, for screen readers (the attachment's description); ``when`` words
    the period where the chart's own ("this week") would be wrong (the weekly summary's "last week")."""
    step = chart.series.step
    per = {Step.DAY: "day", Step.WEEK: "week", Step.MONTH: "month"}[step]
    return (
        f"Bar chart of backward and forward distance per {per}, {when or PERIOD_WORDS[chart.period]} "
        f"({chart.series.first.isoformat()} to {chart.series.last.isoformat()}), with the backward "
        f"{step.average_label} as a line."
    )


async def draw_chart(chart: VolumeChart, title: str, *, when: str | None = None) -> discord.File | None:
    """The chart as an attachment named :data:`CHART_FILE`, drawn off the event loop; None if it
    could not be drawn (logged). ``when``: as for :func:`alt_text`."""
    try:
        png = await asyncio.to_thread(
            drawing.render_volume_chart, chart.series, title=title, units=chart.units
        )
    except Exception:
        log.exception("could not draw the chart %r", title)
        return None
    return discord.File(io.BytesIO(png), filename=CHART_FILE, description=alt_text(chart, when))


async def send_with_chart(
    interaction: discord.Interaction[Any], embed: discord.Embed, file: discord.File | None
) -> None:
    """The deferred answer (ephemeral, as deferred): ``embed``, showing the chart ``file`` as its
    image when there is one. The first follow-up after a deferral replaces the "thinking…"."""
    if file is None:
        await interaction.followup.send(embed=embed, ephemeral=True)
        return
    embed.set_image(url=f"attachment://{file.filename}")
    await interaction.followup.send(embed=embed, file=file, ephemeral=True)
