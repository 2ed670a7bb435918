"""Every reason the pipeline can give for not copying, not sizing, not approving or not filling.

One enum so that metrics, state-machine branches, reports and tests share one spelling. A skip is a
normal outcome with a reason, never an error.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    # score: input and identity
    INVALID_TRADE = "invalid_trade"
    UNTRACKED_WALLET = "untracked_wallet"
    WHALE_NOT_ACTIVE = "whale_not_active"
    STALE_TRADE = "stale_trade"
    UPSTREAM_UNUSABLE = "upstream_unusable"  # Gamma/CLOB answered with something we cannot use
    # score: market state
    UNKNOWN_MARKET = "unknown_market"
    MARKET_CLOSED = "market_closed"
    NOT_ACCEPTING_ORDERS = "not_accepting_orders"
    NEAR_RESOLUTION = "near_resolution"
    # score: price and book
    PRICE_OUT_OF_BAND = "price_out_of_band"
    NO_BOOK = "no_book"
    SPREAD_TOO_WIDE = "spread_too_wide"
    THIN_BOOK = "thin_book"
    PRICE_DRIFT = "price_drift"
    WHALE_TOO_SMALL = "whale_too_small"
    SELL_WITHOUT_POSITION = "sell_without_position"
    # size
    NO_EDGE = "no_edge"
    BELOW_MIN_SIZE = "below_min_size"
    # risk_check
    KILL_SWITCH = "kill_switch"
    BREAKER_OPEN = "breaker_open"
    MARKET_CAP = "market_cap"
    TOTAL_CAP = "total_cap"
    INSUFFICIENT_CASH = "insufficient_cash"
    # execute
    DUPLICATE = "duplicate"
    NOT_FILLED = "not_filled"
    VENUE_REJECTED = "venue_rejected"
    VENUE_AMBIGUOUS = "venue_ambiguous"
