"""Builders of valid domain objects for tests (deterministic ids; override any field)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from copytrader.model import (
    CopySignal,
    Decision,
    ExecutionResult,
    ExecutionStatus,
    Level,
    Market,
    OrderBook,
    OutcomeToken,
    Side,
    SizedOrder,
    Source,
    WhaleProfile,
    WhaleStatus,
    WhaleTrade,
)

T0 = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def hex_id(label: str, nbytes: int) -> str:
    return "0x" + hashlib.sha256(label.encode()).hexdigest()[: nbytes * 2]


def token_id(label: str) -> str:
    return str(int(hashlib.sha256(label.encode()).hexdigest(), 16))[:76]


def wallet(label: str) -> str:
    return hex_id(f"wallet:{label}", 20)


def market(label: str = "m1", **overrides: Any) -> Market:
    fields: dict[str, Any] = {
        "condition_id": hex_id(f"condition:{label}", 32),
        "question": f"Will {label} happen?",
        "slug": label,
        "event_id": f"event-{label}",
        "category": "politics",
        "tokens": (
            OutcomeToken(token_id=token_id(f"{label}:yes"), outcome="Yes"),
            OutcomeToken(token_id=token_id(f"{label}:no"), outcome="No"),
        ),
        "tick_size": Decimal("0.01"),
        "min_order_size": Decimal(5),
        "taker_fee_rate": Decimal("0.04"),
        "end_time": T0 + timedelta(days=2),
    }
    fields.update(overrides)
    return Market(**fields)


def book(token: str, bids: list[tuple[str, str]], asks: list[tuple[str, str]], at: datetime = T0) -> OrderBook:
    return OrderBook(
        token_id=token,
        bids=tuple(Level(price=p, size=s) for p, s in bids),
        asks=tuple(Level(price=p, size=s) for p, s in asks),
        timestamp=at,
        tick_size=Decimal("0.01"),
        min_order_size=Decimal(5),
    )


def whale(label: str = "w1", **overrides: Any) -> WhaleProfile:
    fields: dict[str, Any] = {
        "wallet": wallet(label),
        "status": WhaleStatus.ACTIVE,
        "score": Decimal("1.5"),
        "resolved_trades": 200,
        "wins": 130,
        "mean_entry_price": Decimal("0.5"),
    }
    fields.update(overrides)
    return WhaleProfile(**fields)


def trade(
    m: Market,
    who: str = "w1",
    *,
    side: str = "BUY",
    price: str = "0.50",
    size: str = "100",
    at: datetime = T0,
    tx: str = "tx1",
    outcome_index: int = 0,
    latency_s: float = 2.0,
) -> WhaleTrade:
    tok = m.tokens[outcome_index]
    return WhaleTrade.create(
        wallet=wallet(who),
        side=side,
        token_id=tok.token_id,
        condition_id=m.condition_id,
        outcome=tok.outcome,
        outcome_index=outcome_index,
        price=price,
        size=size,
        timestamp=at,
        tx_hash=hex_id(f"tx:{tx}", 32),
        source=Source.SIM,
        detected_at=at + timedelta(seconds=latency_s),
    )


def copy_signal(
    m: Market,
    t: WhaleTrade,
    book: OrderBook,
    whale: WhaleProfile,
    *,
    held_shares: Decimal | str = Decimal(0),
    **overrides: Any,
) -> CopySignal:
    """The score step's COPY of `t`, decided a second after it was detected; `book` is moved onto `t`'s token."""
    fields: dict[str, Any] = {
        "action": Decision.COPY,
        "trade": t,
        "market": m,
        "book": book.model_copy(update={"token_id": t.token_id}),
        "whale": whale,
        "held_shares": Decimal(held_shares),
        "decided_at": t.detected_at + timedelta(seconds=1),
    }
    fields.update(overrides)
    return CopySignal(**fields)


def sized_order(
    key: str = "k1",
    *,
    market: str = "m1",
    side: Side | str = Side.BUY,
    shares: Decimal | str = Decimal(10),
    limit_price: Decimal | str = Decimal("0.5"),
    max_cost: Decimal | str | None = None,
    **overrides: Any,
) -> SizedOrder:
    """A PLACE order for the YES token of `market(market)`; a BUY's worst case defaults to shares x limit."""
    side = Side(side)
    shares, limit_price = Decimal(shares), Decimal(limit_price)
    if max_cost is None:
        max_cost = shares * limit_price if side is Side.BUY else Decimal(0)
    fields: dict[str, Any] = {
        "action": "PLACE",
        "idempotency_key": key,
        "token_id": token_id(f"{market}:yes"),
        "condition_id": hex_id(f"condition:{market}", 32),
        "side": side,
        "shares": shares,
        "limit_price": limit_price,
        "max_cost": Decimal(max_cost),
    }
    fields.update(overrides)
    return SizedOrder(**fields)


def execution(
    order: SizedOrder,
    status: ExecutionStatus | str,
    shares: Decimal | str,
    cash: Decimal | str,
    *,
    fee: Decimal | str = Decimal(0),
    at: datetime = T0,
    **overrides: Any,
) -> ExecutionResult:
    """The venue's definite answer to `order`: `shares` filled for `cash` pUSD (BUY: paid, fee included; SELL: got)."""
    filled, amount = Decimal(shares), Decimal(cash)
    fields: dict[str, Any] = {
        "idempotency_key": order.idempotency_key,
        "status": ExecutionStatus(status),
        "side": order.side,
        "filled_shares": filled,
        "avg_price": amount / filled if filled > 0 else None,
        "fee": Decimal(fee),
        "cash_amount": amount,
        "executed_at": at,
    }
    fields.update(overrides)
    return ExecutionResult(**fields)
