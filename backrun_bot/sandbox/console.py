"""``backrun-bot sandbox``: type slash commands as a team member and read the bot's answers.

The console drives the same emulator and driver as the tests, so what works here works there. Its
world is stable (the same server, channel and member ids every run), so the sandbox database kept
between runs still matches it. What the bot posts on its own (reminders) shows up as it arrives.

On a terminal, input is read with prompt_toolkit under ``patch_stdout``, so messages and log lines
are printed above the line being typed; otherwise (a pipe, a test) lines are read plainly and each
is echoed after its prompt, so a scripted session reads like a typed one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import shlex
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TextIO

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from backrun_bot.config import Settings
from backrun_bot.sandbox.display import Renderer
from backrun_bot.sandbox.driver import NoResponse, Reply, actor
from backrun_bot.sandbox.emulator import Channel, Guild, Message
from backrun_bot.sandbox.emulator import permissions as P
from backrun_bot.sandbox.harness import Sandbox, open_sandbox
from backrun_bot.storage.engine import create_engine, make_sessionmaker
from backrun_bot.storage.models import Team

SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER = 3, 4, 5, 6, 7, 8, 9, 10
GUILD_NAME = "Backrun Sandbox"
MEMBERS = ("coach", "alice", "bob")  # coach owns the server (so has Manage Server)
FIRST_MEMBER = "alice"
# Where attachments the bot sends (the /stats chart) are written, so a person can open them.
FILES_DIR = Path(tempfile.gettempdir()) / "backrun-sandbox"
# How far back in the channel `press` looks for a button.
RECENT_MESSAGES = 50

CONSOLE_HELP = """\
Console words:
  /COMMAND VALUE… name:value…  run a slash command as the current member. Values without a name
                               fill the required options in order, and the last required option
                               takes all the remaining words: /log backward 2 laps
                               Optional options need their name (quote values with spaces):
                               /log backward 400m date:yesterday note:"after practice"
  press LABEL                  press the newest button labelled LABEL that you can see: press Undo
  as NAME                      act as another member: coach (owns the server), alice, bob
  help                         this text (/help is the bot's own)
  quit                         leave (also: exit, or Ctrl-D)
What the bot posts on its own (reminders) appears as it arrives, in the channels you can see."""

_OPTION_NAME = re.compile(r"[a-z][a-z0-9_-]*")  # Discord option names are lower case
_DATE_WORD = re.compile(r"today|yesterday|\d{4}-\d{2}-\d{2}", re.IGNORECASE)


# -- reading a line ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Invocation:
    command: str  # "log", or "reminders set" for a subcommand
    options: dict[str, str]


def parse_line(line: str, definitions: Sequence[Mapping[str, Any]]) -> Invocation:
    """Turn ``/log backward 2 laps note:"easy"`` into a command path and named options.

    ``definitions`` are the application commands as the bot synced them. Values without a name
    fill only the *required* options, in their declared order, and the last of those takes all the
    remaining words (``2 laps``); an optional option must be named. Raises ValueError, with what to
    type instead, for anything that could be misread: an unknown option name, a value for an
    optional option without its name, or a date word trailing an amount (``400m yesterday``).
    """
    try:
        words = shlex.split(line.strip().removeprefix("/"))
    except ValueError as exc:
        raise ValueError(f"Cannot read that line: {exc}.") from None
    if not words:
        raise ValueError("Type a command, e.g. /log backward 400m")
    by_name = {d["name"]: d for d in definitions if d.get("type", 1) == 1}
    definition = by_name.get(words[0])
    if definition is None:
        known = ", ".join("/" + n for n in sorted(by_name)) or "none yet"
        raise ValueError(f"No command /{words[0]}. Commands: {known}")
    path = [words[0]]
    rest = words[1:]
    specs: list[Mapping[str, Any]] = definition.get("options") or []
    # Descend through subcommand groups and subcommands by name.
    while specs and specs[0].get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP):
        subs = {o["name"]: o for o in specs}
        if not rest or rest[0] not in subs:
            raise ValueError(f"/{' '.join(path)} needs one of: {', '.join(sorted(subs))}")
        path.append(rest[0])
        specs = subs[rest[0]].get("options") or []
        rest = rest[1:]
    where = "/" + " ".join(path)
    names = [o["name"] for o in specs]
    named: dict[str, str] = {}
    positional: list[str] = []
    for word in rest:
        name, sep, value = word.partition(":")
        if sep and name in names:
            if name in named:
                raise ValueError(f"{where}: {name} is given twice.")
            if not value:
                raise ValueError(f'{where}: {name}: needs a value after the colon, e.g. {name}:"…"')
            named[name] = value
        elif sep and _OPTION_NAME.fullmatch(name):
            raise ValueError(f"{where} has no option {name!r}. Usage: {usage(where, specs)}")
        else:
            positional.append(word)
    values = dict(named)
    required = [o["name"] for o in specs if o.get("required") and o["name"] not in named]
    if positional:
        if not required:
            raise ValueError(_name_them(where, specs, named, positional[0]))
        for name, word in zip(required[:-1], positional, strict=False):
            values[name] = word
        tail = positional[len(required) - 1 :]
        if tail:
            values[required[-1]] = " ".join(tail)
            _refuse_trailing_date(where, specs, named, positional, tail, required[-1])
    return Invocation(" ".join(path), values)


def usage(where: str, specs: Sequence[Mapping[str, Any]]) -> str:
    """``/log kind amount [note:…] [date:…]``: required options by place, optional ones by name."""
    parts = [o["name"] if o.get("required") else f"[{o['name']}:…]" for o in specs]
    return " ".join([where, *parts])


def _name_them(where: str, specs: Sequence[Mapping[str, Any]], named: Mapping[str, str], word: str) -> str:
    free = [o for o in specs if o["name"] not in named]
    if not free:
        return f"{where} takes no more values. Usage: {usage(where, specs)}"
    fitting = [o["name"] for o in free if _fits(o, word)]
    guess = fitting[0] if len(fitting) == 1 else free[0]["name"] if len(free) == 1 else None
    example = f", e.g. {guess}:{_quote(word)}" if guess else ""
    return (
        f"{where} has only optional options, and an optional option needs its name{example}. "
        f"Usage: {usage(where, specs)}"
    )


def _fits(spec: Mapping[str, Any], word: str) -> bool:
    """Whether ``word`` could only be meant for ``spec`` (used to suggest a name, never to fill one)."""
    choices = spec.get("choices") or []
    if choices:
        return any(
            word.casefold() in (str(c["name"]).casefold(), str(c["value"]).casefold()) for c in choices
        )
    kind = spec.get("type")
    if kind == INTEGER:
        return word.lstrip("-").isdigit()
    if kind == NUMBER:
        return bool(re.fullmatch(r"-?\d+(\.\d+)?", word))
    if kind == BOOLEAN:
        return word.lower() in ("true", "false", "yes", "no")
    if kind == CHANNEL:
        return word.startswith("#")
    if kind in (USER, ROLE, MENTIONABLE):
        return word.startswith("@")
    return False


def _quote(value: str) -> str:
    """``value`` as it would be typed: in double quotes if it holds spaces or quotes."""
    if not re.search(r"[\s\"'\\]", value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _refuse_trailing_date(
    where: str,
    specs: Sequence[Mapping[str, Any]],
    named: Mapping[str, str],
    positional: Sequence[str],
    tail: Sequence[str],
    filled: str,
) -> None:
    """``/log backward 400m yesterday``: the day is an optional option, so without its name it
    would become part of the amount; say how to write it rather than send it."""
    has_date = any(o["name"] == "date" and not o.get("required") for o in specs)
    if not has_date or "date" in named or len(tail) < 2 or not _DATE_WORD.fullmatch(tail[-1]):
        return
    day = tail[-1]
    suggestion = " ".join(
        [
            where,
            *(_quote(w) for w in positional[:-1]),
            *(f"{k}:{_quote(v)}" for k, v in named.items()),
            f"date:{day}",
        ]
    )
    raise ValueError(
        f"{day!r} reads as the day, but words without a name go into {filled}. Name the day: {suggestion}"
    )


# -- the screen --------------------------------------------------------------------------------------


class Screen:
    """Where the console writes, a block of lines at a time.

    ``stream=None`` writes to whatever ``sys.stdout`` is at that moment: under prompt_toolkit's
    ``patch_stdout`` that prints above the line being typed. With a plain stream, a block that
    arrives while a prompt waits for its line goes on a line of its own, then the prompt again.
    """

    def __init__(self, stream: TextIO | None, *, ansi: bool) -> None:
        self._stream = stream
        self.ansi = ansi
        self.pending_prompt: str | None = None

    def show(self, text: str) -> None:
        out = self._stream or sys.stdout
        if self.pending_prompt is not None:
            out.write("\n")
        out.write(text + "\n")
        if self.pending_prompt is not None:
            out.write(self.pending_prompt)
        out.flush()

    def prompt(self, text: str) -> None:
        out = self._stream or sys.stdout
        out.write(text)
        out.flush()
        self.pending_prompt = text


class Reader(Protocol):
    async def read(self, prompt: str) -> str | None:
        """The next line typed (``""`` for nothing), or None at the end of input."""


class PlainReader:
    """Lines from a pipe or a file: the prompt, then the line echoed, as if typed (a terminal
    echoes what is typed itself, so a line read from one is not echoed again)."""

    def __init__(self, stdin: TextIO, screen: Screen) -> None:
        self._stdin = stdin
        self._screen = screen
        self._echo = not stdin.isatty()

    async def read(self, prompt: str) -> str | None:
        self._screen.prompt(prompt)
        line = await asyncio.to_thread(self._stdin.readline)
        self._screen.pending_prompt = None
        if self._echo or not line:
            self._screen.show(line.rstrip("\n"))
        return line or None


class TerminalReader:
    """prompt_toolkit's line editor (history with the arrow keys); Ctrl-C clears the line."""

    def __init__(self) -> None:
        from prompt_toolkit import PromptSession  # noqa: PLC0415 - only needed on a terminal

        self._session: PromptSession[str] = PromptSession()

    async def read(self, prompt: str) -> str | None:
        try:
            return await self._session.prompt_async(prompt)
        except EOFError:
            return None
        except KeyboardInterrupt:
            return ""


class _ScreenLog(logging.Handler):
    """Log records as lines on the screen, so they never write over the prompt."""

    def __init__(self, screen: Screen, level: str) -> None:
        super().__init__(level)
        self._screen = screen
        self.setFormatter(logging.Formatter("[%(levelname)s] %(name)s: %(message)s"))

    def filter(self, record: logging.LogRecord) -> bool:
        # The sandbox's bot is down whenever the console is closed, so a reminder missed meanwhile
        # is no news: the "skipped ... reminder" warning of the catch-up is shown at INFO only.
        if str(record.msg).startswith("skipped ") and record.name.startswith("backrun_bot."):
            return self.level <= logging.INFO
        return super().filter(record)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._screen.show(self.format(record))
        except Exception:
            self.handleError(record)


@contextlib.contextmanager
def _logging_to(screen: Screen, level: str) -> Iterator[None]:
    """Show the log on the screen at ``level`` for the session (``backrun-bot sandbox`` adds no
    other handler, so nothing else writes to the terminal)."""
    root = logging.getLogger()
    saved_level = root.level
    handler = _ScreenLog(screen, level)
    root.addHandler(handler)
    root.setLevel(min(root.getEffectiveLevel(), logging.getLevelNamesMapping()[level]))
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(saved_level)


# -- the console -------------------------------------------------------------------------------------


class Console:
    """One session: the members, who is acting, and what has been shown."""

    def __init__(self, box: Sandbox, guild: Guild, screen: Screen) -> None:
        self.box = box
        self.guild = guild
        self.screen = screen
        self.emulator = box.emulator
        self.actors = {name: actor(box.emulator, guild, name) for name in MEMBERS}
        self.current = FIRST_MEMBER
        self.render = Renderer(box.emulator.world, ansi=screen.ansi)
        self._shown: set[int] = set()
        # Interactions whose reply has been printed: their later follow-ups print as they arrive.
        self._answered: set[int] = set()

    async def loop(self, reader: Reader) -> None:
        while (line := await reader.read(f"{self.current}> ")) is not None:
            line = line.strip()
            if not line:
                continue
            word, _, arg = line.partition(" ")
            if word in ("quit", "exit"):
                break
            try:
                await self.handle(word, arg.strip(), line)
            except (ValueError, TypeError, PermissionError, NoResponse) as exc:
                # What Discord's client would not send, or the bot not answering.
                self.screen.show(f"  {exc}")

    async def handle(self, word: str, arg: str, line: str) -> None:
        if word == "help":
            self.screen.show(CONSOLE_HELP)
        elif word == "as":
            if arg not in self.actors:
                raise ValueError(f"Members: {', '.join(MEMBERS)}")
            self.current = arg
        elif word == "press":
            if not arg:
                raise ValueError("Press which button? e.g. press Undo")
            message = self.newest_button(arg)
            label = self._label(message, arg) or arg
            self.show_reply(await self.actors[self.current].press(Reply.of(message), label))
        elif line.startswith("/") or word in {c["name"] for c in self.emulator.commands}:
            invocation = parse_line(line, self.emulator.commands)
            # The values go as text, as typed in Discord's client; the driver reads them as such.
            self.show_reply(await self.actors[self.current].run(invocation.command, **invocation.options))
        else:
            raise ValueError(f"What is {word!r}? Type help for the console's words, /help for the bot's.")

    # -- buttons ----------------------------------------------------------------------------------
    def newest_button(self, label: str) -> Message:
        """The newest message the current member can see in their channel (the channel's recent
        messages and their own ephemeral replies) with a button labelled ``label``."""
        who = self.actors[self.current]
        channel = who.channel
        public = self.emulator.messages(channel.id)[-RECENT_MESSAGES:]
        own = [
            m
            for m in self.emulator.world.messages.values()
            if m.ephemeral
            and not m.deleted
            and m.channel_id == channel.id
            and (m.interaction or {}).get("user", {}).get("id") == str(who.user_id)
        ]
        for message in sorted([*public, *own], key=lambda m: m.id, reverse=True):
            if not message.loading and self._label(message, label) is not None:
                return message
        raise ValueError(f"No [{label}] button that {self.current} can see in #{channel.name}.")

    @staticmethod
    def _label(message: Message, label: str) -> str | None:
        """The label of ``message``'s button called ``label`` (exactly, else in any case)."""
        labels = [str(b["label"]) for b in Reply.of(message).buttons() if b.get("label")]
        if label in labels:
            return label
        return next((x for x in labels if x.casefold() == label.casefold()), None)

    # -- showing ----------------------------------------------------------------------------------
    def show_reply(self, reply: Reply) -> None:
        """The bot's answer to what the member just did, then any follow-ups already sent."""
        if reply.modal is not None:
            title = reply.modal.get("title", "")
            self.screen.show(f"Backrun opened a form {title!r}; the console cannot fill in forms.")
            return
        message = self.emulator.world.messages.get(reply.id)
        if message is not None:
            self._show(message)
            if message.interaction is not None:
                self._answered.add(int(message.interaction["id"]))
        for followup in reply.followups:
            if followup.id not in self._shown:
                self._show(self.emulator.world.messages[followup.id])

    def on_message(self, message: Message, created: bool) -> None:
        """The emulator's hook: print what the bot posts on its own (a reminder) and late follow-ups.

        A reply to the member's own command is printed by :meth:`show_reply` once the command has
        its answer, so it is skipped here (its interaction is not answered yet).
        """
        if not created or message.loading or message.id in self._shown:
            return
        if message.author.id != self.emulator.bot_user_id:
            return
        metadata = message.interaction
        if metadata is not None:
            if int(metadata["id"]) not in self._answered:
                return
            if message.ephemeral and metadata["user"]["id"] != str(self.actors[self.current].user_id):
                return
        elif message.ephemeral:
            return
        channel = self.emulator.world.channels.get(message.channel_id)
        if channel is not None and self._can_see(channel):
            self._show(message)

    def _can_see(self, channel: Channel) -> bool:
        member = self.actors[self.current].member
        return not channel.deleted and bool(channel.guild.permissions_in(member, channel) & P.VIEW_CHANNEL)

    def _show(self, message: Message) -> None:
        self._shown.add(message.id)
        if message.ephemeral:
            header = "Backrun (only you can see this):"
        else:
            header = f"Backrun in #{self.render.channel_name(message.channel_id)}:"
        lines = self.render.message(message.content, message.embeds, message.components, message.attachments)
        lines += [self._saved(attachment) for attachment in message.attachments]
        self.screen.show("\n".join([header, *(f"  {line}" if line else "" for line in lines)]))

    def _saved(self, attachment: dict[str, Any]) -> str:
        """Write an attachment (a chart) where a person can open it; the line that says where."""
        data = self.emulator.world.files.get(int(attachment["id"]), b"")
        name = Path(str(attachment["filename"])).name
        path = FILES_DIR / f"{attachment['id']}-{name}"
        try:
            FILES_DIR.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        except OSError as error:
            return f"(file {name}: could not be saved: {error.strerror})"
        return f"(file {name}, saved as {path})"


async def _other_teams(database_url: str, guild_id: int) -> int:
    """How many servers the database holds besides the sandbox's: those of sandbox runs from
    before its ids were stable, which no console can reach (0 for a new database)."""
    engine = create_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as s:
            return int(await s.scalar(select(func.count()).select_from(Team).where(Team.id != guild_id)) or 0)
    except SQLAlchemyError:  # no tables yet: the bot migrates it on start
        return 0
    finally:
        await engine.dispose()


def _where(database_url: str) -> str:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return url.database or "memory"
    return url.render_as_string(hide_password=True)


async def run_console(settings: Settings, stdin: TextIO | None = None, stdout: TextIO | None = None) -> None:
    """Start the emulator and the bot, then read commands until ``quit`` or end of input.

    On a terminal (both ``stdin`` and ``stdout``) the line editor is used and text is styled; else
    lines are read plainly and the text is plain. The log goes to the same screen, at
    ``settings.log_level``.
    """
    stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
    interactive = stdin.isatty() and stdout.isatty()
    screen = Screen(None if interactive else stdout, ansi=interactive)
    with contextlib.ExitStack() as stack:
        if interactive:
            from prompt_toolkit.patch_stdout import patch_stdout  # noqa: PLC0415

            stack.enter_context(patch_stdout(raw=True))  # raw: let the ANSI styles through
        stack.enter_context(_logging_to(screen, settings.log_level))
        async with open_sandbox(
            settings.database_url, start_bot=False, log_level=settings.log_level, stable_ids=True
        ) as box:
            guild = box.emulator.add_guild(GUILD_NAME, owner_name=MEMBERS[0])
            for name in MEMBERS[1:]:
                guild.add_member(name)
            console = Console(box, guild, screen)
            stop_listening = box.emulator.on_message(console.on_message)
            try:
                others = await _other_teams(settings.database_url, guild.id)
                if others:
                    screen.show(
                        f"Note: {_where(settings.database_url)} also holds {others} server"
                        f"{'s' if others > 1 else ''} from sandbox runs before the sandbox kept its ids; "
                        "no console reaches them now (if their reminders were on, the bot pauses them "
                        "with a warning). --fresh starts with an empty database."
                    )
                await box.start_bot()
                screen.show(
                    f"Backrun sandbox: server '{guild.name}' with #general; members coach (owner), "
                    f"alice, bob; data in {_where(settings.database_url)} (kept between runs; "
                    "--fresh starts anew). Type help."
                )
                reader: Reader = TerminalReader() if interactive else PlainReader(stdin, screen)
                await console.loop(reader)
            finally:
                stop_listening()
