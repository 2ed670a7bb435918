"""A sliding-window rate limiter for the Data API (and Gamma) request budgets.

`/trades` allows 200 requests per sliding 10 s window (Cloudflare). `SlidingWindowLimiter` keeps the
grant times of the last `limit` requests and lets a request through only when the oldest of them has
left the window, so no 10 s window ever holds more than `limit` requests; a 429 pauses it for the
server's `Retry-After`.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

TRADES_RATE_LIMIT = 200  # requests per window on /trades (docs .../api-reference/rate-limits)
TRADES_RATE_WINDOW_S = 10.0
MIN_WAIT_S = 0.001


class SlidingWindowLimiter:
    """At most `limit` requests in any window of `window_s` seconds, across every task sharing it.

    The grant times of the last `limit` requests are kept; request number n+limit waits until request n
    is `window_s` old. Waiters are served in arrival order (one lock). Clock and sleep are injected so the
    property "never more than `limit` in any window" is tested on a virtual clock.
    """

    def __init__(
        self,
        limit: int = TRADES_RATE_LIMIT,
        window_s: float = TRADES_RATE_WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if limit < 1 or window_s <= 0:
            raise ValueError("the limiter needs limit >= 1 and window_s > 0")
        self.limit, self.window_s = limit, window_s
        self._clock, self._sleep = clock, sleep
        self._grants: deque[float] = deque(maxlen=limit)
        self._paused_until = float("-inf")
        self._lock = asyncio.Lock()

    def reserve(self, now: float) -> float:
        """Grant a request at `now` and return 0, or return how long to wait before asking again.

        A grant needs `now - oldest >= window_s` for the oldest of the last `limit` grants. Waits are at
        least 1 ms, so a clock that has not quite reached the boundary (float rounding) still moves on.
        """
        wait = self._paused_until - now
        if len(self._grants) == self.limit:
            wait = max(wait, self.window_s - (now - self._grants[0]))
        if wait > 0:
            return max(wait, MIN_WAIT_S)
        self._grants.append(now)
        return 0.0

    def pause(self, seconds: float) -> None:
        """Hold every request for `seconds` (the server said 429: its window is fuller than ours)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    async def acquire(self) -> None:
        async with self._lock:
            while (wait := self.reserve(self._clock())) > 0:
                await self._sleep(wait)
