"""Event contracts: the one definition of every message that crosses a process or function boundary.

All models are frozen pydantic models. Money and shares are `Decimal` (see `copytrader.money`);
timestamps are timezone-aware UTC `datetime`s. Validation happens here, at the edge, so the domain
functions can trust what they receive; a payload that fails validation raises `pydantic.ValidationError`
whose messages name the field.

Serialized form (Step Functions state, SQS bodies, EventBridge details) is `model_dump(mode="json")`:
Decimals become strings, so no amount ever passes through a float.

The contracts live in one module per subject (`types`, `trades`, `markets`, `whales`, `orders`, `account`);
import them from here.
"""

from copytrader.model.account import PortfolioState, Position
from copytrader.model.markets import Fill, Level, Market, OrderBook, OutcomeToken, average_price, risk_group_of
from copytrader.model.orders import (
    TERMINAL_STATUSES,
    CopySignal,
    Decision,
    ExecutionResult,
    ExecutionStatus,
    OrderType,
    RiskDecision,
    SizedOrder,
)
from copytrader.model.trades import WhaleTrade, trade_key
from copytrader.model.types import LAST_SECOND, MILLISECONDS_ABOVE, Side, Source, utc_from_epoch
from copytrader.model.whales import COPYABLE_STATUSES, CategoryRecord, WhaleProfile, WhaleStatus

__all__ = [
    "COPYABLE_STATUSES",
    "LAST_SECOND",
    "MILLISECONDS_ABOVE",
    "TERMINAL_STATUSES",
    "CategoryRecord",
    "CopySignal",
    "Decision",
    "ExecutionResult",
    "ExecutionStatus",
    "Fill",
    "Level",
    "Market",
    "OrderBook",
    "OrderType",
    "OutcomeToken",
    "PortfolioState",
    "Position",
    "RiskDecision",
    "Side",
    "SizedOrder",
    "Source",
    "WhaleProfile",
    "WhaleStatus",
    "WhaleTrade",
    "average_price",
    "risk_group_of",
    "trade_key",
    "utc_from_epoch",
]
