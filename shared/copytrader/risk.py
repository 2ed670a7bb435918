"""Risk rules (pure): what a reservation must satisfy, and when the daily-loss breaker trips.

The store enforces these rules with conditional DynamoDB writes, so they hold under concurrency:
DynamoDB conditions cannot add two numbers, so each rule "x + amount <= cap" is sent as
"x <= cap - amount" with the right-hand side computed here.

Rules for a BUY reserving `amount` pUSD (its worst-case cost):
  kill switch off;  today's breaker closed;
  market exposure at cost + amount <= max_market_exposure;
  committed (open cost + reservations) + amount <= max_total_exposure;
  available cash (cash - reservations) >= amount.
A SELL reduces risk: it needs no reservation and passes an open breaker (exits stay possible), but
not the kill switch, which halts every new order.

Daily-loss breaker: trips when the day's realized P&L <= -daily_loss_limit x start-of-day equity.
The day's state lives under a key per UTC day, so a tripped breaker stays tripped for the rest of that
day and a new day starts closed; an operator can reset it by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from copytrader.model import RiskDecision, Side, SizedOrder
from copytrader.reasons import Reason
from copytrader.settings import RiskLimits


def utc_day(now: datetime) -> str:
    """The risk day an instant belongs to (UTC calendar date, ISO format)."""
    if now.tzinfo is None:
        raise ValueError("risk days need a timezone-aware instant")
    return now.astimezone(UTC).date().isoformat()


@dataclass(frozen=True)
class ReservationRequest:
    """A BUY's reservation with the condition thresholds the store will write."""

    key: str
    condition_id: str
    amount: Decimal
    day: str
    market_threshold: Decimal  # reject unless market exposure <= this
    committed_threshold: Decimal  # reject unless open cost + reservations <= this


def screen(order: SizedOrder, limits: RiskLimits, now: datetime) -> RiskDecision | ReservationRequest:
    """Decide what needs no state (kill switch, sells, single-order caps) or build the reservation."""
    day = utc_day(now)
    if limits.kill_switch:
        return RiskDecision(approved=False, reason=Reason.KILL_SWITCH, detail="kill switch is on", day=day)
    if order.side is Side.SELL:
        return RiskDecision(approved=True, detail="exit: no reservation needed", day=day)
    amount = order.max_cost
    if amount > limits.max_market_exposure:
        return RiskDecision(
            approved=False,
            reason=Reason.MARKET_CAP,
            detail=f"order worst case {amount:.2f} > market cap {limits.max_market_exposure}",
            day=day,
        )
    if amount > limits.max_total_exposure:
        return RiskDecision(
            approved=False,
            reason=Reason.TOTAL_CAP,
            detail=f"order worst case {amount:.2f} > total cap {limits.max_total_exposure}",
            day=day,
        )
    return ReservationRequest(
        key=order.idempotency_key,
        condition_id=order.condition_id,
        amount=amount,
        day=day,
        market_threshold=limits.max_market_exposure - amount,
        committed_threshold=limits.max_total_exposure - amount,
    )


def breaker_floor(day_start_equity: Decimal, limits: RiskLimits) -> Decimal:
    """The day's realized P&L at or below which the breaker trips: -limit x start-of-day equity."""
    return -limits.daily_loss_limit * day_start_equity


def breaker_should_trip(day_realized_pnl: Decimal, day_start_equity: Decimal, limits: RiskLimits) -> bool:
    return day_realized_pnl <= breaker_floor(day_start_equity, limits)
