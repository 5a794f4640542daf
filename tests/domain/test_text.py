"""Free text: control characters refused in notes and dropped from names, line breaks folded, and
everything shown literally on one line (markdown escaped, links not previewed)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backrun_bot.domain.day_off import DayOff, day_off_section
from backrun_bot.domain.load import HeavyDay, Rule
from backrun_bot.domain.text import (
    FOLDED,
    NAME_FALLBACK,
    clean_name,
    clean_note,
    fold_lines,
    literal_line,
    refused_character,
)
from backrun_bot.errors import InvalidInput

MARKDOWN = set("\\*_~|`[]")
# Text as people type it, and as people try it: markdown, links, controls, line breaks, bidi.
hostile = st.lists(
    st.sampled_from(
        [*"ab #->+1.)*_~|`[]()\\<@:/", "https://e.x/", "\n", "\r\n", "\t", "\x00", "\x1b", "\u2028", "\u202e"]
    )
).map("".join)


def unescape(line: str) -> str:
    """What Discord shows for ``line``: each backslash escape is the character, ``<url>`` the url."""
    return re.sub(r"\\(.)|<(https?://[^\s<>]*)>", lambda m: m.group(1) or m.group(2), line)


def live_markdown(line: str) -> set[str]:
    """The markdown characters of ``line`` Discord would act on (neither escaped nor in a link)."""
    return set(re.sub(r"\\.|<https?://[^\s<>]*>", "", line)) & MARKDOWN


# -- what may be stored ---------------------------------------------------------------------------


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x1b", "\x1f", "\x7f", "\x9f", "\u202e", "\u2066"])
def test_control_characters_are_found(char: str) -> None:
    assert refused_character(f"good{char}run{char}") == char


@pytest.mark.parametrize(
    "text", ["", "easy 400 m 🏃‍♀️", "Übung — très bien", "日本語", "a\tb\nc\r\nd\x85e\u2028f\u2029g\v\fh"]
)
def test_ordinary_text_line_breaks_and_tabs_are_not_refused(text: str) -> None:
    # The emoji is joined with U+200D (a format character): emoji sequences must stay allowed.
    assert refused_character(text) is None


def test_a_lone_surrogate_is_refused() -> None:
    assert refused_character("a\ud800b") == "\ud800"


@pytest.mark.parametrize(
    ("note", "says"),
    [
        ("a\x00b", "The note has a control character (U+0000); remove it."),
        ("\x1b[31mred", "The note has a control character (U+001B); remove it."),
        ("evil\u202eexe", "The note has a control character (U+202E); remove it."),
        ("a\udfffb", "The note has an invalid character (U+DFFF); remove it."),
    ],
)
def test_a_note_with_a_control_character_is_refused_naming_it(note: str, says: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        clean_note(note)
    assert refused.value.user_text() == says


@pytest.mark.parametrize(
    ("note", "stored"),
    [
        (None, None),
        ("", None),
        ("  \n\t ", None),
        ("  easy one  ", "easy one"),
        ("easy\none", "easy one"),
        ("easy \r\n\r\n  one\ttwo", "easy one two"),
        ("line\u2028sep\u2029para\x85nel", "line sep para nel"),
        ("two  spaces stay", "two  spaces stay"),
    ],
)
def test_a_note_is_stored_on_one_line(note: str | None, stored: str | None) -> None:
    assert clean_note(note) == stored


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        ("Alice", "Alice"),
        ("Al\x00ice", "Alice"),
        (" Eve\u202e \n**Bob** ", "Eve **Bob**"),
        ("\x00\x1b", NAME_FALLBACK),
        ("", NAME_FALLBACK),
    ],
)
def test_a_name_is_never_refused_only_cleaned(name: str, stored: str) -> None:
    assert clean_name(name) == stored


def test_fold_lines_keeps_the_words_apart() -> None:
    assert fold_lines("a\nb") == "a b"
    assert fold_lines("a \n\n b") == "a b"


@given(hostile)
def test_a_clean_note_has_no_control_character_or_line_break(note: str) -> None:
    try:
        stored = clean_note(note)
    except InvalidInput:
        assert refused_character(note) is not None
        return
    assert stored is None or (refused_character(stored) is None and not set(stored) & FOLDED)


# -- how it is shown --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("easy 400 m", "easy 400 m"),
        ("[discord.com/nitro](https://evil.example)", r"\[discord.com/nitro\](<https://evil.example>)"),
        # discord.utils.escape_markdown leaves the second of two masked links live:
        (
            "[a](https://x.example) [b](https://y.example)",
            r"\[a\](<https://x.example>) \[b\](<https://y.example>)",
        ),
        ("[https://discord.com](https://evil.example)", r"\[<https://discord.com>\](<https://evil.example>)"),
        ("# Big news", r"\# Big news"),
        ("### smaller", r"\### smaller"),
        ("-# subtext", r"\-# subtext"),
        ("> quoted", r"\> quoted"),
        (">>> all quoted", r"\>>> all quoted"),
        ("- item", r"\- item"),
        ("+ item", r"\+ item"),
        ("1. first", r"1\. first"),
        ("12) twelfth", r"12\) twelfth"),
        ("1.", r"1\."),
        ("1.5 km easy", "1.5 km easy"),
        ("ran 1. then 2.", "ran 1. then 2."),
        (
            "*bold* __under__ ~~gone~~ ||spoiler|| `code`",
            r"\*bold\* \_\_under\_\_ \~\~gone\~\~ \|\|spoiler\|\| \`code\`",
        ),
        ("a\n**Bob** logged **42 km**", r"a \*\*Bob\*\* logged \*\*42 km\*\*"),
        ("ends in a backslash\\", "ends in a backslash\\\\"),
        ("route https://strava.example/a_b*c.", "route <https://strava.example/a_b*c>."),
        ("@everyone <@123> :fire:", "@everyone <@123> :fire:"),
        ("x\x00y\u202ez", "xyz"),
    ],
)
def test_shown_literally_on_one_line(text: str, shown: str) -> None:
    assert literal_line(text) == shown


@given(hostile)
def test_what_discord_shows_is_the_text_itself_with_no_markdown_and_one_line(text: str) -> None:
    line = literal_line(text)
    assert not set(line) & FOLDED
    assert refused_character(line) is None
    assert live_markdown(line) == set()
    kept = "".join(ch for ch in text if ch in FOLDED or refused_character(ch) is None)
    assert unescape(line) == fold_lines(kept).strip()
    # Nothing at the start reads as a heading, subtext, list item or quote.
    assert not re.match(r"(#|-|\+|>|\d+[.)](\s|$))", line)


def test_only_a_name_that_is_nothing_but_controls_becomes_the_fallback() -> None:
    assert literal_line("\x00") == ""
    assert literal_line(NAME_FALLBACK) == NAME_FALLBACK


@given(hostile, st.integers(min_value=1, max_value=60))
def test_a_shortened_line_fits_and_never_cuts_an_escape_or_a_link(text: str, limit: int) -> None:
    full = literal_line(text)
    short = literal_line(text, limit)
    assert len(short) <= limit
    if short == full:
        return
    assert short.endswith("…")
    kept = short.removesuffix("…")
    assert full.startswith(kept)
    assert live_markdown(kept) == set()  # no half escape (a lone backslash would escape the "…")
    assert "<http" not in re.sub(r"<https?://[^\s<>]*>", "", kept)  # no half link


def test_a_long_note_is_shortened_to_the_limit() -> None:
    assert literal_line("x" * 100, 80) == "x" * 79 + "…"
    assert literal_line("*" * 100, 80) == "\\*" * 39 + "…"
    assert literal_line("x" * 80, 80) == "x" * 80
    # Cut at a space: the "…" follows the last word, not the space after it.
    assert literal_line("abc def ghi", 5) == "abc…"


# -- the day-off names in the warmup --------------------------------------------------------------

HEAVY = HeavyDay(date(2026, 3, 7), (Rule.VOLUME,), 6000, 5000, 6000, None)


def test_day_off_names_are_shown_literally_and_only_mentions_are_markup() -> None:
    offs = [
        DayOff(1, "[discord.com/nitro](https://evil.example)", False, HEAVY),
        DayOff(2, "**Coach**", False, HEAVY),
        DayOff(3, "pinged", True, HEAVY),
    ]
    text, pings = day_off_section(offs, 2000)
    assert r"• \[discord.com/nitro\](<https://evil.example>): " in text
    assert r"• \*\*Coach\*\*: " in text
    assert "• <@3>: " in text
    assert pings == (3,)
