"""What each settlement changes in the account: the arithmetic both account books apply.

A settlement (an order's fill, a redemption, a reservation given back) is computed here, from what it needs to read
(the order and its result, the reservation, the position and each copied whale's cost in it), as a `Changes`: the
deltas of the account, of each exposure scope, of the position and of the day's realized P&L, and the ledger line
that records it. Nothing here reads or writes anything. The DynamoDB store (`copytrader.store.account`) writes a
`Changes` as one transaction of conditional updates; the in-memory `AccountBook` (`copytrader.risk.book`, which the
backtest runs) applies the same `Changes` to its dictionaries. So the two books cannot disagree on arithmetic.

Conventions (pUSD, `Decimal`; sums stay on the 6-decimal micro grid because every input is on it):
- a BUY fill costs `cash_amount` (notional + fee): cash falls by it, open cost (the position's basis, fees
  included) rises by it, and every cap scope's exposure moves from the reservation to the cost (cost - reserved);
  the copied whale's part of the position (`wpos`) rises by the cost;
- a SELL fill of s of S shares releases the average cost of the shares sold, c = basis x s / S rounded to the
  micro grid, from the market, the position's group and category, and from each whale w its part c_w x s / S
  (all of c_w when the position closes); realized P&L = proceeds - c;
- a redemption is a SELL of every share at the payout (no fee);
- an order that filled nothing (or a reservation given back) releases its reservation everywhere it counted.
Derived account fields (DynamoDB cannot add attributes in a condition, so the store keeps them written):
committed = open cost + reserved, available = cash - reserved, equity = cash + open cost.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from copytrader.model import ExecutionResult, Market, Side, SizedOrder
from copytrader.money import MICRO, ZERO
from copytrader.risk.rules import Scope, Scopes, scopes, scopes_of

ExposureKey = tuple[Scope, str]


class DerivedTotals:
    """The account's derived figures, for an account or a change of one: committed = open cost + reserved,
    available = cash - reserved, equity = cash + open cost."""

    cash: Decimal
    reserved: Decimal
    open_cost: Decimal

    @property
    def committed(self) -> Decimal:
        return self.open_cost + self.reserved

    @property
    def available(self) -> Decimal:
        return self.cash - self.reserved

    @property
    def equity(self) -> Decimal:
        return self.cash + self.open_cost


@dataclass(frozen=True)
class AccountDelta(DerivedTotals):
    cash: Decimal = ZERO
    reserved: Decimal = ZERO
    open_cost: Decimal = ZERO
    open_orders: int = 0


@dataclass(frozen=True)
class Holding:
    """What a settlement reads of a position: its size, basis and the scopes its cost counts in."""

    token_id: str
    condition_id: str
    shares: Decimal
    cost_basis: Decimal
    risk_group: str | None = None
    category: str | None = None
    whales: tuple[str, ...] = ()  # sorted
    stop_loss: Decimal | None = None


@dataclass(frozen=True)
class PositionChange:
    """Shares and basis added (BUY) or removed (SELL, redemption) from one position.

    A reduction is conditional on the position still holding `expected_shares` (what the change was computed from);
    an addition records what the position counts against: its scopes, the copied whale and the stop at entry.
    """

    token_id: str
    condition_id: str
    shares: Decimal  # signed
    cost: Decimal  # signed change of the basis
    fee: Decimal = ZERO
    realized_pnl: Decimal = ZERO
    event_id: str | None = None
    scope: Scopes | None = None  # BUY: the order's group, category and whale
    stop_loss: Decimal | None = None  # BUY: the stop at entry (kept if the position has one)
    expected_shares: Decimal | None = None  # reduction: the shares it was computed from
    closes: bool = False


@dataclass(frozen=True)
class LedgerLine:
    """One ledger entry; its id `<kind>#<reference>` makes it idempotent."""

    kind: str
    reference: str
    token_id: str | None = None
    condition_id: str | None = None
    shares_delta: Decimal = ZERO
    cash_delta: Decimal = ZERO
    fee: Decimal = ZERO

    @property
    def entry_id(self) -> str:
        return f"{self.kind}#{self.reference}"


@dataclass(frozen=True)
class Changes:
    """Everything one settlement changes, applied all at once (one DynamoDB transaction)."""

    account: AccountDelta = AccountDelta()
    exposure: tuple[tuple[ExposureKey, Decimal], ...] = ()  # in the order written
    settles_reservation: str | None = None  # idempotency key of the reservation marked settled (exactly once)
    realized: Decimal | None = None  # added to the day's realized P&L (None: the day item is not touched)
    position: PositionChange | None = None
    ledger: LedgerLine | None = None


@dataclass(frozen=True)
class Redemption:
    """One position redeemed at resolution: its shares, the payout and the basis released."""

    token_id: str
    shares: Decimal
    payout: Decimal
    cost_basis: Decimal

    @property
    def pnl(self) -> Decimal:
        return self.payout - self.cost_basis


def _scope_deltas(condition_id: str, scope: Scopes, delta: Decimal) -> list[tuple[ExposureKey, Decimal]]:
    """The market, group, category and whale of one copy, each moved by `delta` (nothing when it is zero)."""
    if not delta:
        return []
    return [
        ((Scope.MARKET, condition_id), delta),
        ((Scope.GROUP, scope.group), delta),
        ((Scope.CATEGORY, scope.category), delta),
        ((Scope.WHALE, scope.wallet), delta),
    ]


def whale_position_name(token_id: str, wallet: str) -> str:
    return f"{token_id}#{wallet}"


def _release(
    holding: Holding, shares: Decimal, released: Decimal, whale_costs: Mapping[str, Decimal]
) -> list[tuple[ExposureKey, Decimal]]:
    """Release the cost `released` of `shares` sold or redeemed from every scope the position counts in.

    Market, group and category release `released`; each whale w its part c_w x shares / S (micro grid), or all of
    c_w when the position closes. A position without a group or category (written before they were recorded)
    releases from the market and whales only.
    """
    deltas: list[tuple[ExposureKey, Decimal]] = [((Scope.MARKET, holding.condition_id), -released)]
    if holding.risk_group:
        deltas.append(((Scope.GROUP, holding.risk_group), -released))
    if holding.category:
        deltas.append(((Scope.CATEGORY, holding.category), -released))
    if not holding.whales or holding.shares <= 0:
        return deltas
    closing = shares >= holding.shares
    for wallet in holding.whales:
        cost = whale_costs.get(wallet, ZERO)
        part = cost if closing else (cost * shares / holding.shares).quantize(MICRO)
        if part:
            deltas.append(((Scope.WHALE_POSITION, whale_position_name(holding.token_id, wallet)), -part))
            deltas.append(((Scope.WHALE, wallet), -part))
    return deltas


def fill(
    order: SizedOrder,
    result: ExecutionResult,
    reserved: Decimal,
    *,
    holding: Holding | None = None,
    whale_costs: Mapping[str, Decimal] | None = None,
    stop_at_entry: Decimal | None = None,
) -> Changes:
    """What settling `result` (a definite outcome) of `order` changes; `reserved` is what risk_check reserved.

    A SELL that filled reads the position (`holding`, and `whale_costs`: each copied whale's cost in it).
    """
    settles = order.idempotency_key if reserved > 0 else None
    filled = result.filled_shares
    if filled <= 0:
        if reserved <= 0:
            return Changes(settles_reservation=settles)
        return Changes(
            account=AccountDelta(reserved=-reserved, open_orders=-1),
            exposure=tuple(_scope_deltas(order.condition_id, scopes_of(order), -reserved)),
            settles_reservation=settles,
        )
    if order.side is Side.BUY:
        cost = result.cash_amount
        scope = scopes_of(order)
        exposure = _scope_deltas(order.condition_id, scope, cost - reserved)
        if cost > 0:
            exposure.append(((Scope.WHALE_POSITION, whale_position_name(order.token_id, scope.wallet)), cost))
        return Changes(
            account=AccountDelta(cash=-cost, reserved=-reserved, open_cost=cost, open_orders=-1 if reserved > 0 else 0),
            exposure=tuple(exposure),
            settles_reservation=settles,
            position=PositionChange(
                token_id=order.token_id,
                condition_id=order.condition_id,
                shares=filled,
                cost=cost,
                fee=result.fee,
                event_id=order.event_id,
                scope=scope,
                stop_loss=stop_at_entry,
            ),
            ledger=LedgerLine(
                kind="FILL_BUY",
                reference=order.idempotency_key,
                token_id=order.token_id,
                condition_id=order.condition_id,
                shares_delta=filled,
                cash_delta=-cost,
                fee=result.fee,
            ),
        )
    if holding is None or holding.shares < filled:
        raise RuntimeError(f"sold {filled} of {order.token_id} but the position holds less")
    released = (holding.cost_basis * filled / holding.shares).quantize(MICRO)
    proceeds = result.cash_amount
    pnl = proceeds - released
    return Changes(
        account=AccountDelta(cash=proceeds, open_cost=-released),
        exposure=tuple(_release(holding, filled, released, whale_costs or {})),
        settles_reservation=settles,
        realized=pnl,
        position=_reduction(holding, filled, released, pnl, result.fee),
        ledger=LedgerLine(
            kind="FILL_SELL",
            reference=order.idempotency_key,
            token_id=order.token_id,
            condition_id=order.condition_id,
            shares_delta=-filled,
            cash_delta=proceeds,
            fee=result.fee,
        ),
    )


def _reduction(holding: Holding, shares: Decimal, released: Decimal, pnl: Decimal, fee: Decimal) -> PositionChange:
    return PositionChange(
        token_id=holding.token_id,
        condition_id=holding.condition_id,
        shares=-shares,
        cost=-released,
        fee=fee,
        realized_pnl=pnl,
        expected_shares=holding.shares,
        closes=shares == holding.shares,
    )


def redemption(market: Market, holding: Holding, whale_costs: Mapping[str, Decimal]) -> tuple[Redemption, Changes]:
    """Redeem every share of `holding` in resolved `market`: cash in the payout, release the whole basis."""
    if market.payouts is None:
        raise ValueError(f"market {market.condition_id} is not resolved")
    payout = holding.shares * market.payouts.get(holding.token_id, ZERO)
    redeemed = Redemption(holding.token_id, holding.shares, payout, holding.cost_basis)
    pnl = redeemed.pnl
    return redeemed, Changes(
        account=AccountDelta(cash=payout, open_cost=-holding.cost_basis),
        exposure=tuple(_release(holding, holding.shares, holding.cost_basis, whale_costs)),
        realized=pnl,
        position=_reduction(holding, holding.shares, holding.cost_basis, pnl, ZERO),
        ledger=LedgerLine(
            kind="REDEEM",
            reference=holding.token_id,
            token_id=holding.token_id,
            condition_id=market.condition_id,
            shares_delta=-holding.shares,
            cash_delta=payout,
        ),
    )


class RecordedReservation(Protocol):
    """The scopes a reservation recorded (the store's item and the in-memory book's record both have them)."""

    @property
    def risk_group(self) -> str | None: ...

    @property
    def category(self) -> str | None: ...

    @property
    def wallet(self) -> str | None: ...


def release(idempotency_key: str, condition_id: str, amount: Decimal, reservation: RecordedReservation) -> Changes:
    """Give back an unused reservation of `amount` from the group, category and whale it recorded."""
    scope = scopes(condition_id, reservation.risk_group, reservation.category, reservation.wallet)
    return Changes(
        account=AccountDelta(reserved=-amount, open_orders=-1),
        exposure=tuple(_scope_deltas(condition_id, scope, -amount)),
        settles_reservation=idempotency_key,
    )
