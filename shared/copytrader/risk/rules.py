"""Risk rules (pure): what a reservation must satisfy, the breakers, the room a new BUY has, stop-losses.

The store (`copytrader.store.account`) enforces these rules with conditional DynamoDB writes in one
transaction, so they hold under concurrency. DynamoDB conditions cannot add two numbers, so each rule
"x + amount <= cap" is sent as "x <= cap - amount" with the right-hand side (the *threshold*) computed here;
a count rule "n + 1 <= max" is sent as "n <= max - 1".

Rules for a BUY reserving `amount` pUSD (its worst-case cost, rounded up to the pUSD micro grid):
  kill switch off;  today's daily-loss breaker closed;  drawdown halt off;
  amount <= the per-copy cap (`sizing.max_trade_notional`, which sizing applies to the same worst case);
  exposure at cost + amount <= cap, for each of: the market (condition id), its group (neg-risk group, else
    event, else the market: `model.risk_group_of`), its category, and the whale whose fill is copied;
  committed (open cost + reservations) + amount <= max_total_exposure;
  available cash (cash - reservations) >= amount;
  open orders (BUY reservations not yet settled) + 1 <= max_open_orders;
  orders approved in the current UTC minute + 1 <= max_orders_per_minute.
A SELL reduces risk: it needs no reservation and passes an open breaker or drawdown halt (exits stay
possible), but not the kill switch, which halts every new order; it still counts against the order rate.

Exposure is at cost: a reservation counts its worst case until the order settles, then the fill's cost
(fees included) replaces it; sells release cost at the average cost per share, redemptions the rest.

Daily-loss breaker: trips when the day's realized P&L <= -daily_loss_limit x start-of-day equity. The day's
state lives under a key per UTC day, so a tripped breaker stays tripped for the rest of that day and a new
day starts closed; an operator can reset it by hand.

Drawdown halt: book equity E = cash + open positions at cost (fees included; not marked to market, so it
moves only when P&L is realized: sells, redemptions). The account keeps its high-water mark H = max E seen
at settlements. New BUYs halt when E < (1 - max_drawdown) x H, until an operator resets the halt (which
also rebases H to the current equity, or the next settlement would halt again at once).

Stop-loss: a position records the stop-loss fraction s in force when it was opened; its stop is hit when
the mark (the price we could sell at) <= average cost per share x (1 - s). Acting on it (the exit
workflow) is a later issue; `stops_hit` lists the positions it would close.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_CEILING, Decimal
from enum import StrEnum
from typing import Protocol, TypeVar

from copytrader.model import RiskDecision, Side, SizedOrder
from copytrader.money import MICRO, ZERO
from copytrader.reasons import Reason
from copytrader.settings import RiskLimits

UNATTRIBUTED = "unattributed"  # whale scope of an order that names no wallet


def utc_day(now: datetime) -> str:
    """The risk day an instant belongs to (UTC calendar date, ISO format)."""
    if now.tzinfo is None:
        raise ValueError("risk days need a timezone-aware instant")
    return now.astimezone(UTC).date().isoformat()


def utc_minute(now: datetime) -> str:
    """The order-rate window an instant belongs to: its UTC minute, `YYYY-MM-DDTHH:MM`."""
    if now.tzinfo is None:
        raise ValueError("rate windows need a timezone-aware instant")
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


@dataclass(frozen=True)
class Scopes:
    """What one copy's exposure counts against besides the market and the total."""

    group: str
    category: str
    wallet: str


def scopes(condition_id: str, risk_group: str | None, category: str | None, wallet: str | None) -> Scopes:
    """The group (risk_group, else the market alone), category ("other" if none) and whale (lower case)."""
    return Scopes(
        group=risk_group or f"market:{condition_id}",
        category=category or "other",
        wallet=(wallet or "").lower() or UNATTRIBUTED,
    )


def scopes_of(order: SizedOrder) -> Scopes:
    return scopes(order.condition_id, order.risk_group, order.category, order.wallet)


class Scope(StrEnum):
    """Where exposure at cost is counted: the caps' scopes, and each scope's part of a position."""

    MARKET = "MARKET"  # condition id
    GROUP = "GROUP"  # neg-risk group, else event, else `market:<condition id>`
    CATEGORY = "CATEGORY"
    WHALE = "WHALE"  # the copied wallet (lower case)
    # `<token id>#<GROUP|CATEGORY|WHALE>#<name>`: the cost one group's, category's or whale's copies put into one
    # position (a position bought under two groups, after a re-tag, releases from each its own part)
    POSITION_PART = "PART"


@dataclass(frozen=True)
class Cap:
    """One exposure cap a reservation must fit: reject unless the scope's exposure <= `threshold`."""

    label: str
    scope: Scope
    name: str
    threshold: Decimal
    reason: Reason


@dataclass(frozen=True)
class ReservationRecord:
    """What a reservation keeps: its amount and scopes (a release gives back from them) and the stop at entry."""

    amount: Decimal
    condition_id: str
    risk_group: str
    category: str
    wallet: str
    stop_loss: Decimal | None


@dataclass(frozen=True)
class ExitRequest:
    """A SELL's approval: the kill switch must be off and the minute's order count + 1 <= max_orders_per_minute.

    Recorded once per idempotency key (a retried risk_check counts the order once)."""

    key: str
    day: str
    minute: str
    rate_threshold: int


@dataclass(frozen=True)
class ReservationRequest:
    """A BUY's reservation with the condition thresholds the store will write (each rejects when exceeded)."""

    key: str
    condition_id: str
    amount: Decimal  # on the micro grid
    day: str
    market_threshold: Decimal  # reject unless market exposure <= this
    committed_threshold: Decimal  # reject unless open cost + reservations <= this
    group: str = ""
    category: str = "other"
    wallet: str = UNATTRIBUTED
    minute: str = ""
    group_threshold: Decimal = ZERO
    category_threshold: Decimal = ZERO
    whale_threshold: Decimal = ZERO
    open_orders_threshold: int = 0  # reject unless open orders <= this
    rate_threshold: int = 0  # reject unless orders approved this minute <= this
    stop_loss: Decimal = ZERO  # recorded on the reservation and the position (the stop at entry)

    @property
    def risk_group(self) -> str:
        """The group the reservation counts in (the market alone when the order names none)."""
        return self.group or f"market:{self.condition_id}"

    def caps(self) -> tuple[Cap, ...]:
        """The market, group, category and whale caps, in the order a refusal names them."""
        return (
            Cap("market", Scope.MARKET, self.condition_id, self.market_threshold, Reason.MARKET_CAP),
            Cap("group", Scope.GROUP, self.risk_group, self.group_threshold, Reason.GROUP_CAP),
            Cap("category", Scope.CATEGORY, self.category, self.category_threshold, Reason.CATEGORY_CAP),
            Cap("whale", Scope.WHALE, self.wallet, self.whale_threshold, Reason.WHALE_CAP),
        )

    def recorded(self) -> ReservationRecord:
        """What the reservation keeps (`ReservationRecord`)."""
        return ReservationRecord(
            amount=self.amount,
            condition_id=self.condition_id,
            risk_group=self.risk_group,
            category=self.category,
            wallet=self.wallet,
            stop_loss=self.stop_loss or None,
        )


def _cap_breach(amount: Decimal, limits: RiskLimits) -> tuple[Reason, str, Decimal] | None:
    for reason, name, cap in (
        (Reason.MARKET_CAP, "market", limits.max_market_exposure),
        (Reason.GROUP_CAP, "group", limits.max_group_exposure),
        (Reason.CATEGORY_CAP, "category", limits.max_category_exposure),
        (Reason.WHALE_CAP, "whale", limits.max_whale_exposure),
        (Reason.TOTAL_CAP, "total", limits.max_total_exposure),
    ):
        if amount > cap:
            return reason, name, cap
    return None


def screen(
    order: SizedOrder, limits: RiskLimits, now: datetime, *, per_copy_cap: Decimal | None = None
) -> RiskDecision | ReservationRequest | ExitRequest:
    """Decide what needs no state (kill switch, single-order caps) or build the reservation (BUY) or the exit's
    order count (SELL).

    The amount is the order's `max_cost` rounded up to the micro grid (reserving more is the safe side), so
    every threshold is >= 0: an amount above any cap is rejected here with that cap's reason. `per_copy_cap`
    (`sizing.max_trade_notional`; None: none) bounds one BUY's worst case, first (reason `copy_cap`).
    """
    day = utc_day(now)
    if limits.kill_switch:
        return RiskDecision(approved=False, reason=Reason.KILL_SWITCH, detail="kill switch is on", day=day)
    if order.side is Side.SELL:
        return ExitRequest(order.idempotency_key, day, utc_minute(now), limits.max_orders_per_minute - 1)
    amount = order.max_cost.quantize(MICRO, rounding=ROUND_CEILING)
    if amount <= 0:
        return RiskDecision(
            approved=False, reason=Reason.INVALID_TRADE, detail="BUY without a worst-case cost", day=day
        )
    if per_copy_cap is not None and amount > per_copy_cap:
        return RiskDecision(
            approved=False,
            reason=Reason.COPY_CAP,
            detail=f"order worst case {amount} > per-copy cap {per_copy_cap}",
            day=day,
        )
    breach = _cap_breach(amount, limits)
    if breach is not None:
        reason, name, cap = breach
        return RiskDecision(
            approved=False, reason=reason, detail=f"order worst case {amount:.2f} > {name} cap {cap}", day=day
        )
    scopes = scopes_of(order)
    return ReservationRequest(
        key=order.idempotency_key,
        condition_id=order.condition_id,
        amount=amount,
        day=day,
        market_threshold=limits.max_market_exposure - amount,
        committed_threshold=limits.max_total_exposure - amount,
        group=scopes.group,
        category=scopes.category,
        wallet=scopes.wallet,
        minute=utc_minute(now),
        group_threshold=limits.max_group_exposure - amount,
        category_threshold=limits.max_category_exposure - amount,
        whale_threshold=limits.max_whale_exposure - amount,
        open_orders_threshold=limits.max_open_orders - 1,
        rate_threshold=limits.max_orders_per_minute - 1,
        stop_loss=limits.stop_loss,
    )


# ------------------------------------------------------------------------------------------ breakers


def breaker_floor(day_start_equity: Decimal, limits: RiskLimits) -> Decimal:
    """The day's realized P&L at or below which the breaker trips: -limit x start-of-day equity."""
    return -limits.daily_loss_limit * day_start_equity


def breaker_should_trip(day_realized_pnl: Decimal, day_start_equity: Decimal, limits: RiskLimits) -> bool:
    return day_realized_pnl <= breaker_floor(day_start_equity, limits)


def drawdown_floor(high_water_mark: Decimal, limits: RiskLimits) -> Decimal:
    """The book equity below which new BUYs halt: (1 - max_drawdown) x high-water mark."""
    return (1 - limits.max_drawdown) * high_water_mark


def drawdown_breached(equity: Decimal, high_water_mark: Decimal, limits: RiskLimits) -> bool:
    """True when equity has fallen below the drawdown floor (strictly: equity at the floor still trades)."""
    return equity < drawdown_floor(high_water_mark, limits)


# ------------------------------------------------------------------------------------------ stop-loss


class StopPosition(Protocol):
    """What the stop rule reads of a position (satisfied by `store.tables.PositionModel`)."""

    @property
    def token_id(self) -> str: ...

    @property
    def shares(self) -> Decimal: ...

    @property
    def cost_basis(self) -> Decimal: ...

    @property
    def stop_loss(self) -> Decimal | None: ...


P = TypeVar("P", bound=StopPosition)


def stop_price(position: StopPosition, default_stop_loss: Decimal) -> Decimal | None:
    """Average cost per share x (1 - s), s = the position's stop at entry (else the default); None if flat."""
    if position.shares <= 0:
        return None
    fraction = position.stop_loss if position.stop_loss is not None else default_stop_loss
    return position.cost_basis / position.shares * (1 - fraction)


def stop_triggered(position: StopPosition, mark: Decimal, default_stop_loss: Decimal = Decimal("0.15")) -> bool:
    """True when the mark (the price we could sell at) is at or below the position's stop price."""
    level = stop_price(position, default_stop_loss)
    return level is not None and mark <= level


def stops_hit(
    positions: Iterable[P], marks: Mapping[str, Decimal], default_stop_loss: Decimal = Decimal("0.15")
) -> list[P]:
    """The positions whose stop is hit at the marks (token id -> price); a position without a mark is kept."""
    return [
        position
        for position in positions
        if position.token_id in marks and stop_triggered(position, marks[position.token_id], default_stop_loss)
    ]
