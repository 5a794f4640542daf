"""How hard it was (issue 11): /log's and /entry edit's ``rpe`` (CR-10, 1-10) through the emulator,
and what /plan makes of session-RPE load: the ratio as a caution line, the monotony advice.

The suite's clock is Sunday 2026-03-08 (UTC for a team that set no timezone): "yesterday", the day
/plan looks back on, is Saturday 7 March.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from backrun_bot.sandbox.driver import Actor
from backrun_bot.sandbox.harness import Sandbox
from backrun_bot.storage.models import RunSession
from tests.discord_app.test_corrections import history, logged

YESTERDAY = date(2026, 3, 7)
REFUSAL = "How hard it was (rpe) is a whole number from 1 (very easy) to 10 (maximal)."


def option(running: Sandbox, path: list[str], name: str) -> dict[str, Any]:
    """The registered option ``name`` of the command at ``path`` (``["entry", "edit"]``)."""
    [command] = [c for c in running.emulator.commands if c["name"] == path[0]]
    options = command.get("options") or []
    for sub in path[1:]:
        [found] = [o for o in options if o["name"] == sub]
        options = found.get("options") or []
    [wanted] = [o for o in options if o["name"] == name]
    return dict(wanted)


async def stored_rpes(running: Sandbox) -> list[int | None]:
    assert running.bot is not None
    async with running.bot.sessionmaker() as s:
        return list((await s.scalars(select(RunSession.rpe).order_by(RunSession.id))).all())


async def test_the_rpe_option_declares_its_range_and_log_keeps_its_other_options(running: Sandbox) -> None:
    for path in (["log"], ["entry", "edit"]):
        rpe = option(running, path, "rpe")
        assert (rpe["type"], rpe["min_value"], rpe["max_value"]) == (4, 1, 10)  # 4: INTEGER
        assert not rpe.get("required")
    [log] = [c for c in running.emulator.commands if c["name"] == "log"]
    assert [(o["name"], bool(o.get("required"))) for o in log["options"]] == [
        ("kind", True),
        ("amount", True),
        ("note", False),
        ("date", False),
        ("rpe", False),
    ]


async def test_a_rating_is_stored_and_shown_on_both_paths_of_log(running: Sandbox, alice: Actor) -> None:
    # The first /log of a member in this process takes the slow path; the next ones the one-statement
    # fast path (services/training.py). Both carry the rating.
    first = await alice.run("log", kind="backward", amount="400m", rpe=6)
    assert not first.ephemeral
    assert "How hard it felt: RPE 6/10" in first.text()
    second = await alice.run("log", kind="backpedal", amount="200m", rpe=9)
    assert "How hard it felt: RPE 9/10" in second.text()
    unrated = await alice.run("log", kind="forward", amount="1 km")
    assert "RPE" not in unrated.text()
    assert await stored_rpes(running) == [6, 9, None]
    shown = await history(alice)
    assert "**400 m** backward run · RPE 6" in shown
    assert "**200 m** backpedal · RPE 9" in shown
    assert "**1 km** forward run" in shown and shown.count("RPE") == 2


@pytest.mark.parametrize("rpe", [0, 11, -3, 2**40])
async def test_a_rating_outside_1_to_10_is_refused_and_nothing_stored(
    running: Sandbox, alice: Actor, rpe: int
) -> None:
    with pytest.raises(ValueError, match="must be at"):
        await alice.run("log", kind="backward", amount="400m", rpe=rpe)  # Discord's client refuses
    for _ in range(2):  # on the slow path, and on the fast one once the member is known
        reply = await alice.run_raw("log", kind="backward", amount="400m", rpe=rpe)
        assert reply.ephemeral
        assert REFUSAL in reply.text()
    assert await stored_rpes(running) == []
    await alice.run("log", kind="backward", amount="300m")  # known now: the fast path refuses too
    reply = await alice.run_raw("log", kind="backward", amount="400m", rpe=rpe)
    assert reply.ephemeral and REFUSAL in reply.text()
    assert await stored_rpes(running) == [None]


async def test_entry_edit_sets_and_changes_a_rating_days_later(running: Sandbox, alice: Actor) -> None:
    entry = await logged(alice, "400m", date="2026-03-05", note="easy")
    reply = await alice.run("entry edit", id=entry, rpe=5)
    assert reply.ephemeral
    assert reply.text() == (
        f"Changed entry #{entry}:\n"
        f"before: #{entry} · 400 m backward run · 2026-03-05 — easy\n"
        f"after: #{entry} · 400 m backward run · 2026-03-05 · RPE 5 — easy"
    )
    # Another field alone keeps the rating; a new rating replaces it.
    await alice.run("entry edit", id=entry, amount="600m")
    assert await stored_rpes(running) == [5]
    reply = await alice.run("entry edit", id=entry, rpe=8)
    assert f"after: #{entry} · 600 m backward run · 2026-03-05 · RPE 8 — easy" in reply.text()
    assert "**600 m** backward run · RPE 8 — easy" in await history(alice)
    # Out of range from a client that ignores the declared range: refused, nothing changed.
    with pytest.raises(ValueError, match="must be at"):
        await alice.run("entry edit", id=entry, rpe=11)
    for bad in (0, 11):
        refused = await alice.run_raw("entry edit", id=entry, rpe=bad)
        assert refused.ephemeral and REFUSAL in refused.text()
    assert await stored_rpes(running) == [8]


async def ran(actor: Actor, day: date, kind: str, amount: str, rpe: int | None = None) -> None:
    options: dict[str, Any] = {"kind": kind, "amount": amount, "date": day.isoformat()}
    if rpe is not None:
        options["rpe"] = rpe
    reply = await actor.run("log", **options)
    assert re.search(r"\(entry #\d+\)", reply.text()), reply.text()


async def test_plan_shows_a_high_ratio_as_a_caution_not_a_day_off(running: Sandbox, alice: Actor) -> None:
    # 28 days of 1 km forward, unrated: 3 × 5.5 min = 16.5 a day. Then yesterday 1.5 km backward at
    # RPE 10: 10 × 10.5 min = 105 (under the 1.6 km mark, and no earlier backward session to spike
    # from). acute = 0.25·105 + 0.75·16.5 = 38.625; chronic = (2·105 + 27·16.5)/29 = 655.5/29;
    # ratio = 38.625·29/655.5 ≈ 1.709.
    for k in range(28, 0, -1):
        await ran(alice, YESTERDAY - timedelta(days=k), "forward", "1 km")
    await ran(alice, YESTERDAY, "backward", "1.5 km", rpe=10)
    reply = await alice.run("plan")
    text = reply.text()
    assert len(reply.content) <= 2000
    assert text.startswith("No day off needed: yesterday you ran 1.5 km backward")
    assert (
        "Caution: your acute:chronic load ratio is 1.71 (above 1.5): your last week was much harder "
        "than your last month. Not a reason for a day off on its own; build up gradually."
    ) in text
    assert "Vary it" not in text
    assert "Backward skipping" in text  # the usual, backward plan


async def test_plan_advises_variety_after_a_monotonous_backward_week(running: Sandbox, bob: Actor) -> None:
    # The same 1 km backward at RPE 5 every day for a week: 5 × 7 min = 35 a day, deviation 0:
    # monotony capped at 10, strain 245 × 10. Not heavy (under the mark, no jump), no ratio yet.
    for k in range(6, -1, -1):
        await ran(bob, YESTERDAY - timedelta(days=k), "backward", "1 km", rpe=5)
    text = (await bob.run("plan")).text()
    assert text.startswith("No day off needed")
    assert (
        "Vary it: your last 7 days were monotonous (monotony 10+, above 2; strain 2,450). Vary the "
        "backward drills or the load: an easier or shorter day between harder ones."
    ) in text
    assert "Caution" not in text
    # Rated differently on one day (/entry edit, days later): no longer monotonous.
    entries = re.findall(r"`#(\d+)`", await history(bob))
    await bob.run("entry edit", id=int(entries[-1]), rpe=1)  # the oldest: 1 × 7 = 7
    text = (await bob.run("plan")).text()
    # Loads 7 and six of 35: mean 31, deviation sqrt(96) ≈ 9.80, monotony ≈ 3.16, still above 2;
    # strain 217 × 3.16 ≈ 687.
    assert "(monotony 3.2, above 2; strain 687)" in text
    for entry in entries[-3:-1]:
        await bob.run("entry edit", id=int(entry), rpe=1)
    # Three days of 7 and four of 35: monotony 23 / sqrt(192) ≈ 1.66, not above 2.
    assert "Vary it" not in (await bob.run("plan")).text()
