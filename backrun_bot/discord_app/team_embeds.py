"""What the team's views look like: the leaderboard (public) and a page of the coach's overview.

The text is the rules' (:mod:`backrun_bot.domain.board`, :mod:`backrun_bot.domain.overview`), with
every name shown literally; this only puts it in embeds, within Discord's limits (a description of
4,096 characters, a field value of 1,024, 6,000 in all; the overview's page size and its three
lists' budget are chosen so that a page of 20 athletes with the longest names stays inside them,
as its test checks).
"""

from __future__ import annotations

import discord

from backrun_bot.discord_app.embeds import BRAND
from backrun_bot.domain.board import board_lines, kind_words
from backrun_bot.domain.drills import short_date
from backrun_bot.domain.overview import CHECKIN_DAYS, QUIET_DAYS, OverviewPage
from backrun_bot.services.board import LeaderboardView

PERIOD_WORDS = {"week": "This week", "month": "This month", "year": "This year"}


def leaderboard_embed(view: LeaderboardView, caller_user_id: int) -> discord.Embed:
    period = view.period.value
    embed = discord.Embed(
        title=f"Leaderboard — {kind_words(view.kind)}, {period}",
        description="\n".join(board_lines(view.board, caller_user_id, view.units, view.kind, period)),
        colour=BRAND,
    )
    count = view.board.athletes
    ranked = f" · {count} athlete{'s' if count != 1 else ''}" if count else ""
    embed.set_footer(
        text=f"{PERIOD_WORDS[period]}: {short_date(view.start)} – {short_date(view.end)} "
        f"{view.end.year} ({view.timezone}){ranked}"
    )
    return embed


def overview_embed(page: OverviewPage) -> discord.Embed:
    lines = [page.summary]
    if page.lines:
        lines += ["", *page.lines]
    embed = discord.Embed(title=page.title, description="\n".join(lines), colour=BRAND)
    if page.lines:
        embed.add_field(
            name=f"⚠️ Heavy day yesterday ({page.heavy.count})", value=page.heavy.text, inline=False
        )
        embed.add_field(
            name=f"💤 Nothing logged for {QUIET_DAYS} days ({page.quiet.count})",
            value=page.quiet.text,
            inline=False,
        )
        embed.add_field(
            name=f"🩺 No check-in for {CHECKIN_DAYS} days ({page.unchecked.count})",
            value=page.unchecked.text,
            inline=False,
        )
    embed.set_footer(text=page.footer)
    return embed
