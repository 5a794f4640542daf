"""/log, /undo, /history and /stats through the emulator: the real bot, the real wire."""

from __future__ import annotations

import asyncio

import pytest
import time_machine

from backrun_bot.sandbox.driver import Actor, Reply
from backrun_bot.sandbox.harness import Sandbox
from tests.discord_app.conftest import TeamFixture

pytestmark = pytest.mark.asyncio


async def test_log_replies_publicly_with_normalised_amount_and_totals(alice: Actor) -> None:
    reply = await alice.run("log", kind="backward", amount="400m")
    assert not reply.ephemeral
    assert "**400 m** backward run" in reply.text()
    assert "Backward today: **400 m**" in reply.text()
    assert "this week: **400 m**" in reply.text()
    assert [b["label"] for b in reply.buttons()] == ["Undo"]

    reply = await alice.run("log", kind="backpedal", amount="0.8 km")
    assert "**800 m** backpedal" in reply.text()
    assert "Backward today: **1.2 km**" in reply.text()


async def test_forward_running_is_not_backward_volume(alice: Actor) -> None:
    await alice.run("log", kind="backward", amount="400m")
    reply = await alice.run("log", kind="forward", amount="5 km")
    assert "Backward today: **400 m**" in reply.text()


async def test_duration_counts_through_pace(alice: Actor) -> None:
    reply = await alice.run("log", kind="backward-jog", amount="9 min")
    # 540 s/km for a backward jog: 9 minutes count as 1 km.
    assert "Backward today: **1 km**" in reply.text()
    assert "typical pace" in reply.text()


@pytest.mark.parametrize(
    "amount", ["banana", "-5m", "0m", "5", "1e9km", "@everyone", "x" * 10_000, "51 km", "7h", "1,2 km"]
)
async def test_bad_amounts_are_refused_privately_and_store_nothing(alice: Actor, amount: str) -> None:
    # raw: the 10,000 characters are past the option's declared max_length, which Discord's own
    # client enforces; the bot must still cope when it is sent anyway.
    reply = await alice.run_raw("log", kind="backward", amount=amount)
    assert reply.ephemeral
    assert "400m" in reply.text()  # the accepted formats are shown
    assert not reply.mention_everyone
    history = await alice.run("history")
    assert "No entries yet" in history.text()


@pytest.mark.parametrize("date", ["tomorrow-ish", "2020-01-01", "2999-01-01", "2026-02-30"])
async def test_bad_dates_are_refused(alice: Actor, date: str) -> None:
    reply = await alice.run("log", kind="backward", amount="400m", date=date)
    assert reply.ephemeral
    assert "YYYY-MM-DD" in reply.text()
    assert "No entries yet" in (await alice.run("history")).text()


async def test_yesterday_is_stored_on_yesterday(alice: Actor, clock: time_machine.Traveller) -> None:
    reply = await alice.run("log", kind="backward", amount="400m", date="yesterday")
    assert "for 2026-03-07" in reply.text()
    history = await alice.run("history")
    assert "2026-03-07 · **400 m** backward run" in history.text()


async def test_note_mentions_cannot_ping(alice: Actor, team: TeamFixture) -> None:
    role_id = team.roles["Sprinters"]
    reply = await alice.run(
        "log", kind="backward", amount="400m", note=f"@everyone @here <@&{role_id}> great session"
    )
    assert "@everyone" in reply.text()
    assert not reply.mention_everyone
    assert reply.mention_roles == []
    assert reply.mentions == []


async def test_note_over_200_characters_is_refused(alice: Actor) -> None:
    # The option declares max_length 200, so Discord's client refuses it first...
    with pytest.raises(ValueError, match="at most 200"):
        await alice.run("log", kind="backward", amount="400m", note="n" * 201)
    # ...and the bot refuses it itself when it comes anyway.
    reply = await alice.run_raw("log", kind="backward", amount="400m", note="n" * 201)
    assert reply.ephemeral
    assert "No entries yet" in (await alice.run("history")).text()


async def test_undo_removes_latest_and_says_which(alice: Actor) -> None:
    await alice.run("log", kind="backward", amount="400m")
    await alice.run("log", kind="backpedal", amount="200m")
    reply = await alice.run("undo")
    assert reply.ephemeral
    assert "200 m backpedal" in reply.text()
    history = (await alice.run("history")).text()
    assert "200 m" not in history
    assert "400 m" in history
    await alice.run("undo")
    reply = await alice.run("undo")
    assert reply.ephemeral
    assert "no entries" in reply.text().lower()


async def test_undo_button_only_for_the_author(alice: Actor, bob: Actor) -> None:
    logged = await alice.run("log", kind="backward", amount="400m")
    refused = await bob.press(logged, "Undo")
    assert refused.ephemeral
    assert "Only the athlete who logged" in refused.text()
    assert "400 m" in (await alice.run("history")).text()

    undone = await alice.press(logged, "Undo")
    assert "Undone" in undone.text()
    assert undone.buttons() == []
    assert "No entries yet" in (await alice.run("history")).text()


async def test_an_old_undo_button_never_removes_a_newer_entry(alice: Actor) -> None:
    logged = await alice.run("log", kind="backward", amount="400m")
    await alice.run("undo")  # undone by command: the button on the old message stays
    await alice.run("log", kind="backward", amount="300m")
    stale = await alice.press(logged, "Undo")
    assert stale.ephemeral
    assert "already gone" in stale.text()
    assert "300 m" in (await alice.run("history")).text()


async def test_history_shows_ids_newest_first_and_limit(alice: Actor) -> None:
    for meters in (100, 200, 300):
        await alice.run("log", kind="backward", amount=f"{meters}m")
    reply = await alice.run("history", limit=2)
    text = reply.text()
    assert reply.ephemeral
    assert text.index("300 m") < text.index("200 m")
    assert "100 m" not in text
    assert "`#" in text


@pytest.mark.parametrize("limit", [0, 26])
async def test_history_limit_out_of_range_is_refused(alice: Actor, limit: int) -> None:
    with pytest.raises(ValueError, match="must be at"):
        await alice.run("history", limit=limit)  # declared min/max: Discord's client refuses
    reply = await alice.run_raw("history", limit=limit)
    assert reply.ephemeral
    assert "between 1 and 25" in reply.text()


def field(reply: Reply, name: str) -> str:
    """The value of the reply's embed field called ``name`` (exactly one such field)."""
    [value] = [f["value"] for e in reply.embeds for f in e.get("fields") or [] if f["name"] == name]
    return str(value)


async def test_stats_totals_share_days_and_streak(
    alice: Actor, bob: Actor, clock: time_machine.Traveller
) -> None:
    await alice.run("log", kind="forward", amount="1 km", date="2026-03-05")  # active, not backward
    await alice.run("log", kind="backward", amount="400m", date="yesterday")
    await alice.run("log", kind="backward", amount="600m")
    await alice.run("log", kind="forward", amount="1 km")
    reply = await bob.run("stats", member=alice, period="all")
    assert field(reply, "backward run") == "1 km in 2 entries"
    assert field(reply, "forward run") == "2 km in 2 entries"
    assert field(reply, "Backward share of running") == "33%"  # 1 km backward of 3 km running
    assert field(reply, "Active days") == "3"  # 03-05, 03-07 and today, whatever the kind
    assert field(reply, "Backward streak") == "2 days (best 2)"  # yesterday and today


async def test_servers_are_isolated(alice: Actor, alice_elsewhere: Actor) -> None:
    await alice.run("log", kind="backward", amount="400m")
    other = await alice_elsewhere.run("history")
    assert "No entries yet" in other.text()
    reply = await alice_elsewhere.run("undo")
    assert reply.ephemeral
    assert "400 m" in (await alice.run("history")).text()


async def test_help_lists_commands(alice: Actor) -> None:
    reply = await alice.run("help")
    assert reply.ephemeral
    text = reply.text()
    assert "/log kind amount [note] [date]" in text
    for name in ("/undo", "/history", "/stats", "/plan", "/notify", "/reminders set", "/reminders pause"):
        assert name in text


async def test_the_whole_squad_logging_at_once_is_all_stored(running: Sandbox, team: TeamFixture) -> None:
    """The end of practice: 25 athletes send /log at the same moment (new athletes, so each also
    creates its record); every one is stored and answered in public."""
    names = [f"runner{i:02d}" for i in range(25)]
    for name in names:
        team.guild.add_member(name)
    squad = [running.actor(team.guild, name) for name in names]
    replies = await asyncio.gather(*(a.run("log", kind="backward", amount="400m") for a in squad))
    assert [r.ephemeral for r in replies] == [False] * 25
    assert all("Backward today: **400 m**" in r.text() for r in replies)
    ids = {r.text().split("(entry #")[1].split(")")[0] for r in replies}
    assert len(ids) == 25  # 25 distinct entries
