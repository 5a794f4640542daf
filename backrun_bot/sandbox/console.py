"""``backrun-bot sandbox``: type slash commands as a team member and read the bot's answers.

The console drives the same emulator and driver as the tests, so what works here works there.
"""

from __future__ import annotations

import asyncio
import shlex
import sys
from dataclasses import dataclass
from typing import Any, TextIO

from backrun_bot.config import Settings
from backrun_bot.sandbox.driver import NoResponse, Reply, actor
from backrun_bot.sandbox.harness import open_sandbox

SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
MEMBERS = ("coach", "alice", "bob")

CONSOLE_HELP = """\
  /log backward 400m                 options in declaration order…
  /log kind:backpedal amount:"5 min"  …or as name:value (quote values with spaces)
  press Undo                         press a button on the last reply
  as bob                             act as another member (coach, alice, bob)
  help                               this text; /help is the bot's own
  quit                               leave"""


@dataclass(frozen=True)
class Invocation:
    command: str  # "log", or "reminders set" for a subcommand
    options: dict[str, str]


def parse_line(line: str, definitions: list[dict[str, Any]]) -> Invocation:
    """Turn ``/log backward 400m note:"easy"`` into a command path and named options.

    ``definitions`` are the application commands as the bot synced them; positional values fill
    the options in their declared order. Raises ValueError with a message for the person typing.
    """
    try:
        words = shlex.split(line.strip().removeprefix("/"))
    except ValueError as exc:
        raise ValueError(f"Cannot read that line: {exc}.") from None
    if not words:
        raise ValueError("Type a command, e.g. /log backward 400m")
    by_name = {d["name"]: d for d in definitions}
    definition = by_name.get(words[0])
    if definition is None:
        raise ValueError(f"No command /{words[0]}. Commands: {', '.join('/' + n for n in sorted(by_name))}")
    path = [words[0]]
    rest = words[1:]
    options: list[dict[str, Any]] = definition.get("options") or []
    # Descend through subcommand groups and subcommands by name.
    while options and options[0].get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP):
        subs = {o["name"]: o for o in options}
        if not rest or rest[0] not in subs:
            raise ValueError(f"/{' '.join(path)} needs one of: {', '.join(sorted(subs))}")
        path.append(rest[0])
        options = subs[rest[0]].get("options") or []
        rest = rest[1:]
    names = [o["name"] for o in options]
    values: dict[str, str] = {}
    positional = iter(names)
    for word in rest:
        name, sep, value = word.partition(":")
        if sep and name in names:
            values[name] = value
            continue
        for name in positional:
            if name not in values:
                values[name] = word
                break
        else:
            raise ValueError(f"Too many values for /{' '.join(path)}; its options are: {', '.join(names)}")
    return Invocation(" ".join(path), values)


def render(reply: Reply) -> str:
    who = "only you can see this" if reply.ephemeral else "in #general"
    lines = [f"Backrun ({who}):"]
    lines += [f"  {line}" for line in reply.text().splitlines()]
    if reply.buttons():
        lines.append("  " + " ".join(f"[{b.get('label')}]" for b in reply.buttons()))
    return "\n".join(lines)


async def _read(prompt: str, stdin: TextIO, stdout: TextIO) -> str | None:
    def read() -> str | None:
        print(prompt, end="", file=stdout, flush=True)
        line = stdin.readline()
        return line if line else None

    return await asyncio.to_thread(read)


async def run_console(settings: Settings, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> None:
    """Start the emulator and the bot, then read commands until ``quit`` or end of input."""
    async with open_sandbox(settings.database_url, start_bot=False, log_level=settings.log_level) as box:
        guild = box.emulator.add_guild("Backrun Sandbox", owner_name=MEMBERS[0])
        for name in MEMBERS[1:]:
            guild.add_member(name)
        await box.start_bot()
        actors = {name: actor(box.emulator, guild, name) for name in MEMBERS}
        current = "alice"
        last: Reply | None = None
        print(
            f"Backrun sandbox: server '{guild.name}', members {', '.join(MEMBERS)}. Type help.", file=stdout
        )
        while (line := await _read(f"{current}> ", stdin, stdout)) is not None:
            line = line.strip()
            if not line:
                continue
            word, _, arg = line.partition(" ")
            try:
                if word in ("quit", "exit"):
                    break
                if word == "help":
                    print(CONSOLE_HELP, file=stdout)
                elif word == "as":
                    if arg.strip() not in actors:
                        raise ValueError(f"Members: {', '.join(MEMBERS)}")
                    current = arg.strip()
                elif word == "press":
                    if last is None:
                        raise ValueError("Nothing to press yet.")
                    last = await actors[current].press(last, arg.strip())
                    print(render(last), file=stdout)
                else:
                    invocation = parse_line(line, box.emulator.commands)
                    options: dict[str, Any] = dict(invocation.options)
                    for key, value in invocation.options.items():
                        if value.lstrip("@") in actors:  # member options by name
                            options[key] = actors[value.lstrip("@")]
                    last = await actors[current].run(invocation.command, **options)
                    print(render(last), file=stdout)
            except (ValueError, PermissionError, NoResponse) as exc:  # what Discord itself would stop
                print(f"  {exc}", file=stdout)
