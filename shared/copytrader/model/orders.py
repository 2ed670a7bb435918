"""What the copy steps hand each other: the score step's signal, the sized order, the risk decision and the
execution's result."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import model_validator

from copytrader.model.exits import ExitReason, ExitSignal
from copytrader.model.markets import Fill, Market, OrderBook
from copytrader.model.trades import WhaleTrade
from copytrader.model.types import Frozen, NonNegative, Side, UtcTime
from copytrader.model.whales import WhaleProfile
from copytrader.money import ONE, ZERO
from copytrader.reasons import Reason


class Decision(StrEnum):
    COPY = "COPY"
    SKIP = "SKIP"


class CopySignal(Frozen):
    """The score step's verdict on one whale trade, with everything later steps need."""

    action: Decision
    reason: Reason | None = None
    detail: str = ""
    trade: WhaleTrade | None = None
    market: Market | None = None
    book: OrderBook | None = None
    whale: WhaleProfile | None = None
    # our own shares of this token when the whale sells (mirror exits), else 0
    held_shares: NonNegative = Decimal(0)
    # a SELL: the shares to sell (a mirror: the whale's fraction of its part; an exit: the signal's), None: all held
    sell_shares: NonNegative | None = None
    # an exit rule's signal (the copy queue's second message kind) instead of a whale trade
    exit: ExitSignal | None = None
    # pUSD a BUY may still reserve under every exposure cap when the decision was made (None: not checked)
    room: NonNegative | None = None
    # the account's cash + open cost when the decision was made, which the size step sizes on (None: not read)
    book_equity: Decimal | None = None
    decided_at: UtcTime

    @model_validator(mode="after")
    def _complete(self) -> CopySignal:
        if self.action is Decision.COPY and self.exit is not None:
            if None in (self.market, self.book):
                raise ValueError("an exit's COPY signal carries the market and book")
        elif self.action is Decision.COPY and None in (self.trade, self.market, self.book, self.whale):
            raise ValueError("a COPY signal carries the trade, market, book and whale")
        if self.action is Decision.SKIP and self.reason is None:
            raise ValueError("a SKIP signal carries a reason")
        return self


class OrderType(StrEnum):
    FOK = "FOK"  # fill completely now or cancel
    FAK = "FAK"  # fill what is available now, cancel the rest
    GTC = "GTC"
    GTD = "GTD"


class SizedOrder(Frozen):
    """The size step's output: one order to place (or a skip with its reason)."""

    action: Literal["PLACE", "SKIP"]
    reason: Reason | None = None
    detail: str = ""
    idempotency_key: str = ""
    trade_key: str = ""
    wallet: str = ""
    condition_id: str = ""
    event_id: str | None = None
    # the exposure group the risk caps count this market in: the neg-risk group (`neg_risk_market_id`) when the
    # market belongs to one, else its event, else the market itself (`risk_group_of`)
    risk_group: str = ""
    category: str = "other"
    neg_risk: bool = False
    token_id: str = ""
    side: Side = Side.BUY
    order_type: OrderType = OrderType.FAK
    shares: NonNegative = Decimal(0)
    limit_price: Decimal = Decimal(0)
    expected_avg_price: Decimal = Decimal(0)
    expected_fee: NonNegative = Decimal(0)
    # worst-case cash this order can consume: shares x limit price + fee at the limit (BUY), 0 for SELL
    max_cost: NonNegative = Decimal(0)
    win_probability: Decimal = Decimal(0)
    kelly_full: Decimal = Decimal(0)
    kelly_applied: Decimal = Decimal(0)
    bankroll: NonNegative = Decimal(0)
    tick_size: Decimal = Decimal("0.01")
    min_order_size: Decimal = Decimal(5)
    taker_fee_rate: Decimal = Decimal(0)
    # the exit rule that fired this SELL (kept in the orders ledger's `order_json`); None: a copy of a whale's trade
    # (a SELL of one is the mirror exit)
    exit_reason: ExitReason | None = None

    @model_validator(mode="after")
    def _consistent(self) -> SizedOrder:
        if self.action == "PLACE":
            if not self.idempotency_key or not self.token_id or self.shares <= 0:
                raise ValueError("a PLACE order needs an idempotency key, a token and shares > 0")
            if not (ZERO < self.limit_price < ONE):
                raise ValueError(f"limit price {self.limit_price} must lie in (0, 1)")
        elif self.reason is None:
            raise ValueError("a SKIP order carries a reason")
        return self


class RiskDecision(Frozen):
    approved: bool
    reason: Reason | None = None
    detail: str = ""
    reserved: NonNegative = Decimal(0)
    day: str = ""
    # the stop-loss fraction recorded on the reservation (the stop at entry), which execute books on the position
    stop_loss: Decimal | None = None


class ExecutionStatus(StrEnum):
    PENDING = "PENDING"  # ledger entry written, venue not yet answered
    FILLED = "FILLED"
    PARTIAL = "PARTIAL"
    UNFILLED = "UNFILLED"  # FOK killed / FAK found nothing within the limit
    REJECTED = "REJECTED"  # the venue said no
    UNKNOWN = "UNKNOWN"  # ambiguous: must be reconciled before anything else happens


TERMINAL_STATUSES = frozenset(
    {ExecutionStatus.FILLED, ExecutionStatus.PARTIAL, ExecutionStatus.UNFILLED, ExecutionStatus.REJECTED}
)


class ExecutionResult(Frozen):
    idempotency_key: str
    status: ExecutionStatus
    reason: Reason | None = None
    detail: str = ""
    venue_order_id: str | None = None
    side: Side = Side.BUY
    filled_shares: NonNegative = Decimal(0)
    avg_price: Decimal | None = None
    fee: NonNegative = Decimal(0)
    # cash out (BUY: notional + fee) or cash in (SELL: notional - fee), always >= 0
    cash_amount: NonNegative = Decimal(0)
    fills: tuple[Fill, ...] = ()
    duplicate: bool = False
    executed_at: UtcTime
