"""``backrun-bot sandbox``: the console's line parser, and a whole session typed into it."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from backrun_bot.config import Settings
from backrun_bot.sandbox.console import parse_line, run_console

STRING, INTEGER, SUB_COMMAND = 3, 4, 1
DEFINITIONS: list[dict[str, Any]] = [
    {
        "name": "log",
        "options": [
            {"name": "kind", "type": STRING},
            {"name": "amount", "type": STRING},
            {"name": "note", "type": STRING},
        ],
    },
    {"name": "history", "options": [{"name": "limit", "type": INTEGER}]},
    {
        "name": "reminders",
        "options": [
            {"name": "set", "type": SUB_COMMAND, "options": [{"name": "warmup", "type": STRING}]},
            {"name": "show", "type": SUB_COMMAND},
        ],
    },
]


def test_positional_values_fill_the_options_in_order() -> None:
    invocation = parse_line("/log backward 400m", DEFINITIONS)
    assert invocation.command == "log"
    assert invocation.options == {"kind": "backward", "amount": "400m"}


def test_named_and_quoted_values_mix_with_positional_ones() -> None:
    invocation = parse_line('/log note:"after practice" backpedal "5 min"', DEFINITIONS)
    assert invocation.options == {"note": "after practice", "kind": "backpedal", "amount": "5 min"}


def test_subcommands_are_part_of_the_command() -> None:
    invocation = parse_line("/reminders set warmup:07:30", DEFINITIONS)
    assert invocation.command == "reminders set"
    assert invocation.options == {"warmup": "07:30"}


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("", "Type a command"),
        ("/jump 3", "No command /jump"),
        ("/reminders", "needs one of: set, show"),
        ("/history 5 6", "Too many values"),
        ('/log backward "400m', "Cannot read that line"),
    ],
)
def test_what_cannot_be_read_says_why(line: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_line(line, DEFINITIONS)


async def test_a_typed_session(tmp_path: Path) -> None:
    """The console starts the emulator and the real bot, and shows each answer as Discord would."""
    typed = "\n".join(
        [
            "/log backward 400m",
            "press Undo",
            "/log banana",
            "/reminders show",  # Manage Server only: Discord does not even offer it to alice
            "as bob",
            "/history member:alice",
            "as nobody",
            "quit",
            "/log backward 1km",  # after quit: never read
        ]
    )
    out = io.StringIO()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'sandbox.db'}",
        log_level="WARNING",
    )
    await run_console(settings, stdin=io.StringIO(typed + "\n"), stdout=out)
    text = out.getvalue()
    assert "Backrun (in #general):\n  **Alice** logged **400 m** backward run" in text
    assert "[Undo]" in text and "Undone" in text
    assert "Backrun (only you can see this):" in text  # the refused amount and the history
    assert "alice may not use /reminders" in text
    assert "bob> " in text
    assert "Members: coach, alice, bob" in text
    assert "1 km" not in text
