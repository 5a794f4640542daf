"""What the bot's replies look like. Pure formatting of service results into Discord objects.

Discord's limits shape these: an embed description holds 4,096 characters, a field value 1,024, and
all text of one embed 6,000; history therefore shortens notes.

Whatever people typed (a note) or Discord calls them (a display name) goes through
:func:`~backrun_bot.domain.text.literal_line`: shown as written, markdown escaped, on one line, so it
can neither forge a line of the bot's nor become a masked link in a public reply.
"""

from __future__ import annotations

import discord

from backrun_bot.domain.amounts import format_distance
from backrun_bot.domain.drills import short_date
from backrun_bot.domain.ladder import dose_line, ladder_title, to_move_up
from backrun_bot.domain.text import literal_line
from backrun_bot.services.done import DoneResult, Undone
from backrun_bot.services.plan import PlanToday
from backrun_bot.services.reminder_settings import ReminderSettings
from backrun_bot.services.training import EntryView, LogResult, StatsView

BRAND = discord.Colour.from_rgb(46, 134, 193)
MAX_CONTENT = 2000  # Discord's limit on a message's content
LATE_LINE = "(This took a while: it is stored once. Check /history before logging it again.)"
HISTORY_NOTE_CHARS = 80  # as sent, escapes included: 25 entries stay inside one description


def log_message(who: str, result: LogResult, *, late: bool = False) -> str:
    """The public reply to /log. ``who`` is shown as text; allowed mentions keep it inert. The note
    is the last line, quoted, and always one line."""
    entry = result.entry
    when = "" if entry.day == result.today else f" for {entry.day.isoformat()}"
    day_word = "today" if entry.day == result.today else entry.day.isoformat()
    lines = [
        f"**{literal_line(who)}** logged **{entry.amount}** {entry.kind.label}{when} (entry #{entry.id}).",
        f"Backward {day_word}: **{format_distance(result.backward_today_m, result.units)}** · "
        f"this week: **{format_distance(result.backward_week_m, result.units)}**",
    ]
    if not entry.distance_given:
        counted = format_distance(entry.effective_meters, result.units)
        lines.append(f"(counted as about {counted} at a typical pace)")
    if entry.rpe is not None:
        lines.append(f"How hard it felt: RPE {entry.rpe}/10")
    if late:  # the answer was deferred (a slow database): a member who has retried meanwhile should know
        lines.append(LATE_LINE)
    if entry.note:
        lines.append(f"> {literal_line(entry.note)}")
    return "\n".join(lines)


def done_message(result: DoneResult) -> str:
    """The answer to a Done press: what was logged (and what was left out), or why nothing was."""
    what = f"{result.slot.label} of {short_date(result.day)}"
    if result.day_off is not None:
        return (
            f"Nothing backward was logged for the {what}: it is a suggested day off from backward "
            f"work for you ({result.day_off}). `/plan` shows today's forward versions."
        )
    lines = [f"✅ Logged the {what}:"]
    lines += [f"• {entry.describe(result.units)}" for entry in result.entries]
    for step in result.left_out:
        lines.append(f"Not logged: {step.name} ({step.dose}) has no distance to count.")
    if not result.entries:
        lines.append("Nothing with a distance to log.")
    return "\n".join(lines)


def undone_done_message(undone: Undone) -> str:
    what = f"{undone.slot.label} of {short_date(undone.day)}"
    if not undone.entries:
        return (
            f"↩️ Undone: your Done for the {what} (its entries were already gone). You can press Done again."
        )
    shown = ", ".join(f"~~{entry.describe(undone.units)}~~" for entry in undone.entries)
    return f"↩️ Undone: your Done for the {what}: {shown}. You can press Done again."


def undone_message(entry: EntryView) -> str:
    return f"↩️ Undone: ~~{entry.describe()}~~"


def history_embed(name: str, entries: list[EntryView], *, own: bool) -> discord.Embed:
    """/history of ``name``; ``own`` when it is the caller's own, the only case /undo applies to."""
    embed = discord.Embed(title=f"History — {literal_line(name)}", colour=BRAND)
    if not entries:
        embed.description = "No entries yet. Log one with `/log backward 400m`."
        return embed
    lines = []
    for e in entries:
        line = f"`#{e.id}` {e.day.isoformat()} · **{e.amount}** {e.kind.label}"
        if e.rpe is not None:
            line += f" · RPE {e.rpe}"
        if e.note:
            line += f" — {literal_line(e.note, HISTORY_NOTE_CHARS)}"
        lines.append(line)
    embed.description = "\n".join(lines)
    footer = f"Newest {len(entries)}"
    if own:
        footer += " · /undo removes your latest"
    embed.set_footer(text=footer)
    return embed


# Rest is part of the plan: a suggested day off keeps the streak (domain/stats.py Island).
STREAK_FOOTNOTE = (
    "Streak: days in a row with backward work. A day Backrun suggested as a day off (in the warmup "
    "or /plan) does not break it."
)


def stats_embed(name: str, stats: StatsView) -> discord.Embed:
    since = "all time" if stats.start is None else f"{stats.start.isoformat()} – {stats.end.isoformat()}"
    embed = discord.Embed(
        title=f"Stats — {literal_line(name)}",
        description=f"This {stats.period.value}: {since}"
        if stats.start
        else f"All time, to {stats.end.isoformat()}",
        colour=BRAND,
    )
    if not stats.lines:
        embed.add_field(name="Nothing logged", value="No entries in this period.", inline=False)
    for line in stats.lines:
        embed.add_field(
            name=line.kind.label,
            value=f"{format_distance(line.meters, stats.units)} in {line.count} "
            f"{'entry' if line.count == 1 else 'entries'}",
            inline=True,
        )
    share = "—" if stats.backward_share is None else f"{stats.backward_share:.0%}"
    embed.add_field(name="Backward share of running", value=share, inline=False)
    embed.add_field(name="Active days", value=str(stats.active_days), inline=True)
    embed.add_field(
        name="Backward streak",
        value=f"{stats.current_streak} day{'s' if stats.current_streak != 1 else ''} "
        f"(best {stats.longest_streak})",
        inline=True,
    )
    embed.set_footer(text=STREAK_FOOTNOTE)
    return embed


def help_embed(commands: list[tuple[str, str]]) -> discord.Embed:
    """/help: what Backrun is for, then ``(usage, description)`` for every command."""
    embed = discord.Embed(
        title="Backrun — backward running, every day",
        colour=BRAND,
        description=(
            "Backward running (backpedaling, backward skipping, jogging and walking backward) works the "
            "hamstrings, glutes and lower back. Log what you ran, watch your streak, and keep it a habit — "
            "without overdoing it: after a heavy backward day, take the next one off from it."
        ),
    )
    for usage, text in commands[:25]:  # an embed holds at most 25 fields
        embed.add_field(name=usage, value=text, inline=False)
    embed.set_footer(text="Amounts: 400m, 1.2 km, 440yd, 0.25mi, 2 laps, 90s, 5 min, 1:30, 1h05")
    return embed


def preview_embeds(settings: ReminderSettings, warmup: str, cooldown: str) -> list[discord.Embed]:
    """/reminders preview: each reminder under the local time and channel it goes out at."""
    where = f"<#{settings.channel_id}>" if settings.channel_id else "no channel set"
    embeds = []
    for label, at, text in (("Warmup", settings.warmup, warmup), ("Cooldown", settings.cooldown, cooldown)):
        when = f"{at:%H:%M} {settings.timezone}" if at else "off"
        # An embed description holds 4,096 characters; the reminders are far shorter.
        embeds.append(discord.Embed(title=f"{label} · {when}", description=f"in {where}\n\n{text}"[:4096]))
    return embeds


def plan_message(today: PlanToday) -> str:
    """/plan: the day-off advice, then the day's warmup and cooldown (forward ones on a day off).

    Fits one message: the drills' texts are kept to 1,500 characters together (tests/domain), which
    leaves the advice room.
    """
    units = today.units
    text = "\n\n".join([today.advice(), today.plan.warmup_text(units), today.plan.cooldown_text(units)])
    assert len(text) <= MAX_CONTENT, "the /plan texts outgrew one message"
    return text


def ladder_embeds(today: PlanToday) -> list[discord.Embed]:
    """/plan's ladder section, an embed of its own under the plan's text (which has its own
    2,000-character budget): the level, today's dose at it (or, on a day off, that it waits) and
    what is left to move up. Its title stays under Discord's 256 characters and each field under
    1,024 (tests/domain checks every level and state); nothing in it is typed by a user."""
    state = today.ladder
    if state is None:
        return []
    embed = discord.Embed(title=ladder_title(state), colour=BRAND)
    embed.add_field(name="Today at your level", value=dose_line(state, today.units, day_off=today.day_off))
    embed.add_field(name="To move up", value=to_move_up(state), inline=False)
    return [embed]
