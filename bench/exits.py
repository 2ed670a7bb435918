"""The fast stops' figure: how long the listener takes from a price frame's receipt to the exit decision.

A `best_bid_ask` frame on the CLOB market channel for a held token goes through what the live listener runs on the
event loop: `MarkFeed.on_frame` (parse, merge into the token's mark) and the `on_mark` callbacks, here the fast
stops (`FastExits.on_mark`: the price rules on the position, the signal built). Half the frames are below the
position's stop, and the stop's quiet period is cleared before each, so every one of those builds a signal: the
worst case. Publishing to SQS is a background task after the decision (its round trip is
`listener_to_queue_p99_ms`'s kind of figure), so it is not in this one.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime
from decimal import Decimal

from bench.figure import BenchmarkError, Figure, p
from copytrader.copying.exits import ExitPosition, ExitRules
from copytrader.listener.fast_exits import FastExits
from copytrader.listener.marks_feed import MarkFeed, MarkFeedSettings
from copytrader.model.exits import ExitSignal
from copytrader.risk.changes import Holding

TICKS = 20_000
TOKEN = "71321045679252212594626385532706912750332728571942532289631379312455583992563"
CONDITION = "0x" + "ab" * 32


class _Held:
    async def tokens(self) -> frozenset[str]:
        return frozenset({TOKEN})


class _NoStore:
    def write(self, marks: list, now: datetime) -> int:  # type: ignore[type-arg]
        return 0


class _Sink:
    def publish(self, signals: list[ExitSignal]) -> list[str]:
        return []


def _best_bid_ask(bid: str, i: int) -> dict[str, str]:
    return {"event_type": "best_bid_ask", "asset_id": TOKEN, "best_bid": bid, "best_ask": "0.45", "spread": "0.01",
            "timestamp": str(1_765_000_000_000 + i)}  # fmt: skip


def exit_tick_to_decision(args: argparse.Namespace) -> list[Figure]:
    holding = Holding(TOKEN, CONDITION, Decimal(100), Decimal(40), stop_loss=Decimal("0.15"),
                      opened_at=datetime(2026, 12, 7, 9, 30, tzinfo=UTC))  # fmt: skip
    exits = FastExits(lambda: {TOKEN: ExitPosition("paper", holding)}, ExitRules(), _Sink())
    exits.positions = {TOKEN: ExitPosition("paper", holding)}
    feed = MarkFeed(_Held(), _NoStore(), None, MarkFeedSettings())
    feed.book.hold(frozenset({TOKEN}))
    feed.on_mark(exits.on_mark)
    ticks = TICKS // 10 if args.quick else TICKS
    bids = ["0.42" if i % 2 else "0.30" for i in range(ticks)]
    frames = [json.dumps(_best_bid_ask(bid, i)) for i, bid in enumerate(bids)]
    samples: list[float] = []
    for frame in frames:
        exits._fired.clear()
        exits._sent.clear()
        started = time.perf_counter()
        feed.on_frame(frame)
        samples.append(time.perf_counter() - started)
    fired = len(exits.pending)
    if fired != ticks // 2:
        raise BenchmarkError(f"exit_tick_to_decision: {fired} signals from {ticks // 2} frames below the stop")
    what = f"{ticks:,} best_bid_ask frames, half through the stop (each builds a signal), one core"
    return [
        Figure("exit_tick_to_decision_p50_ms", p(samples, 50), what),
        Figure("exit_tick_to_decision_p99_ms", p(samples, 99), what),
    ]
