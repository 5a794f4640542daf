"""A message as a Discord user sees it, as terminal text: the console's renderer.

Discord's markdown (bold, italics, underline, strikethrough, code, quotes, headings, lists),
mentions resolved to names (``<@id>`` → ``@Alice``, ``<#id>`` → ``#general``, ``<@&id>`` →
``@Role``), timestamps (``<t:unix:style>``) written out in the viewer's time zone, embeds as
``┃``-barred blocks (title, description, ``Name: value`` fields, footer) and buttons as ``[Undo]``.

With ``ansi=True`` (a terminal) styles become ANSI escapes; otherwise they are dropped and the text
stays plain, which is what a pipe or a test should read.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from datetime import datetime, tzinfo
from typing import Any

from backrun_bot.sandbox.emulator.model import World

BUTTON = 2
SELECTS = (3, 5, 6, 7, 8)
LINK_STYLE = 5

# (on, off) escapes. The "off" codes end only their own style, so styles nest.
BOLD = ("\x1b[1m", "\x1b[22m")
DIM = ("\x1b[2m", "\x1b[22m")
ITALIC = ("\x1b[3m", "\x1b[23m")
UNDERLINE = ("\x1b[4m", "\x1b[24m")
REVERSE = ("\x1b[7m", "\x1b[27m")
STRIKE = ("\x1b[9m", "\x1b[29m")
CODE = ("\x1b[36m", "\x1b[39m")
MENTION = ("\x1b[94m", "\x1b[39m")

QUOTE_BAR = "│ "
EMBED_BAR = "┃ "

# A backslash before punctuation shows the punctuation itself. Escaped characters are swapped for
# private-use code points before parsing (so ``\*`` can never open or close a span) and back after.
_ESCAPE = re.compile(r"\\([^A-Za-z0-9\s])")
_PRIVATE = 0xF0000
_INLINE = re.compile(
    r"(?P<tick>`+)(?P<code>.+?)(?P=tick)"
    r"|\*\*\*(?P<bold_italic>.+?)\*\*\*"
    r"|\*\*(?P<bold>.+?)\*\*"
    r"|__(?P<underline>.+?)__"
    r"|~~(?P<strike>.+?)~~"
    r"|\|\|(?P<spoiler>.+?)\|\|"
    r"|\*(?P<italic>[^\s*](?:[^*]*?[^\s*])?)\*"
    r"|(?<!\w)_(?P<italic_>[^_\s](?:[^_]*?[^_\s])?)_(?!\w)"
    r"|<@!?(?P<user>\d+)>"
    r"|<@&(?P<role>\d+)>"
    r"|<\#(?P<channel>\d+)>"
    r"|<t:(?P<timestamp>-?\d+)(?::(?P<style>[a-zA-Z]))?>"
    r"|<a?:(?P<emoji>\w+):\d+>"
    r"|<(?P<url>https?://[^\s>]+)>"
)
_HEADING = re.compile(r"(#{1,3}) +(.+)")
_LIST_ITEM = re.compile(r"( *)[-*] +(.+)")


class Renderer:
    """Renders messages of ``world`` for one viewer.

    ``tz``: the viewer's time zone for timestamps (Discord uses the viewer's; the console passes the
    machine's local zone). ``now``: seconds since the epoch, for relative timestamps.
    """

    def __init__(
        self,
        world: World,
        *,
        ansi: bool,
        tz: tzinfo | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._world = world
        self.ansi = ansi
        self._tz = tz
        self._now = now

    # -- a whole message --------------------------------------------------------------------------
    def message(
        self,
        content: str,
        embeds: Iterable[dict[str, Any]] = (),
        components: Iterable[dict[str, Any]] = (),
        attachments: Iterable[dict[str, Any]] = (),
    ) -> list[str]:
        """The lines a Discord client shows for a message: its text, its embeds, its files (name,
        size and where to download it), its buttons."""
        lines = self.text(content) if content else []
        for embed in embeds:
            lines.extend(self.embed(embed))
        for attachment in attachments:
            size = int(attachment.get("size") or 0)
            amount = f"{size / 1024:.1f} KB" if size >= 1024 else f"{size} bytes"
            lines.append(f"[file {attachment.get('filename')}, {amount}: {attachment.get('url')}]")
        controls = [self.control(c) for c in _walk(list(components))]
        shown = [c for c in controls if c]
        if shown:
            lines.append(" ".join(shown))
        return lines

    def embed(self, embed: dict[str, Any]) -> list[str]:
        lines: list[str] = []
        author = (embed.get("author") or {}).get("name")
        if author:
            lines.append(self._style(self.inline(str(author)), BOLD))
        if embed.get("title"):
            lines.append(self._style(self.inline(str(embed["title"])), BOLD))
        if embed.get("description"):
            lines.extend(self.text(str(embed["description"])))
        for item in embed.get("fields") or []:
            name = self._style(self.inline(str(item.get("name", ""))), BOLD)
            first, *rest = self.text(str(item.get("value", ""))) or [""]
            lines.append(f"{name}: {first}")
            lines.extend(f"  {line}" for line in rest)
        image = embed.get("image")
        if isinstance(image, dict) and image.get("url"):
            # Discord shows the picture below the fields; a console can only say there is one.
            size = f" {image['width']}×{image['height']}" if "width" in image and "height" in image else ""
            lines.append(self._style(f"[picture{size}]", DIM))
        footer = [str((embed.get("footer") or {}).get("text") or "")]
        if embed.get("timestamp"):
            moment = datetime.fromisoformat(str(embed["timestamp"]))
            footer.append(self.timestamp(int(moment.timestamp()), "f"))
        footer_text = " • ".join(part for part in footer if part)
        if footer_text:
            lines.append(self._style(footer_text, DIM))
        return [f"{EMBED_BAR}{line}" for line in lines]

    def control(self, component: dict[str, Any]) -> str:
        """``[Undo]`` for a button (``(disabled)`` when greyed out, ``↗`` for a link); a select
        menu as its placeholder with ``▾``; anything else (rows, text) as nothing."""
        kind = component.get("type")
        if kind == BUTTON:
            emoji = (component.get("emoji") or {}).get("name")
            label = " ".join(str(p) for p in (emoji, component.get("label")) if p)
            if component.get("style") == LINK_STYLE:
                label += " ↗"
            shown = f"[{label}]"
            if component.get("disabled"):
                return self._style(shown, DIM) + " (disabled)"
            return self._style(shown, BOLD)
        if kind in SELECTS:
            return f"[{component.get('placeholder') or 'Select'} ▾]"
        return ""

    # -- text -------------------------------------------------------------------------------------
    def text(self, source: str) -> list[str]:
        """Markdown to lines: code blocks verbatim, ``>``/``>>>`` quotes behind a bar, headings
        bold, ``-#`` subtext dim, list items with bullets, the rest rendered inline."""
        lines: list[str] = []
        in_code = False
        quote_rest = False
        for raw in source.split("\n"):
            if raw.lstrip().startswith("```"):
                in_code = not in_code
                tail = raw.strip()[3:]
                if tail.endswith("```") and len(tail) >= 3:  # a one-line block: ```text```
                    in_code = False
                    lines.append(self._style(tail[:-3], CODE))
                continue
            bar = QUOTE_BAR if quote_rest else ""
            if in_code:
                lines.append(bar + self._style(raw, CODE))
                continue
            line = raw
            if not quote_rest and line.startswith(">>> "):
                quote_rest, bar, line = True, QUOTE_BAR, line[4:]
            elif line.startswith("> ") or line == ">":
                bar, line = bar + QUOTE_BAR, line[2:]
            lines.append(bar + self._block(line))
        return lines

    def _block(self, line: str) -> str:
        heading = _HEADING.fullmatch(line)
        if heading:
            return self._style(self.inline(heading[2]), BOLD)
        if line.startswith("-# "):
            return self._style(self.inline(line[3:]), DIM)
        item = _LIST_ITEM.fullmatch(line)
        if item:
            return f"{item[1]}• {self.inline(item[2])}"
        return self.inline(line)

    def inline(self, source: str) -> str:
        hidden = _ESCAPE.sub(lambda m: chr(_PRIVATE + ord(m[1])), source)
        rendered = self._spans(hidden)
        return re.sub(r"[\U000F0000-\U000FFFFF]", lambda m: chr(ord(m[0]) - _PRIVATE), rendered)

    def _spans(self, source: str) -> str:
        out: list[str] = []
        position = 0
        for match in _INLINE.finditer(source):
            out.append(source[position : match.start()])
            out.append(self._span(match))
            position = match.end()
        out.append(source[position:])
        return "".join(out)

    def _span(self, m: re.Match[str]) -> str:
        if m["code"] is not None:
            return self._style(m["code"].strip(" ") or m["code"], CODE)
        for group, styles in (
            ("bold_italic", (BOLD, ITALIC)),
            ("bold", (BOLD,)),
            ("underline", (UNDERLINE,)),
            ("strike", (STRIKE,)),
            ("spoiler", (REVERSE,)),
            ("italic", (ITALIC,)),
            ("italic_", (ITALIC,)),
        ):
            if m[group] is not None:
                text = self._spans(m[group])
                for style in styles:
                    text = self._style(text, style)
                return text
        if m["user"] is not None:
            return self._style("@" + self.user_name(int(m["user"])), MENTION)
        if m["role"] is not None:
            return self._style("@" + self.role_name(int(m["role"])), MENTION)
        if m["channel"] is not None:
            return self._style("#" + self.channel_name(int(m["channel"])), MENTION)
        if m["timestamp"] is not None:
            return self.timestamp(int(m["timestamp"]), m["style"] or "f")
        if m["emoji"] is not None:
            return f":{m['emoji']}:"
        return m["url"] or m[0]

    # -- names ------------------------------------------------------------------------------------
    def user_name(self, user_id: int) -> str:
        """The name Discord shows: the display (global) name, else the username."""
        user = self._world.users.get(user_id)
        if user is None:
            return "unknown-user"
        return str(user.to_json().get("global_name") or user.name)

    def role_name(self, role_id: int) -> str:
        for guild in self._world.guilds.values():
            role = guild.roles_by_id.get(role_id)
            if role is not None:
                return role.name.removeprefix("@")
        return "deleted-role"

    def channel_name(self, channel_id: int) -> str:
        channel = self._world.channels.get(channel_id)
        return "unknown" if channel is None or channel.deleted else channel.name

    # -- timestamps -------------------------------------------------------------------------------
    def timestamp(self, seconds: int, style: str) -> str:
        """``<t:seconds:style>`` as Discord writes it (English, 24-hour clock) in the viewer's zone:
        t 16:20 · T 16:20:30 · d 20/04/2021 · D 20 April 2021 · f (default) 20 April 2021 16:20 ·
        F Tuesday, 20 April 2021 16:20 · s 20/04/2021, 16:20 · S 20/04/2021, 16:20:30 · R in 2 hours.
        """
        try:
            moment = datetime.fromtimestamp(seconds, tz=self._tz).astimezone(self._tz)
        except (OverflowError, OSError, ValueError):
            return "Invalid Date"
        long_date = f"{moment.day} {moment:%B %Y}"
        formats = {
            "t": f"{moment:%H:%M}",
            "T": f"{moment:%H:%M:%S}",
            "d": f"{moment:%d/%m/%Y}",
            "D": long_date,
            "f": f"{long_date} {moment:%H:%M}",
            "F": f"{moment:%A}, {long_date} {moment:%H:%M}",
            "s": f"{moment:%d/%m/%Y, %H:%M}",
            "S": f"{moment:%d/%m/%Y, %H:%M:%S}",
        }
        text = relative_time(seconds - self._now()) if style == "R" else formats.get(style, formats["f"])
        return self._style(text, CODE)

    def _style(self, text: str, style: tuple[str, str]) -> str:
        return f"{style[0]}{text}{style[1]}" if self.ansi and text else text


def relative_time(delta: float) -> str:
    """``in 5 minutes`` / ``2 hours ago`` for ``delta`` seconds from now, rounded as Discord does."""
    seconds = abs(delta)
    minutes, hours, days = seconds / 60, seconds / 3600, seconds / 86400
    if seconds < 45:
        amount = "a few seconds"
    elif seconds < 90:
        amount = "a minute"
    elif minutes < 45:
        amount = f"{round(minutes)} minutes"
    elif minutes < 90:
        amount = "an hour"
    elif hours < 22:
        amount = f"{round(hours)} hours"
    elif hours < 36:
        amount = "a day"
    elif days < 26:
        amount = f"{round(days)} days"
    elif days < 45:
        amount = "a month"
    elif days < 320:
        amount = f"{round(days / 30.44)} months"
    elif days < 548:
        amount = "a year"
    else:
        amount = f"{round(days / 365.25)} years"
    return f"in {amount}" if delta > 0 else f"{amount} ago"


def _walk(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Components in reading order, out of action rows, sections and containers."""
    out: list[dict[str, Any]] = []
    for component in components:
        out.append(component)
        out.extend(_walk(component.get("components") or []))
        accessory = component.get("accessory")
        if isinstance(accessory, dict):
            out.append(accessory)
    return out
