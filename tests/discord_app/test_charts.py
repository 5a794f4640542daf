"""The charts through the emulator (issue 10): /stats with its picture of the athlete's days, and
/team report for coaches only, each deferred first and drawn off the event loop.

The suite's clock starts on Sunday 2026-03-08, 15:00 UTC: the day the US springs forward.
"""

from __future__ import annotations

import asyncio
import io
import threading
import time
from datetime import UTC, datetime

import pytest
import time_machine
from PIL import Image

from backrun_bot.charts import volume as chart_module
from backrun_bot.charts.volume import HEIGHT_PX, WIDTH_PX
from backrun_bot.domain.volume import VolumeSeries
from backrun_bot.sandbox.driver import Actor, Reply
from backrun_bot.sandbox.emulator import DiscordEmulator
from backrun_bot.sandbox.emulator.interactions import DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
from backrun_bot.sandbox.harness import Sandbox
from backrun_bot.services.teams import NOT_A_COACH
from tests.discord_app.conftest import TeamFixture


def decoded_chart(png: bytes) -> Image.Image:
    """A chart the bot attached, decoded: a PNG of about 800 × 400 of many colours."""
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (WIDTH_PX, HEIGHT_PX)
    colours = image.convert("RGB").getcolors(maxcolors=WIDTH_PX * HEIGHT_PX)
    assert colours is not None and len(colours) > 20, "one colour (or nearly): not a chart"
    return image


def picture(reply: Reply) -> Image.Image:
    """The chart the reply's embed shows, decoded (:func:`decoded_chart`), with its attachment's name,
    type and alt text."""
    image = decoded_chart(reply.embed_image())
    [attachment] = reply.attachments
    assert attachment["filename"] == "chart.png" and attachment["content_type"] == "image/png"
    assert "backward and forward distance" in attachment["description"]  # alt text
    return image


def first_callback(emulator: DiscordEmulator, reply: Reply) -> int | None:
    metadata = emulator.world.messages[reply.id].interaction
    assert metadata is not None
    record = emulator.interaction(int(metadata["id"]))
    assert record is not None
    return record.callback_type


async def test_stats_attaches_a_chart_of_the_athletes_days_after_deferring(
    alice: Actor, bob: Actor, emulator: DiscordEmulator
) -> None:
    await alice.run("log", kind="backward", amount="400m", date="yesterday")
    await alice.run("log", kind="forward", amount="3 km")
    reply = await bob.run("stats", member=alice, period="month")
    assert reply.ephemeral
    assert first_callback(emulator, reply) == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
    picture(reply)
    # The text is /stats's as before, the chart below it.
    fields = {f["name"]: f["value"] for f in reply.embeds[0]["fields"]}
    assert fields["backward run"] == "400 m in 1 entry" and fields["forward run"] == "3 km in 1 entry"
    assert reply.embeds[0]["title"] == "Stats — Alice"
    assert reply.embeds[0]["image"]["url"] == reply.attachments[0]["url"]
    assert (reply.embeds[0]["image"]["width"], reply.embeds[0]["image"]["height"]) == (800, 400)
    assert emulator.messages(alice.channel.id) != []  # the /log replies, public
    assert all(not m.attachments for m in emulator.messages(alice.channel.id))  # the chart is not


@pytest.mark.parametrize("period", ["week", "month", "year", "all"])
async def test_stats_has_a_chart_for_every_period_even_with_nothing_logged(alice: Actor, period: str) -> None:
    reply = await alice.run("stats", period=period)
    picture(reply)
    assert "Nothing logged" in reply.text()


async def test_the_event_loop_stays_free_while_a_chart_is_drawn(
    alice: Actor, bob: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The drawing is made slow (1.5 s, in the drawing thread): /log meanwhile is answered at once,
    and /stats still gets its chart, long after Discord's 3 s would have run out without the
    deferral."""
    draw = chart_module.render_volume_chart
    drawing = asyncio.Event()
    drawn = threading.Event()
    loop = asyncio.get_running_loop()

    def slow(series: VolumeSeries, **kwargs: str) -> bytes:
        loop.call_soon_threadsafe(drawing.set)
        time.sleep(3.5)  # blocks the thread it runs in: the event loop's, were it not a worker
        drawn.set()
        return draw(series, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(chart_module, "render_volume_chart", slow)
    stats = asyncio.create_task(alice.run("stats"))
    await asyncio.wait_for(drawing.wait(), 10)
    logged = await bob.run("log", kind="backward", amount="400m")
    assert "400 m" in logged.text()
    assert not drawn.is_set(), "/log waited for the drawing: it ran on the event loop"
    picture(await stats)


async def test_a_chart_that_cannot_be_drawn_leaves_the_stats_without_it(
    alice: Actor, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(series: VolumeSeries, **kwargs: str) -> bytes:
        raise RuntimeError("no fonts today")

    monkeypatch.setattr(chart_module, "render_volume_chart", broken)
    await alice.run("log", kind="backward", amount="400m")
    reply = await alice.run("stats")
    assert reply.ephemeral and "Backward streak" in reply.text()
    assert reply.attachments == [] and "image" not in reply.embeds[0]
    assert "could not draw the chart" in caplog.text


async def test_team_report_is_refused_to_a_member_who_is_not_a_coach(
    bob: Actor, running: Sandbox, emulator: DiscordEmulator
) -> None:
    await bob.run("log", kind="backward", amount="400m")
    posted = len(emulator.messages(bob.channel.id))
    reply = await bob.run("team report")
    assert reply.ephemeral and reply.text() == NOT_A_COACH
    assert reply.attachments == [] and reply.embeds == []
    assert len(emulator.messages(bob.channel.id)) == posted  # nothing public


async def test_team_report_for_a_coach_by_role_and_one_with_manage_server(
    alice: Actor, bob: Actor, running: Sandbox, team: TeamFixture, emulator: DiscordEmulator
) -> None:
    await alice.run("log", kind="backward", amount="1.2 km")
    await alice.run("log", kind="forward", amount="5 km", date="yesterday")
    await bob.run("log", kind="backpedal", amount="400m")
    coaches = team.guild.add_role("Coaches")
    team.guild.add_member("dana", manage_guild=True)
    dana = running.actor(team.guild, "dana")
    await dana.run("team coach-role", role=coaches)
    team.guild.add_member("carol", roles=["Coaches"])
    carol = running.actor(team.guild, "carol")
    reply = await carol.run("team report")
    assert reply.ephemeral
    assert first_callback(emulator, reply) == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
    picture(reply)
    text = reply.text()
    assert reply.embeds[0]["title"] == "Team report — Team A"
    # Sunday 8 March: this week is 2 to 8 March.
    assert "**This week** (2026-03-02 – 2026-03-08)" in text
    assert "Backward **1.6 km** · forward **5 km**" in text and "**2** athletes active" in text

    monthly = await carol.run("team report", period="month")
    picture(monthly)
    assert "**This month** (2026-03-01 – 2026-03-08)" in monthly.text()

    carol.member.role_ids = []  # the role taken away: refused at once (the interaction says so)
    assert (await carol.run("team report")).text() == NOT_A_COACH
    picture(await dana.run("team report", period="all"))  # Manage Server: always a coach
    await dana.run("team units", system="imperial")
    imperial = await dana.run("team report")
    assert "Backward **1750 yd** · forward **3.11 mi**" in imperial.text()


async def test_team_report_days_are_the_teams_across_the_dst_change(
    alice: Actor, running: Sandbox, team: TeamFixture, clock: time_machine.Traveller
) -> None:
    """New York springs forward on Sunday 8 March 2026, a 23-hour day: it ends at 04:00 UTC (EDT
    midnight), not at 05:00 (EST) nor at midnight UTC."""
    team.guild.add_member("coach", manage_guild=True)
    coach = running.actor(team.guild, "coach")
    await coach.run("reminders set", channel=team.guild.channels["general"], timezone="America/New_York")
    clock.move_to(datetime(2026, 3, 9, 3, 30, tzinfo=UTC))  # 23:30 EDT on Sunday
    await alice.run("log", kind="backward", amount="400m")
    sunday = await coach.run("team report")
    assert "**This week** (2026-03-02 – 2026-03-08)" in sunday.text()
    assert "Backward **400 m**" in sunday.text() and "**1** athlete active" in sunday.text()
    clock.move_to(datetime(2026, 3, 9, 4, 30, tzinfo=UTC))  # 00:30 EDT on Monday (23:30 in EST)
    monday = await coach.run("team report")
    assert "**This week** (2026-03-09 – 2026-03-09)" in monday.text()
    assert "Backward **0 m**" in monday.text() and "**0** athletes active" in monday.text()
    picture(monday)
