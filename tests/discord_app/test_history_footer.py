"""/history's footer points to /undo only on your own history: /undo never removes a teammate's entry."""

from __future__ import annotations

from backrun_bot.sandbox.driver import Actor, Reply


def footer(reply: Reply) -> str:
    [embed] = reply.embeds
    return str(embed["footer"]["text"])


async def test_undo_is_offered_on_your_own_history_only(alice: Actor, bob: Actor) -> None:
    await alice.run("log", kind="backward", amount="400m")
    own = await alice.run("history")
    assert footer(own) == "Newest 1 · /undo removes your latest"
    # Naming yourself is still your own history.
    assert "/undo" in footer(await alice.run("history", member=alice))

    teammate = await bob.run("history", member=alice)
    assert "400 m" in teammate.text()
    assert footer(teammate) == "Newest 1"
