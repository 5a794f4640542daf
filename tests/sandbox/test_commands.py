"""Global application commands as Discord keeps them: a command written again by name keeps its id,
and one command can be created, edited, read and deleted by id."""

from __future__ import annotations

from backrun_bot.sandbox.emulator import DiscordEmulator
from tests.sandbox.conftest import api


async def test_a_bulk_overwrite_keeps_the_ids_of_commands_it_names_again(emulator: DiscordEmulator) -> None:
    path = f"/applications/{emulator.application_id}/commands"
    log, undo, stats = ({"name": name, "description": name.title()} for name in ("log", "undo", "stats"))
    status, first = await api(emulator, "PUT", path, [log, undo])
    assert status == 200 and [c["name"] for c in first] == ["log", "undo"]
    status, second = await api(emulator, "PUT", path, [{**undo, "description": "Undo it"}, stats])
    assert status == 200 and [c["name"] for c in second] == ["undo", "stats"]
    undo_before, undo_after = first[1], second[0]
    assert undo_after["id"] == undo_before["id"] and undo_after["version"] != undo_before["version"]
    assert undo_after["description"] == "Undo it"
    assert second[1]["id"] not in {c["id"] for c in first}
    assert emulator.commands == second and await api(emulator, "GET", path) == (200, second)
    assert emulator.command_sync_count == 2
    assert emulator.violations == []


async def test_one_command_is_created_overwritten_edited_and_deleted(emulator: DiscordEmulator) -> None:
    path = f"/applications/{emulator.application_id}/commands"
    status, created = await api(emulator, "POST", path, {"name": "log", "description": "Log"})
    assert status == 201 and created["description"] == "Log"
    status, again = await api(emulator, "POST", path, {"name": "log", "description": "Log a run"})
    assert status == 200 and again["id"] == created["id"] and again["description"] == "Log a run"
    assert [c["id"] for c in emulator.commands] == [created["id"]]

    one = f"{path}/{created['id']}"
    status, edited = await api(emulator, "PATCH", one, {"description": "Edited"})
    assert status == 200 and (edited["id"], edited["name"], edited["description"]) == (
        created["id"],
        "log",
        "Edited",
    )
    assert await api(emulator, "GET", one) == (200, edited)
    assert emulator.command_sync_count == 3

    assert await api(emulator, "DELETE", one) == (204, None)
    assert emulator.commands == []
    for method in ("GET", "PATCH", "DELETE"):
        status, error = await api(emulator, method, one, {} if method == "PATCH" else None)
        assert (status, error["code"]) == (404, 10063), method
    assert emulator.violations == []
