"""Option values, valid and hostile, for every slash command the bot registered, and what the
emulator saw of the bot's answers to them (for ``test_bad_input_at_volume.py``).

The commands are read from the emulator's registry, so a new command or option is exercised as soon
as the bot syncs it: each option gets values from its declared type, choices, min/max value and
length, plus hostile ones (any unicode, control characters, NUL, lone surrogates, huge and negative
numbers, markdown, masked links, ``@everyone``/``@here``, real role and user mentions, text up to and
past Discord's limits). What is known of an option's *valid* values beyond its declaration comes
from its description (the examples it lists) and, for today's options, :data:`VALID_HINTS`; an option
without a hint still gets everything hostile.

The driver's ``run_raw`` sends what a modified client might: values outside the choices, the
min/max or the lengths, missing required options, unknown options. It still sends each known option
with its declared type (Discord itself refuses a wrong type before the bot sees it), so wrong types
reach the bot only as text typed for a number (``"12"``) or as unknown options.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from hypothesis import strategies as st

from backrun_bot.sandbox.driver import (
    BOOLEAN,
    CHANNEL,
    INTEGER,
    MAX_SAFE_INTEGER,
    MENTIONABLE,
    NUMBER,
    ROLE,
    STRING,
    SUB_COMMAND,
    SUB_COMMAND_GROUP,
    USER,
    Actor,
    RoleOption,
)
from backrun_bot.sandbox.emulator import DiscordEmulator
from backrun_bot.sandbox.emulator.model import JSON, Channel, Message

# Discord's limit on a string option's value when the command declares none.
DISCORD_STRING_MAX = 6000
# Past every limit: what a modified client could still try (the emulator takes it).
BEYOND_DISCORD = 10_000


# -- the registry -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Leaf:
    """A slash command or subcommand that can be run: ``"log"``, ``"reminders set"``."""

    qualified: str
    options: tuple[JSON, ...]
    default_member_permissions: int | None


def leaf_commands(commands: Iterable[JSON]) -> list[Leaf]:
    """Every runnable command, subcommand and grouped subcommand in the registry, in its order."""
    leaves: list[Leaf] = []
    for command in commands:
        if command.get("type", 1) != 1:
            continue  # user and message context-menu commands take no options
        raw = command.get("default_member_permissions")
        required = None if raw is None else int(raw)

        def walk(prefix: str, options: list[JSON], required: int | None = required) -> None:
            subs = [o for o in options if o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)]
            if not subs:
                leaves.append(Leaf(prefix, tuple(options), required))
                return
            for sub in subs:
                walk(f"{prefix} {sub['name']}", sub.get("options") or [])

        walk(command["name"], command.get("options") or [])
    return leaves


# -- what the world offers as option values and as mention targets ----------------------------------
@dataclass(frozen=True)
class Targets:
    """The members, channels and roles of the test's server, for option values and mentions."""

    guild_id: int
    members: tuple[Actor, ...]  # as the driver takes them (and short to print in a failing example)
    channels: tuple[Channel, ...]
    role_ids: tuple[int, ...]  # the server's roles, @everyone (the server's id) included
    timezones: tuple[str, ...]


def mention_fragments(targets: Targets) -> st.SearchStrategy[str]:
    """Everything that pings, or looks as if it might, in Discord's syntax."""
    literal = [
        "@everyone",
        "@here",
        "@EVERYONE",
        "@everyone's",
        "＠everyone",  # a full-width at sign: no ping on Discord, but must not become one
        "@\u200beveryone",
        "`@everyone`",
        "<@&0>",
        "<@0>",
        f"<@&{targets.guild_id}>",  # @everyone's role id is the server's id
        "</log:1>",
        "<t:0:R>",
        "<:blob:1>",
    ]
    ids = st.sampled_from([m.user_id for m in targets.members])
    return st.one_of(
        st.sampled_from(literal),
        st.sampled_from(targets.role_ids).map(lambda r: f"<@&{r}>"),
        ids.map(lambda u: f"<@{u}>"),
        ids.map(lambda u: f"<@!{u}>"),
        st.sampled_from([c.id for c in targets.channels]).map(lambda c: f"<#{c}>"),
    )


MARKDOWN = (
    "**bold**",
    "__underline__",
    "*italic*",
    "~~struck~~",
    "||spoiler||",
    "`code`",
    "```py\nprint(1)\n```",
    "# Heading",
    "## Big",
    "-# small print",
    "> quoted",
    ">>> quoted to the end",
    "- item",
    "1. first",
    "\\",
    "\\*",
    "[discord.com/nitro](https://evil.example)",
    "[free nitro](<https://evil.example/2>)",
    "[a](x) [b](y)",
    "https://evil.example/?q=<@&1>",
    "<https://evil.example>",
    "**Bob** logged **42 km** backward run (entry #99).",
)
CONTROLS = (
    "\x00",
    "\x00\x00\x00",
    "\x1b[31m",
    "\x7f",
    "\r\n",
    "\n\n\n",
    "\t",
    "\u0085",
    "\u2028",
    "\u202e",  # right-to-left override
    "\u2066",
    "\u200b",
    "\ufeff",
    "\ud800",  # a lone surrogate: only a modified client sends one
    "\udfff",
    "\U0010ffff",
)
NUMBERISH = (
    "0",
    "-0",
    "-1",
    "-400m",
    "- 5 km",
    "1e309",
    "1e3 m",
    "NaN",
    "nan m",
    "inf",
    "infinity km",
    "0x1F",
    "½ mi",
    "1/4 mile",
    "١٢٣ m",  # Arabic-Indic digits
    "１２ km",  # full-width digits
    "4..5 m",
    "5-6 km",
    "1,5 km",
    "00:00",
    "23:59",
    "24:00",
    "99:99",
    "-1:00",
    "7pm",
    "0000-00-00",
    "9999-12-31",
    "2026-02-30",
    "0001-01-01",
    "+999999-01-01",
    "2026W101",
    "20260307",
)


def controls() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(CONTROLS),
        st.text(st.characters(categories=["Cc", "Cf", "Cs", "Zl", "Zp", "Co", "Cn"]), min_size=1, max_size=4),
    )


def numberish() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(NUMBERISH),
        st.integers().map(str),
        st.integers(-(10**400), 10**400).map(lambda n: f"{n} m"),
        st.floats().map(lambda f: f"{f} km"),
        st.decimals(allow_nan=True).map(lambda d: f"{d}m"),
    )


def fragment(targets: Targets, examples: Iterable[str] = ()) -> st.SearchStrategy[str]:
    """One piece of hostile (or, from ``examples``, plausible) text."""
    pieces: list[st.SearchStrategy[str]] = [
        mention_fragments(targets),
        st.sampled_from(MARKDOWN),
        controls(),
        numberish(),
        st.text(max_size=12),  # any unicode (no surrogates)
        st.text(st.characters(codec="ascii"), max_size=12),
    ]
    known = sorted(set(examples))
    if known:
        pieces.append(st.sampled_from(known))
    return st.one_of(pieces)


def long_text(targets: Targets, lengths: Iterable[int]) -> st.SearchStrategy[str]:
    """A fragment repeated to exactly one of ``lengths`` characters (cheap to draw at any length)."""

    def build(piece: str, size: int) -> str:
        piece = piece or "x"
        return (piece * (size // len(piece) + 1))[:size]

    return st.builds(build, fragment(targets), st.sampled_from(sorted(set(lengths))))


def hostile_text(targets: Targets, spec: JSON, examples: Iterable[str] = ()) -> st.SearchStrategy[str]:
    """Text for a string option, usually not what it declares or accepts."""
    examples = tuple(examples)
    limit = int(spec.get("max_length", DISCORD_STRING_MAX))
    minimum = int(spec.get("min_length", 0))
    edges = {limit, limit + 1, DISCORD_STRING_MAX, DISCORD_STRING_MAX + 1, BEYOND_DISCORD}
    edges |= {max(0, minimum - 1), minimum}
    separators = st.sampled_from(["", " ", "\n", ", ", "\x00"])
    joined = st.builds(
        lambda parts, sep: sep.join(parts),
        st.lists(fragment(targets, examples), min_size=1, max_size=5),
        separators,
    )
    # A plausible value with something hostile around it: "400m @everyone", "<@&1> 07:00".
    wrapped = st.builds(
        lambda head, valid, tail: f"{head}{valid}{tail}",
        fragment(targets) | st.just(""),
        st.sampled_from(examples) if examples else st.just(""),
        fragment(targets) | st.just(""),
    )
    return st.one_of(
        joined,
        wrapped,
        long_text(targets, edges),
        st.sampled_from(["", " ", "\u3000", "\n", "\x00"]),
    )


# -- valid values ------------------------------------------------------------------------------------
TODAY = date(2026, 3, 8)  # the suite's START (tests/discord_app/conftest.py), in UTC

_DAY_WORDS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun", "monday", "friday", "weekdays", "weekends")


def _amounts() -> st.SearchStrategy[str]:
    """Amounts in the grammar of ``domain/amounts.py``, mostly inside what one entry may hold."""

    def unit(numbers: st.SearchStrategy[str], *units: str) -> st.SearchStrategy[str]:
        return st.builds(
            lambda n, sep, u: f"{n}{sep}{u}", numbers, st.sampled_from(["", " "]), st.sampled_from(units)
        )

    def decimals(high: float) -> st.SearchStrategy[str]:
        return st.floats(0, high).map(lambda f: f"{f:.2f}".rstrip("0").rstrip("."))

    distance = st.one_of(
        unit(st.integers(0, 5000).map(str), "m", "meters"),
        unit(decimals(25), "km", "k"),
        unit(st.integers(1, 5000).map(str), "yd"),
        unit(decimals(12), "mi", "miles"),
        unit(st.integers(1, 40).map(str), "lap", "laps"),
    )
    duration = st.one_of(
        unit(st.integers(0, 3600).map(str), "s", "sec"),
        unit(st.integers(1, 240).map(str), "min", "minutes"),
        st.builds(lambda m, s: f"{m}:{s:02d}", st.integers(0, 90), st.integers(0, 59)),
        st.builds(lambda h, m: f"{h}h{m:02d}", st.integers(0, 6), st.integers(0, 59)),
    )
    both = st.builds(lambda d, t: f"{d} in {t}", distance, duration)
    return st.one_of(distance, duration, both)


def _iso_days(low: date, high: date) -> st.SearchStrategy[str]:
    return st.dates(low, high).map(date.isoformat)


def _clock_times() -> st.SearchStrategy[str]:
    return st.builds(
        lambda h, m, pad: f"{h:02d}:{m:02d}" if pad else f"{h}:{m:02d}",
        st.integers(0, 24),
        st.integers(0, 60),
        st.booleans(),
    )


def _day_lists() -> st.SearchStrategy[str]:
    word = st.sampled_from([*_DAY_WORDS, "every day", "tue-thu", "fri-mon", "mon-mon"])
    return st.builds(
        lambda words, sep: sep.join(words),
        st.lists(word, min_size=1, max_size=4),
        st.sampled_from([",", ", ", " "]),
    )


# Plausible values for today's string options, by option name: most are accepted, some are just out of
# range (a time of 24:00, a day in the future). An option not named here gets the examples in its
# description and everything hostile.
VALID_HINTS: dict[str, st.SearchStrategy[str]] = {
    "amount": _amounts(),
    "note": st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=200),
    "date": st.sampled_from(["today", "yesterday", "", " Today "])
    | _iso_days(TODAY - timedelta(days=400), TODAY + timedelta(days=3)),
    "until": _iso_days(TODAY - timedelta(days=3), TODAY + timedelta(days=400)),
    "warmup": _clock_times(),
    "cooldown": _clock_times(),
    "days": _day_lists(),
}


# Plausible values for integer options, by option name: an entry id (``/entry edit``, ``/entry
# delete``) among the first entries the rounds log, so that some are the caller's own, some another
# member's and some not there at all; the hostile values still come as often.
NUMBER_HINTS: dict[str, st.SearchStrategy[int]] = {
    "id": st.integers(1, 40),
}


def described_examples(description: str) -> list[str]:
    """The example values an option's description lists: "Distance or time: 400m, 1.2 km" gives
    ``400m`` and ``1.2 km``; "IANA timezone, e.g. Europe/London" gives ``Europe/London``."""
    text = description
    for marker in (":", "e.g.", "like"):
        if marker in text:
            text = text.split(marker, 1)[1]
    pieces = re.split(r",|\bor\b", text)
    return [p.replace("(default)", "").strip() for p in pieces if 0 < len(p.strip()) <= 40]


def mixed(valid: st.SearchStrategy[Any], hostile: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Two valid values for one hostile one. (Not ``one_of``: Hypothesis flattens nested ``one_of``s
    and picks among all their branches alike, so the many hostile branches would crowd out the few
    valid ones, and commands that change state would rarely run.)"""

    @st.composite
    def pick(draw: st.DrawFn) -> Any:
        return draw(valid) if draw(st.integers(0, 2)) else draw(hostile)

    return pick()


def string_value(targets: Targets, spec: JSON) -> st.SearchStrategy[str]:
    choices = [c["value"] for c in spec.get("choices") or [] if isinstance(c["value"], str)]
    examples = described_examples(str(spec.get("description", "")))
    if spec.get("autocomplete"):
        examples += list(targets.timezones)  # today's one autocompleted option; suggestions are names
    valid: list[st.SearchStrategy[str]] = []
    if choices:
        valid.append(st.sampled_from(choices))
    if spec["name"] in VALID_HINTS:
        valid.append(VALID_HINTS[spec["name"]])
    if not valid and examples:
        valid.append(st.sampled_from(examples))
    # Near misses go with the hostile values: a choice in capitals or with spaces around it.
    near = [c.upper() for c in choices] + [f" {c} " for c in choices]
    hostile = hostile_text(targets, spec, examples + near)
    return mixed(st.one_of(valid), hostile) if valid else hostile


def number_value(spec: JSON) -> st.SearchStrategy[int | float]:
    integer = spec["type"] == INTEGER
    low, high = spec.get("min_value"), spec.get("max_value")
    edges: set[int | float] = {0, -1, 1, MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER, 2**31, -(2**31)}
    for bound in (low, high):
        if bound is not None:
            edges |= {bound - 1, bound, bound + 1}
    anything: st.SearchStrategy[int | float] = st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
    if not integer:
        anything = anything | st.floats(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
    hostile = st.sampled_from(sorted(edges)) | anything
    if low is None or high is None:
        return hostile
    return mixed(st.integers(int(low), int(high)) if integer else st.floats(low, high), hostile)


def option_value(targets: Targets, spec: JSON) -> st.SearchStrategy[Any]:
    """A value for one option, of its declared type (as the driver sends it)."""
    kind = spec["type"]
    if kind == STRING:
        return string_value(targets, spec)
    if kind in (INTEGER, NUMBER):
        number = number_value(spec)
        if spec["name"] in NUMBER_HINTS:
            number = mixed(NUMBER_HINTS[spec["name"]], number)
        # As typed into the client: the driver reads "12" for an integer option.
        return number | number.map(str) if kind == INTEGER else number
    if kind == BOOLEAN:
        return st.booleans() | st.sampled_from(["true", "false", "yes", "no"])
    if kind == USER:
        return st.sampled_from(targets.members)
    if kind == CHANNEL:
        return st.sampled_from([f"#{c.name}" for c in targets.channels])  # the driver reads a name
    if kind == ROLE:
        return st.sampled_from(targets.role_ids).map(RoleOption)
    if kind == MENTIONABLE:
        return st.sampled_from(targets.members) | st.sampled_from(targets.role_ids).map(RoleOption)
    raise NotImplementedError(
        f"option {spec['name']!r} has type {kind}, which the driver cannot send yet: extend "
        "option_value (and the driver) so that the new option is exercised"
    )


def extra_option() -> st.SearchStrategy[tuple[str, Any]]:
    """An option the command does not declare (a stale or modified client)."""
    name = st.sampled_from(["x", "extra", "limit_", "everyone", "zz_" + "a" * 29])
    value = st.one_of(st.text(max_size=20), st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER), st.booleans())
    return st.tuples(name, value)


def invocation(leaf: Leaf, targets: Targets) -> st.SearchStrategy[dict[str, Any]]:
    """Option values for one run of ``leaf``: each declared option present or not (a required one is
    left out now and then), and sometimes an undeclared one. (Built once per command: building
    Hypothesis strategies costs more than drawing from them.)"""
    values = [(spec, option_value(targets, spec)) for spec in leaf.options]
    declared = {spec["name"] for spec in leaf.options}
    extra = extra_option()

    @st.composite
    def options(draw: st.DrawFn) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for spec, value in values:
            if draw(st.integers(0, 9)) > (0 if spec.get("required") else 4):
                out[spec["name"]] = draw(value, label=spec["name"])
        if draw(st.integers(0, 9)) == 0:
            name, undeclared = draw(extra)
            if name not in declared:
                out[name] = undeclared
        return out

    return options()


def broken_declaration(leaf: Leaf, options: Mapping[str, Any]) -> list[str]:
    """The declared rules ``options`` break that make a value meaningless to the command: a value
    outside the choices (a closed list: nothing else was ever offered), a number outside min/max, a
    required option missing. A command must refuse these, not act on them.

    Lengths are left out on purpose: free text is cleaned and then checked by the service on what
    would be stored (a note of 300 spaces and "x" is the note "x"), so text longer or shorter than
    declared may rightly be accepted once trimmed."""
    broken: list[str] = []
    for spec in leaf.options:
        name = spec["name"]
        if name not in options:
            if spec.get("required"):
                broken.append(f"{name} is required")
            continue
        value = options[name]
        choices = [c["value"] for c in spec.get("choices") or []]
        if choices and value not in choices:
            broken.append(f"{name} is not one of {choices}")
        if spec["type"] in (INTEGER, NUMBER):
            number = float(value)  # as sent: the driver reads "12" as 12
            if spec.get("min_value") is not None and number < spec["min_value"]:
                broken.append(f"{name} is below {spec['min_value']}")
            if spec.get("max_value") is not None and number > spec["max_value"]:
                broken.append(f"{name} is above {spec['max_value']}")
    return broken


def outside_choices(leaf: Leaf, option: str, options: Mapping[str, Any]) -> bool:
    """Whether ``options`` give ``option`` a value that is not one of its declared choices."""
    spec = next((s for s in leaf.options if s["name"] == option), None)
    if spec is None or option not in options:
        return False
    return options[option] not in [c["value"] for c in spec.get("choices") or []]


# -- what the bot sent ----------------------------------------------------------------------------------
def ping_risk(message: Message) -> str | None:
    """Why ``message`` could ping @everyone, @here or a role, by Discord's rules for allowed mentions
    (None if it cannot), whatever its content says today and whatever the bot may do in the channel.

    Discord parses every mention in a message's content unless the request's ``allowed_mentions``
    says otherwise; ``parse: ["everyone"]`` lets @everyone/@here through and ``parse: ["roles"]`` or a
    ``roles`` list lets role mentions through. An edit without ``allowed_mentions`` keeps those the
    message was sent with (which is what the emulator stores as the message's).
    """
    if not message.content:
        return None  # nothing to parse (a "thinking…" placeholder, an embed-only reply)
    allowed = message.allowed_mentions
    if allowed is None:
        return "sent without allowed_mentions, so Discord would parse every mention in it"
    parse = allowed.get("parse") or []
    if "everyone" in parse:
        return f"allowed_mentions {allowed} lets @everyone and @here ping"
    if "roles" in parse or allowed.get("roles"):
        return f"allowed_mentions {allowed} lets roles ping"
    if message.mention_everyone or message.mention_roles:
        return (
            f"the emulator computed pings: everyone={message.mention_everyone}, roles={message.mention_roles}"
        )
    return None


@dataclass
class Seen:
    """One interaction as the emulator saw the bot answer it."""

    first_answer: float | None = None  # seconds after the interaction was sent (the emulator's loop)
    messages: dict[int, Message] = field(default_factory=dict)


@dataclass
class Watch:
    """Listens to everything the bot stores through the emulator (and logs) while the test runs.

    ``problems`` collects each message that could ping @everyone/@here or a role (channel messages
    such as a posted test reminder included), and each interaction message that pings a user;
    ``seen`` each interaction's messages and the time of its first answer (callback or deferral).
    """

    emulator: DiscordEmulator
    seen: dict[int, Seen] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    channel_messages: int = 0

    def on_message(self, message: Message, created: bool) -> None:
        risk = ping_risk(message)
        if risk is not None:
            self.problems.append(f"message {message.id} {message.content[:300]!r}: {risk}")
        if message.interaction is None:
            self.channel_messages += created
            return
        interaction_id = int(message.interaction["id"])
        if message.mentions:
            self.problems.append(
                f"message {message.id} of interaction {interaction_id} pings users {message.mentions}"
            )
        record = self.emulator.interaction(interaction_id)
        seen = self.seen.setdefault(interaction_id, Seen())
        seen.messages[message.id] = message
        if record is not None and seen.first_answer is None:
            seen.first_answer = asyncio.get_running_loop().time() - record.created


class LogProblems(logging.Handler):
    """Collects what the bot (or discord.py, or asyncio) logs that means something went wrong: any
    record with a traceback, any ERROR, and the bot's own warnings (the emulator's are excluded:
    what the bot sent wrong is in ``emulator.violations``)."""

    LOGGERS = ("backrun_bot", "discord", "asyncio")

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("backrun_bot.sandbox"):
            return
        if record.exc_info or record.levelno >= logging.ERROR or record.name.startswith("backrun_bot"):
            self.records.append(record)

    def describe(self, start: int = 0) -> list[str]:
        out = []
        for record in self.records[start:]:
            line = f"{record.name} {record.levelname}: {record.getMessage()}"
            if record.exc_info and record.exc_info[1] is not None:
                line += f" ({type(record.exc_info[1]).__name__}: {record.exc_info[1]})"
            out.append(line)
        return out
