"""`PaperVenue`: fills against the live (or simulated) book as a taker would, without sending anything.

It applies the venue's own rules: the price must lie on the market's tick and inside (0, 1), the size
must reach the market's minimum; FOK fills everything within the limit or nothing, FAK fills what the
book holds within the limit and cancels the rest. Fees use the venue's fee function per fill.
The book comes from `book_source` after `latency_s` (the time a real order takes to reach the matching
engine), not the one the order was sized on, so the paper fill shows the slippage a real copy would suffer.

It keeps the venue's behaviour contract: `prepare` gives a deterministic id (`paper-<idempotency key>`)
before anything happens; `lookup` answers from what this process placed, and None for an id it never saw
(a paper order that died with its process never reached any book). GTC/GTD are filled like FAK: paper
has no resting orders.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from copytrader.errors import VenueRejected
from copytrader.execution.venue import PreparedOrder, VenueOrder
from copytrader.model import ExecutionStatus, OrderBook, OrderType, SizedOrder
from copytrader.money import ONE, ZERO, is_on_grid, taker_fee


class PaperVenue:
    name = "paper"

    def __init__(
        self,
        book_source: Callable[[str], OrderBook | None],
        *,
        latency_s: float = 0.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._book_source = book_source
        self._latency_s = latency_s
        self._sleep = sleep
        self._placed: dict[str, VenueOrder] = {}

    def prepare(self, order: SizedOrder, signed_at: datetime) -> PreparedOrder:
        return PreparedOrder(f"paper-{order.idempotency_key}", signed_at)

    def place(self, order: SizedOrder, prepared: PreparedOrder | None = None) -> VenueOrder:
        venue_id = prepared.venue_order_id if prepared else f"paper-{order.idempotency_key}"
        if not (ZERO < order.limit_price < ONE) or not is_on_grid(order.limit_price, order.tick_size):
            raise VenueRejected("INVALID_ORDER_MIN_TICK_SIZE", f"price {order.limit_price} vs tick {order.tick_size}")
        if order.shares < order.min_order_size:
            raise VenueRejected("INVALID_ORDER_MIN_SIZE", f"size {order.shares} < {order.min_order_size}")
        if self._latency_s > 0:
            self._sleep(self._latency_s)
        book = self._book_source(order.token_id)
        if book is None:
            raise VenueRejected("MARKET_NOT_READY", "no order book for this token")
        placed = self._fill(order, book, venue_id)
        self._placed[venue_id] = placed
        return placed

    def lookup(self, order: SizedOrder, venue_order_id: str, signed_at: datetime) -> VenueOrder | None:
        return self._placed.get(venue_order_id)

    @staticmethod
    def _fill(order: SizedOrder, book: OrderBook, venue_id: str) -> VenueOrder:
        fills = book.walk(order.side, order.shares, order.limit_price)
        filled = sum((f.shares for f in fills), ZERO)
        if order.order_type is OrderType.FOK and filled < order.shares:
            return VenueOrder(venue_id, ExecutionStatus.UNFILLED, (), ZERO)
        if filled == 0:
            return VenueOrder(venue_id, ExecutionStatus.UNFILLED, (), ZERO)
        fee = sum((taker_fee(f.shares, f.price, order.taker_fee_rate) for f in fills), Decimal(0))
        status = ExecutionStatus.FILLED if filled == order.shares else ExecutionStatus.PARTIAL
        return VenueOrder(venue_id, status, fills, fee)
