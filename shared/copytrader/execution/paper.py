"""`PaperVenue`: fills against the live (or simulated) book as a taker would, without sending anything.

It applies the venue's own rules: the price must lie on the market's tick and inside (0, 1), the size
must reach the market's minimum; FOK fills everything within the limit or nothing, FAK fills what the
book holds within the limit and cancels the rest. Fees use the venue's fee function per fill.
The book comes from `book_source` at the moment of execution (not the one the order was sized on),
so the paper fill shows the slippage a real copy would have suffered.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from copytrader.execution.venue import VenueOrder, VenueRejected
from copytrader.model import ExecutionStatus, OrderBook, OrderType, SizedOrder
from copytrader.money import ONE, ZERO, is_on_grid, taker_fee


class PaperVenue:
    name = "paper"

    def __init__(self, book_source: Callable[[str], OrderBook | None]) -> None:
        self._book_source = book_source

    def place(self, order: SizedOrder) -> VenueOrder:
        if not (ZERO < order.limit_price < ONE) or not is_on_grid(order.limit_price, order.tick_size):
            raise VenueRejected("INVALID_ORDER_MIN_TICK_SIZE", f"price {order.limit_price} vs tick {order.tick_size}")
        if order.shares < order.min_order_size:
            raise VenueRejected("INVALID_ORDER_MIN_SIZE", f"size {order.shares} < {order.min_order_size}")
        book = self._book_source(order.token_id)
        if book is None:
            raise VenueRejected("MARKET_NOT_READY", "no order book for this token")
        fills = book.walk(order.side, order.shares, order.limit_price)
        filled = sum((f.shares for f in fills), ZERO)
        venue_id = f"paper-{order.idempotency_key}"
        if order.order_type is OrderType.FOK and filled < order.shares:
            return VenueOrder(venue_id, ExecutionStatus.UNFILLED, (), ZERO)
        if filled == 0:
            return VenueOrder(venue_id, ExecutionStatus.UNFILLED, (), ZERO)
        fee = sum((taker_fee(f.shares, f.price, order.taker_fee_rate) for f in fills), Decimal(0))
        status = ExecutionStatus.FILLED if filled == order.shares else ExecutionStatus.PARTIAL
        return VenueOrder(venue_id, status, fills, fee)
