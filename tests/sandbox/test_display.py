"""The console's renderer: a message as a Discord user sees it, on a terminal (ANSI) or plain."""

from __future__ import annotations

from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import pytest

from backrun_bot.sandbox.display import Renderer, relative_time
from backrun_bot.sandbox.emulator.model import Guild, World

# Tuesday 2021-04-20 16:20:30 UTC.
MOMENT = 1618935630


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def guild(world: World) -> Guild:
    team = world.add_guild("Team A", owner_name="coach")
    team.add_member("alice")
    team.add_role("Sprinters")
    return team


def plain(world: World, *, now: float = MOMENT) -> Renderer:
    return Renderer(world, ansi=False, tz=UTC, now=lambda: now)


def test_mentions_read_as_names(world: World, guild: Guild) -> None:
    alice = guild.member_named("alice")
    assert alice is not None
    general = guild.channels["general"]
    text = f"<@{alice.user_id}> <@!{alice.user_id}> <@&{guild.roles['Sprinters']}> in <#{general.id}>"
    assert plain(world).inline(text) == "@Alice @Alice @Sprinters in #general"


def test_unknown_mentions_read_as_discord_shows_them(world: World, guild: Guild) -> None:
    assert plain(world).inline("<@1> <@&2> <#3>") == "@unknown-user @deleted-role #unknown"


def test_styles_are_plain_text_when_not_a_terminal(world: World) -> None:
    lines = plain(world).text("**Alice** logged *a* __b__ ~~c~~ `d`\n> after practice\nnext")
    assert lines == ["Alice logged a b c d", "│ after practice", "next"]


def test_styles_are_ansi_on_a_terminal(world: World) -> None:
    shown = Renderer(world, ansi=True, tz=UTC).inline("**bold** ~~gone~~ *it*")
    assert shown == "\x1b[1mbold\x1b[22m \x1b[9mgone\x1b[29m \x1b[3mit\x1b[23m"


def test_escaped_markdown_shows_the_character(world: World) -> None:
    # discord.utils.escape_markdown("bob_*x*") as the bot sends a display name.
    assert plain(world).inline("**bob\\_\\*x\\***") == "bob_*x*"


def test_quotes_headings_subtext_lists_and_code_blocks(world: World) -> None:
    source = "# Title\n-# small print\n- one\n>>> quoted\nstill quoted\n```\n**raw**\n```"
    assert plain(world).text(source) == [
        "Title",
        "small print",
        "• one",
        "│ quoted",
        "│ still quoted",
        "│ **raw**",
    ]


def test_an_embed_is_a_barred_block_of_title_description_fields_and_footer(world: World) -> None:
    embed = {
        "title": "Stats — **Alice**",
        "description": "This week",
        "fields": [
            {"name": "Backward run", "value": "1.2 km in 3 entries"},
            {"name": "Streak", "value": "2\n(best 5)"},
        ],
        "footer": {"text": "Newest 3"},
    }
    assert plain(world).embed(embed) == [
        "┃ Stats — Alice",
        "┃ This week",
        "┃ Backward run: 1.2 km in 3 entries",
        "┃ Streak: 2",
        "┃   (best 5)",
        "┃ Newest 3",
    ]


def test_an_embeds_picture_is_a_line_below_its_fields(world: World) -> None:
    embed = {
        "title": "Stats",
        "fields": [{"name": "Active days", "value": "3"}],
        "image": {"url": "http://127.0.0.1/attachments/1/2/chart.png", "width": 800, "height": 400},
        "footer": {"text": "Streak"},
    }
    assert plain(world).embed(embed) == ["┃ Stats", "┃ Active days: 3", "┃ [picture 800×400]", "┃ Streak"]
    assert plain(world).embed({"image": {"url": "attachment://x.png"}}) == ["┃ [picture]"]


def test_buttons_show_as_labels_in_brackets(world: World) -> None:
    row = {
        "type": 1,
        "components": [
            {"type": 2, "style": 2, "label": "Undo", "custom_id": "u"},
            {"type": 2, "style": 1, "label": "Later", "custom_id": "l", "disabled": True},
            {"type": 2, "style": 5, "label": "Docs", "url": "https://example.org"},
        ],
    }
    lines = plain(world).message("Logged", [], [row])
    assert lines == ["Logged", "[Undo] [Later] (disabled) [Docs ↗]"]


@pytest.mark.parametrize(
    ("style", "shown"),
    [
        ("t", "16:20"),
        ("T", "16:20:30"),
        ("d", "20/04/2021"),
        ("D", "20 April 2021"),
        ("f", "20 April 2021 16:20"),
        ("F", "Tuesday, 20 April 2021 16:20"),
        ("s", "20/04/2021, 16:20"),
        ("S", "20/04/2021, 16:20:30"),
    ],
)
def test_timestamps_read_as_discord_writes_them(world: World, style: str, shown: str) -> None:
    assert plain(world).inline(f"at <t:{MOMENT}:{style}>") == f"at {shown}"


def test_a_timestamp_without_a_style_is_the_short_date_and_time(world: World) -> None:
    assert plain(world).inline(f"<t:{MOMENT}>") == "20 April 2021 16:20"


def test_timestamps_are_in_the_viewers_time_zone(world: World) -> None:
    paris = Renderer(world, ansi=False, tz=ZoneInfo("Europe/Paris"))
    assert paris.inline(f"<t:{MOMENT}:t>") == "18:20"


def test_relative_timestamps_count_from_now(world: World) -> None:
    two_hours_before = plain(world, now=MOMENT - 2 * 3600)
    assert two_hours_before.inline(f"<t:{MOMENT}:R>") == "in 2 hours"
    three_days_after = plain(world, now=MOMENT + 3 * 86400)
    assert three_days_after.inline(f"<t:{MOMENT}:R>") == "3 days ago"


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=10), "in a few seconds"),
        (timedelta(minutes=-1), "a minute ago"),
        (timedelta(minutes=5), "in 5 minutes"),
        (timedelta(hours=-1), "an hour ago"),
        (timedelta(days=-1), "a day ago"),
        (timedelta(days=60), "in 2 months"),
        (timedelta(days=-800), "2 years ago"),
    ],
)
def test_relative_time_rounds_like_discord(delta: timedelta, text: str) -> None:
    assert relative_time(delta.total_seconds()) == text


def test_a_file_shows_its_name_size_and_where_to_download_it(world: World) -> None:
    files = [
        {
            "filename": "backrun-entries-2026-03-08.csv",
            "size": 97,
            "url": "http://127.0.0.1:1/attachments/1/2/a.csv",
        },
        {"filename": "team.csv.gz", "size": 8_387_822, "url": "http://127.0.0.1:1/attachments/1/3/b.csv.gz"},
    ]
    assert plain(world).message("Your 1 entry", attachments=files) == [
        "Your 1 entry",
        "[file backrun-entries-2026-03-08.csv, 97 bytes: http://127.0.0.1:1/attachments/1/2/a.csv]",
        "[file team.csv.gz, 8191.2 KB: http://127.0.0.1:1/attachments/1/3/b.csv.gz]",
    ]
