"""The copy decision (the score step): should this whale fill be copied at all?

Pure: every input arrives as an argument, the expensive ones (whale record, market, book, our
position) as loaders called only when an earlier, cheaper check has passed, so a skip on "untracked
wallet" costs one read and never fetches a book. Each skip names its `Reason`.

Checks, in order:
  1. the fill is fresh (detected within `max_trade_age_s` of its block time);
  2. the wallet is tracked and copyable (status active or probation);
  3. the whale's notional is large enough to mean something;
  4. the market is known, the token belongs to it, it is open, accepting orders and not about to resolve;
  5. a SELL is copied only when we hold the token (mirror exit);
  6. the whale's price lies inside the price band (far from 0 and 1, where Kelly odds blow up);
  7. the book exists, its spread is tight enough, our executable price has not drifted from the whale's
     by more than the absolute and relative caps, and there is enough depth within that price.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from copytrader.model import (
    COPYABLE_STATUSES,
    CopySignal,
    Decision,
    Market,
    OrderBook,
    Side,
    WhaleProfile,
    WhaleTrade,
)
from copytrader.money import ONE, ZERO
from copytrader.reasons import Reason
from copytrader.settings import FilterSettings


def skip(reason: Reason, detail: str, now: datetime, **context: object) -> CopySignal:
    return CopySignal(action=Decision.SKIP, reason=reason, detail=detail, decided_at=now, **context)


def drift_limit_price(side: Side, whale_price: Decimal, tick: Decimal, filters: FilterSettings) -> Decimal:
    """Worst price we accept: the whale's price moved against us by the tighter of the two drift caps.

    BUY: whale + min(abs, rel x whale), floored to the tick; SELL: whale - min(...), ceiled to the tick.
    Clamped to [tick, 1 - tick], the CLOB's valid price range.
    """
    allowance = min(filters.max_drift_abs, filters.max_drift_rel * whale_price)
    if side is Side.BUY:
        raw = whale_price + allowance
        limit = (raw / tick).to_integral_value(rounding="ROUND_FLOOR") * tick
    else:
        raw = whale_price - allowance
        limit = (raw / tick).to_integral_value(rounding="ROUND_CEILING") * tick
    return min(max(limit, tick), ONE - tick)


def decide(
    trade: WhaleTrade,
    *,
    now: datetime,
    filters: FilterSettings,
    load_whale: Callable[[str], WhaleProfile | None],
    load_market: Callable[[str], Market | None],
    load_book: Callable[[str], OrderBook | None],
    load_held_shares: Callable[[str], Decimal],
    book_levels_kept: int = 20,
) -> CopySignal:
    """Run the checks in order and return a COPY signal (with market, book and whale) or a SKIP."""
    age = (now - trade.timestamp).total_seconds()
    if age > filters.max_trade_age_s:
        return skip(Reason.STALE_TRADE, f"fill is {age:.0f}s old (max {filters.max_trade_age_s}s)", now, trade=trade)

    whale = load_whale(trade.wallet)
    if whale is None:
        return skip(Reason.UNTRACKED_WALLET, f"{trade.wallet} is not tracked", now, trade=trade)
    if whale.status not in COPYABLE_STATUSES:
        return skip(Reason.WHALE_NOT_ACTIVE, f"whale status is {whale.status.value}", now, trade=trade, whale=whale)
    if trade.side is Side.BUY and trade.notional < filters.min_whale_notional:
        return skip(
            Reason.WHALE_TOO_SMALL,
            f"whale notional {trade.notional:.2f} < {filters.min_whale_notional}",
            now,
            trade=trade,
            whale=whale,
        )

    market = load_market(trade.condition_id)
    context: dict[str, object] = {"trade": trade, "whale": whale}
    if market is None:
        return skip(Reason.UNKNOWN_MARKET, "market not found", now, **context)
    if market.token(trade.token_id) is None:
        return skip(
            Reason.UNKNOWN_MARKET, f"token {trade.token_id[:12]}... is not an outcome of this market", now, **context
        )
    context["market"] = market
    if market.closed or market.resolved:
        return skip(Reason.MARKET_CLOSED, "market is closed", now, **context)
    if not market.accepting_orders:
        return skip(Reason.NOT_ACCEPTING_ORDERS, "market is not accepting orders", now, **context)
    if market.end_time is not None:
        left = (market.end_time - now).total_seconds()
        if left < filters.min_time_to_resolution_s:
            return skip(
                Reason.NEAR_RESOLUTION, f"{left:.0f}s to end (min {filters.min_time_to_resolution_s}s)", now, **context
            )

    held = ZERO
    if trade.side is Side.SELL:
        held = load_held_shares(trade.token_id)
        if held <= 0:
            return skip(Reason.SELL_WITHOUT_POSITION, "whale sold a token we do not hold", now, **context)

    if not (filters.min_price <= trade.price <= filters.max_price):
        return skip(
            Reason.PRICE_OUT_OF_BAND,
            f"whale price {trade.price} outside [{filters.min_price}, {filters.max_price}]",
            now,
            **context,
        )

    book = load_book(trade.token_id)
    if book is None or (not book.asks if trade.side is Side.BUY else not book.bids):
        return skip(Reason.NO_BOOK, "no liquidity on our side of the book", now, **context)
    kept = book.truncated(book_levels_kept)
    context["book"] = kept
    spread = book.spread
    if spread is not None and spread > filters.max_spread:
        return skip(Reason.SPREAD_TOO_WIDE, f"spread {spread} > {filters.max_spread}", now, **context)

    ours = book.best_ask if trade.side is Side.BUY else book.best_bid
    assert ours is not None  # checked above: our side of the book is not empty
    adverse = (ours - trade.price) if trade.side is Side.BUY else (trade.price - ours)
    if adverse > filters.max_drift_abs or adverse > filters.max_drift_rel * trade.price:
        return skip(
            Reason.PRICE_DRIFT,
            f"our price {ours} vs whale {trade.price}: drift {adverse} beyond "
            f"{filters.max_drift_abs} abs / {filters.max_drift_rel:%} rel",
            now,
            **context,
        )

    limit = drift_limit_price(trade.side, trade.price, market.tick_size, filters)
    depth_shares = book.depth(trade.side, limit)
    depth_value = depth_shares * limit
    if trade.side is Side.BUY and depth_value < filters.min_book_depth:
        return skip(
            Reason.THIN_BOOK, f"{depth_value:.2f} pUSD within {limit} (min {filters.min_book_depth})", now, **context
        )

    return CopySignal(
        action=Decision.COPY,
        trade=trade,
        market=market,
        book=kept,
        whale=whale,
        held_shares=held,
        decided_at=now,
    )
