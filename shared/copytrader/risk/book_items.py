"""The items of the in-memory account book (`copytrader.risk.book.AccountBook`), one per item kind of the risk,
positions and ledger tables: the account, a UTC day, a reservation, a position."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from copytrader.money import ZERO
from copytrader.risk.changes import DerivedTotals, Holding
from copytrader.risk.rules import ReservationRecord


@dataclass
class Account(DerivedTotals):
    cash: Decimal
    reserved: Decimal = ZERO
    open_cost: Decimal = ZERO
    open_orders: int = 0
    kill_switch: bool = False
    equity_hwm: Decimal = ZERO
    drawdown_halt: bool = False
    equity_marked: Decimal | None = None
    equity_marked_hwm: Decimal | None = None


@dataclass
class Day:
    start_equity: Decimal
    realized: Decimal = ZERO
    breaker_open: bool = False
    start_equity_marked: Decimal | None = None


@dataclass
class Reservation:
    record: ReservationRecord
    settled: bool = False
    reserved_at: datetime | None = None


@dataclass
class BookPosition:
    token_id: str
    condition_id: str
    shares: Decimal = ZERO
    cost_basis: Decimal = ZERO
    fees_paid: Decimal = ZERO
    realized_pnl: Decimal = ZERO
    event_id: str | None = None
    risk_group: str | None = None
    category: str | None = None
    whales: set[str] = field(default_factory=set)
    groups: set[str] = field(default_factory=set)
    categories: set[str] = field(default_factory=set)
    stop_loss: Decimal | None = None
    opened_at: datetime | None = None
    closed: bool = False

    def holding(self) -> Holding:
        return Holding(
            token_id=self.token_id,
            condition_id=self.condition_id,
            shares=self.shares,
            cost_basis=self.cost_basis,
            risk_group=self.risk_group,
            category=self.category,
            whales=tuple(sorted(self.whales)),
            stop_loss=self.stop_loss,
            groups=tuple(sorted(self.groups)),
            categories=tuple(sorted(self.categories)),
            opened_at=self.opened_at,
        )
