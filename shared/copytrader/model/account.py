"""Our positions and the account's risk state, as the stores read them."""

from __future__ import annotations

from decimal import Decimal

from copytrader.model.types import Frozen, Hash32, NonNegative, TokenId, UtcTime


class Position(Frozen):
    token_id: TokenId
    condition_id: Hash32
    shares: NonNegative
    cost_basis: NonNegative  # pUSD paid for the shares still held, fees included
    realized_pnl: Decimal = Decimal(0)
    fees_paid: NonNegative = Decimal(0)
    opened_at: UtcTime
    updated_at: UtcTime


class PortfolioState(Frozen):
    """Account-level risk state: cash, reservations and the day's breaker."""

    cash: Decimal
    reserved: NonNegative = Decimal(0)
    open_cost: NonNegative = Decimal(0)
    day: str
    day_start_equity: Decimal
    day_realized_pnl: Decimal = Decimal(0)
    breaker_open: bool = False
    kill_switch: bool = False

    @property
    def available_cash(self) -> Decimal:
        return self.cash - self.reserved
