"""The pacer alone (``discord_app/pacing.py``): each process's share of Discord's global limit, one
request per interval in the order they asked, no burst after an idle spell, a slot grid that a late
wake-up does not shift, a pause for a global 429's Retry-After (not for a per-route one).

The pacer is given a clock and a sleep the test owns: nothing waits for real, and the assertions are
on the instants the pacer let each request go.
"""

from __future__ import annotations

import asyncio
import bisect
import random
from collections.abc import Callable

import pytest

from backrun_bot.discord_app.pacing import CATCH_UP, HEADROOM, Pacer, pacer_rate
from backrun_bot.domain.shards import ShardSet


class Time:
    """A clock that moves only when the pacer sleeps: by the seconds asked, plus ``late`` (an event
    loop that wakes a task a little after its time). ``meanwhile`` runs inside the next sleep."""

    def __init__(self, late: float = 0.0) -> None:
        self.now = 100.0
        self.late = late
        self.sleeps: list[float] = []
        self.meanwhile: Callable[[], None] | None = None
        self.stuck = False  # the next sleep never ends (until cancelled)
        self.asleep = asyncio.Event()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.asleep.set()
        if self.stuck:
            self.stuck = False
            await asyncio.Event().wait()
        meanwhile, self.meanwhile = self.meanwhile, None
        if meanwhile is not None:
            meanwhile()
        self.now += seconds + self.late
        await asyncio.sleep(0)


def pacer(rate: float, time: Time, waits: list[float] | None = None) -> Pacer:
    record = waits.append if waits is not None else (lambda seconds: None)
    return Pacer(rate, on_wait=record, clock=time.clock, sleep=time.sleep)


async def go(p: Pacer, time: Time, times: int) -> list[float]:
    """``times`` requests one after another: the instant each was let through."""
    instants = []
    for _ in range(times):
        await p.wait()
        instants.append(time.now)
    return instants


def test_each_process_paces_to_its_shards_share_of_the_limit_less_the_headroom() -> None:
    assert HEADROOM == 0.04
    assert pacer_rate(50, ShardSet.every()) == pytest.approx(48)  # one process: 48 of 50
    assert pacer_rate(50, ShardSet.of(4, None)) == pytest.approx(48)  # all four shards here
    assert pacer_rate(50, ShardSet.of(2, (1,))) == pytest.approx(24)
    assert pacer_rate(50, ShardSet.of(4, (0, 2, 3))) == pytest.approx(36)
    assert pacer_rate(500, ShardSet.of(3, (2,))) == pytest.approx(160)
    # Three processes of one token, shards 0, 1 and 2 of 3: together under the limit.
    assert sum(pacer_rate(50, ShardSet.of(3, (i,))) for i in range(3)) == pytest.approx(48)
    assert Pacer.for_share(50, ShardSet.of(2, (0,))).rate == pytest.approx(24)


async def test_one_request_per_interval_the_first_at_once() -> None:
    time, waits = Time(), list[float]()
    p = pacer(10, time, waits)
    assert await go(p, time, 4) == pytest.approx([100.0, 100.1, 100.2, 100.3])
    assert waits == pytest.approx([0.0, 0.1, 0.1, 0.1])  # what the metric observes


async def test_requests_side_by_side_go_in_the_order_they_asked() -> None:
    time = Time()
    p = pacer(20, time)
    order: list[tuple[int, float]] = []

    async def request(n: int) -> None:
        await p.wait()
        order.append((n, time.now))

    await asyncio.gather(*(request(n) for n in range(5)))
    assert [n for n, _ in order] == [0, 1, 2, 3, 4]
    assert [at for _, at in order] == pytest.approx([100.0, 100.05, 100.1, 100.15, 100.2])


async def test_no_burst_after_an_idle_spell() -> None:
    time = Time()
    p = pacer(10, time)
    await go(p, time, 3)
    time.now += 60  # nothing to send for a minute: no credit is saved up
    assert await go(p, time, 3) == pytest.approx([160.2, 160.3, 160.4])


async def test_waking_late_does_not_slow_a_long_fan_out_down() -> None:
    """Each wake-up comes 10 ms late; the next slot is still an interval after the last *slot*, so
    the 11th request goes at 1 s (+10 ms), not at 1.1 s."""
    time = Time(late=0.01)
    p = pacer(10, time)
    instants = await go(p, time, 11)
    assert instants[0] == 100.0
    assert instants[1:] == pytest.approx([100.0 + n / 10 + 0.01 for n in range(1, 11)])


async def test_after_a_stall_the_slots_start_again_instead_of_bunching_to_catch_up() -> None:
    """Woken 95 ms late (more than the CATCH_UP of an interval that is made up), the next slot is an
    interval less CATCH_UP after the moment it went, not the old grid's next slot."""
    assert CATCH_UP == 0.9
    time = Time(late=0.095)
    p = pacer(10, time)
    instants = await go(p, time, 4)
    # 100.0; slot 100.1, woke 100.195; next slot 100.195 - 0.09 + 0.1 = 100.205, woke 100.3; ...
    assert instants == pytest.approx([100.0, 100.195, 100.3, 100.405])


async def test_a_lateness_under_the_catch_up_is_made_up_in_full() -> None:
    """85 ms late at 10/s (under 0.9 of the 100 ms interval): every request still on its grid."""
    time = Time(late=0.085)
    p = pacer(10, time)
    instants = await go(p, time, 5)
    assert instants == pytest.approx([100.0, 100.185, 100.285, 100.385, 100.485])


def window_peak(instants: list[float]) -> int:
    """The most requests in any closed one-second window (Discord's, and the emulator's, sliding one)."""
    return max(bisect.bisect_right(instants, t + 1.0) - i for i, t in enumerate(instants))


async def test_the_worst_case_window_holds_the_rate_plus_one() -> None:
    """The most a window can hold: its first request woke as late as is still made up (just under
    CATCH_UP of an interval), every later one on time. At 48/s that is 49, under Discord's 50; a
    catch-up of more than an interval would make it 50."""
    time = Time()
    p = pacer(48, time)
    instants = [100.0]
    await p.wait()  # the first goes at once
    time.late = CATCH_UP * p.interval * 0.999
    await p.wait()
    instants.append(time.now)
    time.late = 0.0
    for _ in range(100):
        await p.wait()
        instants.append(time.now)
    assert window_peak(instants) == 49


@pytest.mark.parametrize("seed", range(10))
async def test_no_one_second_window_holds_more_than_the_rate_plus_one(seed: int) -> None:
    """Whatever the wake-ups' lateness (random, up to half a second), no window of one second holds
    more than ``rate + 1`` requests: 49 at 48/s."""
    rng = random.Random(seed)
    time = Time()
    p = pacer(48, time)
    instants = []
    for _ in range(600):
        # Mostly on time or a few ms late, sometimes an interval or two, now and then a stall.
        time.late = rng.choice([0.0, 0.0, rng.uniform(0, 0.02), rng.uniform(0, 0.042), rng.uniform(0, 0.5)])
        await p.wait()
        instants.append(time.now)
    assert window_peak(instants) <= 49


async def test_a_global_429_pauses_the_paced_requests_for_its_retry_after() -> None:
    time, waits = Time(), list[float]()
    p = pacer(10, time, waits)
    await go(p, time, 2)  # 100.0 and 100.1
    p.rate_limited("global", 2.0)  # at 100.1: nothing before 102.1
    assert await go(p, time, 3) == pytest.approx([102.1, 102.2, 102.3])
    assert waits[2] == pytest.approx(2.0)  # the pause is in the wait time
    p.rate_limited("cloudflare", 5.0)  # an IP ban stops every request too
    assert await go(p, time, 1) == pytest.approx([107.3])


async def test_a_per_route_429_does_not_hold_up_the_other_channels() -> None:
    time = Time()
    p = pacer(10, time)
    await go(p, time, 1)
    p.rate_limited("user", 30.0)  # one route's bucket: discord.py waits that one out itself
    p.rate_limited("shared", 30.0)
    assert await go(p, time, 2) == pytest.approx([100.1, 100.2])


async def test_a_429_that_comes_while_a_request_waits_its_turn_holds_it_back() -> None:
    time = Time()
    p = pacer(10, time)
    await go(p, time, 1)  # at 100.0; the next slot is 100.1
    time.meanwhile = lambda: p.rate_limited("global", 1.0)  # at 100.0, while the next one sleeps
    assert await go(p, time, 2) == pytest.approx([101.0, 101.1])


async def test_a_shorter_back_off_does_not_cut_a_longer_one() -> None:
    time = Time()
    p = pacer(10, time)
    p.back_off(5.0)
    p.back_off(1.0)
    assert await go(p, time, 1) == pytest.approx([105.0])


async def test_a_request_cancelled_while_waiting_gives_its_slot_to_the_next() -> None:
    time = Time()
    p = pacer(10, time)
    await go(p, time, 1)  # 100.0
    time.stuck, time.asleep = True, asyncio.Event()  # the second request sleeps until cancelled
    waiting = asyncio.create_task(p.wait())
    await time.asleep.wait()
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert await go(p, time, 1) == pytest.approx([100.1])  # the cancelled one's slot, not 100.2


def test_the_rate_must_be_positive() -> None:
    for rate in (0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="positive"):
            Pacer(rate)
