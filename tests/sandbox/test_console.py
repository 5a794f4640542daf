"""``backrun-bot sandbox``: the console's line parser, and sessions typed into it with the real bot.

Sessions are driven through the plain reader (stdin a StringIO, or a pipe the test writes to while
the console runs), as ``printf '...' | backrun-bot sandbox`` would.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from sqlalchemy import func, select

from backrun_bot import cli
from backrun_bot.config import Settings
from backrun_bot.sandbox.console import FILES_DIR, GUILD_NAME, Console, Screen, parse_line, run_console
from backrun_bot.sandbox.emulator import Channel, DiscordEmulator, Guild, Message
from backrun_bot.sandbox.emulator import permissions as P
from backrun_bot.sandbox.harness import Sandbox, open_sandbox
from backrun_bot.services.common import utc_now
from backrun_bot.storage.engine import create_engine, make_sessionmaker
from backrun_bot.storage.models import ReminderDelivery

STRING, INTEGER, SUB_COMMAND, USER, CHANNEL = 3, 4, 1, 6, 7
EPHEMERAL = 1 << 6
DEFINITIONS: list[dict[str, Any]] = [
    {
        "name": "log",
        "options": [
            {"name": "kind", "type": STRING, "required": True},
            {"name": "amount", "type": STRING, "required": True},
            {"name": "note", "type": STRING},
            {"name": "date", "type": STRING},
        ],
    },
    {"name": "history", "options": [{"name": "member", "type": USER}, {"name": "limit", "type": INTEGER}]},
    {
        "name": "reminders",
        "options": [
            {
                "name": "set",
                "type": SUB_COMMAND,
                "options": [{"name": "channel", "type": CHANNEL}, {"name": "warmup", "type": STRING}],
            },
            {"name": "show", "type": SUB_COMMAND},
        ],
    },
]


# -- the parser ----------------------------------------------------------------------------------------


def test_positional_values_fill_the_required_options_in_order() -> None:
    invocation = parse_line("/log backward 400m", DEFINITIONS)
    assert invocation.command == "log"
    assert invocation.options == {"kind": "backward", "amount": "400m"}


@pytest.mark.parametrize(
    ("line", "amount"),
    [
        ("/log backward 2 laps", "2 laps"),
        ("/log backward 400 meters", "400 meters"),
        ("/log backward 5 min", "5 min"),
    ],
)
def test_the_last_required_option_takes_the_remaining_words(line: str, amount: str) -> None:
    assert parse_line(line, DEFINITIONS).options == {"kind": "backward", "amount": amount}


def test_a_word_after_the_amount_is_part_of_the_amount_never_a_note() -> None:
    # The bot then refuses "400m easy" as an amount; the note is never filled by position.
    assert parse_line("/log backward 400m easy", DEFINITIONS).options == {
        "kind": "backward",
        "amount": "400m easy",
    }


@pytest.mark.parametrize("day", ["yesterday", "today", "Yesterday", "2026-03-07"])
def test_a_trailing_date_word_is_refused_with_the_date_option_to_use(day: str) -> None:
    with pytest.raises(ValueError, match=f"Name the day: /log backward 400m date:{day}$"):
        parse_line(f"/log backward 400m {day}", DEFINITIONS)


def test_the_suggestion_keeps_the_other_values() -> None:
    with pytest.raises(ValueError, match="Name the day: /log backward 400 m note:easy date:yesterday"):
        parse_line("/log backward 400 m yesterday note:easy", DEFINITIONS)


def test_optional_options_are_filled_by_name() -> None:
    invocation = parse_line('/log note:"after practice" backpedal "5 min" date:yesterday', DEFINITIONS)
    assert invocation.options == {
        "note": "after practice",
        "kind": "backpedal",
        "amount": "5 min",
        "date": "yesterday",
    }


def test_required_options_can_be_named_too() -> None:
    invocation = parse_line("/log amount:400m backward", DEFINITIONS)
    assert invocation.options == {"amount": "400m", "kind": "backward"}


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("/history 5", "needs its name, e.g. limit:5"),
        ("/history @bob", "needs its name, e.g. member:@bob"),
        ("/reminders set #general", "e.g. channel:#general"),
    ],
)
def test_a_value_without_a_name_for_an_optional_option_is_refused(line: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_line(line, DEFINITIONS)


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
        ('/log backward "400m', "Cannot read that line"),
        (
            "/log backward 400m notes:easy",
            r"no option 'notes'\. Usage: /log kind amount \[note:…\] \[date:…\]",
        ),
        ("/log backward 400m note:a note:b", "note is given twice"),
        ("/log backward 400m note:", "needs a value"),
    ],
)
def test_what_cannot_be_read_says_why(line: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_line(line, DEFINITIONS)


# -- sessions with the real bot --------------------------------------------------------------------------


def sandbox_settings(db: Path, log_level: str = "WARNING") -> Settings:
    return Settings(
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{db}",
        log_level=log_level,
    )


async def typed(settings: Settings, *lines: str) -> str:
    """Run a whole session from ``lines`` and return what the console printed."""
    out = io.StringIO()
    await run_console(settings, stdin=io.StringIO("\n".join(lines) + "\n"), stdout=out)
    return out.getvalue()


class PipedSession:
    """The console reading a pipe the test writes to while it runs, so a test can wait in between."""

    def __init__(self, settings: Settings) -> None:
        read_end, self._write_end = os.pipe()
        self._stdin = os.fdopen(read_end, "r")
        self._out = io.StringIO()
        self._settings = settings
        self._task: asyncio.Task[None] | None = None

    @property
    def output(self) -> str:
        return self._out.getvalue()

    async def __aenter__(self) -> PipedSession:
        self._task = asyncio.create_task(run_console(self._settings, stdin=self._stdin, stdout=self._out))
        await self.wait_for("Type help.")
        return self

    def type(self, *lines: str) -> None:
        os.write(self._write_end, "".join(f"{line}\n" for line in lines).encode())

    async def wait_for(self, text: str, *, count: int = 1, timeout: float = 15) -> None:
        assert self._task is not None
        async with asyncio.timeout(timeout):
            while self.output.count(text) < count:
                if self._task.done():
                    self._task.result()
                    raise AssertionError(f"the console ended without {text!r}:\n{self.output}")
                await asyncio.sleep(0.02)

    async def __aexit__(self, *exc: object) -> None:
        self.type("quit")
        os.close(self._write_end)
        assert self._task is not None
        await asyncio.wait_for(self._task, 30)
        self._stdin.close()


async def test_a_typed_session(tmp_path: Path) -> None:
    """The console starts the emulator and the real bot, and shows each answer as Discord would."""
    text = await typed(
        sandbox_settings(tmp_path / "sandbox.db"),
        "/log backward 400m yesterday",  # refused by the console: never an amount, never a note
        "/log backward 2 laps",
        "press Undo",
        "/log banana",
        "/reminders show",  # Manage Server only: Discord does not even offer it to alice
        "as bob",
        "/history member:alice",
        "as nobody",
        "quit",
        "/log backward 1km",  # after quit: never read
    )
    assert "Name the day: /log backward 400m date:yesterday" in text
    assert "alice> /log backward 2 laps\nBackrun in #general:\n  Alice logged 800 m backward run" in text
    assert "[Undo]" in text and "Undone: #1" in text
    assert "Backrun (only you can see this):" in text  # the refused kind and the history
    assert "alice may not use /reminders" in text
    assert "bob> /history member:alice\nBackrun (only you can see this):\n  ┃ History — Alice" in text
    assert "No entries yet" in text  # the refused line stored nothing
    assert "Members: coach, alice, bob" in text
    assert "1 km" not in text


async def test_stats_shows_its_chart_saved_where_it_can_be_opened(tmp_path: Path) -> None:
    text = await typed(sandbox_settings(tmp_path / "sandbox.db"), "/log backward 400m", "/stats", "quit")
    assert "┃ [picture 800×400]" in text
    saved = text.split("(file chart.png, saved as ")[1].split(")")[0]
    assert Path(saved).parent == FILES_DIR
    assert (await asyncio.to_thread(Path(saved).read_bytes)).startswith(b"\x89PNG")


class TypedAtATerminal(io.StringIO):
    """Input from a terminal, which shows what is typed itself; the output is not a terminal."""

    def isatty(self) -> bool:
        return True


async def test_lines_are_echoed_only_when_no_terminal_shows_them(tmp_path: Path) -> None:
    out = io.StringIO()
    await run_console(
        sandbox_settings(tmp_path / "sandbox.db"), TypedAtATerminal("/log backward 400m\n"), out
    )
    assert "alice> Backrun in #general:\n  Alice logged 400 m" in out.getvalue()
    assert "/log backward" not in out.getvalue()


async def test_every_word_help_lists_is_understood(tmp_path: Path) -> None:
    text = await typed(
        sandbox_settings(tmp_path / "sandbox.db"),
        "help",
        "as bob",
        "press Undo",
        "/help",
        "log backward 400m",  # the slash may be left out
        "dance",
        "exit",
        "/log backward 1km",
    )
    listed = text.split("Console words:\n")[1].split("\nWhat the bot posts")[0]
    words = [line.split()[0] for line in listed.splitlines() if not line.startswith("    ")]
    assert words == ["/COMMAND", "press", "as", "help", "quit"]  # each typed here
    assert "also: exit" in listed
    assert "No [Undo] button that bob can see in #general" in text
    assert "┃ Backrun — backward running, every day" in text  # /help's embed
    assert "Bob logged 400 m" in text
    assert "What is 'dance'? Type help" in text
    assert "1 km" not in text  # exit left


async def test_press_presses_the_newest_button_of_that_label(tmp_path: Path) -> None:
    text = await typed(
        sandbox_settings(tmp_path / "sandbox.db"),
        "/log backward 400m",
        "/log backward 2 laps",
        "/history",  # the last reply has no button
        "press undo",  # any case
        "press Undo",
        "press Undo",
    )
    second, first = text.index("Undone: #2 · 800 m"), text.index("Undone: #1 · 400 m")
    assert second < first
    assert text.endswith("No [Undo] button that alice can see in #general.\nalice> \n")


def console_without_a_bot(out: io.StringIO | None = None) -> tuple[Console, Guild]:
    """A console over a world of its own, for what needs no bot: messages are made by the test."""
    emulator = DiscordEmulator()
    guild = emulator.add_guild(GUILD_NAME, owner_name="coach")
    guild.add_member("alice")
    guild.add_member("bob")
    box = Sandbox(emulator=emulator, settings=Settings(_env_file=None), clock=utc_now)
    return Console(box, guild, Screen(out or io.StringIO(), ansi=False)), guild


def test_the_bots_posts_show_only_in_channels_the_member_can_see() -> None:
    out = io.StringIO()
    console, guild = console_without_a_bot(out)
    staff = guild.add_channel("staff")
    staff.overwrites.append(P.Overwrite(guild.id, P.ROLE_OVERWRITE, deny=P.VIEW_CHANNEL))  # owner only

    def post(channel: Channel, text: str) -> None:
        message = Message(
            id=console.emulator.world.snowflakes.next(),
            channel_id=channel.id,
            guild_id=guild.id,
            author=console.emulator.world.bot_user,
            content=text,
        )
        console.emulator.world.store_message(message)
        console.on_message(message, True)

    post(staff, "for the staff")
    post(guild.channels["general"], "for everyone")
    console.current = "coach"
    post(staff, "coach sees this")
    assert out.getvalue() == ("Backrun in #general:\n  for everyone\nBackrun in #staff:\n  coach sees this\n")


def test_press_sees_the_members_own_ephemeral_replies_and_nobody_elses() -> None:
    console, guild = console_without_a_bot()
    emulator = console.emulator
    general = guild.channels["general"]

    def post(label: str, *, only_for: str | None = None) -> Message:
        member = guild.member_named(only_for) if only_for else None
        row = {"type": 1, "components": [{"type": 2, "style": 2, "label": label, "custom_id": label}]}
        message = Message(
            id=emulator.world.snowflakes.next(),
            channel_id=general.id,
            guild_id=guild.id,
            author=emulator.world.bot_user,
            components=[row],
            flags=EPHEMERAL if member else 0,
            interaction=None if member is None else {"id": "1", "type": 2, "user": member.user.to_json()},
        )
        emulator.world.store_message(message)
        return message

    older, newer = post("Undo"), post("Undo")
    own = post("Keep", only_for="alice")
    post("Undo", only_for="bob")
    assert console.newest_button("Undo") is newer and older is not newer
    assert console.newest_button("Keep") is own
    console.current = "bob"
    with pytest.raises(ValueError, match="No \\[Keep\\] button that bob can see"):
        console.newest_button("Keep")


@pytest.fixture
def monday_morning() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(datetime(2026, 3, 9, 6, 59, 0, tzinfo=UTC), tick=True) as traveller:
        yield traveller


async def test_a_reminder_the_bot_posts_appears_as_it_arrives_and_nothing_twice(
    tmp_path: Path, monday_morning: time_machine.Traveller
) -> None:
    async with PipedSession(sandbox_settings(tmp_path / "sandbox.db")) as console:
        console.type("/log backward 400m")
        await console.wait_for("Alice logged")
        # Three seconds before the default 07:00 warmup: the scheduler arms it for then.
        monday_morning.move_to(datetime(2026, 3, 9, 6, 59, 57, tzinfo=UTC))
        console.type("as coach", "/reminders set channel:general")
        await console.wait_for("Saved.")
        await console.wait_for("Warmup — Mon 9 Mar")
        console.type("/history")
        await console.wait_for("History — Coach")
    text = console.output
    assert "\nBackrun in #general:\n  Warmup — Mon 9 Mar\n" in text
    assert text.count("Warmup — Mon 9 Mar") == 1
    assert text.count("Alice logged") == 1  # the reply, printed as a reply only
    assert text.count("Saved.") == 1


async def test_the_readmes_walkthrough_shows_a_test_warmup_with_a_day_off(tmp_path: Path) -> None:
    with time_machine.travel(datetime(2026, 3, 9, 10, 0, tzinfo=UTC), tick=True):
        text = await typed(
            sandbox_settings(tmp_path / "sandbox.db"),
            "/log backward 2000m date:yesterday",
            "as coach",
            "/reminders set channel:general",
            "/reminders test slot:warmup",
        )
    posted = text.split("coach> /reminders test slot:warmup\n")[1]
    assert posted.startswith("Backrun in #general:\n")  # the post, as it arrived
    warmup, reply = posted.split("Backrun (only you can see this):\n")
    assert "Warmup — Mon 9 Mar" in warmup
    assert "Day off from backward work today" in warmup
    assert "• Alice: 2 km of backward running" in warmup
    assert "Posted a test warmup in #general" in reply
    assert text.count("Warmup — Mon 9 Mar") == 1


async def test_the_world_and_its_data_are_the_same_in_the_next_run(tmp_path: Path) -> None:
    settings = sandbox_settings(tmp_path / "sandbox.db")
    await typed(settings, "/log backward 400m", "as coach", "/reminders set channel:general")
    text = await typed(settings, "/history", "as coach", "/reminders show")
    assert "#1 " in text and "400 m backward run" in text  # yesterday's entry, the same alice
    assert "Reminders: on\n  Channel: #general" in text  # the same server, the same channel
    assert "also holds" not in text  # the sandbox's own server is not pointed out


async def test_servers_left_from_runs_with_random_ids_are_pointed_out(tmp_path: Path) -> None:
    settings = sandbox_settings(tmp_path / "sandbox.db")
    async with open_sandbox(settings.database_url, start_bot=False) as box:  # random ids, as before
        guild = box.emulator.add_guild(GUILD_NAME, owner_name="coach")
        await box.start_bot()
        await box.actor(guild, "alice").run("log", kind="backward", amount="400m")
    text = await typed(settings, "/history")
    assert "also holds 1 server from sandbox runs before the sandbox kept its ids" in text
    assert "--fresh starts with an empty database" in text
    assert "No entries yet" in text


async def test_the_log_is_shown_on_the_console(tmp_path: Path) -> None:
    text = await typed(sandbox_settings(tmp_path / "sandbox.db", log_level="INFO"), "/log backward 400m")
    assert "[INFO] backrun_bot.discord_app.bot: synced" in text


async def test_reminders_missed_while_the_sandbox_was_closed_warn_nobody(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = sandbox_settings(tmp_path / "sandbox.db")
    with time_machine.travel(datetime(2026, 3, 9, 6, 0, tzinfo=UTC), tick=True):
        await typed(settings, "as coach", "/reminders set channel:general")
    # The next day at noon: Monday's cooldown and Tuesday's warmup are past the grace window.
    with time_machine.travel(datetime(2026, 3, 10, 12, 0, tzinfo=UTC), tick=True):
        caplog.set_level(logging.WARNING)
        async with PipedSession(settings) as console:
            async with asyncio.timeout(15):
                while await skipped(settings) < 2:
                    await asyncio.sleep(0.05)
    assert any(r.getMessage().startswith("skipped ") for r in caplog.records)  # the bot did warn
    assert "skipped" not in console.output and "WARNING" not in console.output


async def skipped(settings: Settings) -> int:
    engine = create_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as s:
            query = (
                select(func.count()).select_from(ReminderDelivery).where(ReminderDelivery.status == "skipped")
            )
            return int(await s.scalar(query) or 0)
    finally:
        await engine.dispose()


# -- backrun-bot sandbox --fresh ---------------------------------------------------------------------------


def test_fresh_deletes_the_sandbox_database_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no developer's .env
    database = f"sqlite+aiosqlite:///{tmp_path / 'sandbox.db'}"

    def run(*args: str, typed: str) -> str:
        monkeypatch.setattr("sys.stdin", io.StringIO(typed))
        assert cli.main(["sandbox", "--database", database, *args]) == 0
        return capsys.readouterr().out

    run(typed="/log backward 400m\n")
    assert "400 m backward run" in run(typed="/history\n")  # kept between runs
    fresh = run("--fresh", typed="/history\n")
    assert f"Starting afresh: deleted the sandbox database {tmp_path / 'sandbox.db'}." in fresh
    assert "No entries yet" in fresh
