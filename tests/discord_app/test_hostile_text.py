"""Hostile free text through the real bot, on SQLite and (with BACKRUN_COMMANDS_ON_POSTGRES) on
PostgreSQL: a control character in a note is refused with a reply that names it, one in a display
name is dropped; a note or a name is shown as written and on one line, so it can neither become a
masked link in the public /log reply nor forge a line of the bot's own."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from backrun_bot.sandbox.driver import Actor, Reply
from backrun_bot.sandbox.harness import Sandbox
from backrun_bot.storage.engine import create_engine, make_sessionmaker
from backrun_bot.storage.models import Athlete, RunSession
from tests.discord_app.conftest import TeamFixture

pytestmark = pytest.mark.asyncio

PHISHING = "[discord.com/nitro](https://evil.example) and [free nitro](<https://evil.example/2>)"
FORGED = "**Bob** logged **42 km** backward run (entry #99)."


def live(text: str) -> str:
    """``text`` without its backslash escapes and ``<link>``s: what is left is what Discord reads
    as markdown."""
    return re.sub(r"\\.|<https?://[^\s<>]*>", "", text)


def description(reply: Reply) -> str:
    text = reply.embeds[0].get("description")
    assert isinstance(text, str)
    return text


async def stored(sandbox: Sandbox) -> tuple[list[str], list[str | None]]:
    """(athletes' display names, entries' notes) as the database has them."""
    engine = create_engine(sandbox.settings.database_url)
    try:
        async with make_sessionmaker(engine)() as s:
            names = list(await s.scalars(select(Athlete.display_name).order_by(Athlete.id)))
            notes = list(await s.scalars(select(RunSession.note).order_by(RunSession.id)))
            return names, notes
    finally:
        await engine.dispose()


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\u202e"])
async def test_a_control_character_in_a_note_is_refused_and_nothing_is_stored(
    alice: Actor, running: Sandbox, char: str
) -> None:
    reply = await alice.run("log", kind="backward", amount="400m", note=f"good{char}run")
    assert reply.ephemeral
    assert reply.text() == f"The note has a control character (U+{ord(char):04X}); remove it."
    assert "No entries yet" in (await alice.run("history")).text()
    assert await stored(running) == ([], [])


async def test_a_control_character_in_a_display_name_is_dropped_not_refused(
    running: Sandbox, team: TeamFixture
) -> None:
    eve = running.actor(team.guild, "eve\x00\x1b")  # shown by Discord as "Eve\x00\x1b"
    reply = await eve.run("log", kind="backward", amount="400m", note="fine")
    assert not reply.ephemeral
    assert reply.content.startswith("**Eve** logged **400 m**")
    assert await stored(running) == (["Eve"], ["fine"])


async def test_a_masked_link_in_a_note_is_shown_as_text_everywhere(alice: Actor) -> None:
    reply = await alice.run("log", kind="backward", amount="400m", note=PHISHING)
    assert not reply.ephemeral
    # No bracket Discord would read: no masked link, and no link preview from a bare one.
    assert not set(live(reply.content)) & set("[]")
    assert "<https://evil.example>" in reply.content  # the real address stays visible
    history = await alice.run("history")
    assert "discord.com/nitro" in description(history)
    assert not set(live(description(history))) & set("[]")


async def test_a_line_break_in_a_note_cannot_forge_a_line(alice: Actor, running: Sandbox) -> None:
    note = f"easy one\n{FORGED}\n# Free nitro\n-# small print"
    reply = await alice.run("log", kind="backward", amount="400m", note=note)
    lines = reply.content.split("\n")
    assert len(lines) == 3, reply.content  # what was logged, the totals, the note
    assert lines[0].startswith("**Alice** logged **400 m**")
    assert not any(line.startswith("**Bob**") for line in lines)
    assert lines[2].startswith("> easy one ") and "Bob" in lines[2]
    assert not set(live(lines[2].removeprefix("> "))) & set("*_~|`[]\\")
    # Stored on one line too: what Discord sent, with the line breaks folded into spaces.
    assert (await stored(running))[1] == [f"easy one {FORGED} # Free nitro -# small print"]
    history = await alice.run("history")
    assert len(description(history).split("\n")) == 1


@pytest.mark.parametrize(
    ("note", "quoted"),
    [
        ("# Big news", r"> \# Big news"),
        ("-# small print", r"> \-# small print"),
        ("> a quote in the quote", r"> \> a quote in the quote"),
        ("- a list item", r"> \- a list item"),
        ("1. the first", r"> 1\. the first"),
    ],
)
async def test_a_note_cannot_start_a_heading_subtext_list_or_quote(
    alice: Actor, note: str, quoted: str
) -> None:
    reply = await alice.run("log", kind="backward", amount="400m", note=note)
    assert reply.content.split("\n")[-1] == quoted


async def test_a_display_name_cannot_restyle_the_reply_or_forge_a_line(
    running: Sandbox, team: TeamFixture
) -> None:
    mallory = running.actor(team.guild, f"m_a_l*lory\n{FORGED}")
    reply = await mallory.run("log", kind="backward", amount="400m")
    lines = reply.content.split("\n")
    assert len(lines) == 2, reply.content
    assert lines[0].startswith(r"**M\_a\_l\*lory \*\*bob\*\* logged \*\*42 km\*\* backward run")
    assert lines[0].endswith("** logged **400 m** backward run (entry #1).")
    history = await mallory.run("history")
    assert history.embeds[0]["title"].startswith(r"History — M\_a\_l\*lory \*\*bob\*\*")
    stats = await mallory.run("stats")
    assert stats.embeds[0]["title"].startswith(r"Stats — M\_a\_l\*lory \*\*bob\*\*")


async def test_a_full_history_of_escaped_notes_still_fits_one_embed(alice: Actor) -> None:
    # Escaping doubles "*"; the history still shortens each note to what fits 25 in a description
    # (the emulator fails the test if the bot sends more than Discord takes).
    for _ in range(25):
        await alice.run("log", kind="backward", amount="400m", note="*" * 200)
    history = await alice.run("history", limit=25)
    lines = description(history).split("\n")
    assert len(lines) == 25
    assert all(line.endswith("\\*…") and "*" not in live(line.split(" — ")[1]) for line in lines)
