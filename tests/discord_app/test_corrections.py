"""/entry edit and /entry delete through the emulator: the real bot, the real wire.

Every refusal is checked to change nothing: the whole database is read before and after.
"""

from __future__ import annotations

import re

import pytest

from backrun_bot.sandbox.driver import Actor, Reply
from backrun_bot.sandbox.harness import Sandbox
from backrun_bot.services.corrections import NO_CHANGE_GIVEN
from tests.discord_app.conftest import TeamFixture
from tests.rows import snapshot


def entry_id(reply: Reply) -> int:
    found = re.search(r"\(entry #(\d+)\)", reply.text())
    assert found, reply.text()
    return int(found[1])


async def logged(member: Actor, amount: str = "400m", kind: str = "backward", **options: str | int) -> int:
    return entry_id(await member.run("log", kind=kind, amount=amount, **options))


async def history(member: Actor) -> str:
    return (await member.run("history", limit=25)).text()


# -- edit --------------------------------------------------------------------------------------------
async def test_an_edit_changes_only_what_it_names_and_shows_before_and_after(alice: Actor) -> None:
    entry = await logged(alice, "400m", note="easy")
    reply = await alice.run("entry edit", id=entry, amount="0.8 km")
    assert reply.ephemeral
    assert reply.text() == (
        f"Changed entry #{entry}:\n"
        f"before: #{entry} · 400 m backward run · 2026-03-08 — easy\n"
        f"after: #{entry} · 800 m backward run · 2026-03-08 — easy"
    )
    reply = await alice.run("entry edit", id=entry, kind="backpedal", date="yesterday", note="hard one")
    assert f"after: #{entry} · 800 m backpedal · 2026-03-07 — hard one" in reply.text()
    assert f"`#{entry}` 2026-03-07 · **800 m** backpedal — hard one" in await history(alice)
    # "-" removes the note.
    reply = await alice.run("entry edit", id=entry, note="-")
    assert reply.text().endswith(f"after: #{entry} · 800 m backpedal · 2026-03-07")
    # The totals follow the entry: it is yesterday's now (Saturday, the same week as today).
    totals = (await alice.run("log", kind="backward", amount="400m")).text()
    assert "Backward today: **400 m** · this week: **1.2 km**" in totals


async def test_an_edit_of_the_kind_recounts_a_duration_at_the_new_kinds_pace(alice: Actor) -> None:
    entry = await logged(alice, "9 min", kind="backward-jog")  # 540 s/km: 1 km
    reply = await alice.run("entry edit", id=entry, kind="forward")
    assert "after: " in reply.text()
    # Forward running is not backward volume any more: the day's backward total is what is logged next.
    assert "Backward today: **400 m**" in (await alice.run("log", kind="backward", amount="400m")).text()
    stats = await alice.run("stats")
    assert "Forward run" in stats.text() or "forward" in stats.text().lower()


async def test_an_identical_edit_says_nothing_changed(alice: Actor) -> None:
    entry = await logged(alice, "400m")
    reply = await alice.run("entry edit", id=entry, kind="backward")
    assert reply.text().startswith(f"Entry #{entry} is already like that; nothing changed")


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({}, NO_CHANGE_GIVEN),
        ({"amount": "51 km"}, "400m"),  # what /log refuses, with the accepted formats
        ({"amount": "banana"}, "400m"),
        ({"amount": "0m"}, "400m"),
        ({"date": "2026-03-09"}, "in the future"),  # tomorrow, in the team's timezone (UTC)
        ({"date": "2020-01-01"}, "days back"),
        ({"date": "2026-02-30"}, "no such date"),
        ({"note": "x\x00y"}, "control character"),
        ({"note": "  " + "n" * 201}, "keep it to 200"),
    ],
)
async def test_an_edit_that_log_would_refuse_is_refused_and_changes_nothing(
    running: Sandbox, alice: Actor, options: dict[str, str], says: str
) -> None:
    entry = await logged(alice, "400m", note="as logged")
    before = await snapshot(running)
    reply = await alice.run_raw("entry edit", id=entry, **options)
    assert reply.ephemeral and says in reply.text(), reply.text()
    assert await snapshot(running) == before


async def test_nobody_edits_another_members_entry_not_even_a_coach(
    running: Sandbox, team: TeamFixture, alice: Actor, bob: Actor
) -> None:
    entry = await logged(alice, "400m")
    coach = running.actor(team.guild, "coach")
    team.guild.add_member("coach", manage_guild=True)
    before = await snapshot(running)
    for member in (bob, coach):
        reply = await member.run("entry edit", id=entry, amount="5 km")
        assert reply.ephemeral
        assert reply.text() == f"Entry #{entry} is another member's; you can only edit your own."
    assert await snapshot(running) == before


async def test_an_unknown_id_and_another_servers_id_are_answered_alike(
    running: Sandbox, alice: Actor, alice_elsewhere: Actor
) -> None:
    elsewhere = await logged(alice_elsewhere, "400m")
    before = await snapshot(running)
    for entry in (elsewhere, elsewhere + 1000):
        for command, options in (("entry edit", {"amount": "1 km"}), ("entry delete", {})):
            reply = await alice.run(command, id=entry, **options)
            assert reply.ephemeral
            assert reply.text().startswith(f"There is no entry #{entry} in this server."), reply.text()
    # Past what the option declares (a modified client): refused the same way, never a database error.
    for entry in (0, -5, 2**31, 2**53 - 1):
        reply = await alice.run_raw("entry delete", id=entry)
        assert reply.ephemeral and f"no entry #{entry}" in reply.text()
    assert await snapshot(running) == before


# -- delete ------------------------------------------------------------------------------------------
async def test_a_member_deletes_their_own_entry_and_not_anothers(
    running: Sandbox, alice: Actor, bob: Actor
) -> None:
    mine, other = await logged(alice, "400m"), await logged(alice, "600m")
    before = await snapshot(running)
    refused = await bob.run("entry delete", id=mine)
    assert refused.ephemeral and "only a coach can delete it" in refused.text()
    assert await snapshot(running) == before

    reply = await alice.run("entry delete", id=mine)
    assert reply.ephemeral
    assert reply.text() == f"Deleted your entry #{mine} · 400 m backward run · 2026-03-08."
    text = await history(alice)
    assert f"`#{mine}`" not in text and f"`#{other}`" in text
    again = await alice.run("entry delete", id=mine)
    assert again.ephemeral and f"no entry #{mine}" in again.text()


async def test_a_coach_deletes_any_entry_of_the_team_by_manage_server_or_the_coach_role(
    running: Sandbox, team: TeamFixture, alice: Actor, bob: Actor
) -> None:
    first, second = await logged(alice, "400m"), await logged(alice, "600m")
    team.guild.add_member("coach", manage_guild=True)
    coach = running.actor(team.guild, "coach")
    reply = await coach.run("entry delete", id=first)
    assert reply.ephemeral
    assert reply.text() == f"Deleted **Alice**'s entry #{first} · 400 m backward run · 2026-03-08."
    # Bob becomes a coach through the team's coach role: asked on this very call.
    assert running.bot is not None
    await running.bot.teams.set_coach_role(team.guild.id, team.roles["Sprinters"])
    team.guild.add_member("bob", roles=["Sprinters"])
    reply = await bob.run("entry delete", id=second)
    assert reply.text().startswith("Deleted **Alice**'s entry")
    assert "No entries yet" in await history(alice)


async def test_a_coach_sees_a_hostile_name_literally_and_nobody_is_pinged(
    running: Sandbox, team: TeamFixture
) -> None:
    name = "@everyone **bold** <@&1>"
    member = running.actor(team.guild, name)
    entry = await logged(member, "400m")
    team.guild.add_member("coach", manage_guild=True)
    reply = await running.actor(team.guild, "coach").run("entry delete", id=entry)
    assert "\\*\\*bold\\*\\*" in reply.text()
    assert not reply.mention_everyone and reply.mention_roles == [] and reply.mentions == []


async def test_the_undo_button_of_an_entry_deleted_by_id_says_it_is_gone_and_removes_nothing_else(
    alice: Actor,
) -> None:
    kept = await logged(alice, "600m")
    logged_reply = await alice.run("log", kind="backward", amount="400m")
    gone = entry_id(logged_reply)
    await alice.run("entry delete", id=gone)
    pressed = await alice.press(logged_reply, "Undo")
    assert pressed.ephemeral and pressed.text() == "That entry is already gone."
    assert f"`#{kept}`" in await history(alice)
    # /undo removes what is latest now: the entry before it, as asked.
    assert f"#{kept}" in (await alice.run("undo")).text()


async def test_the_undo_button_of_an_edited_entry_removes_it_as_it_is_now(alice: Actor) -> None:
    logged_reply = await alice.run("log", kind="backward", amount="400m")
    entry = entry_id(logged_reply)
    await alice.run("entry edit", id=entry, amount="1 km")
    pressed = await alice.press(logged_reply, "Undo")
    assert f"#{entry} · 1 km backward run" in pressed.text()
    assert "No entries yet" in await history(alice)


# -- autocomplete -------------------------------------------------------------------------------------
async def test_the_id_is_suggested_from_the_callers_own_entries(alice: Actor, bob: Actor) -> None:
    ids = [await logged(alice, f"{100 + i}m", note="n" * 200 if i == 0 else f"note {i}") for i in range(30)]
    bobs = await logged(bob, "400m")
    choices = await alice.autocomplete("entry edit", "id", "")
    assert len(choices) == 25  # Discord's limit
    assert [c["value"] for c in choices] == ids[::-1][:25]  # newest first, as /history
    assert all(1 <= len(c["name"]) <= 100 for c in choices)
    assert choices[0]["name"] == f"#{ids[-1]} · 129 m backward run · 2026-03-08 — note 29"
    assert bobs not in [c["value"] for c in await alice.autocomplete("entry delete", "id", "")]
    # The oldest (with its long note cut to fit) is offered once its id is typed.
    oldest, *others = await alice.autocomplete("entry delete", "id", str(ids[0]))
    assert all(str(c["value"]).startswith(str(ids[0])) for c in others)
    assert oldest["value"] == ids[0] and len(oldest["name"]) == 100 and oldest["name"].endswith("…")
    assert [c["value"] for c in await alice.autocomplete("entry edit", "id", "note 7")] == [ids[7]]
    assert await alice.autocomplete("entry edit", "id", str(bobs)) == []
