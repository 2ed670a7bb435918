"""Virtual time for tests: one clock that gives the code under test its wall clock, its monotonic clock and its
sleep, and that moves only when a test (or an awaited `sleep`) moves it.

    clock = Clock()                   # the wall clock reads T0, the monotonic clock 0.0
    clock()                           # the wall clock: an aware UTC datetime (pass `clock` where code wants `now`)
    clock.monotonic()                 # seconds since the clock was made
    clock.advance(1.5)                # both move on (seconds or a timedelta)
    clock.now = some_datetime         # the wall clock is set (as an operator sets a system clock): the monotonic
                                      # clock does not move
    await clock.sleep(7)              # no real wait: both move on by 7 s, `sleeps` records the 7

`sleep` yields to the event loop once, so other tasks run as they would while the caller waited.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from tests.support.builders import T0


class Clock:
    def __init__(self, start: datetime = T0) -> None:
        self._origin = _aware(start)  # the wall clock when the monotonic clock read 0
        self._elapsed = 0.0
        self.sleeps: list[float] = []  # every sleep asked for, in order (negative ones too)

    def __call__(self) -> datetime:
        return self.now

    @property
    def now(self) -> datetime:
        return self._origin + timedelta(seconds=self._elapsed)

    @now.setter
    def now(self, value: datetime) -> None:
        self._origin = _aware(value) - timedelta(seconds=self._elapsed)

    def monotonic(self) -> float:
        return self._elapsed

    def advance(self, by: float | timedelta) -> None:
        seconds = by.total_seconds() if isinstance(by, timedelta) else float(by)
        if seconds < 0:
            raise ValueError(f"time does not go back ({seconds} s); set `now` to step the wall clock")
        self._elapsed += seconds

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(max(seconds, 0.0))
        await asyncio.sleep(0)


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"{value} has no time zone: the clock reads aware UTC datetimes")
    return value.astimezone(UTC)
