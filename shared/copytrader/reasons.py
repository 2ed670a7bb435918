"""Every reason the pipeline can give for not copying, not sizing, not approving or not filling, and the tally of
input a reader rejected by reason.

One enum so that metrics, state-machine branches, reports and tests share one spelling. A skip is a
normal outcome with a reason, never an error.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any


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
    COPY_CAP = "copy_cap"  # one BUY's worst case above the per-copy cap (sizing.max_trade_notional)
    MARKET_CAP = "market_cap"
    TOTAL_CAP = "total_cap"
    INSUFFICIENT_CASH = "insufficient_cash"
    GROUP_CAP = "group_cap"  # event or neg-risk group exposure
    CATEGORY_CAP = "category_cap"
    WHALE_CAP = "whale_cap"  # exposure opened by copying one wallet
    OPEN_ORDERS_LIMIT = "open_orders_limit"  # reservations not yet settled
    ORDER_RATE_LIMIT = "order_rate_limit"  # orders in the current UTC minute
    DRAWDOWN_HALT = "drawdown_halt"  # equity below (1 - max_drawdown) x high-water mark
    # execute
    DUPLICATE = "duplicate"
    NOT_FILLED = "not_filled"
    VENUE_REJECTED = "venue_rejected"
    VENUE_AMBIGUOUS = "venue_ambiguous"
    NEVER_PLACED = "never_placed"  # reconciled: the venue has no such order; not re-placed (the copy is stale)
    RESERVATION_RELEASED = "reservation_released"  # the sweep gave the reservation back before execute began
    # score: whale quality, our room, other whales (copytrader.copying.decision, copytrader.copying.conflicts)
    WHALE_SCORE_TOO_LOW = "whale_score_too_low"  # score lower bound not above filters.min_score_ci_low
    MIN_SIZE_UNREACHABLE = "min_size_unreachable"  # the market minimum does not fit the stake, the room or the book
    EXPOSURE_AT_CAP = "exposure_at_cap"  # what we already hold leaves no room for the market minimum
    CONFLICTING_WHALES = "conflicting_whales"  # another tracked whale holds the opposite stance (policy skip / net)
    CONFLICT_LOWER_SCORE = "conflict_lower_score"  # an opposing whale scores at least as high (policy follow_higher)
    # live mode (copytrader.workflows.copy.live_start): no bankroll is known until execute opens the account
    ACCOUNT_NOT_OPEN = "account_not_open"
    # exits (copytrader.copying.exits): a whale SELL of a token none of whose shares of ours its copies built; an exit
    # signal whose position lot is gone or has changed since the rule fired (the next evaluation decides again)
    NO_WHALE_PART = "no_whale_part"
    POSITION_GONE = "position_gone"


@dataclass
class RejectTally:
    """What a reader of recorded input counted: its own counts (fields of a subclass) and `rejected` by reason.

    `as_dict` gives every count in field order, then `rejected` sorted by reason (JSON-ready).
    """

    rejected: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        counts = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "rejected"}
        return {**counts, "rejected": dict(sorted(self.rejected.items()))}
