"""Free text people give the bot (a note, a Discord display name): what is stored, and how it is shown.

Stored text has no control characters, on every database. PostgreSQL cannot store U+0000 at all
(SQLite can), and the others are invisible or rearrange what follows them. A note that has one is
refused with a reply naming it (the athlete typed it, or pasted it, and can take it out); a display
name comes from Discord and is never refused: its control characters are dropped. Line breaks and
tabs are not refused but folded into one space when the note is stored, because a note is shown on
one line, and an athlete who pressed Enter meant a space, not a mistake.

Shown text is literal and on one line (:func:`literal_line`): a note must not be able to forge a
line of the bot's own (``**Bob** logged **42 km**``) nor turn into a masked link in a public reply.
Discord's markdown is escaped here in plain Python rather than with ``discord.utils.escape_markdown``
because the day-off text is composed in the rules, which know nothing of Discord, and because that
function escapes only the first ``[`` of a run of masked links (``[a](x) [b](y)`` keeps the second
one live) and leaves ordered-list markers alone.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from backrun_bot.errors import InvalidInput

# Line breaks and tabs: folded into a space, never refused.
FOLDED: Final = frozenset("\t\n\v\f\r\x85\u2028\u2029")
_BREAKS = re.compile(r"\s*[\t\n\v\f\r\x85\u2028\u2029]\s*")
# Bidirectional embeddings, overrides and isolates reorder the text after them ("Trojan Source"):
# format characters, not controls by category, but they act like controls on a line of ours.
BIDI_CONTROLS: Final = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
NAME_FALLBACK: Final = "(no name)"

# Escaped wherever they are: emphasis, underline, strikethrough, spoilers, code, masked links, and
# the backslash itself (so that a trailing one cannot escape the bot's own markup after it).
_ALWAYS_ESCAPED: Final = frozenset("\\*_~|`[]")
# Escaped at the start of the text, which may be the start of a line (a quote's): headings, the
# "-#" subtext, list items and block quotes.
_LINE_START: Final = frozenset("#->+")
_ORDERED_ITEM = re.compile(r"\d+(?=[.)](?:\s|$))")
# A link as Discord's client finds one; shown in <...>, which keeps it a link but stops the preview
# (a note must not unfurl an attacker's page under the bot's name). Brackets end it, so that a link
# cannot carry a masked link's syntax past the escaping.
_URL = re.compile(r"https?://[^\s<>\[\]]*[^\s<>\[\].,:;\"'!?)]", re.IGNORECASE)


def refused_character(text: str) -> str | None:
    """The first character of ``text`` that may not be stored, or None.

    Control characters (category Cc, U+0000 among them) other than line breaks and tabs, lone
    surrogates (only a modified client can send them), and bidirectional controls.
    """
    for ch in text:
        if ch not in FOLDED and (unicodedata.category(ch) in ("Cc", "Cs") or ch in BIDI_CONTROLS):
            return ch
    return None


def fold_lines(text: str) -> str:
    """Every line break or tab, with the spaces around it, becomes one space."""
    return _BREAKS.sub(" ", text)


def clean_note(note: str | None) -> str | None:
    """The note as it is stored: on one line, trimmed; None when nothing is left.

    Raises :class:`InvalidInput` naming the first character that may not be stored.
    """
    if note is None:
        return None
    bad = refused_character(note)
    if bad is not None:
        what = "an invalid character" if unicodedata.category(bad) == "Cs" else "a control character"
        raise InvalidInput(f"The note has {what} (U+{ord(bad):04X}); remove it.")
    return fold_lines(note).strip() or None


def clean_name(name: str) -> str:
    """A display name as it is stored and shown: what may not be stored dropped, on one line,
    trimmed. Never refused; a name with nothing left is :data:`NAME_FALLBACK`."""
    return _one_line(name) or NAME_FALLBACK


def literal_line(text: str, limit: int | None = None) -> str:
    """``text`` for a Discord message, to be shown exactly as written and on one line.

    Cleaned as a display name is (without the fallback), then Discord's markdown escaped with
    backslashes: ``* _ ~ | ` [ ] \\`` everywhere, and at the start a heading, ``-#`` subtext, a list
    item (``-``, ``+``, ``1.``) or a block quote. Links stay links, in ``<...>`` so that they are
    not previewed. With ``limit``, the result has at most that many characters, ending in "…" when
    shortened; an escape or a link is never cut in half.
    """
    text = _one_line(text)
    pieces: list[str] = []
    at = 0
    for url in _URL.finditer(text):
        pieces.extend(_escaped(text[at : url.start()]))
        pieces.append(f"<{url.group()}>")
        at = url.end()
    pieces.extend(_escaped(text[at:]))
    if pieces and pieces[0] in _LINE_START:
        pieces[0] = "\\" + pieces[0]
    ordered = _ORDERED_ITEM.match(text)
    if ordered:  # the digits are one piece each; the "." or ")" after them is next
        pieces[ordered.end()] = "\\" + pieces[ordered.end()]
    if limit is None or sum(map(len, pieces)) <= limit:
        return "".join(pieces)
    out, used = [], 0
    for piece in pieces:
        if used + len(piece) > limit - 1:
            break
        out.append(piece)
        used += len(piece)
    return "".join(out).rstrip() + "…"


def _one_line(text: str) -> str:
    kept = "".join(ch for ch in text if ch in FOLDED or refused_character(ch) is None)
    return fold_lines(kept).strip()


def _escaped(text: str) -> list[str]:
    return ["\\" + ch if ch in _ALWAYS_ESCAPED else ch for ch in text]
