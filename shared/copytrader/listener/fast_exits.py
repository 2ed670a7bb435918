"""`FastExits`: the listener's fast stops. A stop that waits for the one-minute exits job rides a falling market; this
evaluates the price rules on every price update of a held token and publishes the exit at once.

On each mark (`MarkFeed.on_mark`, synchronous, on the event loop) it runs `copytrader.copying.exits.price_exits`
(stop-loss at entry, trailing stop from the bid's high-water mark, take-profit) on the position as last read, with
the high-water mark raised in memory by every fresh bid. A signal goes to an in-memory queue; a background task
publishes it to the copy FIFO queue (`copytrader.runtime.exit_queue.ExitPublisher`, group = the market), where
it runs score -> size -> risk_check -> execute like any exit. Nothing here waits on I/O inside the callback.

Exactly once is not this module's job: the signal's key derives from the lot, the rule, the trigger (with the
limit price) and the shares held, so the exits job firing on the same bid, a second listener task or a repeat
here is the same order (SQS drops a repeated deduplication id for five minutes, the orders ledger any later one).
Here a key is published once per process, unless SQS refused it (then the next mark tries again). In a crash
every tick is a new limit price, so a new key: after a position fires, it is quiet for `resignal_after_s` while
its lot and shares are what they were (an exit that found no bids within its limit is retried after that, at
the then bid; one that filled changed the shares, and the pipeline skips anything queued behind it as
`position_gone`).

Positions (shares, cost, stop at entry, lot, the stored bid high-water mark) are re-read every
`refresh_interval_s` and after each published exit; a position with a SELL in flight is still evaluated, and its
repeated signal is skipped downstream (`position_gone`). The tick size is the markets table's, else 0.01: the
size step floors the limit to the market's own tick anyway.

`decisions_ms` keeps the latest decision latencies (mark received -> signal built), which `make bench` reports as
`exit_tick_to_decision_p99_ms`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Protocol

from copytrader.copying.exits import ExitPosition, ExitRules, price_exits
from copytrader.model.exits import ExitSignal
from copytrader.model.marks import Mark

logger = logging.getLogger(__name__)

PositionsLoader = Callable[[], dict[str, ExitPosition]]  # token id -> the position as the rules read it (blocking)


class SignalSink(Protocol):
    """Where signals go (`ExitPublisher`: the copy FIFO queue); returns the keys it could not take."""

    def publish(self, signals: Sequence[ExitSignal]) -> list[str]: ...


@dataclass(frozen=True)
class FastExitSettings:
    refresh_interval_s: float = 30.0  # re-read the positions this often
    publish_interval_s: float = 0.05  # the publisher wakes at least this often when signals wait
    kept_latencies: int = 10_000
    resignal_after_s: float = 15.0  # a position that fired stays quiet this long while its lot and shares stand


def _utc_now() -> datetime:
    return datetime.now(UTC)


class FastExits:
    """The fast stops (module docstring); register `on_mark` with the mark feed and run `run(stop)`."""

    def __init__(
        self,
        load_positions: PositionsLoader,
        rules: ExitRules,
        publisher: SignalSink,
        settings: FastExitSettings | None = None,
        *,
        wall: Callable[[], datetime] = _utc_now,
        counters: Counter[str] | None = None,
    ) -> None:
        self._load, self.rules, self._publisher = load_positions, rules, publisher
        self.settings = settings or FastExitSettings()
        self._wall = wall
        self.counters: Counter[str] = counters if counters is not None else Counter()
        self.positions: dict[str, ExitPosition] = {}
        self._sent: set[str] = set()
        self._fired: dict[str, tuple[str, Decimal, datetime]] = {}  # token -> (lot, shares, when) of its last signal
        self.pending: list[ExitSignal] = []
        self.decisions_ms: deque[float] = deque(maxlen=self.settings.kept_latencies)
        self._wake: asyncio.Event | None = None

    # ------------------------------------------------------------------------------------------ the seam
    def on_mark(self, mark: Mark) -> None:
        """Evaluate the price rules on `mark`'s position; queue a signal the process has not published."""
        started = time.perf_counter()
        position = self.positions.get(mark.token_id)
        if position is None:
            return
        now = self._wall()
        position = self._with_high_water(position, mark, now)
        signal = price_exits(position, mark, self.rules, now)
        self.decisions_ms.append((time.perf_counter() - started) * 1000)
        if signal is None:
            return
        if signal.key in self._sent or self._quiet(position, now):
            self.counters["fast_exit_repeat"] += 1
            return
        self._sent.add(signal.key)
        self._fired[mark.token_id] = (position.lot, position.holding.shares, now)
        self.pending.append(signal)
        self.counters[f"fast_exit_{signal.reason.value}"] += 1
        if self._wake is not None:
            self._wake.set()

    def _quiet(self, position: ExitPosition, now: datetime) -> bool:
        fired = self._fired.get(position.holding.token_id)
        if fired is None:
            return False
        lot, shares, at = fired
        same = lot == position.lot and shares == position.holding.shares
        return same and (now - at).total_seconds() < self.settings.resignal_after_s

    def _with_high_water(self, position: ExitPosition, mark: Mark, now: datetime) -> ExitPosition:
        """The position with its bid high-water mark raised by a fresh bid (kept in memory between re-reads)."""
        bid = mark.bid
        if bid is None or mark.is_stale(now, self.rules.max_mark_age):
            return position
        if position.bid_high is None or bid > position.bid_high:
            position = ExitPosition(position.account, position.holding, bid, position.whale_costs, position.tick_size)
            self.positions[mark.token_id] = position
        return position

    # ------------------------------------------------------------------------------------------ the chores
    async def refresh(self) -> None:
        """Re-read the positions; a higher high-water mark seen here since the last read is kept."""
        loaded = await asyncio.to_thread(self._load)
        for token, fresh in loaded.items():
            known = self.positions.get(token)
            if (
                known is not None
                and known.lot == fresh.lot
                and known.bid_high is not None
                and (fresh.bid_high is None or known.bid_high > fresh.bid_high)
            ):
                loaded[token] = ExitPosition(fresh.account, fresh.holding, known.bid_high, fresh.whale_costs,
                                             fresh.tick_size)  # fmt: skip
        self.positions = loaded

    async def publish_pending(self) -> int:
        """Publish what waits; a signal SQS refused is forgotten here so the next mark can queue it again."""
        if not self.pending:
            return 0
        batch, self.pending = self.pending, []
        try:
            failed = await asyncio.to_thread(self._publisher.publish, batch)
        except Exception:
            logger.exception("could not publish %d exit signals", len(batch))
            failed = [s.key for s in batch]
        self._sent.difference_update(failed)
        self.counters["fast_exit_published"] += len(batch) - len(failed)
        self.counters["fast_exit_publish_failed"] += len(failed)
        return len(batch) - len(failed)

    async def run(self, stop: asyncio.Event) -> None:
        """Refresh the positions on a schedule and publish signals as they come, until `stop`."""
        self._wake = asyncio.Event()
        next_refresh = 0.0
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            if loop.time() >= next_refresh:
                try:
                    await self.refresh()
                except Exception:
                    logger.exception("could not read the positions for the fast stops; keeping the last read")
                    self.counters["fast_exit_refresh_failed"] += 1
                next_refresh = loop.time() + self.settings.refresh_interval_s
            if await self.publish_pending():
                next_refresh = 0.0  # a published exit changes the position: read it again
            self._wake.clear()
            waiting = asyncio.ensure_future(self._wake.wait())
            stopping = asyncio.ensure_future(stop.wait())
            timeout = self.settings.publish_interval_s if self.pending else self.settings.refresh_interval_s
            await asyncio.wait({waiting, stopping}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            for task in (waiting, stopping):
                task.cancel()
        await self.publish_pending()


__all__ = ["FastExitSettings", "FastExits", "PositionsLoader", "SignalSink"]
