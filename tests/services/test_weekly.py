"""Monday's weekly summary, through the real ``DeliveryService`` on a migrated database (SQLite, and
PostgreSQL when configured) with a recording sender: it follows the warmup once, under its own
ledger slot; its figures are last week's (Monday to Sunday, the team's days); it is retried, waits
for its warmup, survives a crash, is skipped with it; a batch costs the same few statements whatever
its size. The Discord side (the emulator, a restart, a 5xx) is tests/discord_app/test_weekly.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backrun_bot.domain.amounts import Units
from backrun_bot.domain.kinds import Kind
from backrun_bot.domain.schedule import Slot
from backrun_bot.domain.volume import Step
from backrun_bot.errors import ChannelUnavailable, DeliveryError
from backrun_bot.services.delivery import (
    CLAIM_LEASE,
    Delivered,
    DeliveryService,
    DoneTarget,
    Picture,
    reminder_key,
)
from backrun_bot.services.reminder_settings import ReminderSettingsService
from backrun_bot.services.training import TrainingService
from backrun_bot.storage import queries
from backrun_bot.storage import reminder_queries as rq
from backrun_bot.storage.models import Athlete, ReminderDelivery, Team
from tests.services.test_delivery import (
    CHANNEL,
    GRACE,
    MONDAY,
    OSLO,
    SEVEN,
    TEAM_A,
    TEAM_B,
    TUESDAY,
    WARMUP,
    Clock,
    Crash,
    RecordingSender,
    World,
    statements_of,
)

# Last week, as Monday 2026-03-09 sees it.
WEEK = [date(2026, 3, 2) + timedelta(days=n) for n in range(7)]
SUNDAY = WEEK[-1]
PREVIOUS_SUNDAY = WEEK[0] - timedelta(days=1)

ALICE, BOB, CAROL, DAN, EVE, FRANK, ZED = 1, 2, 3, 4, 5, 6, 7

EXPECTED_A = "\n".join(
    [
        "📊 **Last week** (Mon 2 Mar – Sun 8 Mar)",
        "Backward: **20.2 km** · Forward: **8 km** · 6 athletes logged runs",
        "",
        "**Top three, backward**",
        "1. Alice — 7 km",
        "1. Bob — 7 km",
        "3. Carol — 5 km",
        "",
        "**Longest current streaks** (days in a row with backward work)",
        "1. Frank — 38 days",
        "2. Alice — 10 days",
        "3. Carol — 3 days",
        "3. Eve — 3 days",
    ]
)


@dataclass
class KeyedSender(RecordingSender):
    """A :class:`RecordingSender` that can also fail the next sends of one (channel, key): the
    summary after a warmup that went through. ``tried`` lists every send's (channel, key)."""

    key_failures: dict[tuple[int, str], list[BaseException]] = field(default_factory=dict)
    tried: list[tuple[int, str]] = field(default_factory=list)

    async def send(
        self,
        channel_id: int,
        content: str,
        *,
        mention_user_ids: Sequence[int],
        nonce: str,
        key: str,
        picture: Picture | None = None,
        done: DoneTarget | None = None,
    ) -> int:
        self.tried.append((channel_id, key))
        queued = self.key_failures.get((channel_id, key))
        if queued:
            raise queued.pop(0)
        return await super().send(
            channel_id,
            content,
            mention_user_ids=mention_user_ids,
            nonce=nonce,
            key=key,
            picture=picture,
            done=done,
        )


@pytest.fixture
def world(sessionmaker: async_sessionmaker[AsyncSession]) -> World:
    clock = Clock(SEVEN - timedelta(minutes=10))
    sender = KeyedSender()
    return World(
        sessionmaker,
        clock,
        sender,
        DeliveryService(sessionmaker, sender, clock=clock, grace=GRACE),
        ReminderSettingsService(sessionmaker, clock=clock),
        TrainingService(sessionmaker, clock),
    )


async def athlete_id(world: World, team_id: int, user_id: int) -> int:
    async with world.sessionmaker() as s:
        athlete = await queries.get_or_create_athlete(s, team_id, user_id, "?")
        return athlete.id


async def week_of_team_a(world: World) -> None:
    """Team A's last week (the figures of :data:`EXPECTED_A`), with entries just outside it that
    must not count, a rest day, and a streak mark; Team B's one athlete in the same batch."""
    back, fwd = Kind.BACKWARD, Kind.FORWARD
    # Alice: 1 km every day of the week, and 500 m on the three days before: a 10-day streak.
    await world.history(TEAM_A, ALICE, "Alice", back, 1000, WEEK)
    await world.history(TEAM_A, ALICE, "Alice", back, 500, [WEEK[0] - timedelta(days=d) for d in (1, 2, 3)])
    # Bob: 7 km in two days (a tie with Alice); Sunday's 3.5 km is heavy (the warmup names him).
    await world.history(TEAM_A, BOB, "Bob", back, 3500, [WEEK[2], SUNDAY])
    # Carol: backward Thursday, a suggested rest day Friday (bridges, does not lengthen), backward
    # Saturday and Sunday; 5 km forward on Friday.
    await world.history(TEAM_A, CAROL, "Carol", back, 1000, [WEEK[3]])
    await world.history(TEAM_A, CAROL, "Carol", back, 2000, [WEEK[5], SUNDAY])
    await world.history(TEAM_A, CAROL, "Carol", fwd, 5000, [WEEK[4]])
    async with world.sessionmaker.begin() as s:
        carol = await queries.get_or_create_athlete(s, TEAM_A, CAROL, "Carol")
        await queries.record_rest_days(s, [carol.id], WEEK[4], "warmup", world.clock())
    # Dan: forward only in the week (active, not placed); backward the Sunday before (not counted).
    await world.history(TEAM_A, DAN, "Dan", fwd, 3000, [WEEK[3]])
    await world.history(TEAM_A, DAN, "Dan", back, 9000, [PREVIOUS_SUNDAY])
    # Eve: 250 m Saturday and Sunday, and 9 km this Monday (today: not last week, but her streak).
    await world.history(TEAM_A, EVE, "Eve", back, 250, [WEEK[5], SUNDAY])
    await world.history(TEAM_A, EVE, "Eve", back, 9000, [MONDAY])
    # Frank: 100 m a day since Sunday the 1st; his mark (kept by /stats) knows the 30 days before.
    await world.history(TEAM_A, FRANK, "Frank", back, 100, [PREVIOUS_SUNDAY, *WEEK])
    async with world.sessionmaker.begin() as s:
        await s.execute(
            update(Athlete)
            .where(Athlete.team_id == TEAM_A, Athlete.user_id == FRANK)
            .values(streak_through=PREVIOUS_SUNDAY - timedelta(days=1), streak_best=40, streak_open=30)
        )
    # Another team's athlete, in the same batch, never in Team A's summary.
    await world.history(TEAM_B, ZED, "Zed", back, 20_000, [WEEK[1]])


async def monday(world: World, *teams: int, weekly: bool = True) -> None:
    for team_id in teams:
        await world.team(team_id, weekly=weekly)
    world.clock.now = SEVEN


async def test_mondays_warmup_is_followed_by_the_summary_of_last_week_once(world: World) -> None:
    await monday(world, TEAM_A, TEAM_B)
    await week_of_team_a(world)

    assert await world.delivery.deliver(WARMUP, MONDAY, SEVEN) == Delivered(sent=2, pending=0, weekly=2)

    warmup, weekly = world.sender.to(CHANNEL[TEAM_A])
    assert warmup.content.startswith("**Warmup") and warmup.key == reminder_key(MONDAY, Slot.WARMUP)
    assert weekly.content == EXPECTED_A
    assert weekly.key == "2026-03-09:weekly"
    assert weekly.mention_user_ids == ()  # names as text; the warmup pings Bob and Carol (heavy Sunday)
    assert warmup.mention_user_ids == (BOB, CAROL)
    assert weekly.nonce != warmup.nonce
    # The team's chart of last week goes with it: a bar a day, Monday to Sunday, of what was logged,
    # and the 7-day average reaching into the week before (Alice's and Frank's days there count).
    assert warmup.picture is None and weekly.picture is not None
    series = weekly.picture.chart.series
    assert (series.first, series.last, series.step) == (WEEK[0], SUNDAY, Step.DAY)
    assert [bar.first for bar in series.bars] == list(WEEK)
    assert [bar.backward_m for bar in series.bars] == [1100, 1100, 4600, 2100, 1100, 3350, 6850]
    assert [bar.forward_m for bar in series.bars] == [0, 0, 0, 3000, 5000, 0, 0]
    before = 3 * 500 + 9000 + 100  # the six days before the week: Alice, Dan, Frank
    assert series.bars[0].average_backward_m == pytest.approx((before + 1100) / 7)
    assert weekly.picture.chart.units is Units.METRIC and weekly.picture.when == "last week"
    [_, zed] = world.sender.to(CHANNEL[TEAM_B])
    assert "1. Zed — 20 km" in zed.content and "Alice" not in zed.content
    assert [(r.slot, r.status, r.message_id) for r in await world.ledger(TEAM_A)] == [
        ("warmup", "sent", warmup.message_id),
        ("weekly", "sent", weekly.message_id),
    ]

    # Run again (a retry, the catch-up, another copy): nothing more.
    assert await world.delivery.deliver(WARMUP, MONDAY, SEVEN) == Delivered()
    assert len(world.sender.sent) == 4


async def test_an_imperial_team_gets_its_summary_and_chart_in_yards_and_miles(world: World) -> None:
    await monday(world, TEAM_A, TEAM_B)
    await week_of_team_a(world)
    async with world.sessionmaker.begin() as s:
        await s.execute(update(Team).where(Team.id == TEAM_B).values(units="imperial"))

    await world.delivery.deliver(WARMUP, MONDAY, SEVEN)

    [_, zed] = world.sender.to(CHANNEL[TEAM_B])
    assert "Backward: **12.43 mi** · Forward: **0 yd**" in zed.content and "1. Zed — 12.43 mi" in zed.content
    assert zed.picture is not None and zed.picture.chart.units is Units.IMPERIAL
    [_, alice_team] = world.sender.to(CHANNEL[TEAM_A])
    assert alice_team.content == EXPECTED_A  # the other team of the batch keeps its metres


async def test_no_summary_on_other_days_when_it_is_off_or_when_nobody_logged_anything(world: World) -> None:
    await monday(world, TEAM_A)
    await world.team(TEAM_B, weekly=False)
    await world.history(TEAM_B, ZED, "Zed", Kind.BACKWARD, 1000, [SUNDAY])
    # Team A logged nothing last week (only the Sunday before): nothing to sum up.
    await world.history(TEAM_A, ALICE, "Alice", Kind.BACKWARD, 1000, [PREVIOUS_SUNDAY])

    assert await world.delivery.deliver(WARMUP, MONDAY, SEVEN) == Delivered(sent=2, pending=0, weekly=0)
    assert [m.key for m in world.sender.sent] == ["2026-03-09:warmup"] * 2
    # No summary and no ledger row: the due query passes over a team with nothing to sum up.
    assert [(r.slot, r.status) for r in await world.ledger(TEAM_A)] == [("warmup", "sent")]
    assert [r.slot for r in await world.ledger(TEAM_B)] == ["warmup"]
    # Nothing is due any more (a team with the summary off, or nothing to sum up, is not kept due
    # by a summary that never comes).
    async with world.sessionmaker() as s:
        assert await rq.due_team_ids(s, OSLO, "07:00", "warmup", MONDAY, SEVEN) == []

    # Tuesday: the warmup only, whatever was logged.
    await world.history(TEAM_A, ALICE, "Alice", Kind.BACKWARD, 1000, [MONDAY])
    world.clock.now = SEVEN + timedelta(days=1)
    assert await world.delivery.deliver(WARMUP, TUESDAY, world.clock.now) == Delivered(sent=2, pending=0)
    assert [m.key for m in world.sender.sent[2:]] == ["2026-03-10:warmup"] * 2


async def test_a_5xx_on_the_summary_is_retried_and_the_warmup_not_sent_again(world: World) -> None:
    await monday(world, TEAM_A)
    await week_of_team_a(world)
    channel = CHANNEL[TEAM_A]
    sender = world.sender
    assert isinstance(sender, KeyedSender)
    sender.key_failures[(channel, "2026-03-09:weekly")] = [DeliveryError("503 Service Unavailable")]

    assert await world.delivery.deliver(WARMUP, MONDAY, SEVEN) == Delivered(sent=1, pending=1, weekly=0)
    assert [(r.slot, r.status) for r in await world.ledger(TEAM_A)] == [
        ("warmup", "sent"),
        ("weekly", "retry"),
    ]

    world.clock.now = SEVEN + timedelta(seconds=1)  # the scheduler's retry
    assert await world.delivery.deliver(WARMUP, MONDAY, SEVEN) == Delivered(sent=0, pending=0, weekly=1)
    assert [key for _, key in sender.tried] == [
        "2026-03-09:warmup",
        "2026-03-09:weekly",
        "2026-03-09:weekly",
    ]
    assert sender.looked == [(channel, "2026-03-09:weekly")]  # it may have gone out: looked first
    assert [m.content for m in sender.to(channel)] == [sender.sent[0].content, EXPECTED_A]
    assert [(r.slot, r.status, r.attempts) for r in await world.ledger(TEAM_A)] == [
        ("warmup", "sent", 1),
        ("weekly", "sent", 2),
    ]
    assert await world.delivery.deliver(WARMUP, MONDAY, SEVEN) == Delivered()


async def test_the_summary_waits_for_a_warmup_that_did_not_go_out(world: World) -> None:
    await monday(world, TEAM_A)
    await week_of_team_a(world)
    channel = CHANNEL[TEAM_A]
    world.sender.failures[channel] = [DeliveryError("502")]

    assert await world.delivery.deliver(WARMUP, MONDAY, SEVEN) == Delivered(sent=0, pending=2, weekly=0)
    assert world.sender.sent == []  # the summary was not sent before its warmup
    assert [(r.slot, r.status, r.detail) for r in await world.ledger(TEAM_A)] == [
        ("warmup", "retry", "502"),
        ("weekly", "retry", "waiting for the warmup"),
    ]

    world.clock.now = SEVEN + timedelta(seconds=1)
    assert await world.delivery.deliver(WARMUP, MONDAY, SEVEN) == Delivered(sent=1, pending=0, weekly=1)
    assert [m.key for m in world.sender.to(channel)] == ["2026-03-09:warmup", "2026-03-09:weekly"]


async def test_a_lost_channel_ends_the_summary_with_the_warmup(world: World) -> None:
    await monday(world, TEAM_A)
    await week_of_team_a(world)
    world.sender.failures[CHANNEL[TEAM_A]] = [ChannelUnavailable("403 Missing Access")]

    assert await world.delivery.deliver(WARMUP, MONDAY, SEVEN) == Delivered(sent=0, pending=0, weekly=0)
    assert [(r.slot, r.status) for r in await world.ledger(TEAM_A)] == [
        ("warmup", "failed"),
        ("weekly", "failed"),
    ]
    assert world.sender.attempts == [(CHANNEL[TEAM_A], world.sender.attempts[0][1])]  # one try


async def test_a_crash_after_the_warmup_sends_the_summary_once_after_the_lease(world: World) -> None:
    """The process dies once Discord took the warmup, before the summary: the next run (after the
    lease) finds the warmup in the channel and records it, and sends the summary once."""
    await monday(world, TEAM_A)
    await week_of_team_a(world)
    channel = CHANNEL[TEAM_A]
    world.sender.sent_then[channel] = Crash()

    with pytest.raises(Crash):
        await world.delivery.deliver(WARMUP, MONDAY, SEVEN)
    assert [m.key for m in world.sender.sent] == ["2026-03-09:warmup"]
    assert {r.status for r in await world.ledger(TEAM_A)} == {"claimed"}

    # The claims are fresh: another run holds them (the summary is that run's too: not claimed).
    world.clock.now = SEVEN + timedelta(seconds=5)
    assert await world.delivery.deliver(WARMUP, MONDAY, SEVEN) == Delivered(sent=0, pending=1, weekly=0)
    world.clock.now = SEVEN + CLAIM_LEASE + timedelta(seconds=1)
    assert await world.delivery.deliver(WARMUP, MONDAY, SEVEN) == Delivered(sent=1, pending=0, weekly=1)
    assert [m.key for m in world.sender.to(channel)] == ["2026-03-09:warmup", "2026-03-09:weekly"]
    assert world.sender.looked == [(channel, "2026-03-09:warmup"), (channel, "2026-03-09:weekly")]


async def test_too_late_the_summary_is_skipped_with_its_warmup(world: World) -> None:
    await monday(world, TEAM_A, TEAM_B)
    await week_of_team_a(world)
    sender = world.sender
    assert isinstance(sender, KeyedSender)
    # A: the warmup went out, its summary did not; B: neither did.
    sender.key_failures[(CHANNEL[TEAM_A], "2026-03-09:weekly")] = [DeliveryError("503")] * 99
    sender.failures[CHANNEL[TEAM_B]] = [DeliveryError("503")]
    assert await world.delivery.deliver(WARMUP, MONDAY, SEVEN) == Delivered(sent=1, pending=3, weekly=0)
    world.clock.now = SEVEN + GRACE + timedelta(minutes=1)

    assert await world.delivery.skip(WARMUP, MONDAY, SEVEN, reason="2:01:00 late")
    assert [(r.slot, r.status) for r in await world.ledger(TEAM_A)] == [
        ("warmup", "sent"),
        ("weekly", "skipped"),
    ]
    assert [(r.slot, r.status) for r in await world.ledger(TEAM_B)] == [
        ("warmup", "skipped"),
        ("weekly", "skipped"),
    ]
    assert await world.delivery.deliver(WARMUP, MONDAY, SEVEN) == Delivered()


async def test_a_summary_another_run_holds_is_left_to_it(world: World) -> None:
    """A fresh claim of the summary (another copy sending it) is neither sent again nor recorded as
    skipped, and the skip says the occurrence is not finished."""
    await monday(world, TEAM_A)
    await week_of_team_a(world)
    world.sender.sent_then[CHANNEL[TEAM_A]] = Crash()  # dies after the warmup: both claims left
    with pytest.raises(Crash):
        await world.delivery.deliver(WARMUP, MONDAY, SEVEN)
    async with world.sessionmaker.begin() as s:
        # The warmup recorded as sent (as a run that found it would); the summary freshly claimed.
        await s.execute(
            update(ReminderDelivery)
            .where(ReminderDelivery.team_id == TEAM_A, ReminderDelivery.slot == "warmup")
            .values(status="sent")
        )
    world.clock.now = SEVEN + timedelta(seconds=30)
    # A run now leaves the summary to its holder: nothing sent, one pending.
    assert await world.delivery.deliver(WARMUP, MONDAY, SEVEN) == Delivered(sent=0, pending=1, weekly=0)
    assert [m.key for m in world.sender.sent] == ["2026-03-09:warmup"]
    assert not await world.delivery.skip(WARMUP, MONDAY, SEVEN, reason="late")
    assert [(r.slot, r.status) for r in await world.ledger(TEAM_A)] == [
        ("warmup", "sent"),
        ("weekly", "claimed"),
    ]


async def test_a_monday_batch_costs_the_same_few_statements_whatever_its_size(world: World) -> None:
    """Per batch of 100 teams the summary adds its claim, three reads and its outcomes, however many
    teams and athletes (each team with two athletes and a week of entries)."""

    async def run(teams: range) -> int:
        for team_id in teams:
            await world.team(team_id, weekly=True)
            for user in (1, 2):
                await world.history(team_id, user, f"a{user}", Kind.BACKWARD, 500.0 * user, WEEK)
        world.clock.now = SEVEN
        with statements_of(world) as statements:
            done = await world.delivery.deliver(WARMUP, MONDAY, SEVEN)
        assert done == Delivered(sent=len(teams), pending=0, weekly=len(teams))
        world.clock.now = SEVEN - timedelta(minutes=10)
        return len(statements)

    one = await run(range(20_000, 20_003))
    many = await run(range(30_000, 30_100))  # one full batch
    assert many == one, (one, many)
    assert one <= 13
