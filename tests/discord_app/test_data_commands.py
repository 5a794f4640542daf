"""/export and /forget-me through the emulator: the CSV read back from the attachment Discord
stored, and a deletion that leaves nothing of the athlete in any table."""

from __future__ import annotations

import asyncio
import csv
import gzip
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from backrun_bot.discord_app.cogs.data import EXPIRED, KEPT, NOT_YOURS
from backrun_bot.domain.export import OWN_COLUMNS, TEAM_COLUMNS
from backrun_bot.sandbox.driver import Actor, Reply
from backrun_bot.sandbox.harness import Sandbox
from backrun_bot.services.data import NOTHING_TO_EXPORT, NOTHING_TO_FORGET, DataService
from backrun_bot.storage import data_queries as dq
from backrun_bot.storage.models import RestDay
from tests.discord_app.conftest import TeamFixture
from tests.discord_app.test_corrections import logged
from tests.rows import nothing_left, rows_of, snapshot


def read_csv(reply: Reply) -> tuple[str, list[dict[str, str]]]:
    name, data = reply.file()
    if name.endswith(".gz"):
        data = gzip.decompress(data)
    text = data.decode("utf-8-sig")
    return name, list(csv.DictReader(io.StringIO(text, newline="")))


async def athlete_of(sandbox: Sandbox, member: Actor) -> int:
    assert sandbox.bot is not None
    async with sandbox.bot.sessionmaker() as s:
        found = await dq.athlete_id(s, member.guild.id, member.user_id)
    assert found is not None
    return found


def coach_of(sandbox: Sandbox, team: TeamFixture) -> Actor:
    team.guild.add_member("coach", manage_guild=True)
    return sandbox.actor(team.guild, "coach")


# -- /export ------------------------------------------------------------------------------------------
async def test_a_member_exports_their_own_entries_as_csv(
    alice: Actor, bob: Actor, alice_elsewhere: Actor
) -> None:
    first = await logged(alice, "440yd", note='=HYPERLINK("https://evil.example","x")')
    second = await logged(alice, "9 min", kind="backward-jog", date="yesterday", rpe=4)
    third = await logged(alice, "400m in 1:30", kind="forward", note="- felt good, 2nd lap")
    await logged(bob, "1 km")
    await logged(alice_elsewhere, "2 km")
    reply = await alice.run("export")
    assert reply.ephemeral
    assert "Your 3 entries in this server, oldest first." in reply.text()
    name, rows = read_csv(reply)
    assert name == "backrun-entries-2026-03-08.csv"
    assert list(rows[0]) == list(OWN_COLUMNS)
    assert rows == [
        {
            "id": str(second),
            "date": "2026-03-07",
            "kind": "backward-jog",
            "amount": "9 min",
            "meters": "",
            "seconds": "540",
            "counted_meters": "1000",
            "rpe": "4",
            "note": "",
        },
        {
            "id": str(first),
            "date": "2026-03-08",
            "kind": "backward",
            "amount": "440yd",
            "meters": "402.336",
            "seconds": "",
            "counted_meters": "402.336",
            "rpe": "",
            "note": '\'=HYPERLINK("https://evil.example","x")',
        },
        {
            "id": str(third),
            "date": "2026-03-08",
            "kind": "forward",
            "amount": "400m in 1:30",
            "meters": "400",
            "seconds": "90",
            "counted_meters": "400",
            "rpe": "",
            "note": "'- felt good, 2nd lap",
        },
    ]
    assert not reply.mention_everyone and reply.mentions == []


async def test_a_coach_exports_the_whole_team_with_who_logged_each_even_who_left(
    running: Sandbox, team: TeamFixture, alice: Actor, bob: Actor, alice_elsewhere: Actor
) -> None:
    ours = [await logged(alice, "400m"), await logged(bob, "600m"), await logged(alice, "800m")]
    await logged(alice_elsewhere, "2 km")
    team.guild.remove_member("bob")  # left the server: still in the file, under the name last seen
    reply = await coach_of(running, team).run("export")
    assert reply.ephemeral
    assert "All 3 entries of the team (2 members)" in reply.text()
    name, rows = read_csv(reply)
    assert name == f"backrun-team-{team.guild.id}-2026-03-08.csv"
    assert list(rows[0]) == list(TEAM_COLUMNS)
    assert [(r["id"], r["member"], r["member_id"], r["amount"]) for r in rows] == [
        (str(ours[0]), "Alice", str(alice.user_id), "400m"),
        (str(ours[1]), "Bob", str(bob.user_id), "600m"),
        (str(ours[2]), "Alice", str(alice.user_id), "800m"),
    ]


async def test_a_hostile_name_is_a_plain_cell_in_the_coachs_file(running: Sandbox, team: TeamFixture) -> None:
    member = running.actor(team.guild, "=cmd|' /C calc'!A0")
    await logged(member, "400m")
    _, rows = read_csv(await coach_of(running, team).run("export"))
    assert rows[0]["member"].startswith("'=")


async def test_nothing_to_export_is_said_privately(running: Sandbox, team: TeamFixture, alice: Actor) -> None:
    reply = await alice.run("export")
    assert reply.ephemeral and reply.text() == NOTHING_TO_EXPORT and reply.attachments == []
    reply = await coach_of(running, team).run("export")
    assert reply.ephemeral and "Nobody has logged anything" in reply.text()


async def test_a_team_file_over_discords_limit_is_sent_gzipped(
    running: Sandbox, team: TeamFixture, alice: Actor
) -> None:
    assert running.bot is not None
    for n in range(40):
        await logged(alice, f"{100 + n}m", note=f"session {n}")
    # The limit made small, so that 40 entries are "a team of 300 for five years".
    running.bot.data = DataService(running.bot.sessionmaker, limit=2000)
    reply = await coach_of(running, team).run("export")
    assert "Compressed to fit Discord's file limit" in reply.text()
    name, rows = read_csv(reply)
    assert name.endswith(".csv.gz") and len(rows) == 40
    assert rows[-1]["note"] == "session 39"
    assert reply.attachments[0]["size"] <= 2000

    running.bot.data = DataService(running.bot.sessionmaker, limit=100)
    refused = await coach_of(running, team).run("export")
    assert refused.ephemeral and refused.attachments == []
    assert "still" in refused.text() and "compressed" in refused.text()


async def test_a_team_file_too_big_for_one_message_comes_in_parts_one_per_message(
    running: Sandbox, team: TeamFixture, alice: Actor, bob: Actor
) -> None:
    assert running.bot is not None
    ids = [
        await logged(alice if n % 2 else bob, f"{100 + n}m", note=f"n{n} " + "xyzw"[n % 4] * n)
        for n in range(60)
    ]
    running.bot.data = DataService(running.bot.sessionmaker, limit=700, check_every=4)
    reply = await coach_of(running, team).run("export")
    found = re.search(r"In (\d+) parts, one per message", reply.text())
    assert found, reply.text()
    count = int(found[1])
    assert count >= 3
    async with asyncio.timeout(5):
        while len(reply.followups) < count - 1:
            await asyncio.sleep(0.05)
    parts = [reply, *reply.followups]
    assert [p.text() for p in parts[1:]] == [f"Part {n} of {len(parts)}." for n in range(2, len(parts) + 1)]
    rows = []
    for n, part in enumerate(parts, 1):
        assert part.ephemeral and part.attachments[0]["size"] <= 700
        name, part_rows = read_csv(part)
        assert name == f"backrun-team-{team.guild.id}-2026-03-08-part{n}-of-{len(parts)}.csv.gz"
        rows += part_rows
    assert [int(r["id"]) for r in rows] == ids


# -- /forget-me ---------------------------------------------------------------------------------------
async def test_forget_me_asks_first_and_then_leaves_nothing_of_the_athlete_in_any_table(
    running: Sandbox, alice: Actor, bob: Actor, alice_elsewhere: Actor
) -> None:
    for amount in ("400m", "600m", "1 km"):
        await logged(alice, amount)
    await logged(bob, "400m")
    await logged(alice_elsewhere, "400m")
    athlete = await athlete_of(running, alice)
    assert running.bot is not None
    async with running.bot.sessionmaker.begin() as s:
        s.add(
            RestDay(athlete_id=athlete, day=date(2026, 3, 7), source="warmup", recorded_at=datetime.now(UTC))
        )
    await alice.run("checkin", soreness=7, area="knee", sleep=2, note="sore")  # and a rest day for it
    await alice_elsewhere.run("checkin", soreness=1)
    assert len((await rows_of(running, athlete_id=athlete))["checkins"]) == 1
    assert not nothing_left(await rows_of(running, athlete_id=athlete))
    elsewhere, bobs = await athlete_of(running, alice_elsewhere), await athlete_of(running, bob)
    others = (await rows_of(running, athlete_id=elsewhere), await rows_of(running, athlete_id=bobs))

    prompt = await alice.run("forget-me")
    assert prompt.ephemeral
    assert "This deletes your 3 entries in this server" in prompt.text()
    assert [b["label"] for b in prompt.buttons()] == ["Delete my data", "Keep it"]
    assert not nothing_left(await rows_of(running, athlete_id=athlete))  # asking deletes nothing

    done = await alice.press(prompt, "Delete my data")
    assert done.text().startswith("Deleted your data in this server: 3 entries")
    assert done.buttons() == []
    assert nothing_left(await rows_of(running, athlete_id=athlete))
    assert (await rows_of(running, athlete_id=elsewhere), await rows_of(running, athlete_id=bobs)) == others
    assert "No entries yet" in (await alice.run("history")).text()
    assert (await alice.run("forget-me")).text() == NOTHING_TO_FORGET
    # Logging again starts afresh.
    assert "Backward today: **400 m**" in (await alice.run("log", kind="backward", amount="400m")).text()


async def test_keep_it_deletes_nothing(running: Sandbox, alice: Actor) -> None:
    await logged(alice, "400m")
    before = await snapshot(running)
    prompt = await alice.run("forget-me")
    kept = await alice.press(prompt, "Keep it")
    assert kept.text() == KEPT and kept.buttons() == []
    assert await snapshot(running) == before


async def test_only_the_member_who_asked_can_confirm(running: Sandbox, alice: Actor, bob: Actor) -> None:
    await logged(alice, "400m")
    await logged(bob, "400m")
    before = await snapshot(running)
    prompt = await alice.run("forget-me")
    with pytest.raises(ValueError, match="cannot see"):
        await bob.press(prompt, "Delete my data")  # Discord shows it to Alice alone
    for label in ("Delete my data", "Keep it"):
        refused = await bob.press_raw(prompt, label)  # a modified client that learnt the custom id
        assert refused.ephemeral and refused.text() == NOT_YOURS
    assert await snapshot(running) == before


async def test_the_confirmation_expires_after_ten_minutes(
    running: Sandbox, alice: Actor, clock: time_machine.Traveller
) -> None:
    await logged(alice, "400m")
    prompt = await alice.run("forget-me")
    before = await snapshot(running)
    clock.shift(timedelta(minutes=10, seconds=5))
    refused = await alice.press(prompt, "Delete my data")
    assert refused.ephemeral and refused.text() == EXPIRED
    assert await snapshot(running) == before


async def test_the_confirmation_works_after_a_restart(running: Sandbox, team: TeamFixture) -> None:
    alice = running.actor(team.guild, "alice")
    await logged(alice, "400m")
    prompt = await alice.run("forget-me")
    await running.stop_bot()
    await running.start_bot()
    done = await alice.press(prompt, "Delete my data")
    assert done.text().startswith("Deleted your data in this server: 1 entry")
