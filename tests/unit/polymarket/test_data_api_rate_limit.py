"""The sliding-window limiter: never more than `limit` requests in any `window_s`, on a virtual clock."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from copytrader.polymarket.data_api.rate_limit import TRADES_RATE_LIMIT, TRADES_RATE_WINDOW_S, SlidingWindowLimiter
from tests.support.clock import Clock


def grants_for(arrivals: list[float], limit: int, window_s: float) -> list[float]:
    """Drive `reserve` like `acquire` does: each request asks at its arrival and again after every wait."""
    limiter = SlidingWindowLimiter(limit, window_s)
    now, granted = 0.0, []
    for gap in arrivals:
        now += gap
        while (wait := limiter.reserve(now)) > 0:
            now += wait
        granted.append(now)
    return granted


def max_in_any_window(times: list[float], window_s: float) -> int:
    """Largest number of grants less than `window_s` apart from the first of them."""
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window_s:
            start += 1
        best = max(best, end - start + 1)
    return best


@settings(max_examples=200, deadline=None)
@given(
    arrivals=st.lists(st.one_of(st.just(0.0), st.floats(0, 0.2), st.floats(0, 12)), min_size=1, max_size=700),
    limit=st.integers(1, TRADES_RATE_LIMIT),
    window_s=st.sampled_from([0.5, 1.0, TRADES_RATE_WINDOW_S]),
)
def test_never_more_than_limit_in_any_window(arrivals: list[float], limit: int, window_s: float) -> None:
    granted = grants_for(arrivals, limit, window_s)
    assert granted == sorted(granted)
    assert max_in_any_window(granted, window_s) <= limit


def test_a_burst_of_600_is_spread_over_three_windows_at_full_rate() -> None:
    granted = grants_for([0.0] * 600, TRADES_RATE_LIMIT, TRADES_RATE_WINDOW_S)
    assert granted[:200] == [0.0] * 200
    assert granted[200:400] == [10.0] * 200 and granted[400:] == [20.0] * 200
    assert max_in_any_window(granted, TRADES_RATE_WINDOW_S) == 200


def test_acquire_waits_on_the_injected_clock_and_serves_tasks_in_order() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter(3, 10.0, clock=clock.monotonic, sleep=clock.sleep)
    order: list[tuple[int, float]] = []

    async def request(n: int) -> None:
        await limiter.acquire()
        order.append((n, clock.monotonic()))

    async def main() -> None:
        await asyncio.gather(*(request(n) for n in range(7)))

    asyncio.run(main())
    assert [n for n, _ in order] == list(range(7))
    assert [t for _, t in order] == [0.0, 0.0, 0.0, 10.0, 10.0, 10.0, 20.0]


def test_pause_holds_every_request_for_the_server_retry_after() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter(100, 10.0, clock=clock.monotonic, sleep=clock.sleep)
    limiter.pause(7.5)
    assert limiter.reserve(0.0) == 7.5
    asyncio.run(limiter.acquire())
    assert clock.monotonic() == 7.5
    limiter.pause(1.0)
    limiter.pause(0.5)  # a shorter pause never shortens a longer one
    assert limiter.reserve(clock.monotonic()) == 1.0
