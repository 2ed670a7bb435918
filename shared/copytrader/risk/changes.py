"""What each settlement changes in the account: the arithmetic both account books apply.

A settlement (an order's fill, a redemption, a reservation given back) is computed here, from what it needs to read
(the order and its result, the reservation, the position and each scope's part of its cost), as a `Changes`: the
deltas of the account, of each exposure scope, of the position and of the day's realized P&L, and the ledger line
that records it. Nothing here reads or writes anything. The DynamoDB store (`copytrader.store.account`) writes a
`Changes` as one transaction of conditional updates; the in-memory `AccountBook` (`copytrader.risk.book`, which the
backtest runs) applies the same `Changes` to its dictionaries. So the two books cannot disagree on arithmetic.

Conventions (pUSD, `Decimal`; sums stay on the 6-decimal micro grid because every input is on it):
- a BUY fill costs `cash_amount` (notional + fee): cash falls by it, open cost (the position's basis, fees
  included) rises by it, and every cap scope's exposure moves from the reservation to the cost (cost - reserved);
  the order's group's, category's and whale's parts of the position (`Scope.POSITION_PART`) rise by the cost;
- a SELL fill of s of S shares releases the average cost of the shares sold, c = basis x s / S rounded to the
  micro grid, from the market, and from each group, category and whale n the position counts in its part
  c_n x s / S (all of c_n when the position closes; the parts of a kind sum to c), except that a SELL attributed
  to a whale (its mirror or cull exit) releases the whale kind from that whale's part first; realized P&L =
  proceeds - c;
- a redemption is a SELL of every share at the payout (no fee);
- an order that filled nothing (or a reservation given back) releases its reservation everywhere it counted.
Derived account fields (DynamoDB cannot add attributes in a condition, so the store keeps them written):
committed = open cost + reserved, available = cash - reserved, equity = cash + open cost.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
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
    """What a settlement reads of a position: its size, basis, the scopes its cost counts in and its lot.

    `groups`, `categories` and `whales` (sorted) are every group, category and wallet a BUY of this position was
    counted against; each has its part of the cost (`Scope.POSITION_PART`). `opened_at` names the lot: a position
    closed and bought again is a new lot (its stop and open date are the new entry's).
    """

    token_id: str
    condition_id: str
    shares: Decimal
    cost_basis: Decimal
    risk_group: str | None = None  # the latest BUY's (a position written before parts were recorded has only it)
    category: str | None = None
    whales: tuple[str, ...] = ()
    stop_loss: Decimal | None = None
    groups: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    opened_at: datetime | None = None

    def part_scopes(self) -> list[tuple[Scope, str]]:
        """Every (scope, name) holding a part of this position's cost."""
        return (
            [(Scope.GROUP, g) for g in self.groups]
            + [(Scope.CATEGORY, c) for c in self.categories]
            + [(Scope.WHALE, w) for w in self.whales]
        )


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
    realized_pnl: Decimal = ZERO  # a SELL or redemption: proceeds - the cost released (the day's P&L adds it)
    # a live redemption transaction that burned several tokens: every (token, shares) it moved, token_id None
    more_shares: tuple[tuple[str, Decimal], ...] = ()

    @property
    def entry_id(self) -> str:
        return f"{self.kind}#{self.reference}"

    def share_moves(self) -> list[tuple[str, Decimal]]:
        """Every (token, shares delta) this entry records: its token's, then those of `more_shares`."""
        moves = [(self.token_id, self.shares_delta)] if self.token_id and self.shares_delta else []
        return moves + list(self.more_shares)


@dataclass(frozen=True)
class Changes:
    """Everything one settlement changes, applied all at once (one DynamoDB transaction)."""

    account: AccountDelta = AccountDelta()
    exposure: tuple[tuple[ExposureKey, Decimal], ...] = ()  # in the order written
    settles_reservation: str | None = None  # idempotency key of the reservation marked settled (exactly once)
    realized: Decimal | None = None  # added to the day's realized P&L (None: the day item is not touched)
    position: PositionChange | None = None
    ledger: LedgerLine | None = None
    more_positions: tuple[PositionChange, ...] = ()  # a live redemption of several tokens in one transaction


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


def part_name(token_id: str, scope: Scope, name: str) -> str:
    """The `Scope.POSITION_PART` item name of `scope` `name`'s part of position `token_id`."""
    return f"{token_id}#{scope.value}#{name}"


PartCosts = Mapping[tuple[Scope, str], Decimal]


def _release(
    holding: Holding, shares: Decimal, released: Decimal, parts: PartCosts, seller: str | None = None
) -> list[tuple[ExposureKey, Decimal]]:
    """Release the cost `released` of `shares` sold or redeemed from every scope the position counts in.

    The market releases `released`. Each of the group, category and whale scopes releases from each name n its part
    c_n x shares / S (micro grid), the last name taking the rounding remainder so that the parts released sum to
    `released` exactly when the parts sum to the basis (they do: every BUY adds its cost to one part of each kind);
    all of every part when the position closes. A position written before parts were recorded (no names of a kind)
    releases `released` from its recorded group and category, as before.

    A SELL attributed to a whale with a part (`seller`: a mirror or a culled whale's exit) releases the whale kind
    from that whale's part first, the rest (if its part is smaller) from the others in proportion: its copies' shares
    are what is sold, so every other whale keeps its share of the position (`copytrader.copying.exits`).
    """
    deltas: list[tuple[ExposureKey, Decimal]] = [((Scope.MARKET, holding.condition_id), -released)]
    closing = shares >= holding.shares
    legacy = {Scope.GROUP: holding.risk_group, Scope.CATEGORY: holding.category}
    for kind in (Scope.GROUP, Scope.CATEGORY, Scope.WHALE):
        names = [name for scope, name in holding.part_scopes() if scope is kind]
        if not names:
            old = legacy.get(kind)
            if old:
                deltas.append(((kind, old), -released))
            continue
        costs = [parts.get((kind, name), ZERO) for name in names]
        if closing or holding.shares <= 0:
            taken = costs
        else:
            consistent = sum(costs, ZERO) == holding.cost_basis
            if kind is Scope.WHALE and consistent and seller in names:
                taken = _seller_first(names, costs, seller, released)
            else:
                taken = [(cost * shares / holding.shares).quantize(MICRO) for cost in costs]
                if consistent:
                    taken[-1] = released - sum(taken[:-1], ZERO)
        for name, part in zip(names, taken, strict=True):
            if part:
                deltas.append(((Scope.POSITION_PART, part_name(holding.token_id, kind, name)), -part))
                deltas.append(((kind, name), -part))
    return deltas


def _seller_first(names: list[str], costs: list[Decimal], seller: str, released: Decimal) -> list[Decimal]:
    """`released` taken from `seller`'s part up to its size, the rest from the other parts in proportion (micro grid,
    the last other part taking the rounding remainder); the parts taken sum to `released`."""
    index = names.index(seller)
    own = min(released, costs[index])
    rest = released - own
    others = [i for i in range(len(names)) if i != index]
    others_cost = sum((costs[i] for i in others), ZERO)
    taken = [ZERO] * len(names)
    taken[index] = own
    if rest and others_cost > 0:
        for i in others:
            taken[i] = (costs[i] * rest / others_cost).quantize(MICRO)
        taken[others[-1]] = rest - sum((taken[i] for i in others[:-1]), ZERO)
    return taken


def fill(
    order: SizedOrder,
    result: ExecutionResult,
    reserved: Decimal,
    *,
    holding: Holding | None = None,
    parts: PartCosts | None = None,
    stop_at_entry: Decimal | None = None,
) -> Changes:
    """What settling `result` (a definite outcome) of `order` changes; `reserved` is what risk_check reserved.

    A SELL that filled reads the position (`holding`, and `parts`: each group's, category's and whale's cost in it).
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
            owners = ((Scope.GROUP, scope.group), (Scope.CATEGORY, scope.category), (Scope.WHALE, scope.wallet))
            for kind, name in owners:
                exposure.append(((Scope.POSITION_PART, part_name(order.token_id, kind, name)), cost))
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
        exposure=tuple(_release(holding, filled, released, parts or {}, scopes_of(order).wallet)),
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
            realized_pnl=pnl,
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


def redemption(market: Market, holding: Holding, parts: PartCosts) -> tuple[Redemption, Changes]:
    """Redeem every share of `holding` in resolved `market`: cash in the payout, release the whole basis.

    The ledger entry is `REDEEM#<token>#<lot>` (the lot: when the position was opened), so shares bought after a
    redemption (a late fill of an order reconciled after resolution) are a new lot that is redeemed in turn.
    """
    if market.payouts is None:
        raise ValueError(f"market {market.condition_id} is not resolved")
    payout = holding.shares * market.payouts.get(holding.token_id, ZERO)
    redeemed = Redemption(holding.token_id, holding.shares, payout, holding.cost_basis)
    pnl = redeemed.pnl
    return redeemed, Changes(
        account=AccountDelta(cash=payout, open_cost=-holding.cost_basis),
        exposure=tuple(_release(holding, holding.shares, holding.cost_basis, parts)),
        realized=pnl,
        position=_reduction(holding, holding.shares, holding.cost_basis, pnl, ZERO),
        ledger=LedgerLine(
            kind="REDEEM",
            reference=lot_reference(holding),
            token_id=holding.token_id,
            condition_id=market.condition_id,
            shares_delta=-holding.shares,
            cash_delta=payout,
            realized_pnl=pnl,
        ),
    )


def lot_reference(holding: Holding) -> str:
    """`<token>#<opened_at, UTC, microseconds>`, or the token alone for a position with no open date recorded."""
    if holding.opened_at is None:
        return holding.token_id
    return f"{holding.token_id}#{holding.opened_at.strftime('%Y%m%dT%H%M%S%fZ')}"


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
