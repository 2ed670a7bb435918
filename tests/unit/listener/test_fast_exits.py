"""The listener's fast stops: the price rules on every mark, one signal per firing, a quiet period while the same
position stands, and the publisher's refusals retried (hand-derived figures)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from copytrader.copying.exits import ExitPosition, ExitRules
from copytrader.listener.fast_exits import FastExits, FastExitSettings
from copytrader.model.exits import ExitReason, ExitSignal
from copytrader.model.marks import Mark
from copytrader.risk.changes import Holding

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
TOKEN = "1234567"
CONDITION = "0x" + "ab" * 32
OPENED = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class Publisher:
    """Records what it is asked to send; refuses the keys in `refuse` once."""

    def __init__(self) -> None:
        self.sent: list[ExitSignal] = []
        self.refuse: set[str] = set()

    def publish(self, signals: Sequence[ExitSignal]) -> list[str]:
        failed = [s.key for s in signals if s.key in self.refuse]
        self.refuse -= set(failed)
        self.sent += [s for s in signals if s.key not in failed]
        return failed


def position(shares: str = "100", cost: str = "40", bid_high: str | None = None) -> ExitPosition:
    # 100 shares for 40 pUSD: average 0.40; stop at entry 15 % -> 0.34
    holding = Holding(
        token_id=TOKEN,
        condition_id=CONDITION,
        shares=Decimal(shares),
        cost_basis=Decimal(cost),
        stop_loss=Decimal("0.15"),
        opened_at=OPENED,
    )
    return ExitPosition("paper", holding, Decimal(bid_high) if bid_high else None)


def mark(bid: str, at: datetime) -> Mark:
    return Mark(token_id=TOKEN, bid=Decimal(bid), ask=min(Decimal(bid) + Decimal("0.02"), Decimal(1)), at=at)


def fast(publisher: Publisher, clock: Clock, held: ExitPosition | None = None) -> FastExits:
    rules = ExitRules(trailing_stop=Decimal("0.25"), max_slippage=Decimal("0.05"))
    exits = FastExits(lambda: {TOKEN: held or position()}, rules, publisher, FastExitSettings(), wall=clock)
    asyncio.run(exits.refresh())
    return exits


def test_a_bid_at_the_stop_queues_one_stop_loss_signal_at_the_bid_less_the_slippage() -> None:
    clock, publisher = Clock(), Publisher()
    exits = fast(publisher, clock)
    exits.on_mark(mark("0.36", clock.now))  # above the stop (0.34): nothing
    assert exits.pending == []
    exits.on_mark(mark("0.34", clock.now))
    (signal,) = exits.pending
    assert signal.reason is ExitReason.STOP_LOSS
    assert signal.min_price == Decimal("0.29")  # 0.34 - 0.05
    assert signal.position_shares == Decimal(100) and signal.fraction == 1
    assert signal.condition_id == CONDITION and signal.lot == f"{TOKEN}#20261207T093000000000Z"
    assert asyncio.run(exits.publish_pending()) == 1
    assert [s.key for s in publisher.sent] == [signal.key]


def test_a_falling_bid_does_not_flood_the_queue_while_the_position_stands() -> None:
    clock, publisher = Clock(), Publisher()
    exits = fast(publisher, clock)
    for i, bid in enumerate(("0.34", "0.33", "0.32", "0.31")):  # every tick a new limit, so a new key
        clock.now = T0 + timedelta(seconds=i)
        exits.on_mark(mark(bid, clock.now))
    assert [s.min_price for s in exits.pending] == [Decimal("0.29")]
    assert exits.counters["fast_exit_repeat"] == 3
    clock.now = T0 + timedelta(seconds=16)  # past resignal_after_s (15 s), the position unchanged: no fill at 0.29
    exits.on_mark(mark("0.30", clock.now))
    assert [s.min_price for s in exits.pending] == [Decimal("0.29"), Decimal("0.25")]


def test_the_trailing_stop_follows_the_bids_high_water_mark_seen_between_reads() -> None:
    # average 0.40; bids rise to 0.80 (high-water in memory), the trail is 25 % below it: 0.60
    clock, publisher = Clock(), Publisher()
    exits = fast(publisher, clock)
    for bid in ("0.50", "0.80", "0.65"):
        exits.on_mark(mark(bid, clock.now))
    assert exits.pending == []
    assert exits.positions[TOKEN].bid_high == Decimal("0.80")
    asyncio.run(exits.refresh())  # the stored mark is lower (none): the one seen here is kept
    assert exits.positions[TOKEN].bid_high == Decimal("0.80")
    exits.on_mark(mark("0.60", clock.now))
    (signal,) = exits.pending
    assert signal.reason is ExitReason.TRAILING_STOP and signal.min_price == Decimal("0.55")


def test_a_stale_mark_or_a_token_we_do_not_hold_fires_nothing() -> None:
    clock, publisher = Clock(), Publisher()
    exits = fast(publisher, clock)
    exits.on_mark(mark("0.10", T0 - timedelta(seconds=121)))  # older than max_mark_age (120 s)
    exits.on_mark(Mark(token_id="999", bid=Decimal("0.01"), at=T0))
    assert exits.pending == []


def test_a_signal_the_queue_refused_is_queued_again_by_the_next_mark() -> None:
    clock, publisher = Clock(), Publisher()
    exits = fast(publisher, clock)
    exits.on_mark(mark("0.34", clock.now))
    publisher.refuse = {exits.pending[0].key}
    assert asyncio.run(exits.publish_pending()) == 0
    assert exits.counters["fast_exit_publish_failed"] == 1
    clock.now = T0 + timedelta(seconds=20)
    exits.on_mark(mark("0.34", clock.now))  # same bid, same key: allowed again since SQS refused it
    assert asyncio.run(exits.publish_pending()) == 1
    assert len(publisher.sent) == 1 and publisher.sent[0].min_price == Decimal("0.29")
